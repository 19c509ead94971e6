#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "awqmap/target.hpp"

using namespace awqmap;

namespace {
Module module(std::string_view name, std::string_view type, std::vector<std::string_view> bases = {}) {
  Module m;
  m.name = name;
  m.type = type;
  m.bases = std::move(bases);
  return m;
}
}  // namespace

TEST_CASE("a plain target matches the exact name, the class name or a base class name") {
  auto t = Target::compile("Linear", "test");
  CHECK(t.matches(module("a.b", "Linear")));
  CHECK(t.matches(module("a.b", "QuantLinear", {"Linear"})));
  CHECK(t.matches(module("a.b", "RowParallel", {"LinearBase"})));
  CHECK_FALSE(t.matches(module("a.Linear", "Conv1d")));
  auto exact = Target::compile("lm_head", "test");
  CHECK(exact.matches(module("lm_head", "Linear")));
  CHECK_FALSE(exact.matches(module("model.lm_head", "Linear")));
  CHECK_FALSE(Target::compile("LinearBase", "test").matches(module("x", "Linear")));
}

TEST_CASE("a regex target is re.match: anchored at the start, not at the end") {
  auto t = Target::compile("re:model", "test");
  CHECK(t.matches(module("model.layers", "X")));
  CHECK_FALSE(t.matches(module("the.model", "X")));
  CHECK_FALSE(Target::compile("re:Linear", "test").matches(module("x", "Linear")));
}

TEST_CASE("the fast matcher agrees with the regex engine on random .*a.*b$ patterns and names") {
  std::mt19937 rng(12345);
  const std::string alphabet = "ab.x_";
  auto random_string = [&](std::size_t max_len) {
    std::string s;
    std::size_t n = rng() % (max_len + 1);
    for (std::size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
    return s;
  };
  std::size_t fast = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string p;
    int pieces = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < pieces; ++k) {
      if (rng() % 2) p += ".*";
      std::string lit = random_string(3);
      for (char c : lit) p += c == '.' && rng() % 2 ? std::string("\\.") : std::string(1, c);
    }
    if (rng() % 2) p += "$";
    Target t = Target::compile("re:" + p, "random");
    if (t.has_fast_path()) ++fast;
    for (int j = 0; j < 10; ++j) {
      std::string name = random_string(8);
      INFO("pattern " << p << " name " << name);
      CHECK(t.matches_name(name) == t.matches_name_with_regex(name));
    }
  }
  CHECK(fast > 2000);
}

TEST_CASE("a name is plain exactly when no byte is a newline or above 0x7f at any length and position") {
  auto by_bytes = [](std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return c == '\n' || static_cast<unsigned char>(c) >= 0x80; });
  };
  std::size_t checked = 0, not_plain = 0;
  for (std::size_t size = 0; size <= 70; ++size) {
    const std::string clean(size, 'a');
    CHECK(Target::is_plain_name(clean) == by_bytes(clean));
    for (std::size_t at = 0; at < size; ++at)
      for (char bad : {'\n', '\x80', '\xff', '\x7f', '\t', '\0'}) {
        std::string s = clean;
        s[at] = bad;
        INFO("size " << size << " position " << at << " byte " << static_cast<int>(static_cast<unsigned char>(bad)));
        CHECK(Target::is_plain_name(s) == by_bytes(s));
        ++checked;
        if (!by_bytes(s)) ++not_plain;
      }
  }
  CHECK(checked > 10000);
  CHECK(not_plain * 2 == checked);
}

TEST_CASE("the fast matcher agrees with the regex engine on long segments and hostile names") {
  std::mt19937 rng(777);
  // Words of module names, a dot, a newline and a two-byte character: names are built from the
  // pattern's own pieces so that many of them match.
  const std::vector<std::string> words = {"model", "layers", "mlp", "experts", "up_proj", "down_proj", "7", "12",
                                          ".", "_", "\n", "\xc3\xa9", "x", "shared_expert"};
  auto random_text = [&](std::size_t max_words) {
    std::string s;
    for (std::size_t n = rng() % (max_words + 1); n > 0; --n) s += words[rng() % words.size()];
    return s;
  };
  std::size_t fast = 0, matched = 0, compared = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string p;
    std::vector<std::string> pieces;
    for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
      std::string lit = random_text(3);
      if (lit.find('\n') != std::string::npos || lit.find('\xc3') != std::string::npos) lit = "mlp";
      pieces.push_back(lit);
      if (k < 3 || rng() % 4) p += ".*";
      for (char c : lit) p += c == '.' && rng() % 2 ? std::string("\\.") : c == '_' && rng() % 3 == 0 ? "." : std::string(1, c);
    }
    if (rng() % 4) p += "$";
    Target t = Target::compile("re:" + p, "random");
    if (t.has_fast_path()) ++fast;
    for (int j = 0; j < 12; ++j) {
      std::string name = random_text(3);
      for (const auto& piece : pieces) name += (rng() % 3 ? piece : random_text(1)) + random_text(1);
      if (rng() % 8 == 0) name += '\n';
      INFO("pattern " << p << " name " << name);
      const bool fast_answer = t.matches_name(name);
      CHECK(fast_answer == t.matches_name_with_regex(name));
      matched += fast_answer;
      ++compared;
    }
  }
  CHECK(fast > 1000);
  CHECK(matched * 10 > compared);
}

TEST_CASE("a pattern the Unicode translation alone refuses is refused when compiled, not when first matched") {
  // Under (?a) a negated category inside a set has no Unicode-engine equivalent: the byte
  // translation takes it, so compile must still translate for both engines here.
  CHECK_THROWS_WITH(Target::compile("re:(?a)x[\\W]", "the test"),
                    Catch::Contains("negated category inside a set") && Catch::Contains("the test"));
  CHECK_THROWS_WITH(Target::compile("re:x(?a:[\\D])", "the test"), Catch::Contains("negated category inside a set"));
  // Without an inline flag group the Unicode form waits for the engines, and matches as before.
  const Target t = Target::compile("re:.*l\\w+é$", "the test");
  CHECK(t.matches_name("model.layerxé", false));
  CHECK_FALSE(t.matches_name("model.layer.é", false));
}
