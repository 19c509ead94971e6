#pragma once
// Beyond upstream: repair mappings that collapse (mixed dense/MoE layers, vision towers).
// Plain resolve() stays exactly upstream; repair only builds on it. explain.hpp says why a
// mapping failed, coverage.hpp what AWQ will and will not smooth.
#include <optional>
#include <string>
#include <vector>

#include "awqmap/error.hpp"
#include "awqmap/export.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/model.hpp"
#include "awqmap/resolve.hpp"

namespace awqmap {

/// One mapping that failed and what replaced it.
struct Repair {
  std::size_t mapping = 0;               ///< index in the list given to resolve_with_repair
  ResolutionErrorKind error;             ///< how it failed
  std::vector<std::size_t> replaced_by;  ///< indices in RepairedResolution::mappings; empty: left out whole
  std::vector<std::string> left_out;     ///< what the repaired mappings do not cover, and why
  std::size_t left_out_layers = 0;       ///< layers whose groups were left out
  Mapping original;                      ///< the mapping as it was given
};

struct RepairedResolution {
  MappingList mappings;  ///< the final list: untouched mappings and the repaired ones, in order
  std::vector<std::optional<std::size_t>> repaired_from;  ///< per final mapping: the original index
  std::vector<Repair> repairs;
  Resolution resolution;  ///< of `mappings`; its names view the model
};

/// Resolves `mappings`; a mapping that fails with multiple_smooth_layers or incomplete_set is
/// replaced by mappings scoped to groups of layers with the same balance targets, e.g.
/// `re:(?=model\.layers\.(?:0|1|2)\.).*post_attention_layernorm$`. Groups of layers where no
/// balance target matches are left out, and so is the whole mapping when nothing is left (its
/// smooth target matches no module, or no layer holds a balance target); each is reported in
/// Repair::left_out. Mappings that resolve cleanly are untouched. Throws the original
/// ResolutionError when a failure cannot be repaired (several smooth modules in one layer,
/// module_rematch, hook_target_missing).
AWQMAP_API RepairedResolution resolve_with_repair(const ModelView& model, const MappingList& mappings,
                                                  const ResolveOptions& options = {});

}  // namespace awqmap

// Code written when this header also declared explain() and coverage() keeps compiling.
#include "awqmap/coverage.hpp"
#include "awqmap/explain.hpp"
