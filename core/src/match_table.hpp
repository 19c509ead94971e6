#pragma once
// Internal: which modules each target string matches on one model, and which modules the
// quantization targets/ignore lists select — computed once, shared by resolution, repair and
// coverage. `ignore` never hides a module from matching (docs/semantics.md §6).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "awqmap/model.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/target.hpp"

namespace awqmap::detail {

class MatchTable {
 public:
  MatchTable(const ModelView& model, const ResolveOptions& options);

  /// Per module: matches `text`. `origin` names the pattern's source in errors.
  const std::vector<char>& hits(const std::string& text, const std::string& origin);
  /// The hits of `text` when it was matched before, else null (so that a caller builds the
  /// origin text only for a pattern it has not seen).
  const std::vector<char>* cached(const std::string& text) const {
    auto it = cache_.find(text);
    return it == cache_.end() ? nullptr : &it->second;
  }
  /// Linear or Embedding, matching `targets` and not `ignore` (docs/semantics.md §6).
  bool targeted(ModuleIndex i) const;

 private:
  const ModelView& model_;
  // The lists are compiled up front (a bad pattern fails the construction) but matched only
  // for the modules asked about: resolution asks for the modules of its groups, a small part
  // of a large model.
  std::vector<Target> ignore_, quant_;
  mutable std::vector<char> targeted_;  // per module: 0 not asked yet, 1 no, 2 yes
  std::vector<char> plain_;
  std::vector<std::string_view> names_;
  // The last eight bytes of each name (zeros in front of shorter names), side by side: most
  // patterns end in a literal suffix, and testing it here touches 8 bytes per module instead
  // of a cache line of each name.
  std::vector<std::uint64_t> tails_;
  std::vector<ModuleIndex> not_plain_;  // names the tail test cannot rule out (usually none)
  std::unordered_map<std::string, std::vector<char>> cache_;
};

/// The literal text every match of target `text` ends with (before an optional final newline),
/// or "" when there is none or `text` is not a `re:` pattern. Defined with Target.
std::string required_suffix_of(const std::string& text);

/// Upstream's resolution of mapping `k` alone (indices and messages name `k`).
Resolution resolve_mapping(const ModelView& model, const MappingList& mappings, std::size_t k, MatchTable& table);

/// For every module, its layer: the nearest strict ancestor that is an item of a ModuleList
/// (`model.layers.3`), or no_module.
std::vector<ModuleIndex> layer_of_modules(const ModelView& model);

}  // namespace awqmap::detail
