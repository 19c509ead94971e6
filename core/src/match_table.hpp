#pragma once
// Internal: which modules each target string matches on one model, with the quantization
// ignore/targets lists applied — computed once per string, shared by resolution, repair and
// coverage.
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

  /// Per module: matches `text` and is not ignored. `origin` names the pattern's source in errors.
  const std::vector<char>& hits(const std::string& text, const std::string& origin);
  /// Linear or Embedding, matching `targets` and not `ignore` (SPEC §6).
  bool targeted(ModuleIndex i) const { return targeted_[i] != 0; }

 private:
  const ModelView& model_;
  std::vector<char> ignored_, targeted_, plain_;
  std::vector<std::string_view> names_;
  std::unordered_map<std::string, std::vector<char>> cache_;
};

/// Upstream's resolution of mapping `k` alone (indices and messages name `k`).
Resolution resolve_mapping(const ModelView& model, const MappingList& mappings, std::size_t k, MatchTable& table);

/// For every module, its layer: the nearest strict ancestor that is an item of a ModuleList
/// (`model.layers.3`), or no_module.
std::vector<ModuleIndex> layer_of_modules(const ModelView& model);

}  // namespace awqmap::detail
