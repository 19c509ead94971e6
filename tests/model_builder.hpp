#pragma once
// Builds small model descriptions in tests: modules are added in named_modules() order, and
// missing ancestors are added automatically as plain containers.
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "awqmap/model_description.hpp"

namespace awqmap::test {

class ModelBuilder {
 public:
  /// `norm_class` is the class norm() gives its modules (Gemma's trees say GemmaRMSNorm).
  explicit ModelBuilder(std::string architecture = "TestForCausalLM", std::string norm_class = "RMSNorm")
      : arch_(std::move(architecture)), norm_class_(std::move(norm_class)) {
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
  ModelBuilder& linear(const std::string& name, int in = 64, int out = 64) {
    return add(name, "Linear", {{"in_features", in}, {"out_features", out}});
  }
  ModelBuilder& list(const std::string& name) { return add(name, "ModuleList"); }
  /// A norm with a weight of `dim` elements.
  ModelBuilder& norm(const std::string& name, int dim = 64) { return add(name, norm_class_, {{"shape", {dim}}}); }
  /// A MoE router that is a weight, not a Linear (DeepSeek's `mlp.gate`).
  ModelBuilder& router(const std::string& name, int experts = 2) {
    return add(name, "TopkRouter", {{"shape", {experts, 64}}});
  }
  /// `<p>gate_proj`, `<p>up_proj`, `<p>down_proj` (`p` ends with a dot).
  ModelBuilder& gated_mlp(const std::string& p) {
    for (const char* n : {"gate_proj", "up_proj", "down_proj"}) linear(p + n);
    return *this;
  }
  /// The ModuleList `p` of `n` gated-MLP experts.
  ModelBuilder& experts(const std::string& p, int n = 2) {
    list(p);
    for (int e = 0; e < n; ++e) gated_mlp(p + "." + std::to_string(e) + ".");
    return *this;
  }
  /// Llama's `<p>self_attn.{q,k,v,o}_proj`.
  ModelBuilder& llama_attention(const std::string& p) {
    for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) linear(p + "self_attn." + n);
    return *this;
  }
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
  std::string norm_class_;
  nlohmann::json config_ = nlohmann::json::object();
  nlohmann::json modules_ = nlohmann::json::array();
  std::set<std::string> seen_;
};

/// How layered() spells a layer: the layer's class, the class of its "N:" norms, and whether
/// config.num_hidden_layers is set to the number of layers.
struct LayerStyle {
  std::string layer_class = "DecoderLayer";
  std::string norm_class = "RMSNorm";
  bool count_layers = true;
};
/// GPT- and encoder-style blocks: LayerNorm, and a config left as given.
inline const LayerStyle block_style{"Block", "LayerNorm", false};

/// `layers` copies of `parts` under `<root>.<i>.`, in named_modules order. A part is "N:<name>"
/// for a norm, "M:<name>" for a router (a weight, not a Linear), "A:<name>" for an activation
/// module, or a Linear name (64 -> 64).
inline ModelView layered(const LayerStyle& style, const std::string& architecture, const std::string& root, int layers,
                         const std::vector<std::string>& parts, nlohmann::json config = nlohmann::json::object()) {
  ModelBuilder b(architecture);
  b.list(root);
  for (int l = 0; l < layers; ++l) {
    std::string p = root + "." + std::to_string(l);
    b.add(p, style.layer_class);
    for (const auto& part : parts) {
      if (part.size() > 2 && part[1] == ':')
        b.add(p + "." + part.substr(2), part[0] == 'N'   ? style.norm_class
                                        : part[0] == 'M' ? std::string("TopkRouter")
                                                         : std::string("GELUActivation"));
      else
        b.linear(p + "." + part, 64, 64);
    }
  }
  if (style.count_layers) config["num_hidden_layers"] = layers;
  b.config(std::move(config));
  return b.build();
}
/// layered() with the default LayerStyle (Llama-style decoder layers).
inline ModelView layered(const std::string& architecture, const std::string& root, int layers,
                         const std::vector<std::string>& parts, nlohmann::json config = nlohmann::json::object()) {
  return layered(LayerStyle{}, architecture, root, layers, parts, std::move(config));
}

}  // namespace awqmap::test
