#include "key_rename.hpp"

#include <algorithm>

#include "awqmap/error.hpp"
#include "awqmap/python_regex.hpp"
#include "printable.hpp"

namespace awqmap::detail {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_octal(char c) {
  return c >= '0' && c <= '7';
}
bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// Python's str.isidentifier, with every non-ASCII byte taken as a letter.
bool is_identifier(std::string_view s) {
  if (s.empty() || is_digit(s[0])) return false;
  for (char c : s)
    if (!(is_ascii_letter(c) || is_digit(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80)) return false;
  return true;
}

void append_code_point(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else {  // at most 0o377
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

}  // namespace

namespace {
std::string describe(const std::string& pattern, const std::string& replacement) {
  return "key rename '" + printable(pattern) + "' -> '" + printable(replacement) + "': ";
}

// The same translation and flags as `re:` targets, so that (?i), \d and the rest mean what
// Python's re makes of them.
TranslatedPattern translate(const std::string& pattern, const std::string& replacement, RegexEngine engine) {
  try {
    return translate_python_regex(pattern, engine);
  } catch (const PatternSyntaxError& e) {
    throw InputError(describe(pattern, replacement) + "invalid pattern: " + e.what() + " (Python's re rejects it too)");
  }
}
}  // namespace

CompiledKeyRename::CompiledKeyRename(const std::string& pattern, const std::string& replacement)
    : pattern_(pattern), replacement_(replacement) {
  const TranslatedPattern bytes = translate(pattern, replacement, RegexEngine::bytes);
  const TranslatedPattern unicode = translate(pattern, replacement, RegexEngine::unicode);
  try {
    boost::regex::flag_type flags = boost::regex::perl;
    if (unicode.ignore_case) flags |= boost::regex::icase;
    unicode_ = boost::make_u32regex(unicode.boost_syntax, flags);
    if (bytes.exact_on_ascii) bytes_.emplace(bytes.boost_syntax, flags);
  } catch (const std::exception& e) {
    throw InputError(describe(pattern, replacement) + "the pattern cannot be translated to the regex engine (" +
                     e.what() + ")");
  }
  pieces_ = parse_template(pattern, replacement, unicode);
}

void CompiledKeyRename::check(const std::string& pattern, const std::string& replacement) {
  // Registration checks the pattern and the template; the regex engines are built where the
  // rename is used, a checkpoint's load (a refusal by the engine is reported there).
  (void)parse_template(pattern, replacement, translate(pattern, replacement, RegexEngine::bytes));
}

std::vector<CompiledKeyRename::Piece> CompiledKeyRename::parse_template(const std::string& pattern,
                                                                       const std::string& replacement,
                                                                       const TranslatedPattern& translated) {
  const std::string where = describe(pattern, replacement);
  const auto groups = static_cast<unsigned long>(translated.groups);
  std::vector<Piece> pieces;

  // Python's re template rules (re._parser.parse_template).
  const std::string& r = replacement;
  auto bad = [&](const std::string& reason, std::size_t pos) {
    throw InputError(where + "invalid replacement: " + reason + " at position " + std::to_string(pos));
  };
  Piece piece;
  auto add_group = [&](unsigned long index, const std::string& shown, std::size_t pos) {
    if (index > groups) bad("invalid group reference " + shown, pos);
    piece.group = static_cast<int>(index);
    pieces.push_back(std::move(piece));
    piece = Piece{};
  };
  std::size_t i = 0;
  while (i < r.size()) {
    if (r[i] != '\\') {
      piece.literal += r[i++];
      continue;
    }
    const std::size_t at = i;
    if (i + 1 == r.size()) bad("bad escape (end of pattern)", at);
    const char c = r[i + 1];
    if (c == 'g') {
      if (i + 2 >= r.size() || r[i + 2] != '<') bad("missing <", i + 2);
      const std::size_t start = i + 3;
      const std::size_t close = r.find('>', start);
      if (close == std::string::npos) bad("missing >, unterminated name", start);
      const std::string name = r.substr(start, close - start);
      if (name.empty()) bad("missing group name", start);
      if (is_identifier(name)) {
        const auto named = std::find_if(translated.group_names.begin(), translated.group_names.end(),
                                        [&](const auto& g) { return g.first == name; });
        if (named == translated.group_names.end()) bad("unknown group name '" + printable(name) + "'", start);
        add_group(static_cast<unsigned long>(named->second), name, start);
      } else {
        unsigned long index = 0;
        for (char d : name) {
          if (!is_digit(d)) bad("bad character in group name '" + printable(name) + "'", start);
          // Saturates instead of overflowing: any index this large is out of range anyway.
          index = index > 1'000'000 ? index : index * 10 + static_cast<unsigned long>(d - '0');
        }
        add_group(index, name, start);
      }
      i = close + 1;
    } else if (c == '0') {
      // \0 and up to two more octal digits: a character.
      unsigned value = 0;
      std::size_t j = i + 2;
      for (int k = 0; k < 2 && j < r.size() && is_octal(r[j]); ++k, ++j) value = value * 8 + static_cast<unsigned>(r[j] - '0');
      append_code_point(piece.literal, value & 0xFF);
      i = j;
    } else if (is_digit(c)) {
      std::size_t j = i + 2;
      if (j < r.size() && is_digit(r[j])) {
        if (is_octal(c) && is_octal(r[j]) && j + 1 < r.size() && is_octal(r[j + 1])) {
          const unsigned value = static_cast<unsigned>((c - '0') * 64 + (r[j] - '0') * 8 + (r[j + 1] - '0'));
          if (value > 0377) bad("octal escape value " + r.substr(i, 4) + " outside of range 0-0o377", at);
          append_code_point(piece.literal, value);
          i = j + 2;
          continue;
        }
        add_group(static_cast<unsigned long>((c - '0') * 10 + (r[j] - '0')), r.substr(i + 1, 2), at + 1);
        i = j + 1;
      } else {
        add_group(static_cast<unsigned long>(c - '0'), std::string(1, c), at + 1);
        i = j;
      }
    } else {
      static const std::pair<char, char> escapes[] = {{'a', '\a'}, {'b', '\b'}, {'f', '\f'}, {'n', '\n'},
                                                      {'r', '\r'}, {'t', '\t'}, {'v', '\v'}, {'\\', '\\'}};
      bool known = false;
      for (const auto& [letter, value] : escapes)
        if (c == letter) {
          piece.literal += value;
          known = true;
        }
      if (known) {
        i += 2;
      } else if (is_ascii_letter(c)) {
        bad(std::string("bad escape \\") + c, at);
      } else {
        piece.literal += '\\';  // Python keeps an unknown non-letter escape as written
        i += 1;
      }
    }
  }
  if (!piece.literal.empty()) pieces.push_back(std::move(piece));
  return pieces;
}

std::optional<std::string> CompiledKeyRename::apply(std::string_view name) const {
  boost::cmatch m;
  const char* first = name.data();
  const char* last = name.data() + name.size();
  bool matched;
  try {
    if (bytes_ && is_ascii(name))
      matched = boost::regex_search(first, last, m, *bytes_, boost::match_continuous);
    else
      matched = boost::u32regex_search(first, last, m, unicode_, boost::match_continuous);
  } catch (const std::exception& e) {
    throw InputError("key rename '" + printable(pattern_) + "' could not be matched against tensor '" +
                     printable(name) + "' (" + e.what() + "); simplify the pattern");
  }
  if (!matched) return std::nullopt;
  std::string out;
  for (const Piece& p : pieces_) {
    out += p.literal;
    if (p.group >= 0 && m[p.group].matched) out.append(m[p.group].first, m[p.group].second);
  }
  out.append(m[0].second, last);
  return out;
}

}  // namespace awqmap::detail
