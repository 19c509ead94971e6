#include <catch2/catch.hpp>

#include "awqmap/coverage.hpp"
#include "awqmap/error.hpp"
#include "awqmap/explain.hpp"
#include "awqmap/loader.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/repair.hpp"
#include "corpus_check.hpp"
#include "model_builder.hpp"
#include "support.hpp"

using namespace awqmap;
using test::ModelBuilder;

namespace {

Registry& shipped() {
  return test::shipped_registry();
}

// The ModuleList item a module belongs to (model.layers.3), by name.
std::string layer_of(std::string_view name) {
  auto pos = name.find("layers.");
  if (pos == std::string_view::npos) return std::string(name);
  auto end = name.find('.', pos + 7);
  return std::string(name.substr(0, end));
}

// DeepSeek-V3 at real depth: `dense` dense MLP layers, then MoE layers with a router.
ModelView deepseek(int layers, int dense, int experts = 4) {
  ModelBuilder b("DeepseekV3ForCausalLM");
  b.config({{"num_hidden_layers", layers}, {"first_k_dense_replace", dense}});
  b.list("model.layers");
  for (int l = 0; l < layers; ++l) {
    std::string p = "model.layers." + std::to_string(l);
    b.add(p, "DeepseekV3DecoderLayer");
    b.linear(p + ".self_attn.q_a_proj", 64, 32).add(p + ".self_attn.q_a_layernorm", "RMSNorm");
    b.linear(p + ".self_attn.q_b_proj", 32, 64).linear(p + ".self_attn.kv_a_proj_with_mqa", 64, 40);
    b.add(p + ".self_attn.kv_a_layernorm", "RMSNorm").linear(p + ".self_attn.kv_b_proj", 32, 64);
    b.linear(p + ".self_attn.o_proj", 64, 64);
    if (l < dense) {
      b.linear(p + ".mlp.gate_proj", 64, 128).linear(p + ".mlp.up_proj", 64, 128).linear(p + ".mlp.down_proj", 128, 64);
    } else {
      b.add(p + ".mlp", "DeepseekV3MoE").add(p + ".mlp.gate", "DeepseekV3TopkRouter");
      b.list(p + ".mlp.experts");
      for (int e = 0; e < experts; ++e) {
        std::string q = p + ".mlp.experts." + std::to_string(e);
        b.linear(q + ".gate_proj", 64, 16).linear(q + ".up_proj", 64, 16).linear(q + ".down_proj", 16, 64);
      }
      b.linear(p + ".mlp.shared_experts.gate_proj", 64, 16).linear(p + ".mlp.shared_experts.up_proj", 64, 16);
      b.linear(p + ".mlp.shared_experts.down_proj", 16, 64);
    }
    b.add(p + ".input_layernorm", "RMSNorm").add(p + ".post_attention_layernorm", "RMSNorm");
  }
  b.linear("lm_head", 64, 128);
  return b.build();
}

}  // namespace

// Whether repaired mappings resolve as upstream would resolve them is checked against the Python
// transcription of upstream (tests/reference/upstream_reference.py --corpus-repair); here, the
// structure of each repair.
TEST_CASE("every failing corpus model is repaired or explained, and repaired groups stay inside one layer") {
  std::size_t failing = 0, repaired = 0, explained = 0;
  for (const auto& name : test::corpus_cases()) {
    auto expected = test::read_json(test::corpus_dir() / (name + ".expected.json"));
    if (!expected.contains("error")) continue;
    ++failing;
    INFO(name);
    ModelView model = load_model_description((test::corpus_dir() / (name + ".model.json")).string());
    MappingList mappings = mappings_from_json(expected["mappings"].dump(), name);
    ResolveOptions options;
    options.targets = expected.value("targets", std::vector<std::string>{"Linear"});
    options.ignore = expected.value("ignore", std::vector<std::string>{"lm_head"});
    ResolutionError original(ResolutionErrorKind::incomplete_set, 0, "");
    try {
      resolve(model, mappings, options);
      FAIL("the corpus says this model fails");
    } catch (const ResolutionError& e) {
      original = e;
    }
    std::string why = explain(model, mappings, original, options);
    INFO(why);
    CHECK(why.find("mapping " + std::to_string(original.mapping_index())) == 0);
    try {
      RepairedResolution r = resolve_with_repair(model, mappings, options);
      ++repaired;
      // The explanation announced what repair then did.
      CHECK(why.find("repair cannot fix it") == std::string::npos);
      REQUIRE_FALSE(r.repairs.empty());
      CHECK(r.repairs[0].mapping == original.mapping_index());
      CHECK(r.repairs[0].original == mappings[original.mapping_index()]);
      // Every group from a repaired mapping stays inside one layer.
      for (const auto& g : r.resolution.resolved) {
        if (!r.repaired_from[g.mapping]) continue;
        for (auto b : g.balance_names) CHECK(layer_of(b) == layer_of(g.smooth_name));
      }
      // Mappings that resolved cleanly are untouched, in their order.
      std::size_t untouched = 0;
      for (std::size_t i = 0; i < r.mappings.size(); ++i)
        if (!r.repaired_from[i]) {
          CHECK(std::find(mappings.begin(), mappings.end(), r.mappings[i]) != mappings.end());
          ++untouched;
        }
      CHECK(untouched + r.repairs.size() == mappings.size());
    } catch (const ResolutionError& e) {
      ++explained;
      CHECK(e.kind() == original.kind());  // not repairable: the original error stands, explained
      CHECK(why.find("repair cannot fix it") != std::string::npos);
    }
  }
  CHECK(failing >= 4);
  CHECK(repaired + explained == failing);
  CHECK(repaired >= failing / 2);
}

TEST_CASE("repair leaves out a mapping whose smooth target matches no module") {
  // OPT-like: fc1/fc2 and q/k/v, but no input_layernorm and no post_attention_layernorm.
  ModelBuilder b("OPTForCausalLM");
  b.list("model.decoder.layers");
  for (int l = 0; l < 2; ++l) {
    std::string p = "model.decoder.layers." + std::to_string(l);
    b.add(p, "OPTDecoderLayer");
    b.linear(p + ".self_attn.q_proj", 32, 32).linear(p + ".self_attn.k_proj", 32, 32);
    b.linear(p + ".self_attn.v_proj", 32, 32).linear(p + ".self_attn.out_proj", 32, 32);
    b.add(p + ".self_attn_layer_norm", "LayerNorm").linear(p + ".fc1", 32, 64).linear(p + ".fc2", 64, 32);
  }
  ModelView m = b.build();
  MappingList l = *shipped().default_mappings();
  CHECK_THROWS_AS(resolve(m, l), ResolutionError);
  RepairedResolution r = resolve_with_repair(m, l);
  // Mapping 0 (input_layernorm -> q/k/v) has no smooth module; mapping 1 (v_proj -> o_proj) has
  // smooth modules but no o_proj in any layer: both are left out whole.
  REQUIRE(r.repairs.size() == 2);
  CHECK(r.repairs[0].mapping == 0);
  CHECK(r.repairs[0].replaced_by.empty());
  REQUIRE(r.repairs[0].left_out.size() == 1);
  CHECK(r.repairs[0].left_out[0].find("matches no module") != std::string::npos);
  CHECK(r.repairs[1].mapping == 1);
  CHECK(r.repairs[1].replaced_by.empty());
  CHECK(r.repairs[1].left_out_layers == 2);
  CHECK(r.mappings.size() == l.size() - 2);
  try {
    resolve(m, l);
  } catch (const ResolutionError& e) {
    CHECK(explain(m, l, e).find("repair leaves this mapping out") != std::string::npos);
  }
  // What the left-out mapping would have balanced is attributed to the repair.
  Coverage c = coverage(m, r);
  bool attributed = false;
  for (const auto& u : c.unbalanced)
    if (u.name == "model.decoder.layers.*.self_attn.q_proj")
      attributed = u.reason == "left out by repair of mapping 0" && u.count == 2;
  CHECK(attributed);
}

TEST_CASE("repair leaves out a mapping when no layer holds any of its balance targets") {
  // A one-layer GLM-4-MoE whose only layer is dense: the MoE list's router and experts match nothing.
  ModelBuilder b("Glm4MoeForCausalLM");
  b.list("model.layers").add("model.layers.0", "Glm4MoeDecoderLayer");
  b.linear("model.layers.0.self_attn.q_proj", 32, 32).linear("model.layers.0.self_attn.k_proj", 32, 8);
  b.linear("model.layers.0.self_attn.v_proj", 32, 8).linear("model.layers.0.self_attn.o_proj", 32, 32);
  b.add("model.layers.0.mlp", "Glm4MoeMLP").linear("model.layers.0.mlp.gate_proj", 32, 64);
  b.linear("model.layers.0.mlp.up_proj", 32, 64).linear("model.layers.0.mlp.down_proj", 64, 32);
  b.add("model.layers.0.input_layernorm", "RMSNorm").add("model.layers.0.post_attention_layernorm", "RMSNorm");
  ModelView m = b.build();
  MappingList l = {{"re:.*post_attention_layernorm$", {"re:.*mlp.gate$", "re:.*mlp.experts.*.gate_proj$"}},
                   {"re:.*up_proj$", {"re:.*down_proj$"}}};
  RepairedResolution r = resolve_with_repair(m, l);
  REQUIRE(r.repairs.size() == 1);
  CHECK(r.repairs[0].replaced_by.empty());
  CHECK(r.repairs[0].left_out_layers == 1);
  REQUIRE(r.mappings.size() == 1);
  CHECK(r.mappings[0] == l[1]);
  REQUIRE(r.resolution.resolved.size() == 1);
  CHECK(r.resolution.resolved[0].smooth_name == "model.layers.0.mlp.up_proj");
}

TEST_CASE("models that resolve cleanly give identical results with repair") {
  for (const auto& name : test::corpus_cases()) {
    auto expected = test::read_json(test::corpus_dir() / (name + ".expected.json"));
    if (expected.contains("error")) continue;
    DYNAMIC_SECTION(name) {
      ModelView model = load_model_description((test::corpus_dir() / (name + ".model.json")).string());
      MappingList mappings = mappings_from_json(expected["mappings"].dump(), name);
      RepairedResolution r = resolve_with_repair(model, mappings);
      CHECK(r.repairs.empty());
      CHECK(r.mappings == mappings);
      CHECK(test::resolved_to_json(r.resolution) == test::resolved_to_json(resolve(model, mappings)));
    }
  }
}

TEST_CASE("DeepSeek-V3 at real size resolves exactly in the default mode, router and shared experts included") {
  ModelView model = deepseek(61, 3, 2);
  Selection s = shipped().select(model);
  Resolution r = resolve(model, s.mappings);
  std::size_t moe = 0, dense = 0;
  for (const auto& g : r.resolved) {
    if (g.smooth_name.find("post_attention_layernorm") == std::string_view::npos) continue;
    std::vector<std::string> names(g.balance_names.begin(), g.balance_names.end());
    bool router = std::find(names.begin(), names.end(), std::string(layer_of(g.smooth_name)) + ".mlp.gate") != names.end();
    bool shared = std::any_of(names.begin(), names.end(),
                              [](const std::string& n) { return n.find("shared_experts.gate_proj") != std::string::npos; });
    if (router) {
      ++moe;
      CHECK(shared);
    } else {
      ++dense;
    }
  }
  CHECK(dense == 3);
  CHECK(moe == 58);
}

TEST_CASE("DeepSeek-V3 at real size is repaired into a dense mapping for layers 0-2 and a MoE one for 3-60") {
  ModelView model = deepseek(61, 3, 2);
  Selection s = shipped().select(model, SelectionMode::upstream);  // upstream's list collapses
  CHECK_THROWS_AS(resolve(model, s.mappings), ResolutionError);
  RepairedResolution r = resolve_with_repair(model, s.mappings);
  REQUIRE(r.repairs.size() == 1);
  CHECK(r.repairs[0].mapping == 3);
  REQUIRE(r.repairs[0].replaced_by.size() == 2);
  const Mapping& dense = r.mappings[r.repairs[0].replaced_by[0]];
  const Mapping& moe = r.mappings[r.repairs[0].replaced_by[1]];
  CHECK(dense.smooth_layer == "re:(?=model\\.layers\\.(?:0|1|2)\\.).*post_attention_layernorm$");
  CHECK(dense.balance_layers == std::vector<std::string>{"re:(?=model\\.layers\\.(?:0|1|2)\\.).*gate_proj$",
                                                         "re:(?=model\\.layers\\.(?:0|1|2)\\.).*up_proj$"});
  std::string moe_layers;
  for (int l = 3; l <= 60; ++l) moe_layers += (l > 3 ? "|" : "") + std::to_string(l);
  CHECK(moe.smooth_layer == "re:(?=model\\.layers\\.(?:" + moe_layers + ")\\.).*post_attention_layernorm$");
  CHECK(moe.balance_layers.size() == 3);
  std::size_t post = 0;
  for (const auto& g : r.resolution.resolved)
    if (g.smooth_name.find("post_attention_layernorm") != std::string_view::npos) ++post;
  CHECK(post == 61);
  std::string why;
  try {
    resolve(model, s.mappings);
  } catch (const ResolutionError& e) {
    why = explain(model, s.mappings, e);
  }
  CHECK(why.find("model.layers 0-2: no match for re:.*mlp.gate$") != std::string::npos);
  CHECK(why.find("model.layers 3-60: every balance target matches") != std::string::npos);
}

TEST_CASE("a vision tower whose v_proj has no o_proj beside it is left out, with the reason") {
  ModelView model =
      load_model_description((test::corpus_dir() / "Gemma3ForConditionalGeneration.tiny.model.json").string());
  Selection s = shipped().select(model, SelectionMode::upstream);
  RepairedResolution r = resolve_with_repair(model, s.mappings);
  REQUIRE(r.repairs.size() == 1);
  REQUIRE_FALSE(r.repairs[0].left_out.empty());
  CHECK(r.repairs[0].left_out[0].find("vision_tower") != std::string::npos);
  CHECK(r.repairs[0].left_out[0].find("no balance target matches there") != std::string::npos);
  for (const auto& g : r.resolution.resolved) CHECK(g.smooth_name.find("vision_tower") == std::string_view::npos);
}

TEST_CASE("several smooth modules in one layer cannot be repaired and stay an explained error") {
  ModelBuilder b;
  b.list("model.layers");
  for (int l = 0; l < 2; ++l) {
    std::string p = "model.layers." + std::to_string(l);
    b.add(p + ".a_norm", "RMSNorm").add(p + ".b_norm", "RMSNorm").linear(p + ".proj", 4, 4);
  }
  ModelView m = b.build();
  MappingList l = {{"re:.*_norm$", {"re:.*proj$"}}};
  CHECK_THROWS_AS(resolve_with_repair(m, l), ResolutionError);
  try {
    resolve(m, l);
  } catch (const ResolutionError& e) {
    CHECK(explain(m, l, e).find("several smooth modules in one layer") != std::string::npos);
  }
}

TEST_CASE("explanations name the module matched twice and where a hook target was looked for") {
  ModelBuilder b;
  b.add("layer.norm", "RMSNorm")
      .linear("layer.mlp.gate_proj", 4, 8)
      .linear("layer.mlp.up_proj", 4, 8)
      .add("layer.mlp.act", "SiLU");
  ModelView m = b.build();
  MappingList rematch = {{"re:.*norm$", {"re:.*gate_proj$", "re:.*mlp.*"}}};
  try {
    resolve(m, rematch);
    FAIL("no error");
  } catch (const ResolutionError& e) {
    std::string why = explain(m, rematch, e);
    CHECK(why.find("module layer.mlp.gate_proj matches both") != std::string::npos);
  }
  MappingList hook = {{"re:.*norm$", {"re:.*gate_proj$", "re:.*up_proj$"}, "activation"}};
  try {
    resolve(m, hook);
    FAIL("no error");
  } catch (const ResolutionError& e) {
    std::string why = explain(m, hook, e);
    CHECK(why.find("looked for module 'layer.mlp.activation'") != std::string::npos);
    CHECK(why.find("children are: gate_proj, up_proj, act") != std::string::npos);
  }
}

TEST_CASE("coverage counts balanced modules and folds the rest by name with the reason") {
  ModelView model = load_model_description((test::corpus_dir() / "LlamaForCausalLM.tiny.model.json").string());
  Selection s = shipped().select(model);
  Resolution r = resolve(model, s.mappings);
  Coverage c = coverage(model, s.mappings, r);
  CHECK(c.targeted == 4 * 7);  // lm_head is ignored
  CHECK(c.balanced == 4 * 6);  // q, k, v, gate, up, down; o_proj only in skipped groups
  REQUIRE(c.unbalanced.size() == 1);
  CHECK(c.unbalanced[0].name == "model.layers.*.self_attn.o_proj");
  CHECK(c.unbalanced[0].count == 4);
  CHECK(c.unbalanced[0].reason == "v_proj->o_proj skipped, incompatible shapes");
}
