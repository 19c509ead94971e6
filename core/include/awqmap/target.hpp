#pragma once
// One target string compiled once (docs/semantics.md §1, §5.1): `re:<Python regex>` is matched with
// Python's re.match semantics; anything else is an exact module name or a class name.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "awqmap/export.hpp"
#include "awqmap/model.hpp"

namespace awqmap {

// Members are exported one by one: an exported class would also export the standard library's
// templates instantiated on it (std::vector<Target>) from the core.
class Target {
 public:
  /// Compiles `text`. An invalid or untranslatable regex throws InputError naming the pattern,
  /// Python's reason and `origin` (the mapping, file or plugin the pattern came from).
  AWQMAP_API static Target compile(const std::string& text, std::string_view origin);

  AWQMAP_API const std::string& text() const;
  AWQMAP_API bool is_regex() const;

  /// docs/semantics.md §5.1 against a module (name, class and base names).
  bool matches(const Module& module) const { return matches(module, is_plain_name(module.name)); }
  /// The name part only: re.match for `re:` targets, equality otherwise.
  bool matches_name(std::string_view name) const { return matches_name(name, is_plain_name(name)); }

  /// ASCII without a newline: the names the fast matchers handle. Callers matching one name
  /// against many targets compute it once and use the overloads below.
  AWQMAP_API static bool is_plain_name(std::string_view name);
  AWQMAP_API bool matches(const Module& module, bool plain_name) const;
  AWQMAP_API bool matches_name(std::string_view name, bool plain_name) const;
  /// Whole-model form: clears `hits[i]` for every module that does not match (hits[i] already
  /// 0 stays 0). `names[i]` is modules[i].name, passed densely so that the scan stays in
  /// cache; `plain[i]` is is_plain_name(names[i]). The hot loop of resolution.
  AWQMAP_API void filter(const std::vector<Module>& modules, const std::vector<std::string_view>& names,
                         const std::vector<char>& plain, std::vector<char>& hits) const;

  /// True when the fast matcher (no regex engine) handles this pattern; for tests.
  AWQMAP_API bool has_fast_path() const;
  /// Matches with the regex engine even when a fast path exists; for tests.
  AWQMAP_API bool matches_name_with_regex(std::string_view name) const;

  struct Compiled;

 private:
  explicit Target(std::shared_ptr<const Compiled> c) : compiled_(std::move(c)) {}
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace awqmap
