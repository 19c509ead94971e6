#include "safetensors.hpp"

#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include "awqmap/error.hpp"
#include "printable.hpp"

namespace awqmap::detail {
namespace {

namespace od = simdjson::ondemand;

// Bits per element of every safetensors dtype.
int dtype_bits(std::string_view d) {
  static const std::pair<std::string_view, int> table[] = {
      {"BOOL", 8}, {"U8", 8},   {"I8", 8},    {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
      {"U16", 16}, {"F16", 16}, {"BF16", 16}, {"I32", 32},    {"U32", 32},    {"F32", 32},    {"I64", 64},
      {"U64", 64}, {"F64", 64}, {"F4", 4},    {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"C64", 64},
  };
  for (const auto& [name, bits] : table)
    if (name == d) return bits;
  return 0;
}

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw InputError(printable(file) + ": " + what);
}

}  // namespace

void read_shard(const RegularFile& shard, od::parser& parser, const InputLimits& limits, TensorSet& set) {
  const std::string& path = shard.display();
  const auto shard_index = static_cast<std::uint32_t>(set.shard_names.size());
  set.shard_names.push_back(path);
  const std::uint64_t size = shard.size();
  if (size < 8) fail(path, "file is too short for a safetensors header (" + std::to_string(size) + " bytes)");
  unsigned char len_bytes[8];
  shard.read_at(0, reinterpret_cast<char*>(len_bytes), 8);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  // The length's value is never printed: in a file that is not a safetensors shard it is
  // eight bytes of someone else's data.
  if (n > limits.max_safetensors_header_bytes)
    fail(path, "the header length field is over the limit InputLimits::max_safetensors_header_bytes (" +
                   std::to_string(limits.max_safetensors_header_bytes) + " bytes); is this a safetensors file?");
  if (n + 8 > size)
    fail(path, "the header length field runs past the end of the file (" + std::to_string(size) +
                   " bytes); the file is truncated or not a safetensors file");
  simdjson::padded_string& header = set.headers.emplace_back(static_cast<std::size_t>(n));
  shard.read_at(8, header.data(), static_cast<std::size_t>(n));
  const std::uint64_t data_size = size - 8 - n;

  auto bad_json = [&](simdjson::error_code e, const std::string& where) {
    fail(path, "header " + where + " (" + simdjson::error_message(e) + ")");
  };
  od::document doc;
  if (auto e = parser.iterate(header).get(doc)) bad_json(e, "is not valid JSON");
  od::object root;
  if (auto e = doc.get_object().get(root)) bad_json(e, "is not a JSON object");
  struct Span {
    std::uint64_t begin, end;
    std::size_t tensor;
  };
  std::vector<Span> spans;
  auto& out = set.tensors;
  for (auto field_result : root) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) bad_json(e, "is not valid JSON");
    // The name in place in the header when it has no escapes; unescaped into `owned` otherwise.
    std::string_view name;
    {
      const char* p = field.key().raw();
      std::size_t len = 0;
      while (p[len] != '"' && p[len] != '\\' && static_cast<unsigned char>(p[len]) >= 0x20) ++len;
      if (p[len] == '"') {
        name = std::string_view(p, len);
      } else {
        std::string_view unescaped;
        if (auto e = field.unescaped_key().get(unescaped)) bad_json(e, "has an invalid key");
        name = set.own(std::string(unescaped));
      }
    }
    if (name == "__metadata__") continue;
    auto entry_error = [&](const std::string& what) { fail(path, "tensor '" + printable(name) + "': " + what); };
    od::object entry;
    if (field.value().get_object().get(entry)) entry_error("entry is not an object");
    std::string_view dtype;
    bool has_dtype = false, has_shape = false, has_offsets = false;
    const std::size_t shape_begin = set.dims.size();
    std::uint64_t offsets[2] = {0, 0};
    for (auto member_result : entry) {
      od::field member;
      if (auto e = std::move(member_result).get(member)) bad_json(e, "is not valid JSON");
      std::string_view k;
      if (member.unescaped_key().get(k)) entry_error("invalid key");
      if (k == "dtype") {
        if (member.value().get_string().get(dtype)) entry_error("dtype must be a string");
        has_dtype = true;
      } else if (k == "shape") {
        od::array arr;
        if (member.value().get_array().get(arr)) entry_error("shape must be a list of integers");
        for (auto d : arr) {
          std::uint64_t v;
          if (d.get_uint64().get(v) || v > static_cast<std::uint64_t>(INT64_MAX))
            entry_error("shape must be a list of non-negative integers");
          set.dims.push_back(static_cast<std::int64_t>(v));
        }
        has_shape = true;
      } else if (k == "data_offsets") {
        od::array arr;
        if (member.value().get_array().get(arr)) entry_error("data_offsets must be [begin, end]");
        std::size_t count = 0;
        for (auto d : arr) {
          std::uint64_t v;
          if (d.get_uint64().get(v)) entry_error("data_offsets must be [begin, end] with non-negative integers");
          if (count < 2) offsets[count] = v;
          ++count;
        }
        if (count != 2) entry_error("data_offsets must have exactly two entries");
        has_offsets = true;
      }
    }
    if (!has_dtype) entry_error("no dtype");
    if (!has_shape) entry_error("no shape");
    if (!has_offsets) entry_error("no data_offsets");
    const int bits = dtype_bits(dtype);
    if (!bits) entry_error("unknown dtype '" + printable(dtype) + "'");
    std::uint64_t numel = 1;
    for (std::size_t d = shape_begin; d < set.dims.size(); ++d)
      if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(set.dims[d]), &numel))
        entry_error("shape is too large");
    std::uint64_t total_bits;
    if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(bits), &total_bits) || total_bits % 8)
      entry_error("shape does not fill a whole number of bytes");
    if (offsets[1] < offsets[0]) entry_error("data_offsets end before they begin");
    if (offsets[1] - offsets[0] != total_bits / 8)
      entry_error("data_offsets cover " + std::to_string(offsets[1] - offsets[0]) +
                  " bytes, but shape and dtype need " + std::to_string(total_bits / 8));
    if (offsets[1] > data_size)
      entry_error("data_offsets end at " + std::to_string(offsets[1]) + ", past the " + std::to_string(data_size) +
                  " bytes of data in the file");
    if (name.empty()) entry_error("empty tensor name");
    // An empty tensor occupies no bytes and overlaps nothing.
    if (offsets[1] > offsets[0]) spans.push_back({offsets[0], offsets[1], out.size()});
    out.push_back({name, static_cast<std::uint32_t>(shape_begin),
                   static_cast<std::uint32_t>(set.dims.size() - shape_begin), shard_index});
  }
  if (!doc.current_location().error()) fail(path, "header has trailing content after the JSON object");
  // Sorted by start, a span overlaps an earlier one exactly when it starts before the furthest
  // end seen so far (comparing neighbours alone misses a short span nested in a long one).
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::size_t furthest = 0;
  for (std::size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[furthest].end)
      fail(path, "tensors '" + printable(out[spans[furthest].tensor].name) + "' and '" +
                     printable(out[spans[i].tensor].name) + "' overlap in the data section");
    if (spans[i].end > spans[furthest].end) furthest = i;
  }
}

std::vector<std::string> index_shards(const simdjson::padded_string& text, const std::string& display,
                                      od::parser& parser) {
  od::document doc;
  auto bad = [&](const std::string& what) { fail(display, what); };
  if (parser.iterate(text).get(doc)) bad("invalid JSON");
  od::object root;
  if (doc.get_object().get(root)) bad("not a JSON object");
  std::vector<std::string> shards;
  std::unordered_set<std::string> seen;
  bool has_map = false;
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field)) bad("invalid JSON");
    std::string_view key;
    if (field.unescaped_key().get(key)) bad("invalid JSON");
    if (key != "weight_map") continue;
    has_map = true;
    od::object map;
    if (field.value().get_object().get(map)) bad("weight_map must be an object of tensor name -> shard file");
    for (auto entry_result : map) {
      od::field entry;
      if (std::move(entry_result).get(entry)) bad("invalid JSON in weight_map");
      std::string_view shard;
      if (entry.value().get_string().get(shard)) bad("weight_map values must be shard file names");
      if (seen.insert(std::string(shard)).second) shards.emplace_back(shard);
    }
  }
  if (!has_map) bad("no weight_map");
  if (!doc.current_location().error()) bad("trailing content after the JSON object");
  for (const auto& s : shards) {
    std::filesystem::path p(s);
    if (s.empty() || s.find('\0') != std::string::npos || p.is_absolute() ||
        std::any_of(p.begin(), p.end(), [](const std::filesystem::path& c) { return c == ".."; }))
      bad("shard name '" + printable(s) + "' must be a file name inside the checkpoint directory");
  }
  return shards;
}

}  // namespace awqmap::detail
