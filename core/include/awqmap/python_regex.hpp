#pragma once
// Translation of Python `re` patterns (str patterns, Python 3.11 syntax) into Boost.Regex perl
// syntax with the same meaning (docs/semantics.md §5.1). Python's syntax rules are enforced: a pattern that
// Python rejects is rejected here with Python's reason.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "awqmap/error.hpp"
#include "awqmap/export.hpp"

namespace awqmap {

/// Deepest nesting of groups, lookarounds and conditional branches a pattern may have
/// (docs/limits.md). Deeper patterns are refused before translation recurses further.
inline constexpr int max_pattern_nesting = 200;

/// A pattern Python would reject, or one that has no faithful Boost equivalent: bad input, like
/// every other error awqmap reports about what it was given.
class AWQMAP_API PatternSyntaxError : public InputError {
 public:
  PatternSyntaxError(std::string reason, std::size_t position)
      : InputError(reason + " at position " + std::to_string(position)),
        reason_(std::move(reason)),
        position_(position) {}
  const std::string& reason() const { return reason_; }
  std::size_t position() const { return position_; }

 private:
  std::string reason_;
  std::size_t position_;
};

/// Names are matched with a byte engine (boost::regex) when they are ASCII, and with a Unicode
/// engine (boost::u32regex over UTF-8) otherwise, where `.`, `\w` and classes see code points.
enum class RegexEngine { bytes, unicode };

struct TranslatedPattern {
  std::string boost_syntax;  ///< perl syntax for the chosen engine
  bool ignore_case = false;  ///< a global (?i) was given
  /// Bytes only: false when the byte form is not exact even on ASCII names (a non-ASCII
  /// literal under IGNORECASE, which Unicode case folding may map to ASCII).
  bool exact_on_ascii = true;
  /// Capturing groups, numbered from 1 as Python numbers them (the translation keeps the numbers).
  int groups = 0;
  /// Named groups (`(?P<name>...)`) and their numbers.
  std::vector<std::pair<std::string, int>> group_names;
};

/// Throws PatternSyntaxError.
AWQMAP_API TranslatedPattern translate_python_regex(std::string_view python_pattern,
                                                    RegexEngine engine = RegexEngine::bytes);

}  // namespace awqmap
