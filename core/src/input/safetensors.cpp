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

// A dtype's name as one word: its bytes, and its length in the top byte (no name is longer
// than seven), so that a name with a NUL in it is not taken for a shorter one.
constexpr std::uint64_t dtype_word(std::string_view d) {
  std::uint64_t w = static_cast<std::uint64_t>(d.size()) << 56;
  for (std::size_t i = 0; i < d.size() && i < 7; ++i) w |= std::uint64_t{static_cast<unsigned char>(d[i])} << (8 * i);
  return w;
}

// Bits per element of every safetensors dtype, the common ones first: a dtype costs a word
// compare or a few.
struct Dtype {
  std::uint64_t word;
  int bits;
};
constexpr Dtype kDtypes[] = {
    {dtype_word("BF16"), 16}, {dtype_word("F32"), 32},    {dtype_word("F16"), 16},    {dtype_word("F8_E4M3"), 8},
    {dtype_word("I64"), 64},  {dtype_word("U8"), 8},      {dtype_word("I32"), 32},    {dtype_word("BOOL"), 8},
    {dtype_word("I8"), 8},    {dtype_word("F8_E5M2"), 8}, {dtype_word("F8_E8M0"), 8}, {dtype_word("I16"), 16},
    {dtype_word("U16"), 16},  {dtype_word("U32"), 32},    {dtype_word("U64"), 64},    {dtype_word("F64"), 64},
    {dtype_word("F4"), 4},    {dtype_word("F6_E2M3"), 6}, {dtype_word("F6_E3M2"), 6}, {dtype_word("C64"), 64},
};

int dtype_bits_of_word(std::uint64_t word) {
  for (const Dtype& d : kDtypes)
    if (d.word == word) return d.bits;
  return 0;
}

int dtype_bits(std::string_view d) {
  return d.size() <= 7 ? dtype_bits_of_word(dtype_word(d)) : 0;
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

// What is wrong with an entry, the first fault in the order the messages are chosen; one
// function for both readers, so that the plain reader accepts exactly the entries the general
// reader accepts.
enum class Fault { none, dtype, shape_too_large, partial_bytes, reversed, size, past_end, empty_name };

struct EntryCheck {
  Fault fault;
  std::uint64_t bytes;  // what shape and dtype need, once known
};

EntryCheck check_entry(int bits, const std::int64_t* dims, std::size_t rank, std::uint64_t begin, std::uint64_t end,
                       std::uint64_t data_size, bool empty_name) {
  if (!bits) return {Fault::dtype, 0};
  std::uint64_t numel = 1;
  for (std::size_t d = 0; d < rank; ++d)
    if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(dims[d]), &numel)) return {Fault::shape_too_large, 0};
  std::uint64_t total_bits;
  if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(bits), &total_bits) || total_bits % 8)
    return {Fault::partial_bytes, 0};
  const std::uint64_t bytes = total_bits / 8;
  if (end < begin) return {Fault::reversed, bytes};
  if (end - begin != bytes) return {Fault::size, bytes};
  if (end > data_size) return {Fault::past_end, bytes};
  if (empty_name) return {Fault::empty_name, bytes};
  return {Fault::none, bytes};
}

// The tensors' byte ranges, for the overlap check. Writers lay tensors out in header order: a
// span that starts at or after the end of the one before (and so of all before) cannot
// overlap them, and while every span does, the check has nothing to find (the plain reader
// reads such headers alone, and keeps no spans).
struct Spans {
  struct Span {
    std::uint64_t begin, end;
    std::size_t tensor;
  };
  std::vector<Span> list;
  std::uint64_t last_end = 0;
  bool in_order = true;

  void add(std::uint64_t begin, std::uint64_t end, std::size_t tensor) {
    // An empty tensor occupies no bytes and overlaps nothing.
    if (end <= begin) return;
    in_order &= begin >= last_end;
    last_end = end;
    list.push_back({begin, end, tensor});
  }
};

// Grows `v` to hold `n` elements, at least doubling: the tensors and dims of all shards go into
// one vector, reserved shard by shard.
template <class T>
void reserve_for(std::vector<T>& v, std::size_t n) {
  if (n > v.capacity()) v.reserve(std::max(n, 2 * v.capacity()));
}

// The first `n` bytes of `s` (eight at most) as load_word reads them.
constexpr std::uint64_t text_word(const char* s, std::size_t n) {
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < n && i < 8; ++i) w |= std::uint64_t{static_cast<unsigned char>(s[i])} << (8 * i);
  return w;
}

constexpr bool is_json_space(char c) {
  return static_cast<unsigned char>(c) <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}

// How many of the eight bytes of `x` (a word xor '0' bytes) are digits, from the first.
inline std::size_t digit_run(std::uint64_t x) {
  // A byte above 9 sets its high bit when 0x76 is added to its low seven bits, which cannot
  // carry into the next byte.
  const std::uint64_t other = (((x & ~kHigh) + kOnes * 0x76) | x) & kHigh;
  return other ? static_cast<std::size_t>(__builtin_ctzll(other)) / 8 : 8;
}

// The number that eight digits spell, byte i (from the lowest) holding the value of the i-th digit.
inline std::uint64_t eight_digits(std::uint64_t d) {
  d = d * 10 + (d >> 8);  // each byte pair: its two digits' value
  return (((d & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
          (((d >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
         32;
}

constexpr std::uint64_t kPowersOfTen[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// Whether the `n` bytes at `a` and at `b` are the same, sixteen at a time (reading up to fifteen
// bytes past each).
inline bool same_bytes(const char* a, const char* b, std::size_t n) {
  std::size_t i = 0;
#ifdef __SSE2__
  auto equal = [&](std::size_t at) {
    return static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + at)),
                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + at)))));
  };
  if (n < 16) return (~equal(0) & ((1u << n) - 1)) == 0;
  // Up to 32 bytes (shard names, most of them): the last sixteen overlap the first.
  for (; i + 32 < n; i += 16)
    if (equal(i) != 0xffff) return false;
  return equal(i) == 0xffff && equal(n - 16) == 0xffff;
#else
  for (; i + 8 <= n; i += 8)
    if (load_word(a + i) != load_word(b + i)) return false;
  return ((load_word(a + i) ^ load_word(b + i)) & low_bytes(n - i)) == 0;
#endif
}

// What the fixed spellings of an entry have between its values.
constexpr char kCompactDtype[] = ":{\"dtype\":\"", kCompactShape[] = ",\"shape\":[",
               kCompactOffsets[] = ",\"data_offsets\":[", kPythonDtype[] = ": {\"dtype\": \"",
               kPythonShape[] = ", \"shape\": [", kPythonOffsets[] = ", \"data_offsets\": [", kCommaSpace[] = ", ",
               kEntryEnd[] = "]}", kCompactBf16[] = ":{\"dtype\":\"BF16\",\"shape\":[";

// The header as safetensors writers write it (ASCII names without escapes, entries with dtype,
// shape and data_offsets once each, `__metadata__` a map of plain strings), read and checked in
// one pass without a JSON parser's index, each entry appended to the set as it is read. The
// spellings of the Rust library (serde_json: compact, dtype, shape, data_offsets in that order)
// and of Python's json.dumps (", " and ": ") are read by word compares; other whitespace and key
// orders a token at a time. Anything else, valid or not, any entry that fails its checks, and
// tensors not laid out in header order (whose overlap check needs every span) return false:
// the caller takes back what was appended and the general reader reads the header and chooses
// the error. So what this accepts is a subset of JSON that both readers read alike.
//
// The header is followed by SIMDJSON_PADDING zero bytes (read_shard writes them): a NUL is no
// JSON whitespace, digit, quote or byte of a literal, so no scan or compare moves past the end,
// and none reads more than 40 bytes ahead.
class PlainHeader {
 public:
  PlainHeader(const char* begin, std::size_t size, std::uint64_t data_size, std::uint32_t shard, TensorSet& set)
      : p_(begin), end_(begin + size), data_size_(data_size), shard_(shard), set_(set) {}

  bool read() {
    ws();
    if (!eat('{')) return false;
    ws();
    if (eat('}')) return rest_is_blank();
    for (;;) {
      std::string_view key;
      if (!string(key)) return false;
      if (key.size() == 12 && std::memcmp(key.data(), "__metadata__", 12) == 0) {
        if (!colon() || !metadata()) return false;
      } else if (!entry(key)) {
        return false;
      }
      if (p_[0] == ',' && p_[1] == '"') {  // compact: the next name follows at once
        ++p_;
        continue;
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
  std::uint64_t data_size_;
  std::uint32_t shard_;
  TensorSet& set_;
  // The end of the last tensor that occupies bytes: a later one must start there or after.
  std::uint64_t last_end_ = 0;
  // The text of the last entry's end offset when a fixed spelling read it, and its value: the
  // next entry's begin is most often the same text, compared rather than read again.
  const char* end_text_ = nullptr;
  std::size_t end_text_size_ = 0;
  std::uint64_t end_value_ = 0;

  void ws() {
    while (is_json_space(*p_)) ++p_;
  }

  bool eat(char c) {
    if (*p_ != c) return false;
    ++p_;
    return true;
  }
  // The literal `kText` (at most 32 bytes), compared a word at a time with words known at
  // compile time.
  template <const auto& kText>
  bool text() {
    constexpr std::size_t n = sizeof(kText) - 1;
    static_assert(n <= 32, "four words at most");
    constexpr std::uint64_t words[4] = {text_word(kText, n), n > 8 ? text_word(kText + 8, n - 8) : 0,
                                        n > 16 ? text_word(kText + 16, n - 16) : 0,
                                        n > 24 ? text_word(kText + 24, n - 24) : 0};
    for (std::size_t i = 0; i < n; i += 8)
      if ((load_word(p_ + i) & low_bytes(n - i)) != words[i / 8]) return false;
    p_ += n;
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
    const std::size_t n = printable_json_prefix_wide(std::string_view(p_, static_cast<std::size_t>(end_ - p_)));
    if (p_[n] != '"') return false;
    out = std::string_view(p_, n);
    p_ += n + 1;
    return true;
  }
  // A known dtype's name after its opening quote, and the closing quote; an unknown one (which
  // fails its check) is the general reader's to report.
  bool dtype(int& bits) {
    const std::uint64_t w = load_word(p_), q = w ^ (kOnes * '"');
    const std::uint64_t quotes = (q - kOnes) & ~q & kHigh;  // the lowest bit set is exact
    if (!quotes) return false;
    const auto n = static_cast<std::size_t>(__builtin_ctzll(quotes)) / 8;
    bits = dtype_bits_of_word((w & low_bytes(n)) | (static_cast<std::uint64_t>(n) << 56));
    p_ += n + 1;
    return bits != 0;
  }
  // At most 18 digits, no leading zero: within int64 and valid JSON. Eight digits a step.
  bool number(std::uint64_t& out) {
    std::uint64_t x = load_word(p_) ^ (kOnes * '0');
    std::size_t n = digit_run(x);
    if (n == 0 || (n > 1 && (x & 0xff) == 0)) return false;
    if (n <= 4) {  // most dims: the same in half a word
      auto d = static_cast<std::uint32_t>(x) << (8 * (4 - n));
      d = d * 10 + (d >> 8);
      out = (d & 0xff) * 100 + ((d >> 16) & 0xff);
      p_ += n;
      return true;
    }
    std::uint64_t v = eight_digits(x << (8 * (8 - n)));
    std::size_t total = n;
    // A ninth digit can be a byte of the header only (the padding is zeros), and so on.
    while (n == 8) {
      x = load_word(p_ + total) ^ (kOnes * '0');
      n = digit_run(x);
      if (total + n > 18) return false;
      if (n) v = v * kPowersOfTen[n] + eight_digits(x << (8 * (8 - n)));
      total += n;
    }
    out = v;
    p_ += total;
    return true;
  }
  // The numbers of a list after its '[', and the ']'; between them ',' (compact), ", "
  // (json.dumps) or ',' amid any whitespace.
  template <int kSpelling, class Each>
  bool numbers(Each&& each) {
    if (kSpelling == kAnySpace) ws();
    if (eat(']')) return true;
    for (;;) {
      std::uint64_t v;
      if (!number(v)) return false;
      each(v);
      if (kSpelling == kAnySpace) ws();
      if (eat(']')) return true;
      if (!eat(',')) return false;
      if (kSpelling == kPython) {
        if (!eat(' ')) return false;
      } else if (kSpelling == kAnySpace) {
        ws();
      }
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

  static constexpr int kCompact = 0, kPython = 1, kAnySpace = 2;

  // The first data offset: the text of the entry before's end, followed by ',', is its value.
  bool begin_offset(std::uint64_t& out) {
    if (end_text_size_ != 0 && same_bytes(p_, end_text_, end_text_size_) && p_[end_text_size_] == ',') {
      out = end_value_;
      p_ += end_text_size_;
      return true;
    }
    return number(out);
  }
  // dtype, shape and data_offsets in that order, spelled as serde_json or json.dumps writes them,
  // from the ':' after the name to the closing '}'.
  template <int kSpelling>
  bool fixed_entry(int& bits, std::uint64_t (&offsets)[2]) {
    auto push_dim = [this](std::uint64_t v) { set_.dims.push_back(static_cast<std::int64_t>(v)); };
    if (kSpelling == kCompact) {
      // Most tensors of a checkpoint have one dtype, BF16 most often.
      if (text<kCompactBf16>())
        bits = 16;
      else if (!text<kCompactDtype>() || !dtype(bits) || !text<kCompactShape>())
        return false;
      if (!numbers<kCompact>(push_dim) || !text<kCompactOffsets>() || !begin_offset(offsets[0]) || !eat(','))
        return false;
    } else {
      if (!text<kPythonDtype>() || !dtype(bits) || !text<kPythonShape>() || !numbers<kPython>(push_dim) ||
          !text<kPythonOffsets>() || !begin_offset(offsets[0]) || !text<kCommaSpace>())
        return false;
    }
    const char* const end_text = p_;
    if (!number(offsets[1])) return false;
    const auto end_text_size = static_cast<std::size_t>(p_ - end_text);
    if (!text<kEntryEnd>()) return false;
    end_text_ = end_text;
    end_text_size_ = end_text_size;
    end_value_ = offsets[1];
    return true;
  }
  // Out of line, as any_entry: the compact spelling is the one read inline.
  [[gnu::noinline]] bool python_entry(int& bits, std::uint64_t (&offsets)[2]) {
    return fixed_entry<kPython>(bits, offsets);
  }
  // The three keys in any order, any whitespace.
  [[gnu::noinline]] bool any_entry(int& bits, std::uint64_t (&offsets)[2]) {
    if (!colon() || !eat('{')) return false;
    bool has_dtype = false, has_shape = false, has_offsets = false;
    for (;;) {
      ws();
      std::string_view k;
      if (!string(k) || !colon()) return false;
      if (k == "dtype" && !has_dtype) {
        if (!eat('"') || !dtype(bits)) return false;
        has_dtype = true;
      } else if (k == "shape" && !has_shape) {
        if (!eat('[') ||
            !numbers<kAnySpace>([this](std::uint64_t v) { set_.dims.push_back(static_cast<std::int64_t>(v)); }))
          return false;
        has_shape = true;
      } else if (k == "data_offsets" && !has_offsets) {
        std::size_t count = 0;
        if (!eat('[') || !numbers<kAnySpace>([&](std::uint64_t v) {
              if (count < 2) offsets[count] = v;
              ++count;
            }) ||
            count != 2)
          return false;
        has_offsets = true;
      } else {
        return false;
      }
      ws();
      if (eat('}')) return has_dtype && has_shape && has_offsets;
      if (!eat(',')) return false;
    }
  }
  // A tensor's entry after its name, read, checked and appended.
  bool entry(std::string_view name) {
    const char* const start = p_;
    const std::size_t dims_begin = set_.dims.size();
    int bits = 0;
    std::uint64_t offsets[2] = {0, 0};
    if (!fixed_entry<kCompact>(bits, offsets)) {
      p_ = start;
      set_.dims.resize(dims_begin);
      if (!python_entry(bits, offsets)) {
        p_ = start;
        set_.dims.resize(dims_begin);
        if (!any_entry(bits, offsets)) return false;
        end_text_size_ = 0;
      }
    }
    const std::size_t rank = set_.dims.size() - dims_begin;
    if (check_entry(bits, set_.dims.data() + dims_begin, rank, offsets[0], offsets[1], data_size_, name.empty())
            .fault != Fault::none)
      return false;
    // Out of header order, the overlap check needs every span: the general reader keeps them.
    if (offsets[1] > offsets[0]) {
      if (offsets[0] < last_end_) return false;
      last_end_ = offsets[1];
    }
    set_.tensors.push_back({name, static_cast<std::uint32_t>(dims_begin), static_cast<std::uint32_t>(rank), shard_});
    return true;
  }
};

}  // namespace

namespace {

void read_header(const RegularFile& shard, od::parser& parser, const InputLimits& limits, TensorSet& set) {
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
  // (A header of no bytes still needs the buffer's padding.)
  if (set.header.size() < n || set.header.data() == nullptr)
    set.header = simdjson::padded_string(static_cast<std::size_t>(n));
  char* const text = set.header.data();
  shard.read_at(8, text, static_cast<std::size_t>(n));
  // The plain reader's end mark (the padding is the string's own, whatever simdjson leaves in it).
  std::memset(text + n, 0, simdjson::SIMDJSON_PADDING);
  const simdjson::padded_string_view header(text, static_cast<std::size_t>(n), set.header.size() + simdjson::SIMDJSON_PADDING);
  const std::uint64_t data_size = size - 8 - n;
  auto& out = set.tensors;
  // Entries take over 64 header bytes each as writers spell them (names, dtype, two offsets):
  // a guess, grown like any vector past it. Two dims an entry is the common shape.
  const auto entries_guess = static_cast<std::size_t>(n / 64);
  reserve_for(out, out.size() + entries_guess);
  reserve_for(set.dims, set.dims.size() + 2 * entries_guess);
  const std::size_t tensors_before = out.size(), dims_before = set.dims.size();
  if (PlainHeader(text, static_cast<std::size_t>(n), data_size, shard_index, set).read()) return;
  out.resize(tensors_before);
  set.dims.resize(dims_before);
  Spans spans;
  // Checks an entry once it is read, in header order (so the first faulty entry is the one
  // named).
  auto add = [&](const Entry& e) {
    const EntryCheck c = check_entry(dtype_bits(e.dtype), set.dims.data() + e.shape_begin, e.shape_end - e.shape_begin,
                                     e.offsets[0], e.offsets[1], data_size, e.name.empty());
    if (c.fault != Fault::none) {
      std::string what;
      switch (c.fault) {
        case Fault::none: break;
        case Fault::dtype: what = "unknown dtype '" + printable(e.dtype) + "'"; break;
        case Fault::shape_too_large: what = "shape is too large"; break;
        case Fault::partial_bytes: what = "shape does not fill a whole number of bytes"; break;
        case Fault::reversed: what = "data_offsets end before they begin"; break;
        case Fault::size:
          what = "data_offsets cover " + std::to_string(e.offsets[1] - e.offsets[0]) +
                 " bytes, but shape and dtype need " + std::to_string(c.bytes);
          break;
        case Fault::past_end:
          what = "data_offsets end at " + std::to_string(e.offsets[1]) + ", past the " + std::to_string(data_size) +
                 " bytes of data in the file";
          break;
        case Fault::empty_name: what = "empty tensor name"; break;
      }
      fail(path, "tensor '" + printable(e.name) + "': " + what);
    }
    spans.add(e.offsets[0], e.offsets[1], out.size());
    out.push_back({e.name, e.shape_begin, e.shape_end - e.shape_begin, shard_index});
  };
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
  // Sorted by start, a span overlaps an earlier one exactly when it starts before the furthest
  // end seen so far (comparing neighbours alone misses a short span nested in a long one). Spans
  // in header order, each after the one before, are sorted and apart already.
  if (spans.in_order) return;
  std::vector<Spans::Span>& list = spans.list;
  // Sorted strictly, so that no order among equal starts is left to the sort to choose.
  const auto starts_before = [](const Spans::Span& a, const Spans::Span& b) { return a.begin < b.begin; };
  if (std::adjacent_find(list.begin(), list.end(),
                         [](const Spans::Span& a, const Spans::Span& b) { return a.begin >= b.begin; }) != list.end())
    std::sort(list.begin(), list.end(), starts_before);
  std::size_t furthest = 0;
  for (std::size_t i = 1; i < list.size(); ++i) {
    if (list[i].begin < list[furthest].end)
      fail(path, "tensors '" + printable(out[list[furthest].tensor].name) + "' and '" +
                     printable(out[list[i].tensor].name) + "' overlap in the data section");
    if (list[i].end > list[furthest].end) furthest = i;
  }
}

}  // namespace

void read_shard(const RegularFile& shard, od::parser& parser, const InputLimits& limits, TensorSet& set) {
  const std::size_t first = set.tensors.size();
  read_header(shard, parser, limits, set);
  // The names read from this header move into the set's storage before the next shard's header
  // takes the buffer (names with escapes are stored decoded already).
  const char* const begin = set.header.data();
  const char* const end = begin + set.header.size();
  for (std::size_t i = first; i < set.tensors.size(); ++i) {
    std::string_view& name = set.tensors[i].name;
    if (name.data() >= begin && name.data() < end) name = set.names.copy(name);
  }
}

namespace {

// An index as transformers writes it (`{"metadata": {...}, "weight_map": {...}}`, indent 2,
// ASCII names without escapes, metadata values plain strings or integers), its shard names
// collected in one pass. Anything else, valid or not, returns false and is left to the simdjson
// reader; what this accepts is a subset of JSON that both read alike. The text's padding is not
// this reader's to write: every byte it takes is checked to lie before the end, and a compare
// reads at most fifteen bytes past it, within the padding.
class PlainIndex {
 public:
  explicit PlainIndex(const simdjson::padded_string& text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool read(ShardList& list, bool& has_map) {
    bool has_metadata = false;
    ws();
    if (!eat('{')) return false;
    ws();
    if (!eat('}')) {
      for (;;) {
        std::string_view key;
        if (!string(key) || !colon()) return false;
        if (key == "weight_map" && !has_map) {
          if (!weight_map(list)) return false;
          has_map = true;
        } else if (key == "metadata" && !has_metadata) {
          if (!metadata()) return false;
          has_metadata = true;
        } else {
          return false;
        }
        ws();
        if (eat('}')) break;
        if (!eat(',')) return false;
        ws();
      }
    }
    ws();
    return p_ == end_;
  }

 private:
  const char* p_;
  const char* end_;

  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
  void ws() {
    while (p_ != end_ && is_json_space(*p_)) ++p_;
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
  // Printable ASCII only, as in shard headers.
  bool string(std::string_view& out) {
    if (!eat('"')) return false;
    const std::size_t n = printable_json_prefix_wide(std::string_view(p_, left()));
    if (n == left() || p_[n] != '"') return false;
    out = std::string_view(p_, n);
    p_ += n + 1;
    return true;
  }
  // A plain string or an integer (at most 18 digits, no leading zero).
  bool scalar() {
    if (p_ != end_ && *p_ == '"') {
      std::string_view s;
      return string(s);
    }
    const char* const s = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    const auto n = p_ - s;
    return n > 0 && n <= 18 && (n == 1 || *s != '0');
  }
  bool metadata() {
    if (!eat('{')) return false;
    ws();
    if (eat('}')) return true;
    for (;;) {
      std::string_view k;
      if (!string(k) || !colon() || !scalar()) return false;
      ws();
      if (eat('}')) return true;
      if (!eat(',')) return false;
      ws();
    }
  }
  bool weight_map(ShardList& list) {
    if (!eat('{')) return false;
    const char* const space = p_;
    ws();
    if (eat('}')) return true;  // an empty map
    if (!eat('"')) return false;
    // From one entry's value to the next name: ',', the whitespace that came before the first
    // name (an indent) and the name's quote, compared as one word when they fit in one.
    const auto space_size = static_cast<std::size_t>(p_ - 1 - space);
    const std::size_t gap_size = space_size + 2 <= 8 ? space_size + 2 : 0;
    // (With no gap_size, a gap that no word masked to nothing is.)
    const std::uint64_t gap_mask = low_bytes(gap_size),
                        gap = gap_size ? ',' | (load_word(space) & low_bytes(space_size)) << 8 |
                                             std::uint64_t{'"'} << (8 * (space_size + 1))
                                       : 1;
    static constexpr std::uint64_t kSeparator = text_word("\": \"", 4);  // from a name to its value
    // Entries come grouped by shard: most name the one before, compared as bytes (it was read
    // and checked when it was first seen).
    std::unordered_set<std::string_view> seen;
    std::string_view last;
    for (;;) {
      // A name, from after its opening quote.
      const std::size_t n = printable_json_prefix_wide(std::string_view(p_, left()));
      if (n == left() || p_[n] != '"') return false;
      p_ += n;
      if (left() >= 4 && (load_word(p_) & low_bytes(4)) == kSeparator) {
        p_ += 3;
      } else {
        ++p_;
        if (!colon()) return false;
      }
      if (!list.shards.empty() && left() > last.size() + 1 && p_[0] == '"' &&
          same_bytes(p_ + 1, last.data(), last.size()) && p_[last.size() + 1] == '"') {
        p_ += last.size() + 2;
      } else {
        std::string_view shard;
        if (!string(shard)) return false;
        if (seen.insert(shard).second) list.shards.emplace_back(shard);
        last = shard;
      }
      ++list.tensors;
      if ((load_word(p_) & gap_mask) == gap && left() >= gap_size) {
        p_ += gap_size;
        continue;
      }
      ws();
      if (eat('}')) return true;
      if (!eat(',')) return false;
      ws();
      if (!eat('"')) return false;
    }
  }
};

}  // namespace

ShardList index_shards(const simdjson::padded_string& text, const std::string& display) {
  auto bad = [&](const std::string& what) { fail(display, what); };
  ShardList list;
  bool has_map = false;
  if (PlainIndex(text).read(list, has_map)) {
    if (!has_map) bad("no weight_map");
  } else {
    list = ShardList();
    // A parser of its own: its index is sized by this file, the largest the checkpoint reads,
    // and is freed before the shards are read (their headers fit in what it leaves free).
    od::parser parser;
    od::document doc;
    if (parser.iterate(text).get(doc)) bad("invalid JSON");
    od::object root;
    if (doc.get_object().get(root)) bad("not a JSON object");
    std::vector<std::string>& shards = list.shards;
    std::unordered_set<std::string> seen;
    std::string_view last;  // entries come grouped by shard: most repeat the one before
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
  }
  for (const auto& s : list.shards) {
    std::filesystem::path p(s);
    if (s.empty() || s.find('\0') != std::string::npos || p.is_absolute() ||
        std::any_of(p.begin(), p.end(), [](const std::filesystem::path& c) { return c == ".."; }))
      bad("shard name '" + printable(s) + "' must be a file name inside the checkpoint directory");
  }
  return list;
}

}  // namespace awqmap::detail
