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
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "awqmap/model.hpp"
#include "../word_scan.hpp"

namespace awqmap::detail {

struct ScannedDescription {
  std::string_view architecture;
  std::string_view config;  // the config object's JSON text; empty when there is none
  std::vector<Module> modules;
};

class DescriptionScanner {
 public:
  explicit DescriptionScanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  /// Reads the whole description into `out`; false when the text is not in the common shape
  /// (`out` is then unspecified). `reserve` records are reserved up front.
  bool scan(ScannedDescription& out, std::size_t reserve) {
    if (!all_ascii()) return false;
    ws();
    if (!eat('{')) return false;
    unsigned seen = 0;  // format, architecture, config, modules
    ws();
    if (peek() == '}') return false;
    while (true) {
      std::string_view key;
      if (!plain_string(key)) return false;
      ws();
      if (!eat(':')) return false;
      ws();
      unsigned bit = 0;
      if (key == "format") {
        std::string_view f;
        if (!plain_string(f) || f != "awqmap.model/v1") return false;
        bit = 1;
      } else if (key == "architecture") {
        if (!plain_string(out.architecture)) return false;
        bit = 2;
      } else if (key == "config") {
        if (!object_text(out.config)) return false;
        bit = 4;
      } else if (key == "modules") {
        out.modules.reserve(reserve);
        if (!modules(out.modules)) return false;
        bit = 8;
      } else {
        return false;
      }
      if (seen & bit) return false;
      seen |= bit;
      ws();
      if (eat(',')) {
        ws();
        continue;
      }
      if (!eat('}')) return false;
      break;
    }
    ws();
    // format, architecture and modules are required; config is optional.
    return p_ == end_ && (seen & 11u) == 11u;
  }

 private:
  const char* p_;
  const char* end_;

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
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool all_ascii() const {
    const char* q = p_;
#ifdef __SSE2__
    for (; q + 64 <= end_; q += 64) {
      const auto* v = reinterpret_cast<const __m128i*>(q);
      const __m128i any = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
                                       _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));
      if (_mm_movemask_epi8(any) != 0) return false;
    }
#endif
    for (; q + 8 <= end_; q += 8)
      if (has_high_byte(load_word(q))) return false;
    for (; q < end_; ++q)
      if (static_cast<unsigned char>(*q) >= 0x80) return false;
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

  // The next byte ends a value: whitespace, ',', ']' or '}' (or the end, which the caller
  // then refuses).
  bool at_value_end() const {
    const char c = peek();
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' || p_ == end_;
  }

  // A non-negative integer of at most 18 digits without leading zeros: what the full reader
  // reads as an int64 without question.
  bool count(std::int64_t& v) {
    const char* start = p_;
    std::int64_t n = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      // Past 18 digits the value is refused below: stop accumulating before it could overflow.
      if (p_ - start < 18) n = n * 10 + (*p_ - '0');
      ++p_;
    }
    const std::size_t digits = static_cast<std::size_t>(p_ - start);
    if (digits == 0 || digits > 18 || (digits > 1 && *start == '0') || !at_value_end()) return false;
    v = n;
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

  // One record. Repeated fields do what the full reader does with them: the last name, type
  // or feature count wins, and bases or shapes add up.
  bool module(Module& m) {
    if (!eat('{')) return false;
    ws();
    bool has_name = false, has_type = false;
    if (peek() == '}') return false;
    while (true) {
      std::string_view key;
      if (!plain_string(key)) return false;
      ws();
      if (!eat(':')) return false;
      ws();
      bool ok;
      if (key == "name") {
        ok = plain_string(m.name);
        has_name = true;
      } else if (key == "type") {
        ok = plain_string(m.type);
        has_type = true;
      } else if (key == "bases") {
        ok = list(m.bases, [this](std::string_view& v) { return plain_string(v); });
      } else if (key == "in_features") {
        std::int64_t v = 0;
        ok = count(v);
        m.in_features = v;
      } else if (key == "out_features") {
        std::int64_t v = 0;
        ok = count(v);
        m.out_features = v;
      } else if (key == "shape") {
        ok = list(m.shape, [this](std::int64_t& v) { return count(v); });
      } else {
        ok = skip_atom();
      }
      if (!ok) return false;
      ws();
      if (eat('}')) break;
      if (!eat(',')) return false;
      ws();
    }
    return has_name && has_type;
  }

  bool modules(std::vector<Module>& out) {
    if (!eat('[')) return false;
    ws();
    if (eat(']')) return true;
    while (true) {
      out.emplace_back();
      if (!module(out.back())) return false;
      ws();
      if (eat(']')) return true;
      if (!eat(',')) return false;
      ws();
    }
  }
};

/// See DescriptionScanner::scan.
inline bool scan_description(std::string_view text, ScannedDescription& out, std::size_t reserve = 0) {
  return DescriptionScanner(text).scan(out, reserve);
}

}  // namespace awqmap::detail
