#pragma once
// Internal: how one failing mapping's smooth modules fall into groups of layers, and what
// --repair does with it. resolve_with_repair acts on the plan and explain describes the same
// plan, so the explanation never promises what a repair then refuses.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../match_table.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/model.hpp"

namespace awqmap::detail {

inline bool is_regex(const std::string& target) {
  return target.rfind("re:", 0) == 0;
}

/// "0-2, 5, 7-9" for indices in ascending order; non-numeric layer names are listed as they are.
std::string index_ranges(std::vector<std::string_view> items);

/// For one mapping: per layer, which balance targets match something inside it.
struct LayerAnalysis {
  struct Group {
    ModuleIndex list;                 ///< the ModuleList holding the layers
    std::uint64_t present;            ///< bit b: regex balance target b matches inside the layer
    std::vector<ModuleIndex> layers;  ///< in module order, distinct
    std::vector<ModuleIndex> smooth;
  };
  std::vector<Group> groups;          ///< in order of first appearance
  std::vector<ModuleIndex> no_layer;  ///< smooth modules outside any layer
  bool too_many_targets = false;      ///< more than 64 balance targets: not analysed
};

/// `layer_of` is layer_of_modules(model).
LayerAnalysis analyse(const ModelView& model, const Mapping& mapping, MatchTable& table,
                      const std::vector<ModuleIndex>& layer_of);

/// The layers of a group, described: "model.layers 0-2: no match for re:.*mlp.gate$".
std::string describe(const ModelView& model, const Mapping& m, const LayerAnalysis::Group& g);

/// What --repair does with one failing mapping: replace it by mappings scoped to groups of
/// layers, leave groups (or the whole mapping) out with the reason, or nothing at all when the
/// failure cannot be repaired.
struct RepairPlan {
  bool repairable = false;
  MappingList replacements;           ///< empty: the whole mapping is left out
  std::vector<std::string> left_out;  ///< what is left out, and why
  std::size_t left_out_layers = 0;
  std::string why_not;                ///< when !repairable
};

RepairPlan plan_repair(const ModelView& model, const Mapping& mapping, MatchTable& table,
                       const std::vector<ModuleIndex>& layer_of);

}  // namespace awqmap::detail
