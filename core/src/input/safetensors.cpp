#include "safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <unordered_set>

#include "awqmap/error.hpp"
#include "printable.hpp"
#include "../word_scan.hpp"

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

namespace {

// One tensor's entry as read from a header, before it is checked.
struct Entry {
  std::string_view name, dtype;
  std::uint32_t shape_begin = 0, shape_end = 0;
  std::uint64_t offsets[2] = {0, 0};
};

// The header as the safetensors library writes it (ASCII names without escapes, entries with
// dtype, shape and data_offsets once each, `__metadata__` a map of plain strings, any JSON
// whitespace), read in one pass without a JSON parser's index. Anything else, valid or not,
// returns false and leaves `entries` and `dims` to be refilled by the general reader, so what
// this accepts is a subset of JSON that both readers read alike.
class PlainHeader {
 public:
  PlainHeader(const char* begin, std::size_t size) : p_(begin), end_(begin + size) {}

  bool read(std::vector<Entry>& entries, std::vector<std::int64_t>& dims) {
    ws();
    if (!eat('{')) return false;
    ws();
    if (eat('}')) return rest_is_blank();
    for (;;) {
      std::string_view key;
      if (!string(key) || !colon()) return false;
      if (key == "__metadata__") {
        if (!metadata()) return false;
      } else {
        Entry e;
        e.name = key;
        if (!entry(e, dims)) return false;
        entries.push_back(e);
      }
      ws();
      if (eat('}')) return rest_is_blank();
      if (!eat(',')) return false;
      ws();
    }
  }

 private:
  const char* p_;
  const char* end_;

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool colon() {
    ws();
    if (!eat(':')) return false;
    ws();
    return true;
  }
  bool rest_is_blank() {
    ws();
    return p_ == end_;
  }
  // Printable ASCII only: escapes, control and non-ASCII bytes are left to the general reader.
  bool string(std::string_view& out) {
    if (!eat('"')) return false;
    const std::size_t n = printable_json_prefix(std::string_view(p_, static_cast<std::size_t>(end_ - p_)));
    if (p_ + n == end_ || p_[n] != '"') return false;
    out = std::string_view(p_, n);
    p_ += n + 1;
    return true;
  }
  // At most 18 digits, no leading zero: within int64 and valid JSON.
  bool number(std::uint64_t& out) {
    const char* s = p_;
    std::uint64_t v = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') v = v * 10 + static_cast<std::uint64_t>(*p_++ - '0');
    const auto n = p_ - s;
    if (n == 0 || n > 18 || (n > 1 && *s == '0')) return false;
    out = v;
    return true;
  }
  template <class Each>
  bool numbers(Each&& each) {
    if (!eat('[')) return false;
    ws();
    if (eat(']')) return true;
    for (;;) {
      std::uint64_t v;
      if (!number(v)) return false;
      each(v);
      ws();
      if (eat(']')) return true;
      if (!eat(',')) return false;
      ws();
    }
  }
  bool metadata() {
    if (!eat('{')) return false;
    ws();
    if (eat('}')) return true;
    for (;;) {
      std::string_view k, v;
      if (!string(k) || !colon() || !string(v)) return false;
      ws();
      if (eat('}')) return true;
      if (!eat(',')) return false;
      ws();
    }
  }
  bool entry(Entry& e, std::vector<std::int64_t>& dims) {
    if (!eat('{')) return false;
    e.shape_begin = static_cast<std::uint32_t>(dims.size());
    bool has_dtype = false, has_shape = false, has_offsets = false;
    for (;;) {
      ws();
      std::string_view k;
      if (!string(k) || !colon()) return false;
      if (k == "dtype" && !has_dtype) {
        if (!string(e.dtype)) return false;
        has_dtype = true;
      } else if (k == "shape" && !has_shape) {
        if (!numbers([&](std::uint64_t v) { dims.push_back(static_cast<std::int64_t>(v)); })) return false;
        has_shape = true;
      } else if (k == "data_offsets" && !has_offsets) {
        std::size_t count = 0;
        if (!numbers([&](std::uint64_t v) {
              if (count < 2) e.offsets[count] = v;
              ++count;
            }) ||
            count != 2)
          return false;
        has_offsets = true;
      } else {
        return false;
      }
      ws();
      e.shape_end = static_cast<std::uint32_t>(dims.size());
      if (eat('}')) return has_dtype && has_shape && has_offsets;
      if (!eat(',')) return false;
    }
  }
};

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

  struct Span {
    std::uint64_t begin, end;
    std::size_t tensor;
  };
  std::vector<Span> spans;
  auto& out = set.tensors;
  // Checks an entry once it is read, in header order (so the first faulty entry is the one
  // named, whichever reader read it).
  auto add = [&](const Entry& e) {
    const std::string_view name = e.name;
    auto entry_error = [&](const std::string& what) { fail(path, "tensor '" + printable(name) + "': " + what); };
    const int bits = dtype_bits(e.dtype);
    if (!bits) entry_error("unknown dtype '" + printable(e.dtype) + "'");
    std::uint64_t numel = 1;
    for (std::size_t d = e.shape_begin; d < e.shape_end; ++d)
      if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(set.dims[d]), &numel))
        entry_error("shape is too large");
    std::uint64_t total_bits;
    if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(bits), &total_bits) || total_bits % 8)
      entry_error("shape does not fill a whole number of bytes");
    if (e.offsets[1] < e.offsets[0]) entry_error("data_offsets end before they begin");
    if (e.offsets[1] - e.offsets[0] != total_bits / 8)
      entry_error("data_offsets cover " + std::to_string(e.offsets[1] - e.offsets[0]) +
                  " bytes, but shape and dtype need " + std::to_string(total_bits / 8));
    if (e.offsets[1] > data_size)
      entry_error("data_offsets end at " + std::to_string(e.offsets[1]) + ", past the " + std::to_string(data_size) +
                  " bytes of data in the file");
    if (name.empty()) entry_error("empty tensor name");
    // An empty tensor occupies no bytes and overlaps nothing.
    if (e.offsets[1] > e.offsets[0]) spans.push_back({e.offsets[0], e.offsets[1], out.size()});
    out.push_back({name, e.shape_begin, e.shape_end - e.shape_begin, shard_index});
  };

  std::vector<Entry> plain;
  const std::size_t dims_before = set.dims.size();
  if (PlainHeader(header.data(), header.size()).read(plain, set.dims)) {
    spans.reserve(plain.size());
    out.reserve(out.size() + plain.size());
    for (const Entry& e : plain) add(e);
  } else {
    set.dims.resize(dims_before);
    auto bad_json = [&](simdjson::error_code e, const std::string& where) {
      fail(path, "header " + where + " (" + simdjson::error_message(e) + ")");
    };
    od::document doc;
    if (auto e = parser.iterate(header).get(doc)) bad_json(e, "is not valid JSON");
    od::object root;
    if (auto e = doc.get_object().get(root)) bad_json(e, "is not a JSON object");
    for (auto field_result : root) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) bad_json(e, "is not valid JSON");
      Entry entry;
      // The name in place in the header when it has no escapes; unescaped into `owned` otherwise.
      {
        const char* p = field.key().raw();
        std::size_t len = 0;
        while (p[len] != '"' && p[len] != '\\' && static_cast<unsigned char>(p[len]) >= 0x20) ++len;
        if (p[len] == '"') {
          entry.name = std::string_view(p, len);
        } else {
          std::string_view unescaped;
          if (auto e = field.unescaped_key().get(unescaped)) bad_json(e, "has an invalid key");
          entry.name = set.own(std::string(unescaped));
        }
      }
      const std::string_view name = entry.name;
      if (name == "__metadata__") continue;
      auto entry_error = [&](const std::string& what) { fail(path, "tensor '" + printable(name) + "': " + what); };
      od::object object;
      if (field.value().get_object().get(object)) entry_error("entry is not an object");
      bool has_dtype = false, has_shape = false, has_offsets = false;
      entry.shape_begin = static_cast<std::uint32_t>(set.dims.size());
      for (auto member_result : object) {
        od::field member;
        if (auto e = std::move(member_result).get(member)) bad_json(e, "is not valid JSON");
        std::string_view k;
        if (member.unescaped_key().get(k)) entry_error("invalid key");
        if (k == "dtype") {
          if (member.value().get_string().get(entry.dtype)) entry_error("dtype must be a string");
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
            if (count < 2) entry.offsets[count] = v;
            ++count;
          }
          if (count != 2) entry_error("data_offsets must have exactly two entries");
          has_offsets = true;
        }
      }
      if (!has_dtype) entry_error("no dtype");
      if (!has_shape) entry_error("no shape");
      if (!has_offsets) entry_error("no data_offsets");
      entry.shape_end = static_cast<std::uint32_t>(set.dims.size());
      add(entry);
    }
    if (!doc.current_location().error()) fail(path, "header has trailing content after the JSON object");
  }
  // Sorted by start, a span overlaps an earlier one exactly when it starts before the furthest
  // end seen so far (comparing neighbours alone misses a short span nested in a long one).
  // Writers lay tensors out in header order: then the spans are sorted already (strictly, so that
  // no order among equal starts is left to the sort to choose).
  const auto starts_before = [](const Span& a, const Span& b) { return a.begin < b.begin; };
  if (std::adjacent_find(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin >= b.begin; }) !=
      spans.end())
    std::sort(spans.begin(), spans.end(), starts_before);
  std::size_t furthest = 0;
  for (std::size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[furthest].end)
      fail(path, "tensors '" + printable(out[spans[furthest].tensor].name) + "' and '" +
                     printable(out[spans[i].tensor].name) + "' overlap in the data section");
    if (spans[i].end > spans[furthest].end) furthest = i;
  }
}

ShardList index_shards(const simdjson::padded_string& text, const std::string& display) {
  // A parser of its own: its index is sized by this file, the largest the checkpoint reads, and
  // is freed before the shards are read (their headers fit in what it leaves free).
  od::parser parser;
  od::document doc;
  auto bad = [&](const std::string& what) { fail(display, what); };
  if (parser.iterate(text).get(doc)) bad("invalid JSON");
  od::object root;
  if (doc.get_object().get(root)) bad("not a JSON object");
  ShardList list;
  std::vector<std::string>& shards = list.shards;
  std::unordered_set<std::string> seen;
  std::string_view last;  // entries come grouped by shard: most repeat the one before
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
      ++list.tensors;
      if (shard == last && !shards.empty()) continue;
      last = shard;
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
  return list;
}

}  // namespace awqmap::detail
