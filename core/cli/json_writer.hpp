#pragma once
// Minimal streaming JSON text builder for the CLI's large outputs (tens of thousands of names),
// where building a DOM first would double the cost of the whole command.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace awqmap::cli {

inline void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  // Fast path: module names rarely need escaping. Eight bytes at a time: a control byte,
  // '"' or '\\' anywhere in the word stops the scan.
  constexpr std::uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  auto has_byte = [](std::uint64_t w, unsigned char c) {
    std::uint64_t x = w ^ (ones * c);
    return ((x - ones) & ~x & high) != 0;
  };
  std::size_t plain = 0;
  for (; plain + 8 <= s.size(); plain += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + plain, 8);
    const bool control = ((w - ones * 0x20) & ~w & high) != 0;  // some byte < 0x20
    if (control || has_byte(w, '"') || has_byte(w, '\\')) break;
  }
  while (plain < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[plain]);
    if (c < 0x20 || c == '"' || c == '\\') break;
    ++plain;
  }
  out.append(s.data(), plain);
  s.remove_prefix(plain);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace awqmap::cli
