// The model description reader (awqmap.model/v1, docs/format.md), then selection and resolution of
// whatever it accepts.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  awqmap::fuzz::shipped_registry();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  AWQMAP_FUZZ_EXPECTED_ERRORS({
    awqmap::ModelView model = awqmap::parse_model_description(text, "fuzz.model.json");
    for (const auto& m : model.modules()) (void)model.find(m.name);
    awqmap::fuzz::select_and_resolve(model);
  });
  return 0;
}
