#pragma once
// Checkpoint adaptations (docs/semantics.md §8): what an architecture's plugin declared about the way its
// checkpoints differ from the model torch builds (key renames, tensors the model drops, fused
// expert tensors), plus the multi-token-prediction layers every loader drops. Applied while
// the tensors become modules.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "awqmap/checkpoint.hpp"
#include "awqmap/limits.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/target.hpp"
#include "key_rename.hpp"
#include "module_tree.hpp"
#include "safetensors.hpp"

namespace awqmap::detail {

struct CompiledAdaptations {
  std::vector<CompiledKeyRename> renames;
  std::vector<std::pair<std::string, Target>> drops;
  std::vector<FusedExpertSplit> fused_experts;
};

CompiledAdaptations compile_adaptations(const CheckpointAdaptations& adaptations, const std::string& architecture);

/// Every tensor of `set`, renamed, dropped or split as declared, becomes modules of `tree`.
/// Decoder layers with index >= `num_hidden_layers` are dropped (docs/semantics.md §8).
void add_tensors(TensorSet& set, const CompiledAdaptations& adaptations, std::optional<std::uint64_t> num_hidden_layers,
                 const std::string& architecture, const InputLimits& limits, ModuleTreeBuilder& tree,
                 CheckpointSummary& summary);

}  // namespace awqmap::detail
