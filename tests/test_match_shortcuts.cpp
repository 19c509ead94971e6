// Layer-scoped alternations (`re:.*layers\.(3|7)\.input_layernorm$`), which a target reads
// without its regex engine on plain names, give what the regex engine gives.
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "awqmap/error.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/target.hpp"
#include "match_check.hpp"

using namespace awqmap;

using test::found_by_engine;
using test::found_by_resolution;
using test::model_of;

TEST_CASE("an alternation pattern hits what the regex engine hits, on look-alike names") {
  std::mt19937 rng(23);
  // Alternatives that are prefixes and suffixes of each other, parts with and without their
  // dots, names that hold the pattern's pieces in the wrong places.
  const std::vector<std::string> alternatives = {"1", "11", "21", "3", "13", "0", "01", "a", "a1", "1a", "x-y"};
  const std::vector<std::string> befores = {"layers\\.", "layers", "", "s\\.", "model\\.layers\\."};
  const std::vector<std::string> afters = {"\\.input_layernorm", "\\.norm", "norm", "", "_x"};
  auto literal = [](const std::string& part) {
    std::string out;
    for (std::size_t i = 0; i < part.size(); ++i)
      if (part[i] != '\\') out += part[i];
    return out;
  };
  std::size_t matched = 0, compared = 0;
  for (int round = 0; round < 200; ++round) {
    const std::string before = befores[rng() % befores.size()], after = afters[rng() % afters.size()];
    std::vector<std::string> chosen;
    for (std::size_t n = 1 + rng() % 4; n > 0; --n) chosen.push_back(alternatives[rng() % alternatives.size()]);
    std::string group;
    for (const std::string& a : chosen) group += (group.empty() ? "" : "|") + a;
    const std::string text = "re:.*" + before + "(" + group + ")" + after + "$";
    INFO("pattern " << text);
    const Target t = Target::compile(text, "test");
    std::set<std::string> names;
    for (int j = 0; j < 30; ++j) {
      std::string name = literal(before) + alternatives[rng() % alternatives.size()] + literal(after);
      switch (rng() % 5) {
        case 0: name = "model." + name; break;
        case 1: name = "m.layers.1" + name; break;
        case 2: name += ".q"; break;
        case 3: name = "x" + name.substr(rng() % (name.size() + 1)); break;
        default: break;
      }
      if (name.empty() || name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos) continue;
      names.insert(name);
      CHECK(t.matches_name(name, true) == t.matches_name_with_regex(name));
      matched += t.matches_name_with_regex(name);
      ++compared;
    }
    // The same through resolution, which takes the shortcut for plain names.
    const ModelView model = model_of(names);
    const std::vector<std::string_view> expected = found_by_engine(model, text);
    if (expected.empty())
      CHECK_THROWS_AS(found_by_resolution(model, text), ResolutionError);  // an incomplete set
    else
      CHECK(found_by_resolution(model, text) == expected);
  }
  CHECK(matched * 10 > compared);
  CHECK(matched * 10 < compared * 9);
}

TEST_CASE("an alternation pattern on names that are not plain is left to the regex engine") {
  const std::string text = "re:.*layers\\.(1|3)\\.norm$";
  const std::set<std::string> names = {"m.layers.1.norm", "m.layers.2.norm", "m.layers.3.norm\n",
                                       "m.layers.3.norm", "m.\xc3\xa9.layers.1.norm"};
  const ModelView model = model_of(names);
  REQUIRE_FALSE(model.names_are_plain());
  const std::vector<std::string_view> expected = found_by_engine(model, text);
  CHECK(expected.size() == 4);
  CHECK(found_by_resolution(model, text) == expected);
}
