#pragma once
// A checkpoint key rename (docs/semantics.md §8): a Python regex matched with re.match semantics and a
// replacement template with Python's re.sub rules, both parsed once when the plugin registers
// them. The matched prefix of a name is replaced; the rest is kept.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/regex.hpp>
#include <boost/regex/icu.hpp>

#include "awqmap/python_regex.hpp"

namespace awqmap::detail {

class CompiledKeyRename {
 public:
  /// Throws InputError naming the pattern and the replacement, with Python's reason: an
  /// invalid pattern, a bad escape, an unknown or out-of-range group reference, an
  /// unterminated `\g<`.
  CompiledKeyRename(const std::string& pattern, const std::string& replacement);
  /// The constructor's checks of the pattern and the template, without building the regex
  /// engines (registration's check: the engines are built where a checkpoint uses the rename).
  static void check(const std::string& pattern, const std::string& replacement);

  const std::string& pattern() const { return pattern_; }
  const std::string& replacement() const { return replacement_; }
  /// The renamed key, or nullopt when the pattern does not match at the start of `name`.
  std::optional<std::string> apply(std::string_view name) const;

 private:
  struct Piece {
    std::string literal;  // emitted first
    int group = -1;       // then this group's text (unmatched groups give nothing)
  };
  static std::vector<Piece> parse_template(const std::string& pattern, const std::string& replacement,
                                           const TranslatedPattern& translated);

  std::string pattern_, replacement_;
  std::optional<boost::regex> bytes_;  // exact on ASCII names
  boost::u32regex unicode_;            // exact on every name
  std::vector<Piece> pieces_;
};

}  // namespace awqmap::detail
