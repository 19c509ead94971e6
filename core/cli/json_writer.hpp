#pragma once
// Minimal streaming JSON text builder for the CLI's large outputs (tens of thousands of names),
// where building a DOM first would double the cost of the whole command.
#include <string>
#include <string_view>

#include "word_scan.hpp"  // core/src: internal, header-only

namespace awqmap::cli {

inline void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  // Fast path: module names rarely need escaping.
  const std::size_t plain = detail::plain_json_prefix(s);
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
