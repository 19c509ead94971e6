#pragma once
// Internal: byte tests on eight bytes at a time, for the scans over every module name and every
// string of a 10 MB description or result.
#include <cstdint>
#include <cstring>
#include <string_view>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace awqmap::detail {

inline constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;

inline std::uint64_t load_word(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
/// The mask of the `n` lowest bytes of a word (all of it from 8 up): the first n bytes that
/// load_word read.
inline constexpr std::uint64_t low_bytes(std::size_t n) {
  return n >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1;
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

/// How many bytes of `w` equal `c`: exact, unlike has_byte's bits (no borrow runs between bytes,
/// since adding 0x7f to a byte's low seven bits cannot carry out of it).
inline unsigned count_byte(std::uint64_t w, unsigned char c) {
  const std::uint64_t x = w ^ (kOnes * c);
  return static_cast<unsigned>(__builtin_popcountll(~(((x & ~kHigh) + ~kHigh) | x) & kHigh));
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "load_word's first byte must be the lowest");

/// The high bit of each byte of `w` that is '"', '\\' or a control byte, and possibly of bytes
/// after the first such byte (a borrow runs upwards only): the lowest bit set is exact.
inline std::uint64_t json_special_bytes(std::uint64_t w) {
  const std::uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
  return (((q - kOnes) & ~q) | ((b - kOnes) & ~b) | ((w - kOnes * 0x20) & ~w)) & kHigh;
}

#ifdef __SSE2__
/// One bit for each of the sixteen bytes of `x` that a JSON string cannot hold as it is: '"',
/// '\\' or a control byte; with `kAsciiOnly`, also any byte outside printable ASCII.
template <bool kAsciiOnly>
inline unsigned json_special_mask(__m128i x) {
  const __m128i quote = _mm_cmpeq_epi8(x, _mm_set1_epi8('"')), backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
  __m128i special = _mm_or_si128(_mm_or_si128(quote, backslash), _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x));
  // Signed, bytes from 0x80 up are negative: "below 0x20" takes them too; and DEL.
  if constexpr (kAsciiOnly)
    special = _mm_or_si128(special, _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                                                 _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f))));
  return static_cast<unsigned>(_mm_movemask_epi8(special));
}
#endif

/// Length of the prefix of `s` that a JSON string holds as it is: no '"', no '\\', no control
/// byte; with `kAsciiOnly`, printable ASCII alone (0x20..0x7e), text that needs no check for
/// encoding either.
template <bool kAsciiOnly>
inline std::size_t json_text_prefix(std::string_view s) {
  std::size_t i = 0;
#ifdef __SSE2__
  // Sixteen bytes a step where the target has them (every x86-64 does).
  for (; i + 16 <= s.size(); i += 16) {
    const unsigned mask =
        json_special_mask<kAsciiOnly>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i)));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
#endif
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t w = load_word(s.data() + i);
    std::uint64_t special = json_special_bytes(w);
    if constexpr (kAsciiOnly) {
      const std::uint64_t del = w ^ (kOnes * 0x7f);
      special |= (w & kHigh) | ((del - kOnes) & ~del & kHigh);
    }
    if (special != 0) return i + static_cast<std::size_t>(__builtin_ctzll(special)) / 8;
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\' || (kAsciiOnly && c > 0x7e)) break;
  }
  return i;
}

inline std::size_t plain_json_prefix(std::string_view s) { return json_text_prefix<false>(s); }
inline std::size_t printable_json_prefix(std::string_view s) { return json_text_prefix<true>(s); }

#ifdef __SSE2__
/// One bit for each of the sixteen bytes of `x` that a JSON string holds as it is and that is
/// printable ASCII: the complement of json_special_mask<true>, in fewer steps (adding 0x60 moves
/// 0x20..0x7e to the bottom of the signed byte range, -128..-34, where one compare finds them).
inline unsigned printable_plain_mask(__m128i x) {
  const __m128i quote_or_backslash =
      _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
  const __m128i printable = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x60)), _mm_set1_epi8(-33));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_andnot_si128(quote_or_backslash, printable)));
}
#endif

/// printable_json_prefix, 32 bytes a step: for the names of checkpoint headers and indexes,
/// most of them 30 to 60 bytes long.
inline std::size_t printable_json_prefix_wide(std::string_view s) {
  std::size_t i = 0;
#ifdef __SSE2__
  for (; i + 32 <= s.size(); i += 32) {
    const auto* p = reinterpret_cast<const __m128i*>(s.data() + i);
    const unsigned plain =
        printable_plain_mask(_mm_loadu_si128(p)) | (printable_plain_mask(_mm_loadu_si128(p + 1)) << 16);
    if (plain != 0xffffffffu) return i + static_cast<std::size_t>(__builtin_ctz(~plain));
  }
#endif
  return i + printable_json_prefix(s.substr(i));
}

// Every byte printable ASCII or DEL, none a quote or a backslash (ModelView::names_are_plain).
// Sixteen bytes a step, with no early exit: names that fail are rare.
inline bool names_are_plain(std::string_view s) {
  std::size_t i = 0;
  bool plain = true;
#ifdef __SSE2__
  __m128i special = _mm_setzero_si128();
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
  // Signed: bytes from 0x80 up are negative, below the space with the control bytes.
  auto bad = [&](std::size_t at) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + at));
    return _mm_or_si128(_mm_cmplt_epi8(x, space), _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
  };
  for (; i + 32 <= s.size(); i += 32) special = _mm_or_si128(special, _mm_or_si128(bad(i), bad(i + 16)));
  for (; i + 16 <= s.size(); i += 16) special = _mm_or_si128(special, bad(i));
  plain = _mm_movemask_epi8(special) == 0;
#endif
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') plain = false;
  }
  return plain;
}

}  // namespace awqmap::detail
