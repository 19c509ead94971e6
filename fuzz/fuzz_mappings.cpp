// The mappings-file reader (`--mappings FILE`), then resolution of what it accepts on a small
// Llama model, as `awqmap resolve --mappings FILE` does.
#include "fuzz_support.hpp"

namespace {
std::optional<awqmap::ModelView> llama;

std::string llama_description() {
  std::string modules = R"({"name": "", "type": "LlamaForCausalLM"}, {"name": "model", "type": "Module"},
    {"name": "model.layers", "type": "ModuleList"})";
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l);
    modules += R"(, {"name": ")" + p + R"(", "type": "LlamaDecoderLayer"})";
    for (const char* c : {"self_attn", "mlp"}) modules += R"(, {"name": ")" + p + "." + c + R"(", "type": "Module"})";
    for (const char* n : {"input_layernorm", "post_attention_layernorm"})
      modules += R"(, {"name": ")" + p + "." + n + R"(", "type": "LlamaRMSNorm"})";
    for (const char* n : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
                          "mlp.up_proj", "mlp.down_proj"})
      modules += R"(, {"name": ")" + p + "." + n + R"(", "type": "Linear", "in_features": 8, "out_features": 8})";
  }
  modules += R"(, {"name": "lm_head", "type": "Linear", "in_features": 8, "out_features": 16})";
  return R"({"format": "awqmap.model/v1", "architecture": "LlamaForCausalLM", "config": {}, "modules": [)" + modules +
         "]}";
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  llama.emplace(awqmap::parse_model_description(llama_description(), "llama"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = awqmap::fuzz::scratch() / "mappings.json";
  awqmap::fuzz::write_file(file, std::string_view(reinterpret_cast<const char*>(data), size));
  AWQMAP_FUZZ_EXPECTED_ERRORS({
    awqmap::MappingList mappings = awqmap::load_mappings_file(file.string());
    (void)awqmap::mappings_to_json(mappings);
    try {
      (void)awqmap::resolve(*llama, mappings);
    } catch (const awqmap::ResolutionError&) {
    }
  });
  return 0;
}
