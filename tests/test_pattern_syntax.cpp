// Target::compile and the registries' check decide whether a pattern is valid without translating
// it when the pattern has one of the shapes plugins register; a target translates it only when
// its engines are first needed. These tests hold that shortcut to the translator's verdict and to
// the translator's engines, and the registry's other once-only checks (key renames, static
// lists equal to one registered before) to the checks they skip.
#include <catch2/catch.hpp>

#include <boost/regex.hpp>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "awqmap/loader.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/python_regex.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/target.hpp"

using namespace awqmap;

namespace {

// What compile() refused before it had a shortcut: whatever either translation refuses (the
// Unicode one is tried eagerly only with an inline flag group; otherwise it accepts what the byte
// one accepts).
bool translator_refuses(const std::string& pattern) {
  try {
    translate_python_regex(pattern, RegexEngine::bytes);
    if (pattern.find("(?") != std::string::npos) translate_python_regex(pattern, RegexEngine::unicode);
    return false;
  } catch (const PatternSyntaxError&) {
    return true;
  }
}

// The pattern texts of every shipped plugin's static mappings and checkpoint adaptations.
std::set<std::string> shipped_patterns() {
  Registry registry;
  PluginLoader(registry).load_directory(AWQMAP_PLUGIN_BUILD_DIR);
  std::set<std::string> out;
  auto add = [&](const MappingList& mappings) {
    for (const auto& m : mappings) {
      if (m.smooth_layer.rfind("re:", 0) == 0) out.insert(m.smooth_layer.substr(3));
      for (const auto& b : m.balance_layers)
        if (b.rfind("re:", 0) == 0) out.insert(b.substr(3));
    }
  };
  for (const auto& a : registry.architectures()) add(a.mappings);
  if (auto d = registry.default_mappings()) add(*d);
  for (const auto& e : registry.adaptation_entries()) {
    out.insert(e.dropped.begin(), e.dropped.end());
    for (const auto& r : e.renames) out.insert(r.pattern);
  }
  return out;
}

// Patterns built from pieces on both sides of every line the shortcut draws: the shapes it takes,
// and next to each the constructs it leaves to the translator (backreferences, counted repeats,
// flags, bad ranges, repeats of nothing, unbalanced groups, non-ASCII and control bytes).
std::vector<std::string> random_patterns(std::size_t count, std::uint32_t seed) {
  static const std::vector<std::string> pieces = {
      "a", "b", "z", "_", "0", "9", "mlp", "layers", ".", "\\.", "\\-", "\\_", "\\$", "\\\\", "\\d", "\\D", "\\w",
      "\\W", "\\s", "\\S", "\\b", "\\B", "\\A", "\\Z", "\\1", "\\0", "\\q", "\\x41", "\\n", "\\ ", "(", ")", "(?:",
      "(?", "(?i)", "(?P<n>", "(?=", "(?#c)", "|", "*", "+", "?", "*?", "{2}", "{1,", "{", "}", "[", "]", "[a-c]",
      "[c-a]", "[^a]", "[\\d-x]", "[.-z]", "[a-]", "[]", "[]a]", "[\\.]", "[\\d_]", "[0-9]", "[A-z]", "[\\b]",
      "[^]", "[a", "^", "$", "#", " ", "-", ",", "/", "\xc3\xa9", "\n", "\t", "\x7f", "\\\xc3\xa9", "\\"};
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    std::string p;
    for (std::size_t n = 1 + rng() % 8; n > 0; --n) p += pieces[rng() % pieces.size()];
    out.push_back(std::move(p));
  }
  return out;
}

// compile() refuses what the translator refuses; validate_mappings (what registries and mapping
// files go through, checking without compiling) refuses the same, with the same message.
void check_same_verdict(const std::string& pattern) {
  INFO("pattern " << pattern);
  const bool refused = translator_refuses(pattern);
  std::string compile_error, check_error;
  try {
    Target::compile("re:" + pattern, "the test mapping 0 smooth_layer");
  } catch (const InputError& e) {
    compile_error = e.what();
  }
  try {
    validate_mappings({Mapping("re:" + pattern, {"re:" + pattern})}, "the test");
  } catch (const InputError& e) {
    check_error = e.what();
  }
  CHECK(!compile_error.empty() == refused);
  CHECK(check_error == compile_error);
}

}  // namespace

TEST_CASE("compile refuses exactly the shipped and random patterns that the translator refuses") {
  const std::set<std::string> shipped = shipped_patterns();
  REQUIRE(shipped.size() > 300);
  for (const auto& p : shipped) check_same_verdict(p);
  std::size_t refused = 0;
  const std::vector<std::string> random = random_patterns(20000, 2026);
  for (const auto& p : random) {
    check_same_verdict(p);
    refused += translator_refuses(p);
  }
  // Both verdicts are well represented.
  CHECK(refused > 2000);
  CHECK(refused < 18000);
}

TEST_CASE("compile refuses the patterns next to the shapes it accepts without translating them") {
  for (const std::string p :
       {"a**", "(*a)", "(|*)", "$*", "^+", "\\b?", "\\A*", "a)", "(a", "((a)", "[z-a]", "[\\d-x]", "[a-\\d]",
        "[]", "[^]", "[", "\\", "a\\", "\\1", "(a)\\2", "\\q", "(?:", "(?", "(?x", "(?P<1>a)", "a{2,1}", "[b-a]x$",
        ".*experts\\.\\d+\\.(gate|up)_proj)$", ".*(gate|up_proj$", "*mlp", "mlp|*"}) {
    INFO("pattern " << p);
    CHECK(translator_refuses(p));
    check_same_verdict(p);
  }
}

TEST_CASE("a pattern translated on first use matches as its translation made when compiled does") {
  const std::set<std::string> shipped = shipped_patterns();
  std::vector<std::string> patterns(shipped.begin(), shipped.end());
  for (auto& p : random_patterns(3000, 99))
    if (!translator_refuses(p)) patterns.push_back(p);
  const std::vector<std::string> names = {
      "model.layers.0.mlp.experts.12.up_proj", "model.language_model.layers.3.self_attn.q_proj", "mlp", "a", "ab",
      "z_9.b", "", "layers.7.mlp.gate", "thinker.model.layers.1.mlp.gate_proj", "mlpmlp", "a-b,c/d", "a b",
      "model.layers.0.mlp.experts.12.up_proj\n", "model.visual.blocks.0.attn.qkv"};
  std::size_t matched = 0;
  for (const auto& p : patterns) {
    const TranslatedPattern translated = translate_python_regex(p, RegexEngine::bytes);
    if (!translated.exact_on_ascii) continue;  // the Unicode engine is the reference then
    boost::regex::flag_type flags = boost::regex::perl;
    if (translated.ignore_case) flags |= boost::regex::icase;
    const Target t = Target::compile("re:" + p, "the test");
    boost::regex reference;
    try {
      reference.assign(translated.boost_syntax, flags);
    } catch (const std::exception&) {
      // Boost refuses the translation (an empty lookahead, say): so must the target, on first use.
      INFO("pattern " << p);
      CHECK_THROWS_AS(t.matches_name_with_regex("mlp"), InputError);
      continue;
    }
    for (const auto& name : names) {
      INFO("pattern " << p << " name " << name);
      const bool expected = boost::regex_search(name.begin(), name.end(), reference, boost::match_continuous);
      CHECK(t.matches_name_with_regex(name) == expected);
      CHECK(t.matches_name(name) == expected);
      matched += expected;
    }
  }
  CHECK(matched > 100);
}

TEST_CASE("a registry checks each key rename with its own template, whatever pair passed before") {
  Registry registry;
  // The same pair for two architectures, checked once.
  registry.register_plugin({"in-process first", "first", "1", nullptr}, [](Registrar& r) {
    r.rename_checkpoint_keys("AForCausalLM", "(.*)\\.w3$", "\\1.up_proj");
    r.rename_checkpoint_keys("BForCausalLM", "(.*)\\.w3$", "\\1.up_proj");
  });
  CHECK(registry.adaptations("BForCausalLM").renames.size() == 1);
  // The pattern that passed before, with a template that refers to a group it lacks.
  for (const char* architecture : {"AForCausalLM", "CForCausalLM"})
    CHECK_THROWS_WITH(registry.register_plugin({"in-process second", "second", "1", nullptr},
                                               [&](Registrar& r) {
                                                 r.rename_checkpoint_keys(architecture, "(.*)\\.w3$", "\\1.up_proj");
                                                 r.rename_checkpoint_keys(architecture, "(.*)\\.w3$", "\\2.up_proj");
                                               }),
                      Catch::Contains("invalid group reference") && Catch::Contains(architecture));
  // Dropped-tensor patterns share their verdicts with the mappings' patterns: one that passed
  // as a mapping's passes, a bad one is refused with the translator's reason.
  registry.register_plugin({"in-process third", "third", "1", nullptr}, [](Registrar& r) {
    r.add_static("DForCausalLM", {{"re:(.*)\\.w3$", {"re:.*w1$"}}});
    r.drop_checkpoint_tensors("DForCausalLM", "(.*)\\.w3$");
  });
  CHECK_THROWS_WITH(registry.register_plugin({"in-process fourth", "fourth", "1", nullptr},
                                             [](Registrar& r) { r.drop_checkpoint_tensors("EForCausalLM", "(.*\\.w3$"); }),
                    Catch::Contains("missing ), unterminated subpattern") && Catch::Contains("EForCausalLM"));
}

TEST_CASE("a registry shares a static list only with registrations of an equal list") {
  const MappingList list = {{"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$"}},
                            {"re:.*up_proj$", {"re:.*down_proj$"}, std::string("re:.*act$")}};
  // Each differs from `list` in one place (a text, an order, a count, a hook).
  std::vector<MappingList> near = {list, list, list, list, list, list, list};
  near[0][0].balance_layers[1] = "re:.*v_proj$";
  std::swap(near[1][0].balance_layers[0], near[1][0].balance_layers[1]);
  near[2][0].balance_layers.pop_back();
  near[3][1].activation_hook_target.reset();
  near[4][1].activation_hook_target = "re:.*other$";
  near[5].push_back({"re:.*x$", {"re:.*y$"}});
  near[6][0].smooth_layer = "re:.*post_attention_layernorm$";
  Registry registry;
  registry.register_plugin({"in-process first", "first", "1", nullptr}, [&](Registrar& r) {
    r.add_static("AForCausalLM", list);
    r.add_static("BForCausalLM", list);
    for (std::size_t i = 0; i < near.size(); ++i) r.add_static("Near" + std::to_string(i), near[i]);
  });
  registry.register_plugin({"in-process second", "second", "1", nullptr},
                           [&](Registrar& r) { r.add_static("CForCausalLM", list); });
  std::size_t seen = 0;
  for (const auto& a : registry.architectures()) {
    INFO(a.architecture);
    if (a.architecture.rfind("Near", 0) == 0) {
      CHECK(a.mappings == near[std::stoul(a.architecture.substr(4))]);
    } else {
      CHECK(a.mappings == list);
    }
    ++seen;
  }
  CHECK(seen == 3 + near.size());
  // A list equal but for a bad pattern is checked, and refused.
  MappingList bad = list;
  bad[1].balance_layers[0] = "re:.*down_proj)$";
  CHECK_THROWS_WITH(registry.register_plugin({"in-process third", "third", "1", nullptr},
                                             [&](Registrar& r) { r.add_static("DForCausalLM", bad); }),
                    Catch::Contains("unbalanced parenthesis") && Catch::Contains("DForCausalLM"));
}

TEST_CASE("patterns that are globs but for one group of alternatives match as the regex engine does") {
  std::mt19937 rng(4242);
  const std::vector<std::string> words = {"model", "layers", "mlp", "3", "7", "11", "input_layernorm", "up_proj",
                                          ".", "_", "x", "gate"};
  auto random_text = [&](std::size_t max_words) {
    std::string s;
    for (std::size_t n = rng() % (max_words + 1); n > 0; --n) s += words[rng() % words.size()];
    return s;
  };
  // Literal text as a pattern: dots escaped or left as wildcards, now and then a `.*`.
  auto as_pattern = [&](const std::string& text) {
    std::string p;
    for (char c : text) p += c == '.' && rng() % 3 ? std::string("\\.") : std::string(1, c);
    if (rng() % 6 == 0) p += ".*";
    return p;
  };
  std::size_t fast = 0, matched = 0, compared = 0;
  for (int i = 0; i < 1500; ++i) {
    std::vector<std::string> alternatives(2 + rng() % 5);
    for (auto& a : alternatives) a = random_text(2);
    const std::string before = random_text(2), after = random_text(2);
    std::string p = (rng() % 2 ? ".*" : "") + as_pattern(before) + (rng() % 3 ? "(" : "(?:");
    for (std::size_t k = 0; k < alternatives.size(); ++k) p += (k ? "|" : "") + as_pattern(alternatives[k]);
    p += ")" + as_pattern(after) + (rng() % 4 ? "$" : "");
    const Target t = Target::compile("re:" + p, "random");
    fast += t.has_fast_path();
    for (int j = 0; j < 12; ++j) {
      std::string name = random_text(2) + before + (rng() % 4 ? alternatives[rng() % alternatives.size()] : random_text(1)) +
                         (rng() % 4 ? after : random_text(1));
      if (rng() % 10 == 0) name += '\n';
      INFO("pattern " << p << " name " << name);
      const bool answer = t.matches_name(name);
      CHECK(answer == t.matches_name_with_regex(name));
      matched += answer;
      ++compared;
    }
  }
  CHECK(fast > 1000);
  CHECK(matched * 5 > compared);
  // Shapes left to the regex engine: a repeated group, nested groups, two groups, a set.
  for (const char* p : {".*(a|b)*c$", ".*(a|(b|c))d$", ".*(a|b)x(c|d)$", ".*[ab](c|d)$", ".*(a|b)|c$"})
    CHECK_FALSE(Target::compile(std::string("re:") + p, "the test").has_fast_path());
  CHECK(Target::compile("re:.*layers\\.(3|7|11)\\.input_layernorm$", "the test").has_fast_path());
}

TEST_CASE("globs longer than the stack buffer they are read through match as the regex engine does") {
  std::string p = ".*";
  for (int i = 0; i < 40; ++i) p += "layers\\.1\\d" + std::string(i % 13 == 5 ? ".*" : "") + "x";
  p.replace(p.find("\\d"), 2, "_");
  while (p.find("\\d") != std::string::npos) p.replace(p.find("\\d"), 2, ".");
  p += "$";
  REQUIRE(p.size() > 400);
  const Target t = Target::compile("re:" + p, "the test");
  CHECK(t.has_fast_path());
  std::string name;
  for (int i = 0; i < 40; ++i) name += "layers.1" + std::string(i ? "7" : "_") + (i % 13 == 5 ? "mid" : "") + "x";
  for (const std::string& n : {name, name + "x", "a." + name, name.substr(1), name.substr(0, name.size() - 1)}) {
    INFO("name " << n);
    CHECK(t.matches_name(n) == t.matches_name_with_regex(n));
  }
  CHECK(t.matches_name(name));
}
