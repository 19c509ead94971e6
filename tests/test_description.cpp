// Model description files as input: Python's number literals, and text the model owns.
#include <catch2/catch.hpp>

#include <cmath>

#include "awqmap/checkpoint.hpp"
#include "awqmap/error.hpp"
#include "awqmap/model_description.hpp"
#include "checkpoint_writer.hpp"
#include "support.hpp"

using namespace awqmap;
namespace fs = std::filesystem;

namespace {

const char* description_with_literals = R"({"format": "awqmap.model/v1", "architecture": "LlamaForCausalLM",
 "config": {"time_step_limit": [0.0, Infinity], "low": -Infinity, "undefined": NaN,
            "note": "Infinity, -Infinity and NaN stay words in strings", "nested": {"x": [NaN,Infinity]},
            "tricky": "a \" NaN", "num_hidden_layers": 1},
 "modules": [{"name": "", "type": "LlamaForCausalLM"}]})";

}  // namespace

TEST_CASE("Infinity -Infinity and NaN are numbers in a description config and strings stay untouched") {
  ModelView m = parse_model_description(description_with_literals, "literals.json");
  const ConfigValue c = m.config();
  CHECK(c.get("time_step_limit").at(0).as_double() == 0.0);
  CHECK(std::isinf(c.get("time_step_limit").at(1).as_double()));
  CHECK(c.get("time_step_limit").at(1).as_double() > 0);
  CHECK(std::isinf(c.get("low").as_double()));
  CHECK(c.get("low").as_double() < 0);
  CHECK(std::isnan(c.get("undefined").as_double()));
  CHECK(std::isnan(c.get("nested").get("x").at(0).as_double()));
  CHECK(std::isinf(c.get("nested").get("x").at(1).as_double()));
  CHECK(c.get("note").as_string() == "Infinity, -Infinity and NaN stay words in strings");
  CHECK(c.get("tricky").as_string() == "a \" NaN");
  CHECK(c.get("num_hidden_layers").as_int64() == 1);
}

TEST_CASE("the NemotronH real tree with Infinity in its config loads") {
  ModelView m = load_model_description((test::corpus_dir() / "NemotronHForCausalLM.real-tree.model.json").string());
  const ConfigValue limit = m.config_field("time_step_limit");
  REQUIRE(limit);
  CHECK(std::isinf(limit.at(1).as_double()));
  CHECK(m.size() > 10);
}

TEST_CASE("bare literals in the wrong places are still invalid JSON") {
  auto error_of = [](const std::string& config) {
    try {
      parse_model_description(R"({"format": "awqmap.model/v1", "architecture": "A", "config": )" + config +
                                  R"(, "modules": [{"name": "", "type": "A"}]})",
                              "bad.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of(R"({"a": Infinityx})").find("bad.json") == 0);
  CHECK(error_of(R"({"a": infinity})").find("bad.json") == 0);
  CHECK(error_of(R"({"a": [1, NaN, ]})").find("bad.json") == 0);
  CHECK(error_of(R"({"a": 1})") == "no error");
}

TEST_CASE("a checkpoint config.json with Infinity loads") {
  test::TempDir dir;
  fs::create_directories(dir.path);
  std::ofstream(dir.path / "config.json")
      << R"({"architectures": ["NemotronHForCausalLM"], "time_step_limit": [0.0, Infinity], "num_hidden_layers": 1})";
  std::uint64_t size;
  const std::string header = test::safetensors_header(
      nlohmann::json::array({{{"name", "backbone.layers.0.mixer.in_proj.weight"}, {"shape", {8, 4}}, {"dtype", "BF16"}}}),
      size);
  test::write_shard(dir.path / "model.safetensors", header, size);
  ModelView m = load_checkpoint(dir.path.string());
  CHECK(std::isinf(m.config().get("time_step_limit").at(1).as_double()));
  CHECK(m.find("backbone.layers.0.mixer.in_proj") != no_module);
}

TEST_CASE("a description stays readable after its file is truncated") {
  test::TempDir dir;
  const fs::path source = test::corpus_dir() / "Qwen3ForCausalLM.tiny.model.json";
  const fs::path copy = dir.path / "model.json";
  fs::copy_file(source, copy);
  std::vector<std::string> expected;
  const nlohmann::json records = test::read_json(source)["modules"];
  for (const auto& record : records) expected.push_back(record["name"]);
  REQUIRE(expected.size() > 10);

  ModelView m = load_model_description(copy.string());
  fs::resize_file(copy, 0);  // a mapping of the file would now fault on every page
  {
    std::ofstream rewrite(copy, std::ios::binary | std::ios::trunc);
    rewrite << std::string(4096, 'x');
  }
  std::vector<std::string> names;
  for (const auto& module : m.modules()) names.emplace_back(module.name);
  CHECK(names == expected);
}
