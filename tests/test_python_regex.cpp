#include <catch2/catch.hpp>

#include "awqmap/error.hpp"
#include "awqmap/python_regex.hpp"
#include "awqmap/target.hpp"
#include "support.hpp"

using namespace awqmap;

TEST_CASE("every row of the Python differential table gets Python's verdict") {
  auto table = test::read_json(std::string(AWQMAP_TEST_DATA_DIR) + "/regex_table.json");
  const auto& rows = table["rows"];
  REQUIRE(rows.size() >= 200);
  std::size_t checked = 0;
  for (const auto& row : rows) {
    const std::string pattern = row[0], name = row[1], expected = row[2];
    INFO("pattern " << pattern << " on name '" << name << "', Python says " << expected);
    if (expected == "error") {
      CHECK_THROWS_AS(Target::compile("re:" + pattern, "the differential table"), InputError);
      ++checked;
      continue;
    }
    Target t = Target::compile("re:" + pattern, "the differential table");
    const bool matched = t.matches_name(name);
    CHECK((matched ? "match" : "nomatch") == expected);
    CHECK(t.matches_name_with_regex(name) == matched);
    ++checked;
  }
  CHECK(checked == rows.size());
}

TEST_CASE("Python-only syntax is translated to its Boost equivalent") {
  CHECK(translate_python_regex("(?P<n>a)(?P=n)").boost_syntax == "(?<n>a)\\k<n>");
  CHECK(translate_python_regex("a\\Z").boost_syntax == "a\\z");
  CHECK(translate_python_regex("a$").boost_syntax == "a(?=\\n?\\z)");
  CHECK(translate_python_regex("x{,2}").boost_syntax == "(?:x){0,2}");
  CHECK(translate_python_regex("(?i)a").ignore_case);
}

TEST_CASE("a quantifier after a run of word characters repeats the run's last character only") {
  // Word runs are translated as one piece: the piece must end before a quantified character.
  CHECK(translate_python_regex("ab*").boost_syntax == "a(?:b)*");
  CHECK(translate_python_regex("proj+?").boost_syntax == "pro(?:j)+?");
  CHECK(translate_python_regex("ab{2}c").boost_syntax == "a(?:b){2}c");
  CHECK(translate_python_regex("ab{").boost_syntax == "ab\\x{7B}");  // a literal brace repeats nothing
  CHECK(translate_python_regex("x?").boost_syntax == "(?:x)?");
  CHECK(translate_python_regex("(?x)ab *").boost_syntax == "a(?:b)*");  // verbose: the space is skipped
  CHECK(translate_python_regex("layers_10").boost_syntax == "layers_10");
  for (const char* p : {"ab*", "ab{2}c", "(?x)ab *", "q_proj$"}) {
    INFO(p);
    Target t = Target::compile(std::string("re:") + p, "a test");
    CHECK(t.matches_name("abb") == (std::string(p) == "ab*" || std::string(p) == "(?x)ab *"));
  }
  CHECK(Target::compile("re:ab*", "a test").matches_name("a"));
  CHECK_FALSE(Target::compile("re:ab{2}c", "a test").matches_name("ababc"));
  CHECK(Target::compile("re:ab{2}c", "a test").matches_name("abbc"));
}

TEST_CASE("an invalid pattern names the pattern, Python's reason and where it came from") {
  try {
    Target::compile("re:.*(q|k_proj$", "mapping 3 smooth_layer");
    FAIL("no error");
  } catch (const InputError& e) {
    std::string m = e.what();
    CHECK(m.find("'re:.*(q|k_proj$'") != std::string::npos);
    CHECK(m.find("missing ), unterminated subpattern") != std::string::npos);
    CHECK(m.find("mapping 3 smooth_layer") != std::string::npos);
  }
}

TEST_CASE("a pattern that exhausts the regex engine is an error naming it, not a hang") {
  // Catastrophic backtracking: Python would run for ages; Boost gives up with an error.
  Target t = Target::compile("re:(a*)*b", "a test");
  std::string name(64, 'a');
  try {
    bool m = t.matches_name(name);
    CHECK_FALSE(m);  // if the engine copes, it must at least answer correctly
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("(a*)*b") != std::string::npos);
  }
}

TEST_CASE("deeply nested groups are an error naming the pattern, not a stack overflow") {
  std::string deep = std::string(100000, '(') + "a" + std::string(100000, ')');
  CHECK_THROWS_WITH(Target::compile("re:" + deep, "a test"), Catch::Contains("nested more than 200 deep"));
}

TEST_CASE("a pattern Python rejects is an awqmap input error with Python's reason and position") {
  // One error hierarchy: an embedder that catches awqmap::Error (or InputError) also catches the
  // translator's own error.
  try {
    translate_python_regex("a(b");
    FAIL("no error");
  } catch (const Error& e) {
    const auto* syntax = dynamic_cast<const PatternSyntaxError*>(&e);
    REQUIRE(syntax != nullptr);
    CHECK(dynamic_cast<const InputError*>(&e) != nullptr);
    CHECK(syntax->reason() == "missing ), unterminated subpattern");
    CHECK(syntax->position() == 1);
  }
}
