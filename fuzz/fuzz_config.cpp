// config.json with the hybrid-attention builders (Qwen3-Next, Qwen3.5) of the builder toolkit:
// the input is config.json, read twice — from a checkpoint directory whose tensors form a small
// hybrid model (the checkpoint reader, selection through the shipped plugins), and as the
// config of a model description handed straight to the toolkit (through the plugin-side view
// of the model, as a plugin reads it).
#include "fuzz_support.hpp"

#include <nlohmann/json.hpp>

namespace {

// A four-layer hybrid model: layer 3 has full attention, the others linear attention.
std::vector<std::pair<std::string, std::vector<int>>> hybrid_tensors() {
  std::vector<std::pair<std::string, std::vector<int>>> t = {{"model.embed_tokens.weight", {16, 8}},
                                                             {"model.norm.weight", {8}},
                                                             {"lm_head.weight", {16, 8}}};
  for (int l = 0; l < 4; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    t.push_back({p + "input_layernorm.weight", {8}});
    t.push_back({p + "post_attention_layernorm.weight", {8}});
    if (l == 3) {
      for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) t.push_back({p + "self_attn." + n + ".weight", {8, 8}});
    } else {
      for (const char* n : {"in_proj_qkvz", "in_proj_ba", "out_proj"}) t.push_back({p + "linear_attn." + n + ".weight", {8, 8}});
    }
    t.push_back({p + "mlp.gate.weight", {2, 8}});
    for (int e = 0; e < 2; ++e)
      for (const char* n : {"gate_proj", "up_proj", "down_proj"})
        t.push_back({p + "mlp.experts." + std::to_string(e) + "." + n + ".weight", {8, 8}});
    for (const char* n : {"gate_proj", "up_proj", "down_proj"}) t.push_back({p + "mlp.shared_expert." + n + ".weight", {8, 8}});
    t.push_back({p + "mlp.shared_expert_gate.weight", {1, 8}});
  }
  return t;
}

std::string hybrid_description_modules;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  awqmap::fuzz::shipped_registry();
  nlohmann::json header = nlohmann::json::object();
  nlohmann::json modules = nlohmann::json::array({{{"name", ""}, {"type", "Qwen3NextForCausalLM"}}});
  std::size_t offset = 0;
  std::vector<std::string> seen{""};
  for (const auto& [name, shape] : hybrid_tensors()) {
    std::size_t bytes = 2;
    for (int d : shape) bytes *= static_cast<std::size_t>(d);
    header[name] = {{"dtype", "BF16"}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    // The description: every ancestor as a container, then the module itself.
    const std::string module = name.substr(0, name.rfind('.'));
    for (std::size_t dot = module.find('.'); ; dot = module.find('.', dot + 1)) {
      const std::string prefix = module.substr(0, dot);
      if (std::find(seen.begin(), seen.end(), prefix) == seen.end()) {
        seen.push_back(prefix);
        if (prefix == module && shape.size() == 2)
          modules.push_back({{"name", prefix}, {"type", "Linear"}, {"in_features", shape[1]}, {"out_features", shape[0]}});
        else
          modules.push_back({{"name", prefix}, {"type", prefix == module ? "RMSNorm" : "Module"}});
      }
      if (dot == std::string::npos) break;
    }
  }
  awqmap::fuzz::write_file(awqmap::fuzz::scratch() / "model.safetensors",
                           awqmap::fuzz::safetensors_file(header.dump(), offset));
  hybrid_description_modules = modules.dump();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view config(reinterpret_cast<const char*>(data), size);
  const auto& dir = awqmap::fuzz::scratch();
  awqmap::fuzz::write_file(dir / "config.json", config);
  AWQMAP_FUZZ_EXPECTED_ERRORS({
    awqmap::CheckpointOptions options;
    options.registry = &awqmap::fuzz::shipped_registry();
    awqmap::ModelView model = awqmap::load_checkpoint(dir.string(), options);
    awqmap::fuzz::select_and_resolve(model);
  });
  // The same config inside a description, straight into the toolkit.
  const std::string description = R"({"format": "awqmap.model/v1", "architecture": "Qwen3NextForCausalLM", "config": )" +
                                  std::string(config) + R"(, "modules": )" + hybrid_description_modules + "}";
  // The toolkit is plugin-side code: it reports a bad config as awqmap::plugin::Error, which a
  // plugin's builder turns into the core's InputError.
  AWQMAP_FUZZ_EXPECTED_ERRORS({
    awqmap::ModelView model = awqmap::parse_model_description(description, "fuzz.model.json");
    try {
      (void)awqmap::toolkit::layer_types(model);
      for (bool moe_fields : {false, true}) {
        awqmap::toolkit::HybridAttentionOptions o;
        if (moe_fields) o.config_class_fields = {"num_experts"};
        awqmap::BuildResult b = awqmap::toolkit::build_hybrid_attention_mappings(model, o);
        if (b.mappings) {
          try {
            (void)awqmap::resolve(model, *b.mappings);
          } catch (const awqmap::ResolutionError&) {
          }
        }
      }
    } catch (const awqmap::plugin::Error&) {
    }
  });
  return 0;
}
