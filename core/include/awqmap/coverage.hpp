#pragma once
// Beyond upstream: what AWQ will and will not smooth once a mapping list is resolved.
#include <cstddef>
#include <string>
#include <vector>

#include "awqmap/export.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/model.hpp"
#include "awqmap/resolve.hpp"

namespace awqmap {

struct RepairedResolution;  // repair.hpp

/// Targeted Linear modules, how many are balance layers of a resolved group, and the rest
/// folded by name (`model.layers.*.self_attn.o_proj`).
struct Coverage {
  struct Unbalanced {
    std::string name;  ///< layer indices folded to `*`
    std::size_t count = 0;
    std::string reason;
  };
  std::size_t targeted = 0;
  std::size_t balanced = 0;
  std::vector<Unbalanced> unbalanced;  ///< in module order of first appearance
};
AWQMAP_API Coverage coverage(const ModelView& model, const MappingList& mappings, const Resolution& resolution,
                             const ResolveOptions& options = {});
/// The same for a repaired resolution: modules that only a left-out part of a repaired mapping
/// would have balanced are attributed to the repair.
AWQMAP_API Coverage coverage(const ModelView& model, const RepairedResolution& repaired,
                             const ResolveOptions& options = {});

}  // namespace awqmap
