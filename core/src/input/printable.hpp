#pragma once
// Names and paths from input files go into messages with control bytes escaped, so that a NUL
// cannot cut a message and an escape sequence cannot reach the terminal.
#include <string>
#include <string_view>

namespace awqmap::detail {

inline std::string printable(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace awqmap::detail
