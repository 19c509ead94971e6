#pragma once
// Internal: a one-pass reader for awqmap.model/v1 descriptions in the shape awqmap's own
// writers give them (plain ASCII strings, integer features and shapes, informative fields that
// are atoms). It reads nothing else: on anything it does not expect it gives up, and the
// caller reads the text with the full JSON parser, which then accepts it or reports the error.
// So a description the scanner accepts must yield exactly the records the full parser yields;
// everything it is unsure of (escapes, non-ASCII bytes, nested values in unknown fields,
// duplicate top-level keys, fractions, very deep config values) it leaves to the parser.
//
// Header-only so that the tests can run it alone and compare both readers.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "awqmap/model.hpp"
#include "../model_parts.hpp"
#include "../name_table.hpp"
#include "../names.hpp"
#include "../string_arena.hpp"
#include "../word_scan.hpp"

namespace awqmap::detail {

// The strings the records use (names, class and base names: under half of a description's
// text, the rest being keys, numbers and punctuation), copied as they are read into memory of
// their own, so that the text can go before the model's tables and the resolution are built in
// the memory it held. Chunks of a 64th of the text (4 KiB to 1 MiB).
class RecordStrings : public StringArena {
 public:
  explicit RecordStrings(std::size_t text_size)
      : StringArena(text_size / 64 < 4096 ? 4096 : text_size / 64 > (1u << 20) ? (1u << 20) : text_size / 64) {}

  // Class names repeat: each is copied once, and found again by the text's first eight bytes
  // (a word of a 64-slot cache, the last class name seen with that start wins its slot) without
  // scanning the text for its end.

  /// A class name copied before whose text is at `at`, closed by a quote before `end`.
  bool known_class(const char* at, const char* end, std::string_view& copy) const {
    if (end - at < 8) return false;
    const std::uint64_t first = load_word(at);
    const KnownClass& k = classes_[slot(first)];
    const std::size_t n = k.copy.size();
    if (k.copy.data() == nullptr || static_cast<std::size_t>(end - at) <= n || at[n] != '"') return false;
    if (n <= 8 ? (first & low_bytes(n)) != k.first : first != k.first || !same_long(at, k.copy.data(), n))
      return false;
    copy = k.copy;
    return true;
  }
  /// A class name's copy, kept for known_class when its text has a word to find it by.
  std::string_view copy_class(std::string_view s, const char* end) {
    const std::string_view c = copy(s);
    if (end - s.data() >= 8) {
      const std::uint64_t first = load_word(s.data());
      classes_[slot(first)] = KnownClass{c, first & low_bytes(s.size())};
    }
    return c;
  }


 private:
  static std::size_t slot(std::uint64_t first_word) {
    return static_cast<std::size_t>((first_word * 0x9E3779B97F4A7C15ull) >> 58);
  }

  // Equality of n > 8 bytes a word at a time, the last word overlapping the one before.
  static bool same_long(const char* a, const char* b, std::size_t n) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (load_word(a + i) != load_word(b + i)) return false;
    return load_word(a + n - 8) == load_word(b + n - 8);
  }

  struct KnownClass {
    std::string_view copy;
    std::uint64_t first = 0;  // its first bytes, up to eight, as load_word reads them
  };
  KnownClass classes_[64] = {};
};

struct ScannedDescription {
  std::string architecture;
  std::string config;             // the config object's JSON text; empty when there is none
  std::vector<Module> modules;    // their strings in `strings`, not in the text; parents set
  std::shared_ptr<const void> strings;
  ModelParts::Tree tree;          // names, parents and children, checked as ModelAccess::make checks them
};

// The model's tables, built record by record while each record's name is still in the cache
// (a separate pass over 100k records reads them all from memory again): the name table, the
// parents found on the root-to-record path, and the children lists at the end. It checks what
// ModelAccess::make checks (names once, parents earlier, Linear records with features) and
// refuses on the first fault, so that the full reader and make() report it in their words.
class TreeBuilder {
 public:
  void start(std::size_t expected) {
    names_ = NameTable(expected);
    parents_.reserve(expected);
  }

  /// Adds mods.back(), setting its parent; false on a fault.
  bool add(std::vector<Module>& mods) {
    mods_ = &mods;
    const auto i = static_cast<ModuleIndex>(mods.size() - 1);
    Module& m = mods.back();
    // The name goes into the table kAhead records later, when its slot, asked for now, is in
    // the cache: the table is larger than the caches, and each insert would wait for memory.
    const std::uint64_t h = name_hash(m.name);
    names_.prefetch(h);
    if (waiting_ == kAhead && !insert(pending_[next_])) return false;
    pending_[next_] = Pending{i, h};
    next_ = (next_ + 1) % kAhead;
    waiting_ += waiting_ < kAhead;
    if (m.name.empty()) {
      m.parent = no_module;
    } else {
      const std::string_view wanted = parent_of(m.name);
      while (!path_.empty() && mods[path_.back()].name.size() > wanted.size()) path_.pop_back();
      if (!path_.empty() && mods[path_.back()].name == wanted) {
        m.parent = path_.back();
      } else {
        // Not in named_modules() order: the name table answers, once it holds every name before.
        if (!flush(mods)) return false;
        m.parent = names_.find(wanted, [&mods](std::uint32_t id) { return mods[id].name; });
        if (m.parent == no_module) return false;
        path_.clear();  // rebuilt from the parent links
        for (ModuleIndex a = m.parent; a != no_module; a = mods[a].parent) path_.push_back(a);
        std::reverse(path_.begin(), path_.end());
      }
    }
    parents_.push_back(m.parent);
    path_.push_back(i);
    // Most records are not Linear and have no bases: settled without a call. Features read by
    // the scanner are never negative.
    if ((m.type == "Linear" || (!m.bases.empty() && m.is_linear())) && (!m.in_features || !m.out_features))
      return false;
    return true;
  }

  /// The tables, once every record is added; false on a fault.
  bool finish(std::vector<Module>& mods, ModelParts::Tree& tree) {
    if (!flush(mods)) return false;
    // Children in CSR form: counts at offsets[p + 1], summed, then each child placed at its
    // parent's running offset, which leaves offsets[p] at the next parent's start.
    const std::size_t n = mods.size();
    std::vector<ModuleIndex>& offsets = tree.child_offsets;
    offsets.assign(n + 1, 0);
    for (ModuleIndex p : parents_)
      if (p != no_module) ++offsets[p + 1];
    for (std::size_t k = 0; k < n; ++k) offsets[k + 1] += offsets[k];
    tree.child_list.resize(offsets[n]);
    for (std::size_t k = 0; k < n; ++k)
      if (parents_[k] != no_module) tree.child_list[offsets[parents_[k]]++] = static_cast<ModuleIndex>(k);
    for (std::size_t k = n; k > 0; --k) offsets[k] = offsets[k - 1];
    offsets[0] = 0;
    tree.names = std::move(names_);
    return true;
  }

 private:
  static constexpr std::size_t kAhead = 16;
  struct Pending {
    ModuleIndex id;
    std::uint64_t hash;
  };
  NameTable names_;
  std::vector<ModuleIndex> parents_, path_;
  Pending pending_[kAhead] = {};
  std::size_t next_ = 0, waiting_ = 0;  // pending_[next_] is the oldest when waiting_ == kAhead
  std::vector<Module>* mods_ = nullptr;

  bool insert(const Pending& e) {
    const auto& mods = *mods_;
    return names_.insert_hashed(e.id, mods[e.id].name, e.hash,
                                [&mods](std::uint32_t id) { return mods[id].name; }) == no_entry;
  }
  // Inserts every waiting name, oldest first.
  bool flush(std::vector<Module>& mods) {
    mods_ = &mods;
    for (std::size_t k = 0; k < waiting_; ++k)
      if (!insert(pending_[(next_ + kAhead - waiting_ + k) % kAhead])) return false;
    waiting_ = 0;
    return true;
  }
};

// A record's fields as the scanner tells them apart.
enum class RecordField { name, type, bases, in_features, out_features, shape, other };

// A key as our writers spell it, with its colon (and with the comma before it in compact text):
// at most 16 bytes, as two words to compare with the text (the bytes past the key masked off).
struct KeySpelling {
  std::uint64_t head, head_mask, tail, tail_mask;
  std::size_t size;

  static constexpr std::uint64_t word(std::string_view key, bool comma, std::size_t from) {
    std::uint64_t w = 0;
    for (std::size_t i = from; i < key.size() + comma && i < from + 8; ++i) {
      const char c = comma ? (i == 0 ? ',' : key[i - 1]) : key[i];
      w |= std::uint64_t{static_cast<unsigned char>(c)} << (8 * (i - from));
    }
    return w;
  }
  constexpr KeySpelling(std::string_view key, bool comma)
      : head(word(key, comma, 0)), head_mask(low_bytes(key.size() + comma)), tail(word(key, comma, 8)),
        tail_mask(key.size() + comma > 8 ? low_bytes(key.size() + comma - 8) : 0), size(key.size() + comma) {}
};

// The keys our writers emit, by RecordField, alone and after a comma.
inline constexpr std::string_view kRecordKeyText[] = {"\"name\":",        "\"type\":",         "\"bases\":",
                                                      "\"in_features\":", "\"out_features\":", "\"shape\":"};
template <bool kComma>
inline constexpr KeySpelling kRecordKeys[] = {
    KeySpelling(kRecordKeyText[0], kComma), KeySpelling(kRecordKeyText[1], kComma),
    KeySpelling(kRecordKeyText[2], kComma), KeySpelling(kRecordKeyText[3], kComma),
    KeySpelling(kRecordKeyText[4], kComma), KeySpelling(kRecordKeyText[5], kComma)};

class DescriptionScanner {
 public:
  static constexpr std::size_t kShortestRecord = sizeof(R"({"name":"","type":""})") - 1;

  explicit DescriptionScanner(std::string_view text)
      : p_(text.data()), end_(text.data() + text.size()), strings_(text.size()) {}

  /// Where a windowed scanner reads from: `read` puts exactly `n` bytes from `offset` at `to`
  /// (or throws), for offsets within `size`.
  struct Source {
    void (*read)(void* context, std::uint64_t offset, char* to, std::size_t n);
    void* context;
    std::uint64_t size;
  };
  /// A scanner that reads the text a window of `window` bytes at a time, refilled whenever
  /// fewer than `margin` bytes are left before a record or a top-level member: the window
  /// stays in the cache, where a whole text would be copied into memory that is written once
  /// and read once. A record must fit in what is left of the window, at least `margin` bytes
  /// (the scanner gives up on one that does not); a top-level member that does not fit makes
  /// the window grow.
  DescriptionScanner(Source source, std::size_t window, std::size_t margin)
      : p_(nullptr), end_(nullptr), strings_(static_cast<std::size_t>(source.size)), source_(source),
        window_(new char[window]), capacity_(window), margin_(margin < window / 2 ? margin : window / 2) {
    p_ = end_ = window_.get();
  }

  /// Told, every kReleaseStep bytes of records read, the span of the text from the first
  /// record to the next one: the records keep copies of their strings, so nothing in that span
  /// is looked at again by the scanner or viewed by what it returns (the architecture and
  /// config views lie outside the records).
  using Release = void (*)(void* context, const char* from, const char* to);
  static constexpr std::size_t kReleaseStep = std::size_t{2} << 20;
  void on_records_read(Release release, void* context) {
    release_ = release;
    release_context_ = context;
  }

  /// Reads the whole description into `out`; false when the text is not in the common shape
  /// (`out` is then unspecified).
  bool scan(ScannedDescription& out) {
    std::size_t braces = 0;
    if (windowed()) {
      if (!refill(capacity_)) return false;
    } else if (!survey(p_, end_, braces)) {
      return false;
    }
    ws();
    if (!eat('{')) return false;
    unsigned seen = 0;  // format, architecture, config, modules
    ws();
    if (peek() == '}') return false;
    while (true) {
      // A member that does not fit in the window is read again in a larger one (but the
      // records, which the scanner reads as they come, are never read twice).
      if (!ensure_margin()) return false;
      unsigned bit = 0;
      for (const char* start = p_;; start = p_) {
        const Member m = member(out, braces, bit);
        if (m == Member::read) break;
        if (m == Member::refused || at_end_of_source()) return false;
        p_ = start;
        if (!refill(2 * capacity_)) return false;
      }
      if (seen & bit) return false;
      seen |= bit;
      if (!ws_across_windows()) return false;
      if (eat(',')) {
        if (!ws_across_windows()) return false;
        continue;
      }
      if (!eat('}')) return false;
      break;
    }
    if (!ws_across_windows()) return false;
    // format, architecture and modules are required; config is optional.
    if (p_ != end_ || !at_end_of_source() || (seen & 11u) != 11u) return false;
    out.strings = strings_.release();
    return true;
  }

 private:
  const char* p_;
  const char* end_;
  RecordStrings strings_;
  TreeBuilder tree_;
  Release release_ = nullptr;
  void* release_context_ = nullptr;
  // Windowed reading: what is read, where, and how much of the source so far.
  Source source_{nullptr, nullptr, 0};
  std::unique_ptr<char[]> window_;
  std::size_t capacity_ = 0, margin_ = 0;
  std::uint64_t read_ = 0;       // bytes of the source read into windows
  std::size_t braces_read_ = 0;  // '{' among them

  bool windowed() const { return source_.read != nullptr; }
  bool at_end_of_source() const { return !windowed() || read_ == source_.size; }

  // Moves the unread bytes [p_, end_) to the window's start, grown to `capacity` bytes when
  // that is more, and reads on from the source until the window is full or the source ends.
  bool refill(std::size_t capacity) {
    const auto kept = static_cast<std::size_t>(end_ - p_);
    if (capacity > capacity_) {
      std::unique_ptr<char[]> larger(new char[capacity]);
      std::memcpy(larger.get(), p_, kept);
      window_ = std::move(larger);
      capacity_ = capacity;
    } else {
      std::memmove(window_.get(), p_, kept);
    }
    char* const to = window_.get() + kept;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(capacity_ - kept, source_.size - read_));
    source_.read(source_.context, read_, to, n);
    std::size_t braces = 0;
    if (!survey(to, to + n, braces)) return false;
    read_ += n;
    braces_read_ += braces;
    p_ = window_.get();
    end_ = to + n;
    return true;
  }
  // At least margin_ bytes left in the window, or the rest of the source.
  bool ensure_margin() {
    if (at_end_of_source() || static_cast<std::size_t>(end_ - p_) >= margin_) return true;
    return refill(capacity_);
  }
  // Whitespace, read on into the next window when it runs to the window's end.
  bool ws_across_windows() {
    while (true) {
      ws();
      if (p_ < end_ || at_end_of_source()) return true;
      if (!refill(capacity_)) return false;
    }
  }

  // The records to reserve room for: each opens with a brace, so the count of braces is a close
  // upper bound, and none is shorter than {"name":"","type":""}, which bounds a text of braces in
  // strings. A windowed scanner has counted only the braces of what it has read so far: it scales
  // that count to the whole source, with a little more, and records_to_grow() takes over where
  // that falls short. (Room reserved beyond the records is not free: with huge pages a gap of a
  // few megabytes costs as many in memory.)
  std::size_t records_to_reserve(std::size_t braces) const {
    if (!windowed()) return std::min(braces, static_cast<std::size_t>(end_ - p_) / kShortestRecord);
    return scaled_to_source(braces_read_, read_);
  }
  // Room for the records when `records`, all those read from the `consumed` bytes of the source
  // before p_, fill what was reserved: that rate over the rest of the source.
  std::size_t records_to_grow(std::size_t records) const {
    const std::uint64_t consumed = read_ - static_cast<std::uint64_t>(end_ - p_);
    return std::max(records + 64, scaled_to_source(records, consumed));
  }
  std::size_t scaled_to_source(std::size_t count, std::uint64_t of_bytes) const {
    const auto most = static_cast<std::size_t>(source_.size / kShortestRecord);
    if (of_bytes == source_.size) return std::min(count, most);
    const double scaled = static_cast<double>(count) * static_cast<double>(source_.size) /
                          static_cast<double>(of_bytes ? of_bytes : 1) * 1.05;
    return std::min(static_cast<std::size_t>(scaled) + 64, most);
  }

  // One top-level member, its key, colon and value; `bit` tells which. `incomplete`: it may
  // have run past the window's end.
  enum class Member { read, refused, incomplete };
  Member member(ScannedDescription& out, std::size_t braces, unsigned& bit) {
    std::string_view key;
    if (!plain_string(key)) return Member::incomplete;
    ws();
    if (!eat(':')) return Member::incomplete;
    ws();
    if (key == "format") {
      std::string_view f;
      if (!plain_string(f)) return Member::incomplete;
      if (f != "awqmap.model/v1") return Member::refused;
      bit = 1;
    } else if (key == "architecture") {
      std::string_view a;
      if (!plain_string(a)) return Member::incomplete;
      out.architecture.assign(a.data(), a.size());
      bit = 2;
    } else if (key == "config") {
      std::string_view c;
      if (!object_text(c)) return Member::incomplete;
      out.config.assign(c.data(), c.size());
      bit = 4;
    } else if (key == "modules") {
      const std::size_t most = records_to_reserve(braces);
      out.modules.reserve(most);
      tree_.start(most);
      if (!modules(out.modules) || !tree_.finish(out.modules, out.tree)) return Member::refused;
      bit = 8;
    } else {
      return Member::refused;
    }
    return Member::read;
  }

  char peek() const { return p_ < end_ ? *p_ : '\0'; }
  bool eat(char c) {
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  void ws() {
    if (p_ < end_ && static_cast<unsigned char>(*p_) > ' ') return;  // compact text has none
    skip_ws();
  }
  // Apart, so that ws() stays small enough to be inlined at every call.
  [[gnu::noinline]] void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // One look at every byte before reading: the text must be ASCII (the full reader judges any
  // other encoding), and its count of '{' sizes the record list.
  static bool survey(const char* q, const char* end_, std::size_t& braces) {
    std::size_t n = 0;
#ifdef __SSE2__
    const __m128i brace = _mm_set1_epi8('{');
    while (q + 64 <= end_) {
      // Each byte lane counts up to 255 braces, four a step: they are added up every 63 steps.
      __m128i lanes = _mm_setzero_si128();
      for (int step = 0; step < 63 && q + 64 <= end_; ++step, q += 64) {
        const auto* v = reinterpret_cast<const __m128i*>(q);
        const __m128i a = _mm_loadu_si128(v), b = _mm_loadu_si128(v + 1), c = _mm_loadu_si128(v + 2),
                      d = _mm_loadu_si128(v + 3);
        if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) != 0) return false;
        // A brace compares to -1: subtracting counts it.
        lanes = _mm_sub_epi8(lanes, _mm_add_epi8(_mm_add_epi8(_mm_cmpeq_epi8(a, brace), _mm_cmpeq_epi8(b, brace)),
                                                 _mm_add_epi8(_mm_cmpeq_epi8(c, brace), _mm_cmpeq_epi8(d, brace))));
      }
      const __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
      n += static_cast<std::size_t>(_mm_extract_epi16(sums, 0) + _mm_extract_epi16(sums, 4));
    }
#endif
    for (; q + 8 <= end_; q += 8) {
      const std::uint64_t w = load_word(q);
      if (has_high_byte(w)) return false;
      n += count_byte(w, '{');
    }
    for (; q < end_; ++q) {
      if (static_cast<unsigned char>(*q) >= 0x80) return false;
      n += *q == '{';
    }
    braces = n;
    return true;
  }

  // A string without escapes or control bytes, viewed in place.
  bool plain_string(std::string_view& s) {
    if (!eat('"')) return false;
    const std::size_t n = plain_json_prefix(std::string_view(p_, static_cast<std::size_t>(end_ - p_)));
    if (p_ + n >= end_ || p_[n] != '"') return false;
    s = std::string_view(p_, n);
    p_ += n + 1;
    return true;
  }

  // A record's name, read as plain_string reads it, kept as a copy in the record strings.
  bool name_string(std::string_view& s) {
#ifdef __SSE2__
    // Copied by the scan itself where the current chunk has room: each 16-byte step stores
    // what it loaded before looking for the closing quote, so the name is read once.
    char* const to = strings_.free_space();
    const std::size_t room = strings_.room();
    if (peek() == '"') {
      const char* const from = p_ + 1;
      const auto left = static_cast<std::size_t>(end_ - from);
      for (std::size_t i = 0; i + 16 <= left && i + 16 <= room; i += 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + i));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(to + i), x);
        if (const unsigned special = json_special_mask<false>(x)) {
          const std::size_t n = i + static_cast<std::size_t>(__builtin_ctz(special));
          if (from[n] != '"') return false;  // an escape or a control byte
          s = strings_.claim(n);
          p_ = from + n + 1;
          return true;
        }
      }
    }
#endif
    std::string_view in_text;
    if (!plain_string(in_text)) return false;
    s = strings_.copy(in_text);
    return true;
  }
  bool class_string(std::string_view& s) {
    if (peek() == '"' && strings_.known_class(p_ + 1, end_, s)) {
      p_ += s.size() + 2;
      return true;
    }
    std::string_view in_text;
    if (!plain_string(in_text)) return false;
    s = strings_.copy_class(in_text, end_);
    return true;
  }

  // The next byte ends a value: whitespace, ',', ']' or '}' (or the end, which the caller
  // then refuses).
  bool at_value_end() const {
    const char c = peek();
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' || p_ == end_;
  }

  // A non-negative integer of at most 18 digits without leading zeros: what the full reader
  // reads as an int64 without question.
  bool count(std::int64_t& v) {
    const char* const start = p_;
    const char* q = p_;  // a local, which the compiler keeps in a register through the loop
    // Unsigned, so that the digits past 18 (refused below) wrap instead of overflowing.
    std::uint64_t n = 0;
    unsigned digit;
    while (q < end_ && (digit = static_cast<unsigned>(static_cast<unsigned char>(*q)) - '0') <= 9) {
      n = n * 10 + digit;
      ++q;
    }
    p_ = q;
    const std::size_t digits = static_cast<std::size_t>(q - start);
    if (digits == 0 || digits > 18 || (digits > 1 && *start == '0') || !at_value_end()) return false;
    v = static_cast<std::int64_t>(n);
    return true;
  }

  bool literal(const char* word) {
    const std::size_t n = std::strlen(word);
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return at_value_end();
  }

  // A JSON number in the strict grammar.
  bool number() {
    eat('-');
    if (eat('0')) {
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++p_;
    } else {
      return false;
    }
    if (eat('.')) {
      if (!(peek() >= '0' && peek() <= '9')) return false;
      while (peek() >= '0' && peek() <= '9') ++p_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++p_;
      if (peek() == '+' || peek() == '-') ++p_;
      if (!(peek() >= '0' && peek() <= '9')) return false;
      while (peek() >= '0' && peek() <= '9') ++p_;
    }
    return at_value_end();
  }

  // An informative field's value: an atom or a plain string.
  bool skip_atom() {
    switch (peek()) {
      case '"': {
        std::string_view s;
        return plain_string(s);
      }
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

  // The text of an object, from '{' to its '}', strings skipped with their escapes. Its
  // content is judged by the config reader; only control bytes in strings are refused here,
  // since the full parser refuses them before reading anything.
  bool object_text(std::string_view& text) {
    const char* start = p_;
    if (!eat('{')) return false;
    int depth = 1;
    while (p_ < end_) {
      const char c = *p_++;
      if (c == '"') {
        while (true) {
          if (p_ >= end_) return false;
          const char s = *p_++;
          if (s == '"') break;
          if (s == '\\') {
            if (p_ >= end_) return false;
            ++p_;
          } else if (static_cast<unsigned char>(s) < 0x20) {
            return false;
          }
        }
      } else if (c == '{' || c == '[') {
        if (++depth > 64) return false;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          if (c != '}') return false;
          text = std::string_view(start, static_cast<std::size_t>(p_ - start));
          return true;
        }
      }
    }
    return false;
  }

  // A list of plain strings or of counts, appended to `out` with one allocation for the
  // usual few items.
  template <class T, class Item>
  bool list(std::vector<T>& out, Item item) {
    if (!eat('[')) return false;
    ws();
    if (eat(']')) return true;
    T few[8];
    std::size_t n = 0;
    while (true) {
      if (n == 8) {
        out.insert(out.end(), few, few + n);
        n = 0;
      }
      if (!item(few[n++])) return false;
      ws();
      if (eat(']')) break;
      if (!eat(',')) return false;
      ws();
    }
    out.insert(out.end(), few, few + n);
    return true;
  }

  static RecordField field_named(std::string_view key) {
    if (key == "name") return RecordField::name;
    if (key == "type") return RecordField::type;
    if (key == "bases") return RecordField::bases;
    if (key == "in_features") return RecordField::in_features;
    if (key == "out_features") return RecordField::out_features;
    if (key == "shape") return RecordField::shape;
    return RecordField::other;
  }

  // The key at p_, with its colon, is `field`'s as our writers spell it.
  template <bool kComma = false>
  bool spelled(RecordField field) const {
    const KeySpelling& k = kRecordKeys<kComma>[static_cast<int>(field)];
    return end_ - p_ >= 16 && (load_word(p_) & k.head_mask) == k.head && (load_word(p_ + 8) & k.tail_mask) == k.tail;
  }

  // A record's key and its colon. The keys our writers emit are recognised by their first
  // letter and a compare of their spelling with the text, without looking for the closing
  // quote; any other key, or any key in the last 16 bytes of the text, is read as a string.
  bool field_key(RecordField& field) {
    RecordField known = RecordField::other;
    switch (peek() == '"' && p_ + 1 < end_ ? p_[1] : '\0') {
      case 'n': known = RecordField::name; break;
      case 't': known = RecordField::type; break;
      case 'b': known = RecordField::bases; break;
      case 'i': known = RecordField::in_features; break;
      case 'o': known = RecordField::out_features; break;
      case 's': known = RecordField::shape; break;
      default: break;
    }
    if (known != RecordField::other && spelled(known)) {
      p_ += kRecordKeys<false>[static_cast<int>(known)].size;
      field = known;
      return true;
    }
    std::string_view key;
    if (!plain_string(key)) return false;
    ws();
    if (!eat(':')) return false;
    field = field_named(key);
    return true;
  }

  // A field's value, after its colon and any whitespace. Repeated fields do what the full
  // reader does with them: the last name, type or feature count wins, and bases or shapes add up.
  // Inlined, so that the writers' order below reads each field without the dispatch.
  [[gnu::always_inline]] bool field_value(RecordField field, Module& m, bool& has_name, bool& has_type) {
    switch (field) {
      case RecordField::name:
        has_name = true;
        return name_string(m.name);
      case RecordField::type:
        has_type = true;
        return class_string(m.type);
      case RecordField::bases:
        return list(m.bases, [this](std::string_view& v) { return class_string(v); });
      case RecordField::in_features:
        return optional_count(m.in_features);
      case RecordField::out_features:
        return optional_count(m.out_features);
      case RecordField::shape:
        return list(m.shape, [this](std::int64_t& v) { return count(v); });
      default:
        return skip_atom();
    }
  }
  bool optional_count(std::optional<std::int64_t>& out) {
    std::int64_t v = 0;
    if (!count(v)) return false;
    out = v;
    return true;
  }

  // What follows a value: a comma and the next key, or the record's closing brace (or, from
  // written_field, `value`: a value was read, and what follows it is not; `other_key`: the key
  // at p_ is not the one expected).
  enum class After { field, record_end, refused, value, other_key };
  After after_value() {
    ws();
    if (eat('}')) return After::record_end;
    if (!eat(',')) return After::refused;
    ws();
    return After::field;
  }

  // Field F when its key, as our writers spell it, follows the previous value (`kFirst`: starts
  // the record): the comma and key of compact text in one compare, else whatever whitespace
  // and separator, then the key.
  template <RecordField F, bool kFirst = false>
  [[gnu::always_inline]] After written_field(Module& m, bool& has_name, bool& has_type) {
    if (!kFirst && spelled<true>(F)) {
      p_ += kRecordKeys<true>[static_cast<int>(F)].size;
    } else {
      if (!kFirst) {
        const After next = after_value();
        if (next != After::field) return next;
      }
      if (!spelled(F)) return After::other_key;
      p_ += kRecordKeys<false>[static_cast<int>(F)].size;
    }
    ws();
    return field_value(F, m, has_name, has_type) ? After::value : After::refused;
  }

  // One record. Our writers emit name, type, then in_features and out_features in that order,
  // each key known by one compare: those are read in line, up to the first key that is not the
  // one expected, from where the general loop reads on.
  bool module(Module& m) {
    if (!eat('{')) return false;
    ws();
    if (peek() == '}') return false;
    bool has_name = false, has_type = false;
    After next = written_field<RecordField::name, true>(m, has_name, has_type);
    if (next == After::value) next = written_field<RecordField::type>(m, has_name, has_type);
    if (next == After::value) next = written_field<RecordField::in_features>(m, has_name, has_type);
    if (next == After::value) next = written_field<RecordField::out_features>(m, has_name, has_type);
    if (next == After::value) next = after_value();
    if (next == After::other_key) next = After::field;
    while (next == After::field) {
      RecordField field;
      if (!field_key(field)) return false;
      ws();
      if (!field_value(field, m, has_name, has_type)) return false;
      next = after_value();
    }
    return next == After::record_end && has_name && has_type;
  }

  // Flattened: every call below, down to the record strings, is inlined into the one loop over
  // the records (the compiler's own limits left the per-field steps as calls, a third of the cost).
  [[gnu::flatten]] bool modules(std::vector<Module>& out) {
    if (!eat('[')) return false;
    ws();
    if (eat(']')) return true;
    // (A windowed scanner has no release hook: these stay in the one text.)
    const char* const first = p_;
    const char* told = p_;
    while (true) {
      if (!ensure_margin()) return false;
      // Past what a windowed scanner reserved: once, as a rule, near the end (the vector's own
      // growth would double it).
      if (out.size() == out.capacity()) out.reserve(records_to_grow(out.size()));
      out.emplace_back();
      if (!module(out.back()) || !tree_.add(out)) return false;
      ws();
      if (eat(']')) return true;
      if (!eat(',')) return false;
      ws();
      if (release_ && static_cast<std::size_t>(p_ - told) >= kReleaseStep) {
        release_(release_context_, first, p_);
        told = p_;
      }
    }
  }
};

/// See DescriptionScanner::scan.
inline bool scan_description(std::string_view text, ScannedDescription& out) {
  return DescriptionScanner(text).scan(out);
}

/// See DescriptionScanner::scan, reading `source` a window at a time.
inline bool scan_description(DescriptionScanner::Source source, std::size_t window, std::size_t margin,
                             ScannedDescription& out) {
  return DescriptionScanner(source, window, margin).scan(out);
}

/// scan_description, telling `release` as the records are read (see DescriptionScanner::on_records_read).
inline bool scan_description(std::string_view text, ScannedDescription& out, DescriptionScanner::Release release,
                             void* context) {
  DescriptionScanner scanner(text);
  scanner.on_records_read(release, context);
  return scanner.scan(out);
}

}  // namespace awqmap::detail
