#pragma once
// Minimal streaming JSON text builder for the CLI's large outputs (tens of thousands of names),
// where building a DOM first would double the cost of the whole command.
#include <cstring>
#include <string>
#include <string_view>

#include "word_scan.hpp"  // core/src: internal, header-only

namespace awqmap::cli {

/// The most bytes put_json_string writes for a string of `size` bytes: each byte as `\u00XX`,
/// and the quotes.
constexpr std::size_t json_string_room(std::size_t size) {
  return 6 * size + 2;
}

/// detail::plain_json_prefix(s), with the bytes after the last whole 16 read as one 16-byte
/// block that overlaps the bytes before them (known plain by then): module names are 30 to 60
/// bytes, and their tails would otherwise be read eight bytes and then one byte at a time.
inline std::size_t plain_json_length(std::string_view s) {
  const std::size_t whole = s.size() - s.size() % 16;
  if (whole == 0) return detail::plain_json_prefix(s);
  const std::size_t head = detail::plain_json_prefix(s.substr(0, whole));
  if (head < whole || whole == s.size()) return head;
  const std::size_t from = s.size() - 16;
  return from + detail::plain_json_prefix(s.substr(from));
}

/// Writes `s` as a quoted JSON string at `p`, which has json_string_room(s.size()) bytes;
/// returns the end of what it wrote.
inline char* put_json_string(char* p, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  *p++ = '"';
  while (true) {
    // Module names rarely need escaping: copy the plain run in one go.
    const std::size_t plain = plain_json_length(s);
    if (plain) std::memcpy(p, s.data(), plain);  // an empty view's data() may be null
    p += plain;
    if (plain == s.size()) break;
    const auto c = static_cast<unsigned char>(s[plain]);
    *p++ = '\\';
    switch (c) {
      case '"': *p++ = '"'; break;
      case '\\': *p++ = '\\'; break;
      case '\n': *p++ = 'n'; break;
      case '\r': *p++ = 'r'; break;
      case '\t': *p++ = 't'; break;
      default:  // the other control bytes
        std::memcpy(p, "u00", 3);
        p[3] = hex[c >> 4];
        p[4] = hex[c & 0xF];
        p += 5;
    }
    s.remove_prefix(plain + 1);
  }
  *p++ = '"';
  return p;
}

inline void append_json_string(std::string& out, std::string_view s) {
  const std::size_t at = out.size();
  out.resize(at + json_string_room(s.size()));
  out.resize(static_cast<std::size_t>(put_json_string(&out[at], s) - out.data()));
}

}  // namespace awqmap::cli
