// The safetensors header reader: the input is a whole model.safetensors file (8-byte length,
// JSON header, data) next to a fixed config.json.
#include "fuzz_support.hpp"

namespace {
const char* kConfig = R"({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2})";
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  awqmap::fuzz::shipped_registry();
  awqmap::fuzz::write_file(awqmap::fuzz::scratch() / "config.json", kConfig);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& dir = awqmap::fuzz::scratch();
  awqmap::fuzz::write_file(dir / "model.safetensors", std::string_view(reinterpret_cast<const char*>(data), size));
  AWQMAP_FUZZ_EXPECTED_ERRORS({
    awqmap::CheckpointOptions options;
    options.registry = &awqmap::fuzz::shipped_registry();
    awqmap::ModelView model = awqmap::load_checkpoint(dir.string(), options);
    awqmap::fuzz::select_and_resolve(model);
  });
  return 0;
}
