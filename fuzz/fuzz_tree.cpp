// The checkpoint tree builder and the architecture's checkpoint adaptations (renames, dropped
// tensors, fused expert splits). The input is config.json on its first line, then one tensor a
// line: `name` or `name d0,d1,...` (BF16). A well-formed safetensors file is built from it, so
// that the fuzzer spends its time past the header checks, in the tree.
#include "fuzz_support.hpp"

#include <nlohmann/json.hpp>

namespace {
// Tensor data is zeros, written for every input; shapes implying more are left out of the file.
constexpr std::size_t kMaxData = 64 << 10;

std::vector<std::int64_t> parse_shape(std::string_view s) {
  std::vector<std::int64_t> shape;
  std::int64_t v = 0;
  bool any = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      if (v > (INT64_MAX - 9) / 10) return {};
      v = v * 10 + (c - '0');
      any = true;
    } else if (c == ',') {
      shape.push_back(v);
      v = 0;
      any = false;
    } else {
      return {};
    }
  }
  if (any) shape.push_back(v);
  return shape;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  awqmap::fuzz::shipped_registry();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t eol = input.find('\n');
  const std::string_view config = input.substr(0, eol);
  input = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
  nlohmann::json header = nlohmann::json::object();
  std::size_t offset = 0;
  while (!input.empty()) {
    const std::size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const std::size_t space = line.rfind(' ');
    std::string name(line.substr(0, space));
    std::vector<std::int64_t> shape =
        space == std::string_view::npos ? std::vector<std::int64_t>{4, 4} : parse_shape(line.substr(space + 1));
    std::size_t bytes = 2;
    for (std::int64_t d : shape) {
      if (d != 0 && bytes > kMaxData / static_cast<std::size_t>(d)) {
        bytes = kMaxData + 1;
        break;
      }
      bytes *= static_cast<std::size_t>(d);
    }
    if (bytes > kMaxData || offset + bytes > kMaxData || header.contains(name)) continue;
    header[name] = {{"dtype", "BF16"}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  const auto& dir = awqmap::fuzz::scratch();
  awqmap::fuzz::write_file(dir / "config.json", config);
  awqmap::fuzz::write_file(
      dir / "model.safetensors",
      awqmap::fuzz::safetensors_file(header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), offset));
  AWQMAP_FUZZ_EXPECTED_ERRORS({
    awqmap::CheckpointOptions options;
    options.registry = &awqmap::fuzz::shipped_registry();
    awqmap::CheckpointSummary summary;
    awqmap::ModelView model = awqmap::load_checkpoint(dir.string(), options, &summary);
    awqmap::fuzz::select_and_resolve(model);
  });
  return 0;
}
