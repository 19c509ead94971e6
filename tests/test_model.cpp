#include <catch2/catch.hpp>

#include "awqmap/error.hpp"
#include "awqmap/model_description.hpp"
#include "model_builder.hpp"
#include "support.hpp"

using namespace awqmap;

namespace {
std::string error_of(const std::string& json) {
  try {
    parse_model_description(json, "bad.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}
const char* kHead = R"({"format": "awqmap.model/v1", "architecture": "X", "config": {}, "modules": )";
}  // namespace

TEST_CASE("a model description loads with lookups, children, classes and features") {
  test::ModelBuilder b;
  b.list("model.layers").add("model.layers.0", "Layer").linear("model.layers.0.q", 8, 16);
  b.add("model.layers.0.experts", "Experts", {{"bases", {"ModuleList", "Module"}}});
  b.config({{"hidden_size", 8}, {"text_config", {{"hidden_size", 4}, {"vocab", nullptr}}}, {"vocab", 10}});
  ModelView m = b.build();
  ModuleIndex q = m.find("model.layers.0.q");
  REQUIRE(q != no_module);
  CHECK(m[q].is_linear());
  CHECK(*m[q].in_features == 8);
  CHECK(*m[q].out_features == 16);
  CHECK(m[m.find("model.layers")].is_module_list());
  CHECK(m[m.find("model.layers.0.experts")].is_module_list());
  CHECK(m.find("model.layers.9") == no_module);
  auto kids = m.children(m.find("model.layers.0"));
  REQUIRE(kids.size() == 2);
  CHECK(m[kids[0]].name == "model.layers.0.q");
  CHECK(m[q].parent == m.find("model.layers.0"));
  CHECK(m.config_field("hidden_size").as_int64() == 4);  // text_config wins
  CHECK(m.config_field("vocab").as_int64() == 10);       // null in text_config falls back
  CHECK_FALSE(m.config_field("nothing"));
  CHECK(m.architecture() == "TestForCausalLM");
}

TEST_CASE("the config view reads every JSON kind and says what a value is when it is read as another") {
  const ModelView m = parse_model_description(
      R"({"format": "awqmap.model/v1", "architecture": "X", "modules": [{"name": "", "type": "R"}],)"
      R"( "config": {"n": -3, "big": 18446744073709551615, "f": 0.5, "b": true, "s": "text", "z": null,)"
      R"( "list": [1, "two", [3]], "obj": {"k": 1, "a": 2}}})",
      "config.json");
  const ConfigValue c = m.config();
  REQUIRE(c.is_object());
  CHECK(c.keys() == std::vector<std::string>{"b", "big", "f", "list", "n", "obj", "s", "z"});
  CHECK(c.size() == 8);
  CHECK(c.get("n").is_integer());
  CHECK(c.get("n").as_int64() == -3);
  CHECK(c.get("n").as_double() == -3.0);
  CHECK(c.get("big").is_integer());
  CHECK_THROWS_WITH(c.get("big").as_int64(), Catch::Contains("beyond 64 signed bits"));
  CHECK(c.get("f").is_number());
  CHECK_FALSE(c.get("f").is_integer());
  CHECK_THROWS_WITH(c.get("f").as_int64(), Catch::Contains("config value is a number with a fraction, not an integer"));
  CHECK(c.get("b").as_bool());
  CHECK_THROWS_AS(c.get("s").as_bool(), InputError);
  CHECK(c.get("s").as_string() == "text");
  // JSON null exists; a missing key does not, and both read as null.
  CHECK(c.get("z"));
  CHECK(c.get("z").is_null());
  CHECK_FALSE(c.get("missing"));
  CHECK(c.get("missing").is_null());
  CHECK_THROWS_WITH(c.get("missing").as_string(), Catch::Contains("config value is absent, not a string"));
  const ConfigValue list = c.get("list");
  REQUIRE(list.is_array());
  CHECK(list.size() == 3);
  CHECK(list.at(1).as_string() == "two");
  CHECK(list.at(2).at(0).as_int64() == 3);
  CHECK_FALSE(list.at(3));
  CHECK_FALSE(list.get("k"));
  CHECK(c.get("obj").get("a").as_int64() == 2);
  CHECK(c.get("obj").dump() == R"({"a":2,"k":1})");
  CHECK(ConfigValue().dump() == "null");
  CHECK(nlohmann::json::parse(m.config_json()) == nlohmann::json::parse(c.dump()));
  CHECK(nlohmann::json::parse(m.config_json())["list"][1] == "two");
  // A copy of the model shares its config: values read through it stay valid after the original goes.
  ConfigValue kept;
  {
    const ModelView copy = m;
    kept = copy.config_field("s");
  }
  CHECK(kept.as_string() == "text");
}

TEST_CASE("a description with escaped names keeps the unescaped text") {
  std::string j = std::string(kHead) + R"([{"name": "", "type": "R"}, {"name": "a\u002eb", "type": "M"}]})";
  CHECK(error_of(j).find("parent 'a'") != std::string::npos);
}

TEST_CASE("bad model descriptions are one-line errors naming the file and the item") {
  CHECK(error_of("{").find("bad.json: invalid JSON") == 0);
  CHECK(error_of("[1]").find("bad.json: not a JSON object") == 0);
  CHECK(error_of(R"({"format": "awqmap.model/v2", "architecture": "X", "modules": []})")
            .find("format is 'awqmap.model/v2'") != std::string::npos);
  CHECK(error_of(R"({"architecture": "X", "modules": []})").find("no \"format\"") != std::string::npos);
  CHECK(error_of(R"({"format": "awqmap.model/v1", "modules": []})").find("no \"architecture\"") != std::string::npos);
  CHECK(error_of(std::string(kHead) +
                 R"([{"name": "", "type": "R"}, {"name": "a", "type": "M"}, {"name": "a", "type": "M"}]})")
            .find("module #2 'a': duplicate module name") != std::string::npos);
  CHECK(error_of(std::string(kHead) +
                 R"([{"name": "", "type": "R"}, {"name": "a.b", "type": "M"}, {"name": "a", "type": "M"}]})")
            .find("module #1 'a.b': its parent 'a' does not appear before it") != std::string::npos);
  CHECK(error_of(std::string(kHead) +
                 R"([{"name": "", "type": "R"}, {"name": "q", "type": "Linear", "in_features": 3}]})")
            .find("module #1 'q': a Linear module needs integer in_features and out_features") != std::string::npos);
  CHECK(error_of(
            std::string(kHead) +
            R"([{"name": "", "type": "R"}, {"name": "q", "type": "Linear", "in_features": "3", "out_features": 3}]})")
            .find("modules[1].in_features must be an integer") != std::string::npos);
  CHECK(error_of(std::string(kHead) + R"([{"name": "", "type": "R"}, {"type": "M"}]})")
            .find("modules[1] has no \"name\"") != std::string::npos);
  CHECK(error_of(std::string(kHead) + R"([{"name": "", "type": "R"}, {"name": "x"}]})")
            .find("modules[1] ('x') has no \"type\"") != std::string::npos);
  CHECK(error_of(std::string(kHead) + R"([{"name": "", "type": "R"}]} trailing)").find("bad.json:") == 0);
}

TEST_CASE("a missing description file is an error naming it") {
  try {
    load_model_description("/nonexistent/model.json");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("/nonexistent/model.json") == 0);
  }
}

TEST_CASE("truncated descriptions never crash and never load partially") {
  test::ModelBuilder b;
  b.list("model.layers").add("model.layers.0", "Layer").linear("model.layers.0.q", 8, 16);
  const std::string full = b.json();
  for (std::size_t n = 0; n < full.size(); ++n) {
    INFO("truncated to " << n << " bytes");
    CHECK_THROWS_AS(parse_model_description(full.substr(0, n), "cut.json"), InputError);
  }
}
