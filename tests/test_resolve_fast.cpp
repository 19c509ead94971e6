// The match table's and the resolver's shortcuts give what the regex engine and the plain
// reading of their rules give.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "awqmap/error.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/target.hpp"
#include "../core/src/match_table.hpp"
#include "match_check.hpp"

using namespace awqmap;

using test::found_by_engine;
using test::found_by_resolution;
using test::model_of;

TEST_CASE("a hit set reads, visits and counts what a byte per module holds") {
  std::mt19937 rng(5);
  for (std::size_t size : {0, 1, 63, 64, 65, 127, 128, 129, 300}) {
    detail::HitSet hits(size);
    std::vector<char> bytes(size, 0);
    for (int round = 0; round < 400 && size; ++round) {
      const std::size_t i = rng() % size;
      const bool on = rng() % 3 != 0;
      if (round % 2) {
        hits.assign(i, on);
        bytes[i] = on;
      } else if (on) {
        hits.set(i);
        bytes[i] = 1;
      }
    }
    REQUIRE(hits.size() == size);
    std::vector<std::size_t> visited, expected;
    hits.for_each([&](std::size_t i) { visited.push_back(i); });
    for (std::size_t i = 0; i < size; ++i) {
      CHECK(hits[i] == (bytes[i] != 0));
      if (bytes[i]) expected.push_back(i);
    }
    CHECK(visited == expected);
    CHECK(hits.count() == expected.size());
  }
}

TEST_CASE("a pattern of any prefix and one segment is read from the names' ends as the regex engine reads it") {
  std::mt19937 rng(17);
  // Segments of literals and wildcards, long and short, sharing their last bytes so that many
  // names pass the tail word and differ further back, at every distance from the end.
  const std::vector<std::string> pattern_pieces = {"a", "b", "_", "7", "\\.", ".", "proj", "experts", "gate_proj",
                                                   "shared_expert", "\\-", " "};
  auto pick = [&](const std::vector<std::string>& from, std::size_t min, std::size_t max) {
    std::string s;
    for (std::size_t n = min + rng() % (max - min + 1); n > 0; --n) s += from[rng() % from.size()];
    return s;
  };
  // The segment's bytes with each `.` wildcard made some byte, `\.` a dot.
  auto instance = [&](const std::string& segment) {
    std::string out;
    for (std::size_t i = 0; i < segment.size(); ++i) {
      if (segment[i] == '\\') {
        out += segment[++i];
      } else if (segment[i] == '.') {
        const char any[] = {'.', 'x', '7', ' '};
        out += any[rng() % 4];
      } else {
        out += segment[i];
      }
    }
    return out;
  };
  std::size_t shaped = 0, compared = 0, matched = 0;
  for (int round = 0; round < 300; ++round) {
    // Every third pattern has a middle segment: `.*<middle>.*<segment>$`.
    const std::string middle = round % 3 == 0 ? pick(pattern_pieces, 1, 3) : "";
    const std::string segment = pick(pattern_pieces, 1, 5);
    const std::string text = "re:.*" + (middle.empty() ? "" : middle + ".*") + segment + "$";
    ++shaped;
    std::set<std::string> names;
    for (int j = 0; j < 40; ++j) {
      std::string name = instance(segment);
      // The middle anywhere before the end, across dots, in the parent or the last component, or not at all.
      if (!middle.empty() && rng() % 4 != 0)
        name = pick({"", "x", "layers.", ".3."}, 0, 2) + instance(middle) + pick({"", "x", ".", "7.", ".e", "_"}, 0, 2) + name;
      const std::size_t at = rng() % name.size();
      switch (rng() % 4) {
        case 0: name[at] = name[at] == 'q' ? 'r' : 'q'; break;  // one byte off, anywhere
        case 1: name = name.substr(at); break;                   // shorter than the segment
        default: break;
      }
      name = pick({"m", "x", "layers.3.", "p", "_"}, 0, 4) + name;
      if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos) continue;
      names.insert(name);
    }
    // A name that is not plain in half of the models: the table then tests every name again.
    if (round % 2) {
      const std::string name = "z\xc3\xa9" + instance(segment);
      names.insert(name.back() == '.' || name.find("..") != std::string::npos ? "z\xc3\xa9" : name);
    }
    const ModelView model = model_of(names);
    REQUIRE(model.names_are_plain() == (round % 2 == 0));
    INFO("pattern " << text);
    const std::vector<std::string_view> expected = found_by_engine(model, text);
    if (expected.empty()) {
      CHECK_THROWS_AS(found_by_resolution(model, text), ResolutionError);  // an incomplete set
    } else {
      CHECK(found_by_resolution(model, text) == expected);
    }
    REQUIRE(Target::compile(text, "test").has_fast_path());
    matched += expected.size();
    compared += model.size();
  }
  CHECK(shaped == 300);
  CHECK(matched * 10 > compared);
  CHECK(matched * 2 < compared);
}

TEST_CASE("patterns with and without the shortcuts hit what the regex engine hits, on plain and other names") {
  std::set<std::string> names;
  for (int l = 0; l < 3; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* n : {"self_attn.q_proj", "mlp.gate", "mlp.shared_expert_gate", "mlp.shared_expert.gate_proj",
                          "mlp.shared_expert.up_proj", "post_attention_layernorm", "input_layernorm"})
      names.insert(p + n);
    for (int e = 0; e < 12; ++e)
      for (const char* n : {"gate_proj", "up_proj", "down_proj"})
        names.insert(p + "mlp.experts." + std::to_string(e) + "." + n);
  }
  const std::vector<std::string> patterns = {
      "re:.*mlp.experts.*.gate_proj$",  "re:.*mlp.shared_expert.gate_proj$", "re:.*up_proj$",
      "re:.*mlp.gate$",                 "re:.*layers\\.(0|2)\\.input_layernorm$", "re:.*self_attn.q_proj$",
      "re:model.layers.1.mlp.experts", "re:.*gate", "model.layers.1.mlp.gate", "Linear", "re:.*proj\\n?$"};
  for (bool plain : {true, false}) {
    std::set<std::string> these = names;
    if (!plain) {
      these.insert("model.layers.1.mlp.experts.3.up_proj\xc3\xa9");
      these.insert("model.layers.1.mlp.gate.\xc3\xa9.mlp.gate");
      these.insert("model.layers.2.mlp.experts.1.up_proj\n");
    }
    const ModelView model = model_of(these);
    REQUIRE(model.names_are_plain() == plain);
    for (const std::string& text : patterns) {
      INFO("pattern " << text);
      const std::vector<std::string_view> expected = found_by_engine(model, text);
      CHECK(!expected.empty());
      CHECK(found_by_resolution(model, text) == expected);
    }
  }
}

TEST_CASE("resolution drops no hits a later mapping reads") {
  test::ModelBuilder b;
  for (int l = 0; l < 3; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    b.norm(p + "input_layernorm").llama_attention(p).norm(p + "post_attention_layernorm").gated_mlp(p + "mlp.");
  }
  const ModelView model = b.build();
  // The same strings in the first and last mappings, and twice in one.
  const MappingList mappings = {
      {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}, std::nullopt},
      {"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}, std::nullopt},
      {"re:.*up_proj$", {"re:.*down_proj$"}, std::nullopt},
      {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}, std::nullopt},
  };
  const Resolution all = resolve(model, mappings, ResolveOptions{});
  REQUIRE(all.resolved.size() == 12);
  for (std::size_t k = 0; k < mappings.size(); ++k) {
    const Resolution one = resolve(model, {mappings[k]}, ResolveOptions{});
    REQUIRE(one.resolved.size() == 3);
    for (std::size_t g = 0; g < 3; ++g) {
      const ResolvedMapping& a = all.resolved[k * 3 + g];
      const ResolvedMapping& o = one.resolved[g];
      CHECK(a.mapping == k);
      CHECK(o.mapping == 0);
      CHECK(a.smooth_name == o.smooth_name);
      CHECK(a.balance_names == o.balance_names);
      CHECK(a.parent_name == o.parent_name);
    }
  }
}

TEST_CASE("what is quantized is read per class as Target::matches reads it per module") {
  // Classes by type and bases, names that are targets' texts, and patterns in both lists.
  struct Kind {
    const char* type;
    std::vector<std::string> bases;
  };
  // One type with and without bases in a row: the class is the type and the bases.
  const std::vector<Kind> kinds = {{"Linear", {}},         {"Linear", {"Special"}},        {"QLinear", {"Linear"}},
                                   {"SpecialLinear", {"Linear"}}, {"Embedding", {}},      {"MyEmbedding", {"Embedding"}},
                                   {"RMSNorm", {}},        {"Fused", {"LinearBase"}},     {"QLinear", {"Linear", "Module"}}};
  const std::vector<std::string> names = {"a", "Embedding", "SpecialLinear", "up_proj", "gate", "lm_head", "x_gate_y", "Special"};
  test::ModelBuilder b;
  b.norm("zz");
  std::vector<std::string> modules;
  for (std::size_t k = 0; k < kinds.size(); ++k)
    for (std::size_t j = 0; j < names.size(); ++j) {
      const std::string name = "m" + std::to_string(k) + "." + names[j];
      nlohmann::json extra = {{"in_features", 4}, {"out_features", 4}};
      if (!kinds[k].bases.empty()) extra["bases"] = kinds[k].bases;
      b.add(name, kinds[k].type, extra);
      modules.push_back(name);
    }
  // Some modules named exactly as a target's text.
  for (const char* name : {"Embedding", "SpecialLinear", "Special", "Linear"}) {
    b.add(name, "Linear", {{"in_features", 4}, {"out_features", 4}});
    modules.push_back(name);
  }
  const ModelView model = b.build();
  // Each module the smooth layer of its own mapping, balanced by the norm that nothing targets:
  // a group is resolved exactly when its smooth module is quantized.
  MappingList mappings;
  for (const std::string& name : modules) {
    std::string pattern = "re:";  // by name alone (a plain text would match classes too)
    for (const char c : name) pattern += c == '.' ? std::string("\\.") : std::string(1, c);
    mappings.emplace_back(pattern + "$", std::vector<std::string>{"zz"});
  }
  const std::vector<ResolveOptions> option_sets = {
      ResolveOptions{},
      ResolveOptions{{"Linear", "re:.*gate$", "m3.a"}, {"re:.*x_gate.*", "Embedding", "SpecialLinear"}},
      ResolveOptions{{"Embedding", "Special", "re:m1\\..*"}, {"re:.*_proj$", "QLinear", "Linear"}},
      ResolveOptions{{"re:.*", "LinearBase"}, {}},
      ResolveOptions{{"Linear"}, {"re:.*\\.a$", "m2.up_proj", "RMSNorm"}},
      ResolveOptions{{"Special", "Module"}, {}},  // one type, other bases
      ResolveOptions{{"Linear"}, {"Special"}},
  };
  std::size_t quantized = 0, left = 0;
  for (std::size_t o = 0; o < option_sets.size(); ++o) {
    const ResolveOptions& options = option_sets[o];
    const Resolution r = resolve(model, mappings, options);
    std::vector<bool> resolved(mappings.size(), false);
    for (const ResolvedMapping& g : r.resolved) resolved[g.mapping] = true;
    auto matched = [&](const std::vector<std::string>& list, const Module& m) {
      for (const std::string& text : list)
        if (Target::compile(text, "test").matches(m)) return true;
      return false;
    };
    for (std::size_t k = 0; k < modules.size(); ++k) {
      const Module& m = model[model.find(modules[k])];
      const bool expected =
          (m.is_a("Linear") || m.is_a("Embedding")) && !matched(options.ignore, m) && matched(options.targets, m);
      INFO("options " << o << " module " << m.name);
      CHECK(resolved[k] == expected);
      (expected ? quantized : left) += 1;
    }
  }
  CHECK(quantized > 50);
  CHECK(left > 50);
}

namespace {

// Upstream's get_lowest_common_ancestor_name of two names, on the strings.
std::string ancestor_of_names(const std::string& a, const std::string& b) {
  const std::string lo = "." + std::min(a, b) + ".", hi = "." + std::max(a, b) + ".";
  std::size_t n = 0;
  while (n < lo.size() && n < hi.size() && lo[n] == hi[n]) ++n;
  const std::size_t dot = lo.substr(0, n).rfind('.');
  return dot == 0 ? "" : lo.substr(1, dot - 1);
}

struct Group {
  std::string smooth, parent;
  std::vector<std::string> balance;
};

// Upstream's match_modules_set walk read literally, on names: nothing when it fails (a module
// of two targets, a group of two smooth modules, an incomplete last set).
std::optional<std::vector<Group>> groups_by_upstream(const ModelView& model, const Mapping& mapping) {
  std::vector<std::string> targets{mapping.smooth_layer};
  targets.insert(targets.end(), mapping.balance_layers.begin(), mapping.balance_layers.end());
  std::vector<Target> compiled;
  for (const std::string& t : targets) compiled.push_back(Target::compile(t, "test"));
  std::vector<std::vector<std::string>> set(targets.size());
  std::vector<Group> out;
  std::optional<std::string> context;
  auto complete = [&] {
    for (const auto& s : set)
      if (s.empty()) return false;
    return true;
  };
  auto emit = [&] {
    if (set[0].size() != 1) return false;
    Group g{set[0][0], "", {}};
    for (std::size_t t = 1; t < set.size(); ++t) g.balance.insert(g.balance.end(), set[t].begin(), set[t].end());
    g.parent = g.balance[0];
    for (const std::string& b : g.balance) g.parent = ancestor_of_names(g.parent, b);
    out.push_back(g);
    return true;
  };
  for (const Module& m : model.modules()) {
    const std::string name(m.name);
    std::size_t matched = 0;
    for (std::size_t t = 0; t < targets.size(); ++t) {
      if (!compiled[t].matches_name_with_regex(m.name)) continue;
      ++matched;
      std::string next = context ? ancestor_of_names(name, *context) : name;
      if (complete() && next != *context) {
        if (!emit()) return std::nullopt;
        for (auto& s : set) s.clear();
        next = name;
      }
      set[t].push_back(name);
      context = next;
    }
    if (matched > 1) return std::nullopt;
  }
  bool any = false;
  for (const auto& s : set) any = any || !s.empty();
  if (!any) return out;
  if (!complete() || !emit()) return std::nullopt;
  return out;
}

}  // namespace

TEST_CASE("groups and their parents are upstream's walk on names, in trees of look-alike names") {
  std::mt19937 rng(23);
  // Components that are prefixes of one another, so that a name is often a string prefix of
  // another that is not below it ("a.b" and "a.bc").
  const std::vector<std::string> components = {"c", "cd", "d", "dc", "sx", "xs1"};
  const std::vector<std::string> leaves = {"a", "ba", "b", "ab", "p", "cp"};  // what the balance targets match
  std::size_t groups = 0, failures = 0;
  for (int round = 0; round < 300; ++round) {
    // Layers under look-alike prefixes, each with a smooth module (sometimes none, sometimes
    // two) and balance modules at any depth below it, and names of any shape around them.
    std::set<std::string> names;
    auto path = [&](std::size_t max_depth) {
      std::string p = components[rng() % components.size()];
      for (std::size_t depth = rng() % (max_depth + 1); depth > 0; --depth) p += "." + components[rng() % components.size()];
      return p;
    };
    for (int layer = 0; layer < 6; ++layer) {
      const std::string base = path(1) + "." + std::to_string(layer % 3);
      if (rng() % 16) names.insert(base + ".s");
      if (rng() % 16 == 0) names.insert(base + ".x.s");
      for (const char* leaf : {"a", "b", "p"}) {
        const std::string name = base + "." + (rng() % 2 ? path(1) + "." : "") + leaf;
        names.insert(name);
        // A sibling whose name extends this one's, matched by another target ("x.a", "x.ab").
        if (rng() % 2) names.insert(name + (leaf[0] == 'b' ? "p" : "b"));
      }
      for (std::size_t b = rng() % 4; b > 0; --b)
        names.insert(base + "." + (rng() % 2 ? path(1) + "." : "") + leaves[rng() % leaves.size()]);
    }
    for (int j = 0; j < 5; ++j) names.insert(path(3));
    const ModelView model = model_of(names);
    // Smooth modules end in `s`, balance ones in `a`, `b` or `p` (in a random target order):
    // no module matches two targets.
    std::vector<std::string> balance = {"re:.*a$", "re:.*b$", "re:.*p$"};
    std::shuffle(balance.begin(), balance.end(), rng);
    balance.resize(1 + rng() % 3);
    const Mapping mapping(rng() % 2 ? "re:.*s$" : "re:.*\\.s$", balance);
    const std::optional<std::vector<Group>> expected = groups_by_upstream(model, mapping);
    INFO("round " << round);
    if (!expected) {
      CHECK_THROWS_AS(resolve(model, {mapping}, ResolveOptions{}), ResolutionError);
      ++failures;
      continue;
    }
    const Resolution r = resolve(model, {mapping}, ResolveOptions{});
    REQUIRE(r.skipped.empty());
    REQUIRE(r.resolved.size() == expected->size());
    for (std::size_t g = 0; g < expected->size(); ++g) {
      const ResolvedMapping& got = r.resolved[g];
      const Group& want = (*expected)[g];
      CHECK(got.smooth_name == want.smooth);
      CHECK(std::vector<std::string>(got.balance_names.begin(), got.balance_names.end()) == want.balance);
      CHECK(got.parent_name == want.parent);
    }
    groups += expected->size();
  }
  CHECK(groups > 600);
  CHECK(failures > 10);
  CHECK(failures < 200);
}
