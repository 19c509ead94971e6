#pragma once
// Internal: byte tests on eight bytes at a time, for the scans over every module name and every
// string of a 10 MB description or result.
#include <cstdint>
#include <cstring>
#include <string_view>

namespace awqmap::detail {

inline constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;

inline std::uint64_t load_word(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
/// Some byte of `w` equals `c`.
inline bool has_byte(std::uint64_t w, unsigned char c) {
  const std::uint64_t x = w ^ (kOnes * c);
  return ((x - kOnes) & ~x & kHigh) != 0;
}
/// Some byte of `w` is below `n` (n <= 128).
inline bool has_byte_below(std::uint64_t w, unsigned char n) {
  return ((w - kOnes * n) & ~w & kHigh) != 0;
}
/// Some byte of `w` is 0x80 or above.
inline bool has_high_byte(std::uint64_t w) {
  return (w & kHigh) != 0;
}

/// Length of the prefix of `s` that a JSON string holds as it is: no '"', no '\\', no control byte.
inline std::size_t plain_json_prefix(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t w = load_word(s.data() + i);
    if (has_byte(w, '"') || has_byte(w, '\\') || has_byte_below(w, 0x20)) break;
  }
  while (i < s.size() && s[i] != '"' && s[i] != '\\' && static_cast<unsigned char>(s[i]) >= 0x20) ++i;
  return i;
}

}  // namespace awqmap::detail
