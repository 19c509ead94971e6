#pragma once
// Builds small model descriptions in tests: modules are added in named_modules() order, and
// missing ancestors are added automatically as plain containers.
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "awqmap/model_description.hpp"

namespace awqmap::test {

class ModelBuilder {
 public:
  explicit ModelBuilder(std::string architecture = "TestForCausalLM") : arch_(std::move(architecture)) {
    add("", arch_);
  }
  ModelBuilder& add(const std::string& name, const std::string& type, nlohmann::json extra = nlohmann::json::object()) {
    if (!name.empty()) {
      auto dot = name.rfind('.');
      std::string parent = dot == std::string::npos ? "" : name.substr(0, dot);
      if (!seen_.count(parent)) add(parent, "Module");
    }
    nlohmann::json m = {{"name", name}, {"type", type}};
    m.update(extra);
    modules_.push_back(m);
    seen_.insert(name);
    return *this;
  }
  ModelBuilder& linear(const std::string& name, int in, int out) {
    return add(name, "Linear", {{"in_features", in}, {"out_features", out}});
  }
  ModelBuilder& list(const std::string& name) { return add(name, "ModuleList"); }
  ModelBuilder& config(nlohmann::json c) {
    config_ = std::move(c);
    return *this;
  }
  std::string json() const {
    return nlohmann::json{
        {"format", "awqmap.model/v1"}, {"architecture", arch_}, {"config", config_}, {"modules", modules_}}
        .dump();
  }
  ModelView build() const { return parse_model_description(json(), "test model"); }

 private:
  std::string arch_;
  nlohmann::json config_ = nlohmann::json::object();
  nlohmann::json modules_ = nlohmann::json::array();
  std::set<std::string> seen_;
};

}  // namespace awqmap::test
