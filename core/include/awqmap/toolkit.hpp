#pragma once
// What dynamic builders share, so that a plugin holds only its architecture's knowledge:
// layer types, index lists, projection and MoE detection, index alternations, and the hybrid
// attention builder of Qwen3-Next and Qwen3.5 (docs/semantics.md §4.1).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "awqmap/export.hpp"
#include "awqmap/model.hpp"
#include "awqmap/plugin.hpp"

namespace awqmap::toolkit {

/// The most layers a config may give (`num_hidden_layers`, or the length of `layer_types`):
/// generous for real models (the largest have a few hundred), small enough that a hostile
/// config cannot make awqmap allocate without bound (docs/limits.md).
inline constexpr std::int64_t max_layers = 100000;

/// `config.text_config.<key>` when present and not null, else `config.<key>` (docs/semantics.md §4.1 step 1).
inline const nlohmann::json* config_field(const ModelView& model, std::string_view key) {
  return model.config_field(key);
}

/// An integer config field; nullopt when absent or null. Throws InputError when it is present
/// but not an integer.
AWQMAP_API std::optional<std::int64_t> config_integer(const ModelView& model, std::string_view key);

/// Per-layer attention types, as transformers gives them to upstream:
/// `layer_types` when the config has it, with the legacy names renamed (`attention` →
/// `full_attention`, `mamba` → `linear_attention`); otherwise derived from
/// `num_hidden_layers` and `full_attention_interval` (default 4): layer i is
/// `linear_attention` when (i + 1) % interval != 0, else `full_attention`.
/// nullopt when neither `layer_types` nor `num_hidden_layers` is available.
/// Throws InputError on malformed values (not a list of strings, interval < 1) and on more
/// than max_layers layers, before allocating anything for them.
AWQMAP_API std::optional<std::vector<std::string>> layer_types(const ModelView& model);

/// Indices i in [0, num_layers) whose type is `type`. Throws InputError when `types` has fewer
/// than `num_layers` entries.
AWQMAP_API std::vector<std::size_t> layer_indices(const std::vector<std::string>& types, std::int64_t num_layers,
                                                  std::string_view type);

/// "3|7": indices joined by `|`, for patterns like `re:.*layers\.(3|7)\.input_layernorm$`.
AWQMAP_API std::string index_alternation(const std::vector<std::size_t>& indices);

/// docs/semantics.md §4.1 step 4: for module names containing `.linear_attn.`, the text after the last
/// `linear_attn.` when it starts with `in_proj_`; de-duplicated in first-seen order.
AWQMAP_API std::vector<std::string> linear_attention_projections(const ModelView& model);

/// docs/semantics.md §4.1 step 5 (upstream's is_moe_model), in two parts.
/// Modules: some module's own class name contains `MoE` or `Expert` (case-sensitive). On
/// checkpoint-derived trees, which carry no class names, a module named `experts` (a name
/// component) counts instead: that is where every MoE checkpoint keeps its experts.
AWQMAP_API bool has_moe_modules(const ModelView& model);
/// Config: some public (not `_`-prefixed) top-level key of config.json, or one of
/// `class_fields` (the fields the architecture's config class always has), contains `moe` or
/// `expert`, case-insensitively. Keys under `text_config` do not count.
AWQMAP_API bool config_mentions_moe(const ModelView& model, const std::vector<std::string>& class_fields = {});

/// Indices i, ascending and distinct, of layers holding a module `<...>layers.<i>.<component>` or
/// something under it (a name component match, e.g. component "mlp.experts").
AWQMAP_API std::vector<std::size_t> layers_with(const ModelView& model, std::string_view component);

/// What a hybrid-attention architecture contributes to the shared builder.
struct HybridAttentionOptions {
  /// Fields the architecture's config class always has (see config_mentions_moe).
  std::vector<std::string> config_class_fields;
  /// Puts the MoE router (`mlp.gate`) into the post-attention group. It reads the same normed
  /// input as the experts, so the group is an exact rescaling only with it; upstream's builder
  /// leaves it out (keep false to reproduce upstream). With it, models that mix dense and MoE
  /// layers (Qwen3-Next `mlp_only_layers`) get one post-attention mapping per kind, scoped by
  /// layer index, so that neither collapses into the other.
  bool include_router = false;
};

/// The Qwen3-Next / Qwen3.5 builder (docs/semantics.md §4.1): declines, with the reason, when the model is
/// not hybrid.
AWQMAP_API BuildResult build_hybrid_attention_mappings(const ModelView& model, const HybridAttentionOptions& options);

}  // namespace awqmap::toolkit
