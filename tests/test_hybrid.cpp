#include <catch2/catch.hpp>

#include "awqmap/error.hpp"
#include "awqmap/loader.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/toolkit.hpp"
#include "model_builder.hpp"
#include "support.hpp"

using namespace awqmap;
using test::ModelBuilder;

namespace {

Registry& shipped() {
  return test::shipped_registry();
}

struct HybridShape {
  std::string arch = "Qwen3_5ForCausalLM";
  int layers = 8;
  bool moe = false;
  int experts = 2;
  std::vector<std::string> projections = {"in_proj_qkv", "in_proj_z", "in_proj_b", "in_proj_a"};
  std::string expert_class = "Qwen3_5MoeExpert";
  bool under_text_config = false;
  nlohmann::json extra_config = nlohmann::json::object();
};

ModelBuilder hybrid(const HybridShape& s, int interval = 4) {
  ModelBuilder b(s.arch);
  std::string root = s.under_text_config ? "model.language_model" : "model";
  if (s.under_text_config) {
    b.add("model.visual", "VisionModel").list("model.visual.blocks");
    b.add("model.visual.blocks.0", "VisionBlock").linear("model.visual.blocks.0.attn.qkv", 32, 96);
  }
  b.list(root + ".layers");
  for (int l = 0; l < s.layers; ++l) {
    std::string p = root + ".layers." + std::to_string(l);
    b.add(p, "DecoderLayer");
    if ((l + 1) % interval != 0) {
      for (const auto& proj : s.projections) b.linear(p + ".linear_attn." + proj, 64, 64);
      b.linear(p + ".linear_attn.out_proj", 64, 64);
    } else {
      b.linear(p + ".self_attn.q_proj", 64, 128).linear(p + ".self_attn.k_proj", 64, 32);
      b.linear(p + ".self_attn.v_proj", 64, 32).linear(p + ".self_attn.o_proj", 64, 64);
    }
    if (s.moe) {
      b.add(p + ".mlp", "SparseMoeBlock").add(p + ".mlp.gate", "Router");
      b.list(p + ".mlp.experts");
      for (int e = 0; e < s.experts; ++e) {
        std::string q = p + ".mlp.experts." + std::to_string(e);
        b.add(q, s.expert_class);
        b.linear(q + ".gate_proj", 64, 32).linear(q + ".up_proj", 64, 32).linear(q + ".down_proj", 32, 64);
      }
      b.linear(p + ".mlp.shared_expert.gate_proj", 64, 48).linear(p + ".mlp.shared_expert.up_proj", 64, 48);
      b.linear(p + ".mlp.shared_expert.down_proj", 48, 64).linear(p + ".mlp.shared_expert_gate", 64, 1);
    } else {
      b.linear(p + ".mlp.gate_proj", 64, 96).linear(p + ".mlp.up_proj", 64, 96).linear(p + ".mlp.down_proj", 96, 64);
    }
    b.add(p + ".input_layernorm", "RMSNorm").add(p + ".post_attention_layernorm", "RMSNorm");
  }
  nlohmann::json cfg = {{"num_hidden_layers", s.layers}, {"full_attention_interval", interval}};
  cfg.update(s.extra_config);
  b.config(s.under_text_config ? nlohmann::json{{"text_config", cfg}, {"vision_config", {{"depth", 1}}}} : cfg);
  return b;
}

std::vector<std::string> smooth_names(const Resolution& r, std::size_t mapping) {
  std::vector<std::string> out;
  for (const auto& g : r.resolved)
    if (g.mapping == mapping) out.emplace_back(g.smooth_name);
  return out;
}

}  // namespace

TEST_CASE("Qwen3.5 dense with 8 layers: full layers 3|7, linear the rest, four projections, dense MLP") {
  ModelView m = hybrid({}).build();
  Selection s = shipped().select(m, SelectionMode::upstream);
  CHECK(s.kind == SelectionKind::dynamic);
  CHECK(s.builder == "hybrid_attention");
  CHECK(s.plugin == "qwen3_5");
  REQUIRE(s.mappings.size() == 4);
  CHECK(s.mappings[0].smooth_layer == "re:.*layers\\.(3|7)\\.input_layernorm$");
  CHECK(s.mappings[1].smooth_layer == "re:.*layers\\.(0|1|2|4|5|6)\\.input_layernorm$");
  CHECK(s.mappings[1].balance_layers ==
        std::vector<std::string>{"re:.*linear_attn.in_proj_qkv$", "re:.*linear_attn.in_proj_z$",
                                 "re:.*linear_attn.in_proj_b$", "re:.*linear_attn.in_proj_a$"});
  CHECK(s.mappings[2].balance_layers == std::vector<std::string>{"re:.*gate_proj$", "re:.*up_proj$"});
  Resolution r = resolve(m, s.mappings);
  CHECK(smooth_names(r, 0) ==
        std::vector<std::string>{"model.layers.3.input_layernorm", "model.layers.7.input_layernorm"});
  CHECK(smooth_names(r, 1).size() == 6);
  CHECK(smooth_names(r, 2).size() == 8);
}

TEST_CASE("Qwen3-Next MoE: two fused projections, and experts, shared expert and its gate in the MLP mapping") {
  HybridShape shape;
  shape.arch = "Qwen3NextForCausalLM";
  shape.moe = true;
  shape.projections = {"in_proj_qkvz", "in_proj_ba"};
  shape.expert_class = "Qwen3NextMLP";  // MoE through the config class's fields, not class names
  ModelView m = hybrid(shape).build();
  Selection s = shipped().select(m, SelectionMode::upstream);
  REQUIRE(s.kind == SelectionKind::dynamic);
  CHECK(s.plugin == "qwen3_next");
  CHECK(s.mappings[1].balance_layers ==
        std::vector<std::string>{"re:.*linear_attn.in_proj_qkvz$", "re:.*linear_attn.in_proj_ba$"});
  CHECK(s.mappings[2].balance_layers ==
        std::vector<std::string>{"re:.*mlp.experts.*.gate_proj$", "re:.*mlp.experts.*.up_proj$",
                                 "re:.*mlp.shared_expert_gate$", "re:.*mlp.shared_expert.gate_proj$",
                                 "re:.*mlp.shared_expert.up_proj$"});
  Resolution r = resolve(m, s.mappings);
  const ResolvedMapping* post = nullptr;
  for (const auto& g : r.resolved)
    if (g.mapping == 2) post = post ? post : &g;
  REQUIRE(post);
  CHECK(post->balance_names.size() == 2 + 2 + 1 + 1 + 1);
  CHECK(post->parent_name == "model.layers.0.mlp");
}

TEST_CASE("the hybrid builder declines for a standard model, and selection falls through") {
  ModelBuilder b("Qwen3_5ForCausalLM");
  b.config({{"num_hidden_layers", 2}, {"layer_types", {"full_attention", "full_attention"}}});
  b.add("model.layers.0.input_layernorm", "RMSNorm");
  ModelView m = b.build();
  Selection s = shipped().select(m, SelectionMode::upstream);
  CHECK(s.kind == SelectionKind::default_list);
  REQUIRE(s.declined.size() == 1);
  CHECK(s.declined[0].find("not a hybrid model") != std::string::npos);
  CHECK(s.declined[0].find("qwen3_5") != std::string::npos);
  ModelView no_config = ModelBuilder("Qwen3NextForCausalLM").build();
  CHECK(shipped().select(no_config, SelectionMode::upstream).declined.at(0).find("no layer_types and no num_hidden_layers") !=
        std::string::npos);
}

TEST_CASE("the layer index lists scale with 24, 48 and 64 layers") {
  for (int layers : {24, 48, 64}) {
    HybridShape shape;
    shape.layers = layers;
    ModelView m = hybrid(shape).build();
    Selection s = shipped().select(m, SelectionMode::upstream);
    std::vector<std::size_t> full, linear;
    for (int i = 0; i < layers; ++i) ((i + 1) % 4 == 0 ? full : linear).push_back(static_cast<std::size_t>(i));
    CHECK(s.mappings[0].smooth_layer == "re:.*layers\\.(" + toolkit::index_alternation(full) + ")\\.input_layernorm$");
    CHECK(s.mappings[1].smooth_layer ==
          "re:.*layers\\.(" + toolkit::index_alternation(linear) + ")\\.input_layernorm$");
    Resolution r = resolve(m, s.mappings);
    CHECK(smooth_names(r, 0).size() == static_cast<std::size_t>(layers / 4));
    CHECK(smooth_names(r, 1).size() == static_cast<std::size_t>(layers - layers / 4));
  }
}

TEST_CASE("a vision-language config is read through text_config, vision tower present") {
  HybridShape shape;
  shape.arch = "Qwen3_5MoeForConditionalGeneration";
  shape.moe = true;
  shape.expert_class = "ExpertMLPWithGate";
  shape.under_text_config = true;
  shape.layers = 4;
  ModelView m = hybrid(shape).build();
  Selection s = shipped().select(m, SelectionMode::upstream);
  REQUIRE(s.kind == SelectionKind::dynamic);
  CHECK(s.mappings[0].smooth_layer == "re:.*layers\\.(3)\\.input_layernorm$");
  CHECK(s.mappings[2].balance_layers.size() == 5);  // MoE through the experts' class names
  Resolution r = resolve(m, s.mappings);
  CHECK(smooth_names(r, 0) == std::vector<std::string>{"model.language_model.layers.3.input_layernorm"});
}

TEST_CASE("the VL MoE model without expert class names is dense, as upstream sees it") {
  HybridShape shape;
  shape.arch = "Qwen3_5MoeForConditionalGeneration";
  shape.moe = true;
  shape.expert_class = "Qwen3_5MoeMLP";
  shape.under_text_config = true;
  ModelView m = hybrid(shape).build();
  CHECK(shipped().select(m, SelectionMode::upstream).mappings[2].balance_layers == std::vector<std::string>{"re:.*gate_proj$", "re:.*up_proj$"});
}

TEST_CASE("layer types are derived from full_attention_interval when layer_types is absent") {
  ModelView m = hybrid({}, 3).build();
  auto types = toolkit::layer_types(m);
  REQUIRE(types);
  CHECK(*types == std::vector<std::string>{"linear_attention", "linear_attention", "full_attention", "linear_attention",
                                           "linear_attention", "full_attention", "linear_attention",
                                           "linear_attention"});
  ModelBuilder no_interval;
  no_interval.config({{"num_hidden_layers", 4}});
  CHECK(toolkit::layer_types(no_interval.build())->at(3) == "full_attention");  // default interval 4
}

TEST_CASE("legacy layer type names are renamed as transformers does") {
  ModelBuilder b("Qwen3NextForCausalLM");
  b.config({{"num_hidden_layers", 3}, {"layer_types", {"mamba", "attention", "mamba"}}});
  b.linear("model.layers.0.linear_attn.in_proj_qkvz", 4, 4);
  ModelView m = b.build();
  CHECK(*toolkit::layer_types(m) == std::vector<std::string>{"linear_attention", "full_attention", "linear_attention"});
  Selection s = shipped().select(m, SelectionMode::upstream);
  CHECK(s.kind == SelectionKind::dynamic);
  CHECK(s.mappings[0].smooth_layer == "re:.*layers\\.(1)\\.input_layernorm$");
}

TEST_CASE("layer_types shorter than num_hidden_layers is a clear error, not a crash") {
  ModelBuilder b("Qwen3NextForCausalLM");
  b.config({{"num_hidden_layers", 4}, {"layer_types", {"linear_attention", "full_attention"}}});
  ModelView m = b.build();
  CHECK_THROWS_WITH(shipped().select(m, SelectionMode::upstream), Catch::Contains("layer_types has 2 entries but num_hidden_layers is 4"));
}

TEST_CASE("MoE detection reads class names, config keys and the class's own fields") {
  ModelBuilder dense;
  dense.config({{"hidden_size", 4}, {"text_config", {{"num_experts", 4}}}});
  dense.add("model.mlp", "DenseMLP");
  ModelView d = dense.build();
  CHECK_FALSE(toolkit::has_moe_modules(d));
  CHECK_FALSE(toolkit::config_mentions_moe(d));  // text_config keys do not count
  CHECK(toolkit::config_mentions_moe(d, {"moe_intermediate_size"}));
  ModelBuilder keyed;
  keyed.config({{"Num_Experts", 4}, {"_moe_private", 1}});
  CHECK(toolkit::config_mentions_moe(keyed.build()));
  ModelBuilder classes;
  classes.add("model.block", "SparseMoEBlock");
  CHECK(toolkit::has_moe_modules(classes.build()));
  ModelBuilder lower;
  lower.add("model.block", "SparseMoeBlock");  // case-sensitive: "Moe" is not "MoE"
  CHECK_FALSE(toolkit::has_moe_modules(lower.build()));
}

TEST_CASE("Step3p5 with 6 layers (2 dense, 4 MoE) resolves to 6 post-attention groups, each over its own MLP") {
  ModelBuilder b("Step3p5ForCausalLM");
  b.list("model.layers");
  for (int l = 0; l < 6; ++l) {
    std::string p = "model.layers." + std::to_string(l);
    b.add(p, "Step3p5DecoderLayer");
    b.linear(p + ".self_attn.q_proj", 64, 64)
        .linear(p + ".self_attn.k_proj", 64, 32)
        .linear(p + ".self_attn.v_proj", 64, 32);
    b.linear(p + ".self_attn.o_proj", 32, 64).linear(p + ".self_attn.g_proj", 64, 4);
    if (l < 2) {
      b.linear(p + ".mlp.gate_proj", 64, 96).linear(p + ".mlp.up_proj", 64, 96).linear(p + ".mlp.down_proj", 96, 64);
    } else {
      b.linear(p + ".moe.gate", 64, 4).linear(p + ".moe.gate_proj", 64, 32).linear(p + ".moe.up_proj", 64, 32);
      b.linear(p + ".moe.down_proj", 32, 64);
      b.linear(p + ".share_expert.gate_proj", 64, 32).linear(p + ".share_expert.up_proj", 64, 32);
      b.linear(p + ".share_expert.down_proj", 32, 64);
    }
    b.add(p + ".input_layernorm", "RMSNorm").add(p + ".post_attention_layernorm", "RMSNorm");
  }
  ModelView m = b.build();
  Selection s = shipped().select(m, SelectionMode::upstream);
  REQUIRE(s.kind == SelectionKind::dynamic);
  CHECK(s.plugin == "step3p5");
  CHECK(s.mappings[2].smooth_layer == "re:.*layers\\.(0|1)\\.post_attention_layernorm$");
  CHECK(s.mappings[3].smooth_layer == "re:.*layers\\.(2|3|4|5)\\.post_attention_layernorm$");
  Resolution r = resolve(m, s.mappings);
  std::size_t post = 0;
  for (const auto& g : r.resolved) {
    if (g.smooth_name.find("post_attention_layernorm") == std::string_view::npos) continue;
    ++post;
    const bool dense_layer = g.smooth_name.find("layers.0.") != std::string_view::npos ||
                             g.smooth_name.find("layers.1.") != std::string_view::npos;
    for (auto n : g.balance_names) {
      INFO(g.smooth_name << " balances " << n);
      if (dense_layer)
        CHECK(n.find(".mlp.") != std::string_view::npos);
      else
        CHECK((n.find(".moe.") != std::string_view::npos || n.find(".share_expert.") != std::string_view::npos));
    }
  }
  CHECK(post == 6);
}

TEST_CASE("Step3p5 declines when no layer has mlp, moe or share_expert modules") {
  ModelBuilder b("Step3p5ForCausalLM");
  b.add("model.layers.0.attn", "Attn");
  Selection s = shipped().select(b.build(), SelectionMode::upstream);
  CHECK(s.kind == SelectionKind::default_list);
  CHECK(s.declined.at(0).find("step3p5") != std::string::npos);
}

TEST_CASE("in exact mode the Qwen3-Next and Qwen3.5-MoE builders put the router into the MoE group") {
  for (const std::string arch : {"Qwen3NextForCausalLM", "Qwen3_5MoeForCausalLM"}) {
    INFO(arch);
    HybridShape shape;
    shape.arch = arch;
    shape.moe = true;
    ModelView m = hybrid(shape).build();
    Selection exact = shipped().select(m);
    Selection upstream = shipped().select(m, SelectionMode::upstream);
    CHECK(exact.builder == "hybrid_attention_exact");
    CHECK(exact.origin == Origin::analysis);
    CHECK(upstream.builder == "hybrid_attention");
    CHECK(upstream.origin == Origin::upstream);
    REQUIRE(exact.mappings.size() == upstream.mappings.size());
    // Only the post-attention group differs: the router joins it, first.
    std::vector<std::string> want = upstream.mappings[2].balance_layers;
    want.insert(want.begin(), "re:.*mlp.gate$");
    CHECK(exact.mappings[2].balance_layers == want);
    for (std::size_t k : {0u, 1u, 3u}) CHECK(exact.mappings[k] == upstream.mappings[k]);
    Resolution r = resolve(m, exact.mappings);
    bool router_balanced = false;
    for (const auto& g : r.resolved)
      if (g.mapping == 2 && std::string(g.smooth_name) == "model.layers.0.post_attention_layernorm")
        router_balanced = std::find(g.balance_names.begin(), g.balance_names.end(), "model.layers.0.mlp.gate") !=
                          g.balance_names.end();
    CHECK(router_balanced);
  }
}

TEST_CASE("in exact mode a dense Qwen3.5 gets the same mappings as upstream's builder") {
  ModelView m = hybrid({}).build();
  Selection exact = shipped().select(m);
  Selection upstream = shipped().select(m, SelectionMode::upstream);
  CHECK(exact.builder == "hybrid_attention_exact");
  CHECK(exact.mappings == upstream.mappings);
}

TEST_CASE("linear attention projections keep the model's first-seen order when subtrees interleave or nest") {
  // Parent-first but not named_modules() order: the projections of two layers alternate, and
  // one linear_attn lies inside another, so one module is below two of them. The rule
  // (docs/semantics.md §4.1 step 4) reads the names in module order: b, c, a, then d; the
  // second in_proj_b repeats.
  ModelBuilder b("Qwen3NextForCausalLM");
  for (const char* name : {"m.l0.linear_attn.in_proj_b", "m.l1.linear_attn.in_proj_c", "m.l0.linear_attn.in_proj_a",
                           "m.l1.linear_attn.x.linear_attn.in_proj_d", "m.l1.linear_attn.in_proj_b"})
    b.linear(name);
  CHECK(toolkit::linear_attention_projections(b.build()) ==
        std::vector<std::string>{"in_proj_b", "in_proj_c", "in_proj_a", "in_proj_d"});
}

TEST_CASE("layers with a component are found under every list named layers and only for numbered items") {
  ModelBuilder b("Qwen3NextForCausalLM");
  for (const char* name : {"model.layers.2.mlp.up_proj", "model.layers.0.mlp.experts.0.up_proj",
                           "vision.layers.7.mlp.up_proj", "model.layers.x.mlp.up_proj", "model.sublayers.5.mlp.up_proj",
                           "layers.11.mlp.up_proj"})
    b.linear(name);
  const ModelView model = b.build();
  CHECK(toolkit::layers_with(model, "mlp") == std::vector<std::size_t>{0, 2, 7, 11});
  CHECK(toolkit::layers_with(model, "mlp.experts") == std::vector<std::size_t>{0});
}
