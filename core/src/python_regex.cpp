// A recursive-descent reading of the pattern that follows CPython's sre_parse, emitting Boost
// syntax as it goes. Where the dialects differ the construct is rewritten explicitly:
//   .   -> [^\n]            (Boost's `.` also refuses \r and other line separators)
//   ^   -> \A  or (?:\A|(?<=\n))   under (?m)
//   $   -> (?=\n?\z) or (?=\n|\z)  under (?m)
//   \Z  -> \z               (Boost's \Z also matches before a final newline)
//   (?P<n>...) -> (?<n>...), (?P=n) -> \k<n>, {,n} -> {0,n}, literal { -> \{
// Verbose mode, comments and the m/s flags are consumed here; only `i` reaches Boost.
#include "awqmap/python_regex.hpp"

#include <unicode/uchar.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <vector>

namespace awqmap {
namespace {

constexpr std::uint64_t kMaxRepeat = 4294967295ull;  // CPython's MAXREPEAT

struct Width {
  std::uint64_t lo = 0, hi = 0;
};
std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
  return std::min(a + b, kMaxRepeat);
}
std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
  if (a == 0 || b == 0) return 0;
  if (a > kMaxRepeat / b) return kMaxRepeat;
  return std::min(a * b, kMaxRepeat);
}

enum class Kind { atom, at, repeat };

struct Piece {
  std::string text;
  Kind kind;
  Width width;
};

struct Flags {
  bool ignore_case = false, multiline = false, dotall = false, verbose = false, ascii = false;
};

// Python's ASCII-only categories, for the Unicode engine under (?a).
const char* ascii_category(char c) {
  switch (c) {
    case 'd': return "0-9";
    case 's': return "\\x{09}-\\x{0D}\\x{20}";
    case 'w': return "A-Za-z0-9_";
    default: return nullptr;
  }
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_octal(char c) {
  return c >= '0' && c <= '7';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_word(char c) {
  return is_ascii_letter(c) || is_digit(c) || c == '_';
}

std::string hex_byte(unsigned v) {
  static const char* digits = "0123456789ABCDEF";
  std::string s = "\\x{";
  s += digits[(v >> 4) & 0xF];
  s += digits[v & 0xF];
  s += '}';
  return s;
}

// Python identifiers, restricted to what a module pattern plausibly uses; non-ASCII names
// are accepted as Python does only for ASCII here, else reported as untranslatable.
bool is_identifier(const std::string& s) {
  if (s.empty() || is_digit(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_word(c); });
}

class Translator {
 public:
  Translator(std::string_view src, RegexEngine engine) : src_(src), unicode_(engine == RegexEngine::unicode) {}

  TranslatedPattern run() {
    Flags flags;
    Piece whole = parse_sub(flags, 0);
    if (pos_ < src_.size()) fail("unbalanced parenthesis", pos_);
    for (auto& [g, p] : grouprefpos_)
      if (g >= groups_) fail("invalid group reference " + std::to_string(g), p);
    TranslatedPattern out;
    out.boost_syntax = std::move(whole.text);
    out.ignore_case = global_flags_.ignore_case;
    out.exact_on_ascii = exact_on_ascii_;
    out.groups = groups_ - 1;
    out.group_names.assign(names_.begin(), names_.end());
    return out;
  }

 private:
  std::string_view src_;
  bool unicode_;
  bool exact_on_ascii_ = true;
  std::size_t pos_ = 0;
  int groups_ = 1;  // next group number, as CPython's state.groups
  std::map<std::string, int> names_;
  std::set<int> open_;
  std::map<int, Width> group_widths_;
  std::map<int, std::size_t> grouprefpos_;
  Flags global_flags_;

  [[noreturn]] void fail(const std::string& reason, std::size_t at) const { throw PatternSyntaxError(reason, at); }

  bool at_end() const { return pos_ >= src_.size(); }
  char peek(std::size_t ahead = 0) const { return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0'; }
  bool has(std::size_t ahead = 0) const { return pos_ + ahead < src_.size(); }
  bool match(char c) {
    if (has() && src_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // One UTF-8 code point starting at pos_; returns its bytes and advances.
  std::string take_char() {
    unsigned char c = static_cast<unsigned char>(src_[pos_]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    n = std::min(n, src_.size() - pos_);
    std::string s(src_.substr(pos_, n));
    pos_ += n;
    return s;
  }

  static std::uint32_t decode(const std::string& s) {
    unsigned char c = static_cast<unsigned char>(s[0]);
    if (s.size() == 1) return c;
    std::uint32_t cp = s.size() == 2 ? (c & 0x1F) : s.size() == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t i = 1; i < s.size(); ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
    return cp;
  }

  static std::string hex_code_point(std::uint32_t cp) {
    static const char* digits = "0123456789ABCDEF";
    std::string h;
    do {
      h.insert(h.begin(), digits[cp & 0xF]);
      cp >>= 4;
    } while (cp);
    return "\\x{" + h + "}";
  }

  // Boost text for one literal code point (outside a class).
  std::string literal(std::uint32_t cp, const Flags& f, std::size_t) {
    if (cp < 0x80) {
      char c = static_cast<char>(cp);
      if (is_word(c)) return std::string(1, c);
      return hex_byte(cp);
    }
    if (unicode_) return hex_code_point(cp);
    // Only ASCII names reach the byte engine, and they cannot contain this character.
    if (f.ignore_case) exact_on_ascii_ = false;
    return "(?!)";
  }

  std::uint32_t hex_digits(std::size_t n, const std::string& escape, std::size_t at) {
    std::uint32_t v = 0;
    std::string text = escape;
    for (std::size_t i = 0; i < n; ++i) {
      if (!has() || !is_hex(peek())) fail("incomplete escape " + text, at);
      char c = src_[pos_++];
      text += c;
      v = v * 16 + static_cast<std::uint32_t>(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
  }

  // Escapes shared by both contexts: \a \f \n \r \t \v \\ \xhh \uXXXX \UXXXXXXXX, octal handled
  // by the callers. Returns true and sets cp when `c` is one of them.
  bool common_escape(char c, std::size_t at, std::uint32_t& cp) {
    switch (c) {
      case 'a': cp = 7; return true;
      case 'f': cp = 12; return true;
      case 'n': cp = 10; return true;
      case 'r': cp = 13; return true;
      case 't': cp = 9; return true;
      case 'v': cp = 11; return true;
      case '\\': cp = '\\'; return true;
      case 'x': cp = hex_digits(2, "\\x", at); return true;
      case 'u': cp = hex_digits(4, "\\u", at); return true;
      case 'U':
        cp = hex_digits(8, "\\U", at);
        if (cp > 0x10FFFF) fail("bad escape \\U", at);
        return true;
      case 'N': {
        if (!match('{')) fail("missing {", at);
        std::size_t close = src_.find('}', pos_);
        if (close == std::string_view::npos || close == pos_) fail("missing character name", at);
        std::string name(src_.substr(pos_, close - pos_));
        pos_ = close + 1;
        UErrorCode status = U_ZERO_ERROR;
        UChar32 c = u_charFromName(U_UNICODE_CHAR_NAME, name.c_str(), &status);
        if (U_FAILURE(status) || c < 0) fail("undefined character name '" + name + "'", at);
        cp = static_cast<std::uint32_t>(c);
        return true;
      }
      default: return false;
    }
  }

  // ---- character classes -------------------------------------------------------------
  struct ClassItem {
    bool is_literal;
    std::uint32_t cp;  // literal
    std::string text;  // category (\d etc.)
  };

  ClassItem class_escape(std::size_t at, const Flags& f) {
    // pos_ is just past the backslash
    if (!has()) fail("bad escape (end of pattern)", at);
    char c = src_[pos_];
    if (static_cast<unsigned char>(c) >= 0x80) return {true, decode(take_char()), {}};
    ++pos_;
    if (c == 'b') return {true, 8, {}};
    if (c == 'd' || c == 'D' || c == 's' || c == 'S' || c == 'w' || c == 'W') {
      if (unicode_ && f.ascii) {
        if (c < 'a') fail("cannot translate: a negated category inside a set under (?a)", at);
        return {false, 0, ascii_category(c)};
      }
      if (c == 's') return {false, 0, "\\s\\x{1C}-\\x{1F}"};
      return {false, 0, std::string("\\") + c};
    }
    std::uint32_t cp;
    if (common_escape(c, at, cp)) return {true, cp, {}};
    if (is_octal(c)) {
      std::uint32_t v = static_cast<std::uint32_t>(c - '0');
      for (int k = 0; k < 2 && has() && is_octal(peek()); ++k)
        v = v * 8 + static_cast<std::uint32_t>(src_[pos_++] - '0');
      if (v > 0377) fail("octal escape value outside of range 0-0o377", at);
      return {true, v, {}};
    }
    if (is_digit(c) || is_ascii_letter(c)) fail(std::string("bad escape \\") + c, at);
    return {true, static_cast<unsigned char>(c), {}};
  }

  // One class member as Boost text, or "" when the byte engine can drop it: a non-ASCII member
  // can never match an ASCII name, and only ASCII names reach the byte engine.
  std::string class_range(std::uint32_t lo, std::uint32_t hi) const {
    if (unicode_) return lo == hi ? hex_code_point(lo) : hex_code_point(lo) + "-" + hex_code_point(hi);
    if (lo >= 0x80) return "";
    hi = std::min<std::uint32_t>(hi, 0x7F);
    return lo == hi ? hex_byte(lo) : hex_byte(lo) + "-" + hex_byte(hi);
  }

  Piece parse_class(std::size_t start, const Flags& f) {
    // pos_ is just past '['
    std::string body;
    bool negate = match('^');
    bool any = false;
    auto add = [&](const ClassItem& item) { body += item.is_literal ? class_range(item.cp, item.cp) : item.text; };
    while (true) {
      if (!has()) fail("unterminated character set", start);
      std::size_t item_at = pos_;
      if (peek() == ']' && any) {
        ++pos_;
        break;
      }
      ClassItem first;
      if (peek() == '\\') {
        ++pos_;
        first = class_escape(item_at, f);
      } else {
        first = {true, decode(take_char()), {}};
      }
      if (match('-')) {
        if (!has()) fail("unterminated character set", start);
        if (peek() == ']') {
          ++pos_;
          add(first);
          body += hex_byte('-');
          any = true;
          break;
        }
        ClassItem second;
        if (peek() == '\\') {
          ++pos_;
          second = class_escape(pos_ - 1, f);
        } else {
          second = {true, decode(take_char()), {}};
        }
        if (!first.is_literal || !second.is_literal || second.cp < first.cp)
          fail("bad character range " + std::string(src_.substr(item_at, pos_ - item_at)), item_at);
        body += class_range(first.cp, second.cp);
      } else {
        add(first);
      }
      any = true;
    }
    if (body.empty()) return {negate ? "[\\s\\S]" : "(?!)", Kind::atom, {1, 1}};
    return {"[" + std::string(negate ? "^" : "") + body + "]", Kind::atom, {1, 1}};
  }

  // ---- escapes outside classes ------------------------------------------------------
  Piece escape(const Flags& f, std::size_t at) {
    if (!has()) fail("bad escape (end of pattern)", at);
    char c = src_[pos_];
    if (static_cast<unsigned char>(c) >= 0x80) return {literal(decode(take_char()), f, at), Kind::atom, {1, 1}};
    ++pos_;
    switch (c) {
      case 'A': return {"\\A", Kind::at, {0, 0}};
      case 'Z': return {"\\z", Kind::at, {0, 0}};
      case 'b':
      case 'B': {
        // Spelled out with lookarounds: Boost's \B differs at the start of the text, and
        // Python's \B never matches an empty string.
        const std::string w = unicode_ && f.ascii ? "[A-Za-z0-9_]" : "\\w";
        const std::string boundary = "(?:(?<=" + w + ")(?!" + w + ")|(?<!" + w + ")(?=" + w + "))";
        if (c == 'B') return {"(?!\\A\\z)(?!" + boundary + ")", Kind::at, {0, 0}};
        return {unicode_ && f.ascii ? boundary : std::string("\\b"), Kind::at, {0, 0}};
      }
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
        if (unicode_ && f.ascii) {
          const char* set = ascii_category(static_cast<char>(c | 0x20));
          return {std::string(c >= 'a' ? "[" : "[^") + set + "]", Kind::atom, {1, 1}};
        }
        if (c == 's') return {"[\\s\\x{1C}-\\x{1F}]", Kind::atom, {1, 1}};  // Python counts \x1c-\x1f as space
        if (c == 'S') return {"[^\\s\\x{1C}-\\x{1F}]", Kind::atom, {1, 1}};
        return {std::string("\\") + c, Kind::atom, {1, 1}};
      default: break;
    }
    std::uint32_t cp;
    if (common_escape(c, at, cp)) return {literal(cp, f, at), Kind::atom, {1, 1}};
    if (c == '0') {
      std::uint32_t v = 0;
      for (int k = 0; k < 2 && has() && is_octal(peek()); ++k)
        v = v * 8 + static_cast<std::uint32_t>(src_[pos_++] - '0');
      return {literal(v, f, at), Kind::atom, {1, 1}};
    }
    if (is_digit(c)) {
      std::string digits(1, c);
      if (has() && is_digit(peek())) {
        digits += src_[pos_++];
        if (is_octal(digits[0]) && is_octal(digits[1]) && has() && is_octal(peek())) {
          digits += src_[pos_++];
          std::uint32_t v =
              static_cast<std::uint32_t>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0'));
          if (v > 0377) fail("octal escape value \\" + digits + " outside of range 0-0o377", at);
          return {literal(v, f, at), Kind::atom, {1, 1}};
        }
      }
      int group = std::stoi(digits);
      if (group < groups_) {
        if (open_.count(group)) fail("cannot refer to an open group", at);
        return {"\\g{" + std::to_string(group) + "}", Kind::atom, group_widths_[group]};
      }
      fail("invalid group reference " + std::to_string(group), at + 1);
    }
    if (is_ascii_letter(c)) fail(std::string("bad escape \\") + c, at);
    return {literal(static_cast<unsigned char>(c), f, at), Kind::atom, {1, 1}};
  }

  // ---- groups -------------------------------------------------------------------------
  std::string read_until(char end, const std::string& what, std::size_t at) {
    std::size_t start = pos_;
    while (true) {
      if (!has()) fail("missing " + std::string(1, end) + ", unterminated name", at);
      if (src_[pos_] == end) break;
      ++pos_;
    }
    std::string s(src_.substr(start, pos_ - start));
    ++pos_;
    if (s.empty()) fail("missing " + what, at);
    return s;
  }

  static int flag_bit(char c) {
    switch (c) {
      case 'i': return 1;
      case 'm': return 2;
      case 's': return 4;
      case 'x': return 8;
      case 'a': return 16;
      case 'u': return 32;
      case 'L': return 64;
      case 't': return 128;
      default: return 0;
    }
  }
  static constexpr int kTypeFlags = 16 | 32 | 64;
  static constexpr int kGlobalOnly = 128;

  static void apply(Flags& f, int add, int del) {
    if (add & 1) f.ignore_case = true;
    if (add & 2) f.multiline = true;
    if (add & 4) f.dotall = true;
    if (add & 8) f.verbose = true;
    if (add & 16) f.ascii = true;
    if (add & 32) f.ascii = false;
    if (del & 1) f.ignore_case = false;
    if (del & 2) f.multiline = false;
    if (del & 4) f.dotall = false;
    if (del & 8) f.verbose = false;
  }

  // Returns false for global flags "(?imsx)" (already applied), true for a scoped group.
  bool parse_flags(char first, int& add, int& del, std::size_t at) {
    char c = first;
    add = del = 0;
    if (c != '-') {
      while (true) {
        int bit = flag_bit(c);
        if (bit == 64) fail("bad inline flag value", at);  // LOCALE: bytes patterns only
        add |= bit;
        if ((bit & kTypeFlags) && (add & kTypeFlags) != bit) fail("bad inline flag value", at);
        if (!has()) fail("missing -, : or )", pos_);
        c = src_[pos_++];
        if (c == ')' || c == '-' || c == ':') break;
        if (!flag_bit(c)) fail(is_ascii_letter(c) ? "unknown flag" : "missing -, : or )", pos_ - 1);
      }
    }
    if (c == ')') return false;
    if (add & kGlobalOnly) fail("bad inline flag value", at);
    if (c == '-') {
      if (!has()) fail("missing flag", pos_);
      c = src_[pos_++];
      if (!flag_bit(c)) fail(is_ascii_letter(c) ? "unknown flag" : "missing flag", pos_ - 1);
      while (true) {
        int bit = flag_bit(c);
        if (bit & kTypeFlags) fail("bad inline flag value", at);
        del |= bit;
        if (!has()) fail("missing :", pos_);
        c = src_[pos_++];
        if (c == ':') break;
        if (!flag_bit(c)) fail(is_ascii_letter(c) ? "unknown flag" : "missing :", pos_ - 1);
      }
    }
    if (del & kGlobalOnly) fail("bad inline flag value", at);
    if (add & del) fail("bad inline flag value", at);
    return true;
  }

  void expect_close(std::size_t start) {
    if (!match(')')) fail("missing ), unterminated subpattern", start);
  }

  // Parses after '('; returns false when the construct produced no item (comment, global flags).
  bool parse_group(Flags& f, int nested, bool first, bool seq_empty, Piece& out) {
    std::size_t start = pos_ - 1;
    if (!match('?')) {
      int group = groups_++;
      open_.insert(group);
      Piece body = parse_sub(f, nested + 1);
      expect_close(start);
      open_.erase(group);
      group_widths_[group] = body.width;
      out = {"(" + body.text + ")", Kind::atom, body.width};
      return true;
    }
    if (!has()) fail("unexpected end of pattern", pos_);
    char c = src_[pos_++];
    if (c == 'P') {
      if (match('<')) {
        std::string name = read_until('>', "group name", pos_);
        if (!is_identifier(name)) fail("bad character in group name '" + name + "'", start);
        if (names_.count(name)) fail("redefinition of group name '" + name + "'", start);
        int group = groups_++;
        names_[name] = group;
        open_.insert(group);
        Piece body = parse_sub(f, nested + 1);
        expect_close(start);
        open_.erase(group);
        group_widths_[group] = body.width;
        out = {"(?<" + name + ">" + body.text + ")", Kind::atom, body.width};
        return true;
      }
      if (match('=')) {
        std::string name = read_until(')', "group name", pos_);
        if (!is_identifier(name)) fail("bad character in group name '" + name + "'", start);
        auto it = names_.find(name);
        if (it == names_.end()) fail("unknown group name '" + name + "'", start);
        if (open_.count(it->second)) fail("cannot refer to an open group", start);
        out = {"\\k<" + name + ">", Kind::atom, group_widths_[it->second]};
        return true;
      }
      if (!has()) fail("unexpected end of pattern", pos_);
      fail(std::string("unknown extension ?P") + src_[pos_], start);
    }
    if (c == ':' || c == '>') {
      Piece body = parse_sub(f, nested + 1);
      expect_close(start);
      out = {std::string(c == ':' ? "(?:" : "(?>") + body.text + ")", Kind::atom, body.width};
      return true;
    }
    if (c == '#') {
      while (true) {
        if (!has()) fail("missing ), unterminated comment", start);
        if (src_[pos_++] == ')') break;
      }
      return false;
    }
    if (c == '=' || c == '!' || c == '<') {
      bool behind = false;
      if (c == '<') {
        if (!has()) fail("unexpected end of pattern", pos_);
        c = src_[pos_++];
        if (c != '=' && c != '!') fail(std::string("unknown extension ?<") + c, start);
        behind = true;
      }
      Piece body = parse_sub(f, nested + 1);
      expect_close(start);
      if (behind && body.width.lo != body.width.hi) fail("look-behind requires fixed-width pattern", start);
      std::string open = std::string("(?") + (behind ? "<" : "") + c;
      out = {open + body.text + ")", Kind::atom, {0, 0}};
      return true;
    }
    if (c == '(') {
      std::size_t name_at = pos_;
      std::string cond = read_until(')', "group name", pos_);
      std::string boost_cond;
      if (is_identifier(cond)) {
        auto it = names_.find(cond);
        if (it == names_.end()) fail("unknown group name '" + cond + "'", name_at);
        boost_cond = "<" + cond + ">";
      } else {
        if (!std::all_of(cond.begin(), cond.end(), is_digit))
          fail("bad character in group name '" + cond + "'", name_at);
        if (cond.size() > 9) fail("invalid group reference " + cond, name_at);
        int g = std::stoi(cond);
        if (g == 0) fail("bad group number", name_at);
        grouprefpos_.emplace(g, name_at);
        boost_cond = std::to_string(g);
      }
      Piece yes = parse_seq(f, nested + 1, false);
      std::string text = "(?(" + boost_cond + ")" + yes.text;
      Width w = yes.width;
      if (match('|')) {
        Piece no = parse_seq(f, nested + 1, false);
        if (peek() == '|' && has()) fail("conditional backref with more than two branches", pos_);
        text += "|" + no.text;
        w = {std::min(w.lo, no.width.lo), std::max(w.hi, no.width.hi)};
      } else {
        w.lo = 0;
      }
      expect_close(start);
      out = {text + ")", Kind::atom, w};
      return true;
    }
    if (flag_bit(c) || c == '-') {
      int add, del;
      if (!parse_flags(c, add, del, start)) {
        if (!first || !seq_empty) fail("global flags not at the start of the expression", start);
        apply(global_flags_, add, 0);
        apply(f, add, 0);
        return false;
      }
      Flags inner = f;
      apply(inner, add, del);
      Piece body = parse_sub(inner, nested + 1);
      expect_close(start);
      std::string mods;
      if (add & 1) mods += "i";
      if (del & 1) mods += "-i";
      out = {"(?" + mods + ":" + body.text + ")", Kind::atom, body.width};
      return true;
    }
    fail(std::string("unknown extension ?") + c, start);
  }

  // ---- sequences and alternations ----------------------------------------------------
  Piece parse_sub(Flags& f, int nested) {
    std::vector<Piece> branches;
    bool first_branch = true;
    while (true) {
      branches.push_back(parse_seq(f, nested, nested == 0 && first_branch));
      first_branch = false;
      if (!match('|')) break;
    }
    if (branches.size() == 1) return branches[0];
    Piece out{"", Kind::atom, {kMaxRepeat, 0}};
    for (std::size_t i = 0; i < branches.size(); ++i) {
      if (i) out.text += "|";
      out.text += branches[i].text;
      out.width.lo = std::min(out.width.lo, branches[i].width.lo);
      out.width.hi = std::max(out.width.hi, branches[i].width.hi);
    }
    out.text = "(?:" + out.text + ")";
    return out;
  }

  bool parse_count(std::uint64_t& lo, std::uint64_t& hi, std::size_t at) {
    // pos_ is just past '{'; returns false (and restores) when this is a literal brace
    std::size_t here = pos_;
    if (peek() == '}' && has()) return false;
    std::string a, b;
    while (has() && is_digit(peek())) a += src_[pos_++];
    bool comma = match(',');
    if (comma)
      while (has() && is_digit(peek())) b += src_[pos_++];
    else
      b = a;
    if (!match('}')) {
      pos_ = here;
      return false;
    }
    auto parse_num = [&](const std::string& s) {
      if (s.size() > 10) fail("the repetition number is too large", at);
      std::uint64_t v = std::stoull(s);
      if (v >= kMaxRepeat) fail("the repetition number is too large", at);
      return v;
    };
    lo = a.empty() ? 0 : parse_num(a);
    hi = b.empty() ? kMaxRepeat : parse_num(b);
    if (!b.empty() && hi < lo) fail("min repeat greater than max repeat", at);
    return true;
  }

  Piece parse_seq(Flags& f, int nested, bool first) {
    // Every nesting construct (groups, lookarounds, conditional branches) reaches here one level
    // deeper. Python itself gives up on deep nesting (RecursionError); so do we, before the stack does.
    if (nested > max_pattern_nesting)
      fail("cannot translate: groups nested more than " + std::to_string(max_pattern_nesting) +
               " deep (awqmap's pattern nesting limit; conditionals count too)",
           pos_);
    std::vector<Piece> seq;
    while (has()) {
      char c = peek();
      if (c == '|' || c == ')') break;
      std::size_t at = pos_;
      if (f.verbose) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
          ++pos_;
          continue;
        }
        if (c == '#') {
          while (has() && src_[pos_] != '\n') ++pos_;
          continue;
        }
      }
      if (c == '*' || c == '+' || c == '?' || c == '{') {
        ++pos_;
        std::uint64_t lo = 0, hi = kMaxRepeat;
        std::string quant(1, c);
        if (c == '?')
          hi = 1;
        else if (c == '+')
          lo = 1;
        else if (c == '{') {
          if (!parse_count(lo, hi, at)) {
            seq.push_back({hex_byte('{'), Kind::atom, {1, 1}});
            continue;
          }
          quant = "{" + std::to_string(lo) + (hi == lo ? "" : ",") +
                  (hi == lo || hi == kMaxRepeat ? "" : std::to_string(hi)) + "}";
        }
        if (seq.empty() || seq.back().kind == Kind::at) fail("nothing to repeat", at);
        if (seq.back().kind == Kind::repeat) fail("multiple repeat", at);
        if (match('?'))
          quant += "?";
        else if (match('+'))
          quant += "+";
        Piece& item = seq.back();
        item.text = "(?:" + item.text + ")" + quant;
        item.kind = Kind::repeat;
        item.width = {sat_mul(item.width.lo, lo), sat_mul(item.width.hi, hi)};
        continue;
      }
      ++pos_;
      switch (c) {
        case '.': seq.push_back({f.dotall ? "[\\s\\S]" : "[^\\n]", Kind::atom, {1, 1}}); break;
        case '^': seq.push_back({f.multiline ? "(?:\\A|(?<=\\n))" : "\\A", Kind::at, {0, 0}}); break;
        case '$': seq.push_back({f.multiline ? "(?=\\n|\\z)" : "(?=\\n?\\z)", Kind::at, {0, 0}}); break;
        case '\\': seq.push_back(escape(f, at)); break;
        case '[': seq.push_back(parse_class(at, f)); break;
        case '(': {
          Piece p;
          if (parse_group(f, nested, first, seq.empty(), p)) seq.push_back(std::move(p));
          break;
        }
        default:
          --pos_;
          if (is_word(c) && !f.verbose) {
            // A run of word characters stands for itself: one piece rather than one per
            // character. A quantifier after the run repeats its last character alone, which
            // stays a piece of its own. (Verbose patterns may put spaces before a quantifier.)
            std::size_t end = pos_ + 1;
            while (end < src_.size() && is_word(src_[end])) ++end;
            if (end - pos_ > 1 && end < src_.size() &&
                (src_[end] == '*' || src_[end] == '+' || src_[end] == '?' || src_[end] == '{'))
              --end;
            const std::uint64_t n = end - pos_;
            seq.push_back({std::string(src_.substr(pos_, n)), Kind::atom, {n, n}});
            pos_ = end;
            break;
          }
          seq.push_back({literal(decode(take_char()), f, at), Kind::atom, {1, 1}});
          break;
      }
    }
    Piece out{"", Kind::atom, {0, 0}};
    for (auto& p : seq) {
      out.text += p.text;
      out.width = {sat_add(out.width.lo, p.width.lo), sat_add(out.width.hi, p.width.hi)};
    }
    return out;
  }
};

}  // namespace

TranslatedPattern translate_python_regex(std::string_view python_pattern, RegexEngine engine) {
  return Translator(python_pattern, engine).run();
}

}  // namespace awqmap
