// The checkpoint tree builder and the architecture's checkpoint adaptations (renames, dropped
// tensors, fused expert splits). The input is config.json on its first line, then one tensor a
// line: `name` or `name d0,d1,...` (BF16). A well-formed safetensors file is built from it, so
// that the fuzzer spends its time past the header checks, in the tree. The header is written
// in input order (the reader must not depend on it) with a tensor's data right after the
// previous one's; names that are not UTF-8 get U+FFFD for the bad bytes.
#include <unordered_set>

#include "fuzz_support.hpp"

namespace {
// Tensor data is a hole in the file (never read, never written), so shapes may be large; shapes
// implying more than this in all are left out of the file.
constexpr std::size_t kMaxData = std::size_t{1} << 30;

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

awqmap::fuzz::ScratchFile& config_file() {
  static awqmap::fuzz::ScratchFile f("config.json");
  return f;
}

awqmap::fuzz::ScratchFile& shard_file() {
  static awqmap::fuzz::ScratchFile f("model.safetensors");
  return f;
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
  // The length field's 8 bytes first, filled in when the header is complete.
  std::string file(8, '\0');
  file.reserve(8 + 2 * input.size() + 64);
  file += '{';
  std::unordered_set<std::string_view> names;
  std::vector<std::int64_t> shape;
  std::size_t offset = 0;
  while (!input.empty()) {
    const std::size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const std::size_t space = line.rfind(' ');
    const std::string_view name = line.substr(0, space);
    if (space == std::string_view::npos)
      shape.assign({4, 4});
    else
      shape = parse_shape(line.substr(space + 1));
    std::size_t bytes = 2;
    for (std::int64_t d : shape) {
      if (d != 0 && bytes > kMaxData / static_cast<std::size_t>(d)) {
        bytes = kMaxData + 1;
        break;
      }
      bytes *= static_cast<std::size_t>(d);
    }
    if (bytes > kMaxData || offset + bytes > kMaxData || !names.insert(name).second) continue;
    if (file.size() > 9) file += ',';
    awqmap::fuzz::append_json_string(file, name);
    file += R"(:{"dtype":"BF16","shape":[)";
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (i) file += ',';
      file += std::to_string(shape[i]);
    }
    file += R"(],"data_offsets":[)";
    file += std::to_string(offset);
    file += ',';
    file += std::to_string(offset + bytes);
    file += "]}";
    offset += bytes;
  }
  file += '}';
  const std::uint64_t header_size = file.size() - 8;
  for (int i = 0; i < 8; ++i) file[static_cast<std::size_t>(i)] = static_cast<char>((header_size >> (8 * i)) & 0xFF);
  config_file().assign(config);
  shard_file().assign(file, offset);
  AWQMAP_FUZZ_EXPECTED_ERRORS({
    awqmap::CheckpointOptions options;
    options.registry = &awqmap::fuzz::shipped_registry();
    awqmap::CheckpointSummary summary;
    awqmap::ModelView model = awqmap::load_checkpoint(awqmap::fuzz::scratch().string(), options, &summary);
    awqmap::fuzz::select_and_resolve(model);
  });
  return 0;
}
