#pragma once
// Hugging Face checkpoint directories as models (docs/semantics.md §8): config.json plus model.safetensors,
// or model.safetensors.index.json and the shards it names. Only each shard's 8-byte header
// length and JSON header are read, never tensor data. Files are opened by the rules of
// docs/limits.md: regular files only, inside the checkpoint directory (or the Hugging Face
// cache blobs/ folder its links point into), each read with a size limit.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "awqmap/export.hpp"
#include "awqmap/limits.hpp"
#include "awqmap/model.hpp"

namespace awqmap {

class Registry;

struct CheckpointOptions {
  /// Overrides config.json `architectures[0]`.
  std::optional<std::string> architecture;
  /// Source of the architecture's checkpoint adaptations (dropped tensors, renames, fused
  /// expert splits); none are applied without it.
  const Registry* registry = nullptr;
  /// Bounds on what the files may make the loader read or build.
  InputLimits limits = {};
};

/// Tensors the loader did not turn into modules, by reason.
struct DroppedTensors {
  std::string reason;  ///< e.g. "matches mtp\\. (registered by qwen3_next)"
  std::size_t count = 0;
};

struct CheckpointSummary {
  std::size_t shards = 0;
  std::size_t tensors = 0;  ///< tensors in the shard headers
  std::vector<DroppedTensors> dropped;
  std::size_t renamed = 0;
  std::size_t fused_split = 0;  ///< fused expert tensors split into per-expert modules
};

/// Module tree rules (docs/semantics.md §8): tensor `a.b.c.<param>` belongs to module `a.b.c`; a module
/// with a 2-D `weight` is Linear (out = shape[0], in = shape[1]) unless its last name
/// component contains `embed` or is `wte`/`wpe` (an Embedding); a module whose children are all decimal
/// integers is a ModuleList; any other module is a `Module`. Order: depth-first; among
/// siblings a vision tower (`vision_tower`, `vision_model`, `visual`) comes first and
/// `multi_modal_projector` next, as torch registers them, then numeric-aware name order.
/// Decoder layers (`<...>.layers.<i>` outside vision/audio towers) with i >= num_hidden_layers
/// are multi-token-prediction layers the model drops.
/// Throws InputError naming the file at fault; a limit exceeded is named too.
AWQMAP_API ModelView load_checkpoint(const std::string& directory, const CheckpointOptions& options = {},
                                     CheckpointSummary* summary = nullptr);

/// A model description file or a checkpoint directory, whichever `path` is.
AWQMAP_API ModelView load_model(const std::string& path, const CheckpointOptions& options = {},
                                CheckpointSummary* summary = nullptr);

}  // namespace awqmap
