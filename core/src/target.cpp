#include "awqmap/target.hpp"

#include <boost/regex.hpp>
#include <boost/regex/icu.hpp>
#include <unicode/uchar.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "awqmap/error.hpp"
#include "awqmap/python_regex.hpp"
#include "match_table.hpp"
#include "target_cache.hpp"
#include "word_scan.hpp"

namespace awqmap {
namespace {

// `.*a.*b$`-shaped patterns: segments of literal bytes and `.` wildcards separated by `.*`.
// Matched by anchoring the first and last segments and placing the middle ones leftmost,
// which is exact for this shape. The regex remains the reference for every other name.
struct Segment {
  std::string chars;
  std::string mask;  // 0xff where the pattern has a literal byte, 0 where it has `.`
  // The segment's last min(8, size) bytes and their mask in the high bytes of a word: the
  // last (often the only) comparison is one word ending where the segment ends.
  std::uint64_t end_chars = 0, end_mask = 0;

  // The literal byte that a search for the segment looks for first: the rarest in module names,
  // so that the search stops at few false starts ('x' of "experts", not 'e').
  std::size_t anchor = std::string::npos;
  unsigned char anchor_rarity = 0;

  // Bytes by how often they occur in module names, most common first; every other byte is
  // rarer than all of these. A table: every registered pattern is read through it.
  static unsigned char rarity(char c) {
    static constexpr std::string_view common = "._0123456789eaorpjlsntmdiyhgcukfvqwbxz";
    static constexpr auto table = [] {
      std::array<unsigned char, 256> t{};
      for (auto& r : t) r = static_cast<unsigned char>(common.size());
      for (std::size_t i = 0; i < common.size(); ++i) t[static_cast<unsigned char>(common[i])] = static_cast<unsigned char>(i);
      return t;
    }();
    return table[static_cast<unsigned char>(c)];
  }
  // The segment of `n` bytes `c` whose literal ones have 0xff in `m` (`.` has 0).
  void assign(const char* c, const char* m, std::size_t n) {
    chars.assign(c, n);
    mask.assign(m, n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!m[i]) continue;
      const unsigned char r = rarity(c[i]);
      if (anchor == std::string::npos || r > anchor_rarity) {
        anchor = i;
        anchor_rarity = r;
      }
    }
    const std::size_t tail = std::min<std::size_t>(n, 8);
    end_chars = end_mask = 0;
    std::memcpy(reinterpret_cast<char*>(&end_chars) + 8 - tail, c + n - tail, tail);
    std::memcpy(reinterpret_cast<char*>(&end_mask) + 8 - tail, m + n - tail, tail);
  }
  // Eight bytes a step, the last step ending where the segment ends; byte by byte only when the
  // segment ends within the name's first eight bytes (a word ending there would start before
  // the name).
  bool matches_at(std::string_view s, std::size_t at) const {
    const std::size_t n = chars.size(), end = at + n;
    if (end < 8) {
      for (std::size_t i = 0; i < n; ++i)
        if ((s[at + i] ^ chars[i]) & mask[i]) return false;
      return true;
    }
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if ((detail::load_word(s.data() + at + i) ^ detail::load_word(chars.data() + i)) &
          detail::load_word(mask.data() + i))
        return false;
    return ((detail::load_word(s.data() + end - 8) ^ end_chars) & end_mask) == 0;
  }
  std::size_t size() const { return chars.size(); }
};

struct Glob {
  std::vector<Segment> segments;  // split at `.*`
  bool anchored_end = false;      // pattern ends with `$`

  bool matches(std::string_view s) const {
    const bool open_end = !anchored_end;
    if (segments.size() == 1) {
      const Segment& only = segments[0];
      if (open_end ? s.size() < only.size() : s.size() != only.size()) return false;
      return only.matches_at(s, 0);
    }
    const Segment& first = segments.front();
    const Segment& last = segments.back();
    std::size_t last_size = open_end ? 0 : last.size();
    if (s.size() < first.size() + last_size) return false;
    if (!first.matches_at(s, 0)) return false;
    if (!open_end && !last.matches_at(s, s.size() - last.size())) return false;
    std::size_t cursor = first.size();
    std::size_t limit = s.size() - last_size;
    std::size_t middle_end = segments.size() - (open_end ? 0 : 1);
    for (std::size_t k = 1; k < middle_end; ++k) {
      const Segment& seg = segments[k];
      bool found = false;
      // The segment can start only where its anchor byte stands at the anchor's offset: memchr
      // finds those places in order, so the first that matches is still the leftmost.
      const std::size_t anchor = seg.anchor;
      while (cursor + seg.size() <= limit) {
        if (anchor != std::string::npos) {
          const auto* at = static_cast<const char*>(
              std::memchr(s.data() + cursor + anchor, seg.chars[anchor], limit - seg.size() + 1 - cursor));
          if (!at) break;
          cursor = static_cast<std::size_t>(at - s.data()) - anchor;
        }
        if (seg.matches_at(s, cursor)) {
          found = true;
          break;
        }
        ++cursor;
      }
      if (!found) return false;
      cursor += seg.size();
    }
    return true;
  }
};

bool is_quantifier(char c) {
  return c == '*' || c == '+' || c == '?' || c == '{';
}

bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

// `\<c>` is the character c itself, as Python (and read_escape) reads it.
bool is_escaped_punctuation(char c) {
  return c > 0x20 && c < 0x7f && !is_ascii_alnum(static_cast<unsigned char>(c));
}

// The bytes that stand for themselves in a glob: printable ASCII and the space, but for the
// metacharacters (and `.`, `\\` and `$`, read apart).
constexpr std::array<bool, 256> kGlobLiteral = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[static_cast<std::size_t>(c)] = true;
  for (const char c : std::string_view("^$|()[]{}*+?#.\\")) t[static_cast<unsigned char>(c)] = false;
  return t;
}();

// Reads `p` as a glob: `byte(c, literal)` for each byte of a segment in turn, `split()` between
// segments (at each `.*`). False when `p` is not one.
template <class Byte, class Split>
bool read_glob(std::string_view p, bool& anchored_end, Byte&& byte, Split&& split) {
  for (std::size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    char next = i + 1 < p.size() ? p[i + 1] : '\0';
    if (kGlobLiteral[static_cast<unsigned char>(c)]) {
      if (is_quantifier(next)) return false;
      byte(c, true);
      continue;
    }
    bool has_next = i + 1 < p.size();
    if (c == '.' && next == '*') {
      char after = i + 2 < p.size() ? p[i + 2] : '\0';
      if (i + 2 < p.size() && is_quantifier(after)) return false;
      split();
      ++i;
      continue;
    }
    if (has_next && is_quantifier(next)) return false;
    if (c == '$') {
      if (i + 1 != p.size()) return false;
      anchored_end = true;
      continue;
    }
    if (c == '.') {
      byte('.', false);
      continue;
    }
    if (c != '\\' || !has_next) return false;
    unsigned char e = static_cast<unsigned char>(next);
    if (e >= 0x80 || is_ascii_alnum(e) || e == '\n' || e == ' ') return false;
    byte(next, true);
    ++i;
    if (i + 1 < p.size() && is_quantifier(p[i + 1])) return false;
  }
  return true;
}

std::optional<Glob> fast_glob(std::string_view p) {
  // Read twice: once to see that `p` is a glob and how many segments it has (without building
  // anything for the many patterns that are not), then to fill them.
  std::size_t count = 1;
  bool anchored_end = false;
  if (!read_glob(p, anchored_end, [](char, bool) {}, [&] { ++count; })) return std::nullopt;
  Glob g;
  g.anchored_end = anchored_end;
  g.segments.resize(count);
  // The segments' bytes and masks, one segment after the other; on the stack for the usual sizes.
  constexpr std::size_t kOnStack = 256;
  char on_stack[2 * kOnStack];
  std::unique_ptr<char[]> on_heap;
  char* bytes = on_stack;
  if (p.size() > kOnStack) {
    on_heap = std::make_unique<char[]>(2 * p.size());
    bytes = on_heap.get();
  }
  char* masks = bytes + std::max(p.size(), kOnStack);
  std::size_t size = 0, from = 0;
  Segment* segment = g.segments.data();
  auto close = [&] {
    (segment++)->assign(bytes + from, masks + from, size - from);
    from = size;
  };
  read_glob(p, anchored_end,
            [&](char c, bool literal) {
              bytes[size] = c;
              masks[size++] = literal ? '\xff' : '\0';
            },
            close);
  close();
  return g;
}

// The globs whose union is `p` where `p` is a glob but for one group of alternatives, as
// `.*layers\.(3|7|11)\.input_layernorm$` (a builder's layer sets): one glob per alternative, the
// pattern's text with the group replaced by it. Exact for a valid pattern: concatenation
// distributes over alternation, and every expansion is read by fast_glob or none is used. The
// group is `(` or `(?:`, holds no group, and is not repeated; an alternative cannot start with a
// quantifier (Python refuses it), so no expansion joins a `.` before the group with a `*` in it.
std::vector<Glob> fast_globs(std::string_view p) {
  if (std::optional<Glob> g = fast_glob(p)) return {std::move(*g)};
  constexpr std::size_t kMostAlternatives = 64;
  std::size_t open = std::string_view::npos, close = std::string_view::npos;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      ++i;
    } else if (p[i] == '(') {
      if (open != std::string_view::npos) return {};
      open = i;
    } else if (p[i] == ')') {
      if (open == std::string_view::npos || close != std::string_view::npos) return {};
      close = i;
    }
  }
  if (close == std::string_view::npos || (close + 1 < p.size() && is_quantifier(p[close + 1]))) return {};
  std::size_t first = open + 1;
  if (p.compare(first, 2, "?:") == 0) first += 2;
  // The alternatives, split at the `|` that are not escaped.
  std::vector<std::string_view> alternatives;
  std::size_t from = first;
  for (std::size_t i = first; i <= close; ++i) {
    if (i < close && p[i] == '\\') {
      ++i;
    } else if (i == close || p[i] == '|') {
      alternatives.push_back(p.substr(from, i - from));
      from = i + 1;
    }
  }
  if (alternatives.size() < 2 || alternatives.size() > kMostAlternatives) return {};
  std::vector<Glob> out;
  out.reserve(alternatives.size());
  std::string expanded;
  for (std::string_view alternative : alternatives) {
    expanded.assign(p.substr(0, open)).append(alternative).append(p.substr(close + 1));
    std::optional<Glob> g = fast_glob(expanded);
    if (!g) return {};
    out.push_back(std::move(*g));
  }
  return out;
}

// Whether translate_python_regex accepts `p` for both engines, decided without translating, for
// the shapes registered patterns take: literals, `.`, escaped punctuation, the anchors and
// categories (\A \Z \b \B \d \D \s \S \w \W), sets of word characters, `.`, such escapes and
// ascending ranges, groups `(...)` and `(?:...)`, `|`, and one `*`, `+` or `?` after an item.
// On each of these the translator has no failure path (it refuses only repeats of nothing, of
// an anchor or of a repeat, unbalanced groups, bad ranges, nesting beyond max_pattern_nesting);
// anything else answers false and the translator decides. No inline flag can appear, so both
// engines read the pattern alike.
bool certainly_translatable(std::string_view p) {
  auto is_word = [](unsigned char c) { return is_ascii_alnum(c) || c == '_'; };
  auto is_category = [](unsigned char c) {
    return c == 'd' || c == 'D' || c == 's' || c == 'S' || c == 'w' || c == 'W';
  };
  constexpr int kDeepest = max_pattern_nesting / 2;
  int depth = 0;
  bool repeatable = false;  // the item before can take a quantifier
  for (std::size_t i = 0; i < p.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    switch (c) {
      case '(':
        if (i + 1 < p.size() && p[i + 1] == '?') {
          if (i + 2 >= p.size() || p[i + 2] != ':') return false;
          i += 2;
        }
        if (++depth > kDeepest) return false;
        repeatable = false;
        break;
      case ')':
        if (depth == 0) return false;
        --depth;
        repeatable = true;
        break;
      case '*':
      case '+':
      case '?':
        if (!repeatable) return false;
        repeatable = false;
        break;
      case '|':
      case '^':
      case '$': repeatable = false; break;
      case '\\': {
        if (++i == p.size()) return false;
        const unsigned char e = static_cast<unsigned char>(p[i]);
        if (e == 'A' || e == 'Z' || e == 'b' || e == 'B')
          repeatable = false;
        else if (is_category(e) || is_escaped_punctuation(static_cast<char>(e)))
          repeatable = true;
        else
          return false;
        break;
      }
      case '[': {
        if (i + 1 < p.size() && p[i + 1] == '^') ++i;
        bool any = false;
        while (true) {
          if (++i == p.size()) return false;
          const unsigned char m = static_cast<unsigned char>(p[i]);
          if (m == ']' && any) break;
          if (m == '\\') {
            if (++i == p.size()) return false;
            const unsigned char e = static_cast<unsigned char>(p[i]);
            if (!is_category(e) && !is_escaped_punctuation(static_cast<char>(e))) return false;
            if (i + 1 < p.size() && p[i + 1] == '-') return false;  // a range from an escape
          } else if (is_word(m) || m == '.') {
            if (i + 1 < p.size() && p[i + 1] == '-') {
              if (i + 2 >= p.size() || !is_word(static_cast<unsigned char>(p[i + 2])) || p[i + 2] < p[i]) return false;
              i += 2;
            }
          } else {
            return false;
          }
          any = true;
        }
        repeatable = true;
        break;
      }
      case '.': repeatable = true; break;
      default:
        // What is left of the glob's literals here: printable ASCII but `]`, `{`, `}` and `#`.
        if (!kGlobLiteral[c]) return false;
        repeatable = true;
    }
  }
  return depth == 0;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// One escape outside a set, read as CPython's sre_parse reads it: `length` pattern bytes
// (0 when the escape is not understood, so the caller gives up), and `literal`, the UTF-8 text
// of the one character it stands for, or empty when it is not a printable literal (a category,
// an anchor, a backreference, a control character).
struct Escape {
  std::size_t length = 0;
  std::string literal;
};

Escape read_escape(std::string_view p, std::size_t at) {
  Escape out;
  if (at + 1 >= p.size()) return out;
  const std::size_t start = at + 1;
  const unsigned char e = static_cast<unsigned char>(p[start]);
  auto digits = [&](std::size_t from, std::size_t n, int base, std::uint32_t& value) {
    value = 0;
    if (from + n > p.size()) return false;
    for (std::size_t k = 0; k < n; ++k) {
      const char d = p[from + k];
      const int v = d >= '0' && d <= '9'   ? d - '0'
                    : d >= 'a' && d <= 'f' ? d - 'a' + 10
                    : d >= 'A' && d <= 'F' ? d - 'A' + 10
                                           : 99;
      if (v >= base) return false;
      value = value * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(v);
    }
    return true;
  };
  auto is_octal = [](char d) { return d >= '0' && d <= '7'; };
  std::uint32_t cp = 0;
  std::size_t length = 2;
  if (e >= 0x80) {
    // An escaped non-ASCII character is that character: take its whole UTF-8 sequence.
    std::size_t n = (e >> 5) == 6 ? 2 : (e >> 4) == 14 ? 3 : (e >> 3) == 30 ? 4 : 0;
    if (n == 0 || start + n > p.size()) return out;
    out.length = 1 + n;
    out.literal = std::string(p.substr(start, n));
    return out;
  }
  switch (e) {
    case 'a': cp = 7; break;
    case 'f': cp = 12; break;
    case 'n': cp = 10; break;
    case 'r': cp = 13; break;
    case 't': cp = 9; break;
    case 'v': cp = 11; break;
    case 'x':
      if (!digits(start + 1, 2, 16, cp)) return out;
      length = 4;
      break;
    case 'u':
      if (!digits(start + 1, 4, 16, cp)) return out;
      length = 6;
      break;
    case 'U':
      if (!digits(start + 1, 8, 16, cp)) return out;
      length = 10;
      break;
    case 'N': {
      // Looked up with the same ICU call as the translator, so both read the same character.
      if (start + 1 >= p.size() || p[start + 1] != '{') return out;
      const std::size_t close = p.find('}', start + 2);
      if (close == std::string_view::npos || close == start + 2) return out;
      const std::string name(p.substr(start + 2, close - start - 2));
      UErrorCode status = U_ZERO_ERROR;
      const UChar32 c = u_charFromName(U_UNICODE_CHAR_NAME, name.c_str(), &status);
      if (U_FAILURE(status) || c < 0) return out;
      cp = static_cast<std::uint32_t>(c);
      length = close + 1 - at;
      break;
    }
    case 'A':
    case 'Z':
    case 'b':
    case 'B':
    case 'd':
    case 'D':
    case 's':
    case 'S':
    case 'w':
    case 'W': out.length = 2; return out;  // not one literal character
    default:
      if (e == '0') {
        // \0, then up to two more octal digits
        std::size_t n = 1;
        while (n < 3 && start + n < p.size() && is_octal(p[start + n])) ++n;
        digits(start, n, 8, cp);
        length = 1 + n;
      } else if (e >= '1' && e <= '9') {
        // Three octal digits are a character; otherwise one or two digits are a backreference.
        if (start + 2 < p.size() && is_octal(p[start]) && is_octal(p[start + 1]) && is_octal(p[start + 2])) {
          digits(start, 3, 8, cp);
          if (cp > 0377) return out;
          length = 4;
        } else {
          out.length = start + 1 < p.size() && std::isdigit(static_cast<unsigned char>(p[start + 1])) ? 3 : 2;
          return out;
        }
      } else if (std::isalpha(e)) {
        return out;  // Python rejects it
      } else {
        cp = e;  // an escaped punctuation character is itself
      }
  }
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return out;
  out.length = length;
  if (cp >= 0x20 && cp != 0x7F) append_utf8(out.literal, cp);
  return out;
}

// The literal text every match must end with, for patterns that end in `<literal>$` at the top
// level: a cheap filter in front of the engines. Conservative by construction: any construct
// it does not understand empties the run, and flags or a top-level `|` disable it.
std::string required_suffix(std::string_view p) {
  if (p.empty() || p.back() != '$') return {};
  if (p.size() >= 2 && p[p.size() - 2] == '\\') return {};  // an escaped `$` is a literal
  const std::string_view body = p.substr(0, p.size() - 1);
  // The scan only finds where the final run of literals starts (every construct that is not a
  // literal starts it afresh after itself); the run's text is made once, at the end.
  std::size_t run = 0;
  int depth = 0;
  for (std::size_t i = 0; i + 1 < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      if (i + 2 >= p.size()) return {};
      if (is_escaped_punctuation(p[i + 1])) {
        ++i;
        continue;
      }
      Escape e = read_escape(body, i);
      if (e.length == 0) return {};
      i += e.length - 1;
      if (e.literal.empty()) run = i + 1;
      continue;
    }
    switch (c) {
      case '(':
        if (i + 1 < p.size() && p[i + 1] == '?') {
          char k = i + 2 < p.size() ? p[i + 2] : '\0';
          if (k != ':' && k != '=' && k != '!' && k != '<' && k != 'P' && k != '>') return {};  // flags
        }
        ++depth;
        run = i + 1;
        break;
      case ')':
        --depth;
        run = i + 1;
        break;
      case '|':
        if (depth == 0) return {};
        run = i + 1;
        break;
      case '*':
      case '+':
      case '?':
        run = i + 1;  // the previous item is repeated
        break;
      case '{': {
        // `{m,n}` repeats the previous item; any other `{` is a literal. Either way, restart.
        std::size_t j = i + 1;
        while (j < p.size() && (std::isdigit(static_cast<unsigned char>(p[j])) || p[j] == ',')) ++j;
        if (j < p.size() && p[j] == '}') i = j;
        run = i + 1;
        break;
      }
      case '[': {
        // skip the set; `]` right after `[` or `[^` is a member
        std::size_t j = i + 1;
        if (j < p.size() && p[j] == '^') ++j;
        if (j < p.size() && p[j] == ']') ++j;
        while (j < p.size() && p[j] != ']') j += p[j] == '\\' ? 2 : 1;
        i = j;
        run = i + 1;
        break;
      }
      case '.':
      case '^':
      case '$':
      case '#':
      case ' ': run = i + 1; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) run = i + 1;
    }
  }
  if (depth != 0) return {};
  // Every item from `run` on is a literal byte or an escape of one character.
  if (run >= body.size()) return {};
  std::string_view rest = body.substr(run);
  std::string out;
  for (std::size_t at = rest.find('\\'); at != std::string_view::npos; at = rest.find('\\')) {
    out.append(rest.data(), at);
    if (is_escaped_punctuation(rest[at + 1])) {
      out += rest[at + 1];
      rest.remove_prefix(at + 2);
    } else {
      const Escape e = read_escape(rest, at);
      out += e.literal;
      rest.remove_prefix(at + e.length);
    }
  }
  return out.append(rest.data(), rest.size());
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_ascii(std::string_view name) {
  for (char c : name)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

}  // namespace

struct Target::Compiled {
  std::string text;
  bool regex = false;
  std::vector<Glob> globs;  // their union is exact on ASCII names without a newline
  std::string suffix;       // every match ends with it (before an optional final \n)

  // The fast path, for plain names. The globs test the pattern's end first; where there are
  // several, the suffix filter does that once for all.
  bool globs_match(std::string_view name) const {
    if (globs.size() == 1) return globs[0].matches(name);
    if (!ends_with(name, suffix)) return false;
    for (const Glob& g : globs)
      if (g.matches(name)) return true;
    return false;
  }

  // The regex engines are built on first use: most patterns (every one a plugin registers but
  // the model does not select, and most selected ones thanks to `glob`) never need them, and
  // building both engines for every registered pattern made loading the plugins cost more
  // than resolving. `compile` has already checked the syntax by translating the pattern.
  struct Engines {
    std::optional<boost::regex> bytes;  // exact on ASCII names
    boost::u32regex unicode;            // exact on every name
    std::string error;                  // why Boost refused the translation, when it did
  };
  // Both translations wait for the engines when compile() could tell without them that they
  // succeed (certainly_translatable). Otherwise the byte form is made at compile time, and the
  // Unicode one too when the pattern has an inline flag group: the Unicode translation refuses
  // what the byte one takes only under (?a), so for any other pattern the byte translation's
  // success settles both. Written once, at compile time or under built_.
  mutable std::optional<TranslatedPattern> bytes_form;
  mutable std::optional<TranslatedPattern> unicode_form;
  std::string origin;  // where the pattern was first compiled from, for the engine's errors

  const Engines& engines() const {
    std::call_once(built_, [this] {
      try {
        const std::string_view pattern = std::string_view(text).substr(3);
        if (!bytes_form) bytes_form = translate_python_regex(pattern, RegexEngine::bytes);
        if (!unicode_form) unicode_form = translate_python_regex(pattern, RegexEngine::unicode);
        boost::regex::flag_type flags = boost::regex::perl;
        if (unicode_form->ignore_case) flags |= boost::regex::icase;
        engines_.unicode = boost::make_u32regex(unicode_form->boost_syntax, flags);
        if (bytes_form->exact_on_ascii) engines_.bytes.emplace(bytes_form->boost_syntax, flags);
      } catch (const std::exception& e) {
        engines_.error = e.what();
      }
    });
    if (!engines_.error.empty())
      throw InputError("invalid pattern '" + text + "' in " + origin + ": cannot be translated to the regex engine (" +
                       engines_.error + "); rewrite it with simpler constructs");
    return engines_;
  }

 private:
  mutable std::once_flag built_;
  mutable Engines engines_;
};

namespace {
// The syntax check of compile(): translates `text` when its validity is not plain without
// (certainly_translatable), into `bytes` and, with an inline flag group, `unicode`.
void check_syntax(const std::string& text, std::string_view origin, std::optional<TranslatedPattern>& bytes,
                  std::optional<TranslatedPattern>& unicode) {
  const std::string_view pattern = std::string_view(text).substr(3);
  if (certainly_translatable(pattern)) return;
  try {
    bytes = translate_python_regex(pattern, RegexEngine::bytes);
    if (pattern.find("(?") != std::string_view::npos) unicode = translate_python_regex(pattern, RegexEngine::unicode);
  } catch (const PatternSyntaxError& e) {
    throw InputError("invalid pattern '" + text + "' in " + std::string(origin) + ": " + e.what() +
                     " (Python's re rejects it too; fix the pattern)");
  }
}
}  // namespace

// Compiles afresh: whoever compiles the same texts repeatedly keeps them (a resolution's match
// table), so nothing outlives its owner.
Target Target::compile(const std::string& text, std::string_view origin) {
  auto c = std::make_shared<Compiled>();
  c->text = text;
  if (text.rfind("re:", 0) == 0) {
    c->regex = true;
    check_syntax(text, origin, c->bytes_form, c->unicode_form);
    const std::string_view pattern = std::string_view(text).substr(3);
    c->origin = std::string(origin);
    c->globs = fast_globs(pattern);
    c->suffix = required_suffix(pattern);
  }
  return Target(std::move(c));
}

void detail::check_target(const std::string& text, std::string_view origin) {
  if (text.rfind("re:", 0) != 0) return;
  std::optional<TranslatedPattern> bytes, unicode;
  check_syntax(text, origin, bytes, unicode);
}

bool detail::may_refuse(const std::string& text) {
  return text.rfind("re:", 0) == 0 && !certainly_translatable(std::string_view(text).substr(3));
}

namespace detail {
std::string required_suffix_of(const std::string& text) {
  return text.rfind("re:", 0) == 0 ? required_suffix(std::string_view(text).substr(3)) : std::string();
}

std::optional<EndPattern> end_pattern_of(const std::string& text) {
  if (text.rfind("re:", 0) != 0) return std::nullopt;
  // The glob of `.*<middle>.*<segment>$` matches exactly the names whose end matches the segment
  // with the middle somewhere before it (an empty middle anywhere).
  std::optional<Glob> g = fast_glob(std::string_view(text).substr(3));
  if (!g || !g->anchored_end || g->segments.size() < 2 || g->segments.size() > 3 || g->segments[0].size() != 0 ||
      g->segments.back().size() == 0)
    return std::nullopt;
  EndPattern out{std::move(g->segments.back().chars), std::move(g->segments.back().mask), {}, {}};
  if (g->segments.size() == 3) {
    out.middle = std::move(g->segments[1].chars);
    out.middle_mask = std::move(g->segments[1].mask);
  }
  return out;
}
}  // namespace detail

const std::string& Target::text() const {
  return compiled_->text;
}
bool Target::is_regex() const {
  return compiled_->regex;
}
bool Target::has_fast_path() const {
  return !compiled_->globs.empty();
}

bool Target::matches_name_with_regex(std::string_view name) const {
  const Compiled& c = *compiled_;
  const Compiled::Engines& e = c.engines();
  try {
    if (e.bytes && is_ascii(name))
      return boost::regex_search(name.begin(), name.end(), *e.bytes, boost::match_continuous);
    return boost::u32regex_search(name.begin(), name.end(), e.unicode, boost::match_continuous);
  } catch (const std::exception& e) {
    throw InputError("pattern '" + c.text + "' could not be matched against module '" + std::string(name) + "' (" +
                     e.what() + "); simplify the pattern");
  }
}

bool Target::is_plain_name(std::string_view name) {
  std::size_t i = 0;
#ifdef __SSE2__
  // Sixteen bytes a step: this runs over every name of the model.
  const __m128i newline = _mm_set1_epi8('\n');
  auto plain16 = [&](std::size_t at) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(name.data() + at));
    return _mm_movemask_epi8(_mm_or_si128(x, _mm_cmpeq_epi8(x, newline))) == 0;
  };
  if (name.size() >= 16) {
    for (; i + 16 <= name.size(); i += 16)
      if (!plain16(i)) return false;
    // The last bytes in one step too, re-reading some already tested.
    return i == name.size() || plain16(name.size() - 16);
  }
#endif
  for (; i + 8 <= name.size(); i += 8) {
    const std::uint64_t w = detail::load_word(name.data() + i);
    if (detail::has_high_byte(w) || detail::has_byte(w, '\n')) return false;
  }
  for (; i < name.size(); ++i)
    if (name[i] == '\n' || static_cast<unsigned char>(name[i]) >= 0x80) return false;
  return true;
}

bool Target::matches_name(std::string_view name, bool plain_name) const {
  const Compiled& c = *compiled_;
  if (!c.regex) return c.text == name;
  // The globs are exact on plain names.
  if (!c.globs.empty() && plain_name) return c.globs_match(name);
  if (!c.suffix.empty() && (name.empty() || name.back() != c.suffix.back() || !ends_with(name, c.suffix)) &&
      !(!name.empty() && name.back() == '\n' && ends_with(name.substr(0, name.size() - 1), c.suffix)))
    return false;
  return matches_name_with_regex(name);
}

void Target::filter(const std::vector<Module>& modules, const std::vector<std::string_view>& names,
                    const std::vector<char>& plain, std::vector<char>& hits) const {
  const Compiled& c = *compiled_;
  if (!c.regex) {
    for (std::size_t i = 0; i < modules.size(); ++i)
      if (hits[i]) hits[i] = matches(modules[i], plain[i]);
    return;
  }
  const std::string_view suffix = c.suffix;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!hits[i]) continue;
    const std::string_view name = names[i];
    // The literal-suffix filter inline: most names fail it on their last byte.
    if (!suffix.empty() && plain[i] &&
        (name.size() < suffix.size() || name.back() != suffix.back() ||
         std::memcmp(name.data() + name.size() - suffix.size(), suffix.data(), suffix.size()) != 0)) {
      hits[i] = 0;
      continue;
    }
    hits[i] = !c.globs.empty() && plain[i] ? c.globs_match(name) : matches_name(name, plain[i]);
  }
}

bool Target::matches(const Module& m, bool plain_name) const {
  const Compiled& c = *compiled_;
  if (c.regex) return matches_name(m.name, plain_name);
  const std::string& t = c.text;
  if (t == m.name || t == m.type) return true;
  if (std::find(m.bases.begin(), m.bases.end(), t) != m.bases.end()) return true;
  return std::string_view(t) == std::string_view("Linear") && m.is_a("LinearBase");
}

}  // namespace awqmap
