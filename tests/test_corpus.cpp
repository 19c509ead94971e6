#include <catch2/catch.hpp>

#include "awqmap/loader.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/registry.hpp"
#include "corpus_check.hpp"

using namespace awqmap;

TEST_CASE("every corpus model resolves its expected mappings exactly as upstream") {
  auto cases = test::corpus_cases();
  REQUIRE(cases.size() >= 10);
  for (const auto& name : cases) {
    DYNAMIC_SECTION(name) {
      ModelView model = load_model_description((test::corpus_dir() / (name + ".model.json")).string());
      auto expected = test::read_json(test::corpus_dir() / (name + ".expected.json"));
      MappingList mappings = mappings_from_json(expected["mappings"].dump(), name + ".expected.json");
      test::check_against_expected(model, mappings, expected);
    }
  }
}

TEST_CASE("every corpus model gets upstream's mappings from the shipped plugins") {
  Registry registry;
  PluginLoader(registry).load_directory(AWQMAP_PLUGIN_BUILD_DIR);
  for (const auto& name : test::corpus_cases()) {
    DYNAMIC_SECTION(name) {
      ModelView model = load_model_description((test::corpus_dir() / (name + ".model.json")).string());
      auto expected = test::read_json(test::corpus_dir() / (name + ".expected.json"));
      const std::string kind = expected["selection"]["kind"];
      MappingList want = mappings_from_json(expected["mappings"].dump(), name + ".expected.json");
      if (kind == "user") {
        MappingList user = load_mappings_file((test::corpus_dir() / (name + ".mappings.json")).string());
        CHECK(user == want);
        continue;
      }
      Selection s = registry.select(model, SelectionMode::upstream);
      CHECK(std::string(to_string(s.kind)) == kind);
      CHECK(nlohmann::json::parse(mappings_to_json(s.mappings)) == expected["mappings"]);
      test::check_against_expected(model, s.mappings, expected);
    }
  }
}
