#include <catch2/catch.hpp>

#include "awqmap/error.hpp"
#include "awqmap/resolve.hpp"
#include "model_builder.hpp"

using namespace awqmap;
using test::ModelBuilder;

namespace {
// A Llama-like decoder layer.
void dense_layer(ModelBuilder& b, int i, int v_out = 32, int o_in = 32) {
  std::string p = "model.layers." + std::to_string(i);
  b.add(p, "DecoderLayer");
  b.linear(p + ".self_attn.q_proj", 64, 64).linear(p + ".self_attn.k_proj", 64, 32);
  b.linear(p + ".self_attn.v_proj", 64, v_out).linear(p + ".self_attn.o_proj", o_in, 64);
  b.linear(p + ".mlp.gate_proj", 64, 128).linear(p + ".mlp.up_proj", 64, 128).linear(p + ".mlp.down_proj", 128, 64);
  b.add(p + ".input_layernorm", "RMSNorm").add(p + ".post_attention_layernorm", "RMSNorm");
}

ModelBuilder dense_model(int layers, int v_out = 32, int o_in = 32) {
  ModelBuilder b;
  b.list("model.layers");
  for (int i = 0; i < layers; ++i) dense_layer(b, i, v_out, o_in);
  b.linear("lm_head", 64, 512);
  return b;
}

std::vector<std::string> names(const std::vector<std::string_view>& v) {
  return {v.begin(), v.end()};
}

ResolutionErrorKind error_kind(const ModelView& m, const MappingList& l) {
  try {
    resolve(m, l);
  } catch (const ResolutionError& e) {
    return e.kind();
  }
  FAIL("no resolution error");
  return ResolutionErrorKind::incomplete_set;
}
}  // namespace

TEST_CASE("lowest common ancestor follows upstream's dotted-prefix rule") {
  CHECK(lowest_common_ancestor(std::vector<std::string_view>{"x.a", "x.b"}) == "x");
  CHECK(lowest_common_ancestor(std::vector<std::string_view>{"x"}) == "x");
  CHECK(lowest_common_ancestor(std::vector<std::string_view>{"abc", "ab"}) == "");
  CHECK(lowest_common_ancestor(std::vector<std::string_view>{"ab", "ab.a"}) == "ab");
  CHECK(lowest_common_ancestor(std::vector<std::string_view>{}) == "");
  CHECK(lowest_common_ancestor(std::vector<std::string_view>{"a.b.c", "a.b.d", "a.bc"}) == "a");
  CHECK(lowest_common_ancestor(std::vector<std::string_view>{"", "a"}) == "");
  CHECK(lowest_common_ancestor(std::vector<std::string_view>{"m.layers.1.x", "m.layers.10.x"}) == "m.layers");
}

TEST_CASE("MoE experts are grouped per layer with all experts in one group") {
  ModelBuilder b;
  b.list("model.layers");
  for (int l = 0; l < 2; ++l) {
    std::string p = "model.layers." + std::to_string(l);
    b.add(p, "Layer");
    b.add(p + ".mlp.gate", "Router");
    b.add(p + ".mlp.experts", "Experts", {{"bases", {"ModuleList"}}});
    for (int e = 0; e < 3; ++e) {
      std::string q = p + ".mlp.experts." + std::to_string(e);
      b.linear(q + ".gate_proj", 8, 4).linear(q + ".up_proj", 8, 4).linear(q + ".down_proj", 4, 8);
    }
    b.add(p + ".post_attention_layernorm", "RMSNorm");
  }
  ModelView m = b.build();
  MappingList l = {{"re:.*post_attention_layernorm$", {"re:.*mlp.experts.*.gate_proj$", "re:.*mlp.experts.*.up_proj$"}},
                   {"re:.*up_proj$", {"re:.*down_proj$"}}};
  Resolution r = resolve(m, l);
  REQUIRE(r.resolved.size() == 2 + 6);
  CHECK(r.resolved[0].smooth_name == "model.layers.0.post_attention_layernorm");
  CHECK(r.resolved[0].balance_names.size() == 6);
  CHECK(r.resolved[0].balance_names[0] == "model.layers.0.mlp.experts.0.gate_proj");
  CHECK(r.resolved[0].balance_names[3] == "model.layers.0.mlp.experts.0.up_proj");
  CHECK(r.resolved[0].parent_name == "model.layers.0.mlp");  // experts (a ModuleList) stepped over
  CHECK(r.resolved[1].smooth_name == "model.layers.1.post_attention_layernorm");
}

TEST_CASE("an expert's up_proj -> down_proj has the down_proj module itself as parent") {
  ModelBuilder b;
  b.add("model.experts", "Experts", {{"bases", {"ModuleList"}}});
  b.linear("model.experts.0.up_proj", 8, 4).linear("model.experts.0.down_proj", 4, 8);
  ModelView m = b.build();
  Resolution r = resolve(m, {{"re:.*up_proj$", {"re:.*down_proj$"}}});
  REQUIRE(r.resolved.size() == 1);
  CHECK(r.resolved[0].parent_name == "model.experts.0.down_proj");
}

TEST_CASE("a ModuleList parent is stepped over up to a non-list ancestor") {
  ModelBuilder b;
  b.list("model.layers");
  b.add("model.layers.0", "Layer")
      .linear("model.layers.0.a", 4, 4)
      .add("model.layers.1", "Layer")
      .linear("model.layers.1.b", 4, 4);
  b.add("model.norm", "RMSNorm");
  ModelView m = b.build();
  Resolution r = resolve(m, {{"model.norm", {"re:.*\\.a$", "re:.*\\.b$"}}});
  REQUIRE(r.resolved.size() == 1);
  CHECK(r.resolved[0].parent_name == "model");  // lca is model.layers, a ModuleList
}

TEST_CASE("v_proj -> o_proj is skipped when the shapes differ") {
  ModelView m = dense_model(2, 32, 64).build();
  Resolution r = resolve(m, {{"re:.*v_proj$", {"re:.*o_proj$"}}});
  CHECK(r.resolved.empty());
  REQUIRE(r.skipped.size() == 2);
  CHECK(r.skipped[0].reason == SkipReason::incompatible);
  CHECK(r.skipped[0].smooth_name == "model.layers.0.self_attn.v_proj");
  ModelView ok = dense_model(2, 32, 32).build();
  CHECK(resolve(ok, {{"re:.*v_proj$", {"re:.*o_proj$"}}}).resolved.size() == 2);
}

TEST_CASE("v_proj -> [z_proj, o_proj] is skipped as a whole when only o_proj is incompatible") {
  ModelBuilder b;
  b.linear("attn.v_proj", 64, 32).linear("attn.z_proj", 32, 64).linear("attn.o_proj", 64, 64);
  ModelView m = b.build();
  Resolution r = resolve(m, {{"re:.*v_proj$", {"re:.*z_proj$", "re:.*o_proj$"}}});
  CHECK(r.resolved.empty());
  REQUIRE(r.skipped.size() == 1);
  CHECK(r.skipped[0].reason == SkipReason::incompatible);
}

TEST_CASE("qkv_proj -> o_proj needs out_features three times o_proj's in_features") {
  ModelBuilder b;
  b.linear("a.qkv_proj", 64, 192).linear("a.o_proj", 64, 64).linear("b.qkv_proj", 64, 96).linear("b.o_proj", 64, 64);
  ModelView m = b.build();
  Resolution r = resolve(m, {{"re:.*qkv_proj$", {"re:.*o_proj$"}}});
  REQUIRE(r.resolved.size() == 1);
  CHECK(r.resolved[0].smooth_name == "a.qkv_proj");
  REQUIRE(r.skipped.size() == 1);
  CHECK(r.skipped[0].smooth_name == "b.qkv_proj");
}

TEST_CASE("a too-wide smooth pattern collapses into one group: multiple_smooth_layers") {
  ModelView m = dense_model(3).build();
  // Balance pattern only in the last layer: the set never closes before it.
  MappingList l = {{"re:.*input_layernorm$", {"re:.*layers.2.self_attn.q_proj$"}}};
  try {
    resolve(m, l);
    FAIL("no error");
  } catch (const ResolutionError& e) {
    CHECK(e.kind() == ResolutionErrorKind::multiple_smooth_layers);
    CHECK(std::string(e.what()) ==
          "AWQ needs to match a single smoothlayer for each mapping but got ['model.layers.0.input_layernorm', "
          "'model.layers.1.input_layernorm', 'model.layers.2.input_layernorm'] for mapping: "
          "AWQMapping(smooth_layer='re:.*input_layernorm$', balance_layers=['re:.*layers.2.self_attn.q_proj$'], "
          "activation_hook_target=None)");
  }
}

TEST_CASE("a set still open at the end is the final-incomplete-set error") {
  ModelView m = dense_model(2).build();
  MappingList l = {{"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*nonexistent$"}}};
  try {
    resolve(m, l);
    FAIL("no error");
  } catch (const ResolutionError& e) {
    CHECK(e.kind() == ResolutionErrorKind::incomplete_set);
    std::string msg = e.what();
    CHECK(msg.find("re:.*nonexistent$") != std::string::npos);
    CHECK(msg.find("re:.*q_proj$") != std::string::npos);
    CHECK(msg.find("mapping 0") != std::string::npos);
  }
}

TEST_CASE("a mapping that matches nothing yields no group and no error") {
  Resolution r = resolve(dense_model(1).build(), {{"re:.*nothing$", {"re:.*nowhere$"}}});
  CHECK(r.resolved.empty());
  CHECK(r.skipped.empty());
}

TEST_CASE("a module matching two targets of one mapping is the rematch error") {
  ModelView m = dense_model(1).build();
  MappingList l = {{"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*self_attn.q.*"}}};
  try {
    resolve(m, l);
    FAIL("no error");
  } catch (const ResolutionError& e) {
    CHECK(e.kind() == ResolutionErrorKind::module_rematch);
    CHECK(std::string(e.what()).find("model.layers.0.self_attn.q_proj") != std::string::npos);
  }
}

TEST_CASE("the same target string twice in one mapping shares one match list, as upstream's dict") {
  ModelView m = dense_model(1).build();
  Resolution r = resolve(m, {{"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*q_proj$"}}});
  REQUIRE(r.resolved.size() == 1);
  // The module is appended once per occurrence, and each occurrence contributes the shared list.
  CHECK(names(r.resolved[0].balance_names) ==
        std::vector<std::string>{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.q_proj",
                                 "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.q_proj"});
}

TEST_CASE("activation_hook_target is found relative to the parent, and its absence is an error") {
  ModelBuilder b;
  b.add("layer", "Layer").add("layer.norm", "RMSNorm").add("layer.mlp", "MLP");
  b.linear("layer.mlp.gate_proj", 4, 8).linear("layer.mlp.up_proj", 4, 8).add("layer.mlp.act", "SiLU");
  ModelView m = b.build();
  Resolution r = resolve(m, {{"re:.*norm$", {"re:.*gate_proj$", "re:.*up_proj$"}, "act"}});
  REQUIRE(r.resolved.size() == 1);
  CHECK(r.resolved[0].parent_name == "layer.mlp");
  REQUIRE(r.resolved[0].activation_hook_target);
  CHECK(*r.resolved[0].activation_hook_target == "layer.mlp.act");
  try {
    resolve(m, {{"re:.*norm$", {"re:.*gate_proj$", "re:.*up_proj$"}, "missing_act"}});
    FAIL("no error");
  } catch (const ResolutionError& e) {
    CHECK(e.kind() == ResolutionErrorKind::hook_target_missing);
    CHECK(std::string(e.what()).find("layer.mlp.missing_act") != std::string::npos);
  }
}

TEST_CASE("groups without targeted modules are skipped as not_targeted, and empty balance as no_balance_layers") {
  ModelView m = dense_model(1).build();
  ResolveOptions only_attention;
  only_attention.targets = {"re:.*self_attn.*"};
  Resolution r =
      resolve(m, {{"re:.*up_proj$", {"re:.*down_proj$"}}, {"re:.*input_layernorm$", {"re:.*q_proj$"}}}, only_attention);
  REQUIRE(r.skipped.size() == 1);
  CHECK(r.skipped[0].reason == SkipReason::not_targeted);
  CHECK(r.resolved.size() == 1);
  Resolution none = resolve(m, {{"re:.*input_layernorm$", {}}});
  REQUIRE(none.skipped.size() == 1);
  CHECK(none.skipped[0].reason == SkipReason::no_balance_layers);
}

TEST_CASE("ignored modules match no target") {
  ModelView m = dense_model(2).build();
  ResolveOptions o;
  o.ignore = {"lm_head", "re:.*layers\\.1\\..*"};
  Resolution r = resolve(m, {{"re:.*up_proj$", {"re:.*down_proj$"}}}, o);
  REQUIRE(r.resolved.size() == 1);
  CHECK(r.resolved[0].smooth_name == "model.layers.0.mlp.up_proj");
}

TEST_CASE("errors stop the whole resolution in upstream's order") {
  // Mapping 0 resolves, mapping 1 collapses: the error wins and nothing is returned.
  ModelView m = dense_model(2).build();
  CHECK(error_kind(m, {{"re:.*up_proj$", {"re:.*down_proj$"}},
                       {"re:.*input_layernorm$", {"re:.*layers.1.self_attn.q_proj$"}}}) ==
        ResolutionErrorKind::multiple_smooth_layers);
}
