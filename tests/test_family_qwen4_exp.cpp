// Qwen4-Exp (plugin hybrid), on the module trees transformers 5.17 builds: three Gated DeltaNet
// layers and one sparse-attention layer, every one with a MoE block, and hyper-connections in
// place of the input and post-attention norms. The groups are spelled out from
// models/qwen4_exp/modeling_qwen4_exp.py: only the experts' and the shared expert's up -> down,
// and v -> o where v is as wide as o's input.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "group_check.hpp"

using namespace awqmap;
using test::groups_under;
using test::resolve_checked;
using test::with_experts;
using Groups = std::vector<std::string>;

namespace {

const int experts = 8;  // the described trees are shrunk to 8 experts

// What every layer keeps, DeltaNet or sparse attention: nothing of the mixer, the gated norm or
// the hyper-connections, only the SwiGLU up -> down of each expert and of the shared expert.
Groups moe_groups() {
  return with_experts(experts, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj",
                      {"mlp.shared_expert.up_proj -> mlp.shared_expert.down_proj"});
}

// The one sparse-attention layer of both trees (layer_types: three linear_attention, then it).
const std::string sparse_layer = "3.";

void check_decoder(const ModelView& model, const std::string& layers) {
  Resolution r = resolve_checked(model, "hybrid");
  for (const char* layer : {"0.", "1.", "2."}) {
    INFO("linear-attention layer " << layers << layer);
    CHECK(groups_under(r, layers + layer) == moe_groups());
  }
  INFO("sparse-attention layer " << layers << sparse_layer);
  CHECK(groups_under(r, layers + sparse_layer) == moe_groups());
  // Nothing outside the decoder layers is smoothed: no hyper-connection mixer, no tower.
  test::check_all_under(r, layers);
  CHECK(r.resolved.size() == 4 * moe_groups().size());
  // Grouped-query attention: v_proj (2 heads) is narrower than o_proj's input (4 heads).
  REQUIRE(r.skipped.size() == 1);
  CHECK(r.skipped[0].smooth_name == layers + sparse_layer + "self_attn.v_proj");
  CHECK(r.skipped[0].reason == SkipReason::incompatible);
}

}  // namespace

TEST_CASE("Qwen4Exp smooths only the experts and the shared expert up into down in every layer kind") {
  ModelView m = test::described_tree("Qwen4ExpForCausalLM");
  check_decoder(m, "model.layers.");
}

TEST_CASE("Qwen4Exp vision-language model smooths the same groups inside its language model alone") {
  ModelView m = test::described_tree("Qwen4ExpForConditionalGeneration");
  check_decoder(m, "model.language_model.layers.");
}

TEST_CASE("Qwen4Exp sparse attention smooths v into o once v is as wide as o's input") {
  for (const std::string arch : {"Qwen4ExpForCausalLM", "Qwen4ExpForConditionalGeneration"}) {
    INFO(arch);
    auto tree = nlohmann::json::parse(test::read_file(test::described_dir() / (arch + ".model.json")));
    const std::string layers = arch == "Qwen4ExpForCausalLM" ? "model.layers." : "model.language_model.layers.";
    int widened = 0;
    for (auto& module : tree["modules"])
      if (module["name"] == layers + sparse_layer + "self_attn.v_proj") {
        module["out_features"] = 64;  // one key-value head per query head
        ++widened;
      }
    REQUIRE(widened == 1);
    ModelView m = parse_model_description(tree.dump(), arch + " with as many key-value heads as query heads");
    Resolution r = resolve_checked(m, "hybrid");
    CHECK(groups_under(r, layers + sparse_layer) ==
          test::plus(moe_groups(), {"self_attn.v_proj -> self_attn.o_proj"}));
    CHECK(groups_under(r, layers + "0.") == moe_groups());
    CHECK(r.skipped.empty());
  }
}

TEST_CASE("Qwen4Exp is a static list of awqmap's own analysis and upstream mode falls to the default list") {
  for (const char* arch : {"Qwen4ExpForCausalLM", "Qwen4ExpForConditionalGeneration"}) {
    INFO(arch);
    ModelView m = test::described_tree(arch);
    Selection exact = test::shipped_registry().select(m, SelectionMode::exact);
    CHECK(exact.kind == SelectionKind::static_list);
    CHECK(exact.origin == Origin::analysis);
    CHECK(exact.source.find("qwen4_exp/modeling_qwen4_exp.py") != std::string::npos);
    Selection upstream = test::shipped_registry().select(m, SelectionMode::upstream);
    CHECK(upstream.kind == SelectionKind::default_list);
  }
}
