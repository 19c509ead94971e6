#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "awqmap/error.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/target.hpp"
#include "model_builder.hpp"
#include "support.hpp"

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

namespace {
// docs/semantics.md §5.2, §5.3 and §6 read literally, over names as strings: upstream's loop over
// every module and every target, its dict of match lists, the parent context as a name, the
// common ancestor of the balance names and the ModuleList steps by cutting the name at its last
// dot. Each result is one line; an error is "error <kind>".
std::vector<std::string> resolve_by_the_rule(const ModelView& model, const MappingList& mappings) {
  auto lca = [](std::vector<std::string> names) -> std::string {
    const std::string lo = "." + *std::min_element(names.begin(), names.end()) + ".";
    const std::string hi = "." + *std::max_element(names.begin(), names.end()) + ".";
    std::size_t n = 0;
    while (n < lo.size() && n < hi.size() && lo[n] == hi[n]) ++n;
    const std::size_t dot = lo.substr(0, n).rfind('.');
    return dot == 0 ? "" : lo.substr(1, dot - 1);
  };
  std::map<std::string, Target> compiled;
  auto compile = [&](const std::string& text) -> const Target& {
    auto it = compiled.find(text);
    if (it == compiled.end()) it = compiled.emplace(text, Target::compile(text, "test")).first;
    return it->second;
  };
  const Target &linear = compile("Linear"), &lm_head = compile("lm_head");
  auto targeted = [&](const std::string& name) {
    const Module& m = model[model.find(name)];
    return (m.is_a("Linear") || m.is_a("Embedding")) && linear.matches(m) && !lm_head.matches(m);
  };
  auto ends = [](const std::string& s, const std::string& t) {
    return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
  };
  std::vector<std::string> out;
  for (std::size_t k = 0; k < mappings.size(); ++k) {
    std::vector<std::string> targets{mappings[k].smooth_layer};
    targets.insert(targets.end(), mappings[k].balance_layers.begin(), mappings[k].balance_layers.end());
    std::map<std::string, std::vector<std::string>> matches;
    std::set<std::string> unmatched(targets.begin(), targets.end());
    std::optional<std::string> context;
    auto emit = [&] {
      const std::vector<std::string>& smooth = matches[targets[0]];
      if (smooth.size() > 1) throw std::string("error multiple_smooth_layers");
      std::vector<std::string> balance;
      for (std::size_t t = 1; t < targets.size(); ++t)
        balance.insert(balance.end(), matches[targets[t]].begin(), matches[targets[t]].end());
      const Module& sm = model[model.find(smooth[0])];
      std::string line = std::to_string(k) + " " + smooth[0] + " ->";
      for (const auto& b : balance) line += " " + b;
      bool incompatible = false, any_targeted = targeted(smooth[0]);
      for (const auto& b : balance) {
        const Module& bm = model[model.find(b)];
        any_targeted = any_targeted || targeted(b);
        if (ends(b, ".o_proj") && sm.is_a("Linear") && bm.is_a("Linear") &&
            ((ends(smooth[0], ".v_proj") && *sm.out_features != *bm.in_features) ||
             (ends(smooth[0], ".qkv_proj") && *sm.out_features != 3 * *bm.in_features)))
          incompatible = true;
      }
      if (incompatible) return out.push_back("skipped incompatible " + line);
      if (balance.empty()) return out.push_back("skipped no_balance_layers " + line);
      if (!any_targeted) return out.push_back("skipped not_targeted " + line);
      std::string parent = lca(balance);
      while (!parent.empty() && model[model.find(parent)].is_a("ModuleList"))
        parent = parent.rfind('.') == std::string::npos ? "" : parent.substr(0, parent.rfind('.'));
      out.push_back(line + " | " + parent);
    };
    try {
      for (const Module& m : model.modules()) {
        const std::string name(m.name);
        std::set<std::string> matched_here;
        for (const auto& target : targets) {
          if (!compile(target).matches(m)) continue;
          std::string next = context ? lca({name, *context}) : name;
          if (unmatched.empty() && next != *context) {
            emit();
            matches.clear();
            unmatched = std::set<std::string>(targets.begin(), targets.end());
            next = name;
          }
          matches[target].push_back(name);
          context = next;
          unmatched.erase(target);
          matched_here.insert(target);
        }
        if (matched_here.size() > 1) throw std::string("error module_rematch");
      }
      if (unmatched.size() == std::set<std::string>(targets.begin(), targets.end()).size()) continue;
      if (!unmatched.empty()) throw std::string("error incomplete_set");
      emit();
    } catch (const std::string& error) {
      return {error};
    }
  }
  return out;
}

std::vector<std::string> resolve_as_lines(const ModelView& model, const MappingList& mappings) {
  std::vector<std::string> out;
  try {
    const Resolution r = resolve(model, mappings);
    // Resolved and skipped groups interleave in the rule's order: lines are compared sorted,
    // each naming its mapping, smooth module and balance modules.
    for (const auto& g : r.resolved) {
      std::string line = std::to_string(g.mapping) + " " + std::string(g.smooth_name) + " ->";
      for (auto b : g.balance_names) line += " " + std::string(b);
      out.push_back(line + " | " + std::string(g.parent_name));
    }
    for (const auto& g : r.skipped) {
      std::string line = "skipped " + std::string(to_string(g.reason)) + " " + std::to_string(g.mapping) + " " +
                         std::string(g.smooth_name) + " ->";
      for (auto b : g.balance_names) line += " " + std::string(b);
      out.push_back(line);
    }
  } catch (const ResolutionError& e) {
    return {"error " + std::string(to_string(e.kind()))};
  }
  return out;
}
}  // namespace

TEST_CASE("random trees with hostile names group and find parents as the rule read over name strings does") {
  // Name parts that sort around '.', empty parts, a newline, UTF-8, digits (ModuleList items)
  // and a long part; projections whose shapes may not fit.
  const std::vector<std::string> parts = {"a", "b", "7", "12", "", "x\ny", "\xc3\xa9", "-", "/", std::string(300, 'L')};
  const std::vector<std::string> leaves = {"q", "k", "v_proj", "o_proj", "up", "down", "n\n"};
  const std::vector<std::string> patterns = {"re:.*q$",    "re:.*k$",   "re:.*v_proj$", "re:.*o_proj$",
                                             "re:.*up$",   "re:.*down$", "re:.*n$",     "re:.*\\d\\.k$"};
  std::mt19937 random(11);
  std::size_t with_groups = 0, with_skips = 0, with_errors = 0;
  for (int round = 0; round < 3000; ++round) {
    ModelBuilder b;
    std::set<std::string> seen{""};
    // Depth-first, so that modules come in named_modules() order.
    auto grow = [&](auto&& self, const std::string& name, int depth) -> void {
      const bool list = random() % 3 == 0;
      if (!name.empty()) b.add(name, list ? "ModuleList" : "Module");
      const std::string p = name.empty() ? "" : name + ".";
      for (std::size_t c = 1 + random() % 3; c > 0; --c) {
        const std::string child = p + (list ? std::to_string(random() % 4) : parts[random() % parts.size()]);
        if (!seen.insert(child).second) continue;
        if (depth < 3 && random() % 2)
          self(self, child, depth + 1);
        else
          for (std::size_t l = 1 + random() % 4; l > 0; --l) {
            const std::string leaf = child + "." + leaves[random() % leaves.size()];
            if (!seen.insert(leaf).second) continue;
            if (random() % 4 == 0)
              b.add(leaf, "RMSNorm");
            else
              b.linear(leaf, random() % 4 ? 64 : 32, random() % 4 ? 64 : 32);
          }
      }
    };
    grow(grow, "", 0);
    const ModelView model = b.build();
    MappingList mappings;
    for (std::size_t k = 1 + random() % 2; k > 0; --k) {
      Mapping m{patterns[random() % patterns.size()], {}};
      for (std::size_t n = random() % 3; n > 0; --n) m.balance_layers.push_back(patterns[random() % patterns.size()]);
      mappings.push_back(m);
    }
    const std::vector<std::string> expected = resolve_by_the_rule(model, mappings);
    std::vector<std::string> got = resolve_as_lines(model, mappings), rule = expected;
    INFO("round " << round);
    if (rule.size() == 1 && rule[0].rfind("error", 0) == 0) {
      ++with_errors;
    } else {
      with_groups += std::any_of(rule.begin(), rule.end(), [](const std::string& l) { return l.find(" | ") != std::string::npos; });
      with_skips += std::any_of(rule.begin(), rule.end(), [](const std::string& l) { return l.rfind("skipped", 0) == 0; });
      std::sort(rule.begin(), rule.end());
      std::sort(got.begin(), got.end());
    }
    CHECK(got == rule);
  }
  CHECK(with_groups > 100);
  CHECK(with_skips > 20);
  CHECK(with_errors > 100);
}

TEST_CASE("a mapping of 300 distinct balance targets groups as the rule does") {
  // More distinct targets than the walk's one-byte target marks hold: the later ones take the
  // general path, module by module.
  ModelBuilder b;
  MappingList mappings(1);
  mappings[0].smooth_layer = "re:.*norm$";
  for (int layer = 0; layer < 2; ++layer) {
    const std::string p = "layers." + std::to_string(layer) + ".";
    b.add(p + "norm", "RMSNorm");
    for (int i = 0; i < 300; ++i) b.linear(p + "l" + std::to_string(i));
  }
  for (int i = 0; i < 300; ++i) mappings[0].balance_layers.push_back("re:.*\\.l" + std::to_string(i) + "$");
  mappings[0].balance_layers.push_back("re:.*\\.l299$");
  const ModelView model = b.build();
  std::vector<std::string> got = resolve_as_lines(model, mappings), rule = resolve_by_the_rule(model, mappings);
  REQUIRE(got.size() == 2);
  CHECK(got == rule);
  CHECK(got[0].find("layers.0.l299 layers.0.l299 | layers.0") != std::string::npos);
}

TEST_CASE("the resolve JSON carries names that need escaping exactly as resolution gives them") {
  // Quotes, backslashes, control bytes, DEL, UTF-8, names shorter and longer than 16 bytes and
  // near multiples of it: one group per block with a single balance layer (its own parent) and
  // one group with two.
  const std::vector<std::string> blocks = {"q\"x",     "b\\\\s",           "n\nl",  "t\tc\x01\x1f",
                                           "\x7f\xc3\xa9", std::string(13, 'a'), std::string(29, 'b') + "\"",
                                           std::string(200, 'c'), "plain"};
  ModelBuilder b;
  for (const auto& block : blocks) b.linear(block + ".up").linear(block + ".down");
  b.add("m\"\\", "Block").linear("m\"\\.g\n").linear("m\"\\.up").linear("m\"\\.gate").linear("m\"\\.down");
  const ModelView model = b.build();
  const MappingList mappings = {{"re:(?s).*\\.up$", {"re:(?s).*\\.down$"}},
                                {"re:(?s).*\\.g\\n$", {"re:(?s).*\\.gate$", "re:(?s).*\\.up$"}}};
  const Resolution r = resolve(model, mappings);
  REQUIRE(r.resolved.size() == blocks.size() + 2);

  test::TempDir dir;
  const auto description = dir.write("model.json", b.json());
  const auto mapping_file = dir.write(
      "mappings.json", nlohmann::json::parse(R"([
        {"smooth_layer": "re:(?s).*\\.up$", "balance_layers": ["re:(?s).*\\.down$"]},
        {"smooth_layer": "re:(?s).*\\.g\\n$", "balance_layers": ["re:(?s).*\\.gate$", "re:(?s).*\\.up$"]}])")
                           .dump());
  const auto cli = test::run_cli("resolve " + test::quote(description.string()) + " --mappings " +
                                 test::quote(mapping_file.string()) + " --format json");
  INFO(cli.err);
  REQUIRE(cli.exit_code == 0);
  const auto out = nlohmann::json::parse(cli.out)["resolved"];
  REQUIRE(out.size() == r.resolved.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const ResolvedMapping& g = r.resolved[i];
    CHECK(out[i]["mapping"] == g.mapping);
    CHECK(out[i]["smooth_name"] == std::string(g.smooth_name));
    CHECK(out[i]["balance_names"] == nlohmann::json(names(g.balance_names)));
    CHECK(out[i]["parent_name"] == std::string(g.parent_name));
    CHECK(out[i]["activation_hook_target"].is_null());
  }
  CHECK(out[0]["parent_name"] == "q\"x.down");
}
