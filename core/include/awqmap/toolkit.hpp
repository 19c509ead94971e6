#pragma once
// What dynamic builders share, so that a plugin holds only its architecture's knowledge:
// layer types, index lists, projection and MoE detection, index alternations, and the hybrid
// attention builder of Qwen3-Next and Qwen3.5 (docs/semantics.md §4.1).
//
// Header-only, over the plugin-side model of <awqmap/plugin.hpp>: it compiles into each plugin
// and nothing of it crosses into the core. Errors are awqmap::plugin::Error; a builder that lets
// one escape fails with its message, which names the model and the config field.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "awqmap/plugin.hpp"

namespace awqmap::toolkit {

using plugin::Model;

/// The most layers a config may give (`num_hidden_layers`, or the length of `layer_types`):
/// generous for real models (the largest have a few hundred), small enough that a hostile
/// config cannot make awqmap allocate without bound (docs/limits.md).
inline constexpr std::int64_t max_layers = 100000;

/// The most distinct linear-attention projection names (`linear_attn.in_proj_*`) the hybrid
/// builder takes from a model: each becomes a pattern matched against every module, so a
/// checkpoint of n such modules would cost n x n matches. Real models have two to four
/// (docs/limits.md).
inline constexpr std::size_t max_linear_attention_projections = 16;

/// `config.text_config.<key>` when present and not null, else `config.<key>` (docs/semantics.md §4.1 step 1).
inline plugin::Config config_field(const Model& model, std::string_view key) {
  return model.config_field(key);
}

namespace detail {
[[noreturn]] inline void bad_config(const Model& model, const std::string& what) {
  throw plugin::Error(model.origin() + ": config " + what);
}

// Where a field was read from, for messages: docs/semantics.md §4.1 step 1 prefers text_config.
inline std::string field_path(const Model& model, std::string_view key) {
  const plugin::Config tc = model.config().find("text_config");
  if (tc.is_object() && !tc.find(key).is_null()) return "text_config." + std::string(key);
  return std::string(key);
}

[[noreturn]] inline void too_many_layers(const Model& model, std::string_view key, const std::string& count) {
  throw plugin::Error(model.origin() + ": config " + field_path(model, key) + " gives " + count +
                      " layers, more than awqmap's layer limit of " + std::to_string(max_layers) +
                      " (see docs/limits.md); no real model has that many: check the config");
}

inline bool contains_ci(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != haystack.end();
}
}  // namespace detail

/// An integer config field; nullopt when absent or null. Throws plugin::Error when it is
/// present but not an integer.
inline std::optional<std::int64_t> config_integer(const Model& model, std::string_view key) {
  const plugin::Config v = model.config_field(key);
  if (v.is_null()) return std::nullopt;
  // The value's type, not its text: a hostile config may hold anything there.
  if (!v.is_number_integer())
    detail::bad_config(model, detail::field_path(model, key) + " must be an integer, not a " + v.type_name());
  std::int64_t out = 0;
  if (awqmap_config_int(v.handle(), &out) != AWQMAP_PLUGIN_OK)
    detail::bad_config(model, detail::field_path(model, key) + " is too large");
  return out;
}

/// Per-layer attention types, as transformers gives them to upstream:
/// `layer_types` when the config has it, with the legacy names renamed (`attention` →
/// `full_attention`, `mamba` → `linear_attention`); otherwise derived from
/// `num_hidden_layers` and `full_attention_interval` (default 4): layer i is
/// `linear_attention` when (i + 1) % interval != 0, else `full_attention`.
/// nullopt when neither `layer_types` nor `num_hidden_layers` is available.
/// Throws plugin::Error on malformed values (not a list of strings, interval < 1) and on more
/// than max_layers layers, before allocating anything for them.
inline std::optional<std::vector<std::string>> layer_types(const Model& model) {
  const plugin::Config v = model.config_field("layer_types");
  if (!v.is_null()) {
    if (!v.is_array()) detail::bad_config(model, detail::field_path(model, "layer_types") + " must be a list of strings");
    if (v.size() > static_cast<std::size_t>(max_layers))
      detail::too_many_layers(model, "layer_types", std::to_string(v.size()));
    std::vector<std::string> out;
    out.reserve(v.size());
    for (const plugin::Config t : v) {
      if (!t.is_string())
        detail::bad_config(model, detail::field_path(model, "layer_types") + " must be a list of strings, found a " +
                                      t.type_name());
      std::string s = t.get<std::string>();
      if (s == "attention")
        s = "full_attention";
      else if (s == "mamba")
        s = "linear_attention";
      out.push_back(std::move(s));
    }
    return out;
  }
  auto layers = config_integer(model, "num_hidden_layers");
  if (!layers) return std::nullopt;
  // Checked before anything is allocated for the layers.
  if (*layers > max_layers) detail::too_many_layers(model, "num_hidden_layers", std::to_string(*layers));
  std::int64_t interval = config_integer(model, "full_attention_interval").value_or(4);
  if (interval < 1) detail::bad_config(model, "full_attention_interval must be at least 1");
  std::vector<std::string> out;
  for (std::int64_t i = 0; i < *layers; ++i)
    out.emplace_back((i + 1) % interval != 0 ? "linear_attention" : "full_attention");
  return out;
}

/// Indices i in [0, num_layers) whose type is `type`. Throws plugin::Error when `types` has
/// fewer than `num_layers` entries.
inline std::vector<std::size_t> layer_indices(const std::vector<std::string>& types, std::int64_t num_layers,
                                              std::string_view type) {
  if (num_layers > static_cast<std::int64_t>(types.size()))
    throw plugin::Error("config layer_types has " + std::to_string(types.size()) +
                        " entries but num_hidden_layers is " + std::to_string(num_layers) +
                        "; give one type per layer");
  std::vector<std::size_t> out;
  for (std::int64_t i = 0; i < num_layers; ++i)
    if (types[static_cast<std::size_t>(i)] == type) out.push_back(static_cast<std::size_t>(i));
  return out;
}

/// "3|7": indices joined by `|`, for patterns like `re:.*layers\.(3|7)\.input_layernorm$`.
inline std::string index_alternation(const std::vector<std::size_t>& indices) {
  std::string out;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (i) out += '|';
    out += std::to_string(indices[i]);
  }
  return out;
}

namespace detail {
// The modules the hybrid builder's questions start from, found in one pass over the names (the
// only pass over every module a builder makes: at 100k modules each pass costs milliseconds):
// modules named "…layers" or "layers", whose numbered children are the layers, and modules
// named "….linear_attn", below which the linear-attention projections sit.
struct NamedAnchors {
  std::vector<plugin::ModuleIndex> layer_lists;
  std::vector<plugin::ModuleIndex> linear_attention;
};

inline NamedAnchors named_anchors(const Model& model) {
  NamedAnchors out;
  const std::size_t count = model.size();
  const awqmap_plugin_model* const handle = model.handle();
  std::size_t len = 0;  // the accessor sets it on every call
  for (std::size_t i = 0; i < count; ++i) {
    const char* s = awqmap_model_view_module_name(handle, static_cast<plugin::ModuleIndex>(i), &len);
    const std::string_view n = plugin::detail::text(s, len);
    constexpr std::string_view layers = "layers", la = ".linear_attn";
    if (n.empty() || (n.back() != 's' && n.back() != 'n')) continue;  // most names end otherwise
    if (n.size() >= layers.size() && n.compare(n.size() - layers.size(), layers.size(), layers) == 0 &&
        (n.size() == layers.size() || n[n.size() - layers.size() - 1] == '.'))
      out.layer_lists.push_back(static_cast<plugin::ModuleIndex>(i));
    else if (n.size() >= la.size() && n.compare(n.size() - la.size(), la.size(), la) == 0)
      out.linear_attention.push_back(static_cast<plugin::ModuleIndex>(i));
  }
  return out;
}

inline std::vector<std::string> linear_attention_projections(const Model& model, const NamedAnchors& anchors) {
  // A name holds ".linear_attn." exactly when it lies below a module named "….linear_attn"
  // (a name's prefixes are all modules), so the subtrees of those modules hold every candidate.
  // Visited in module order, as the first-seen order of the projections is the model's.
  std::vector<plugin::ModuleIndex> below, stack;
  for (plugin::ModuleIndex a : anchors.linear_attention) {
    stack.assign(1, a);
    while (!stack.empty()) {
      const plugin::ModuleIndex at = stack.back();
      stack.pop_back();
      for (plugin::ModuleIndex c : model.children(at)) {
        below.push_back(c);
        stack.push_back(c);
      }
    }
  }
  std::sort(below.begin(), below.end());
  below.erase(std::unique(below.begin(), below.end()), below.end());  // nested linear_attn modules
  std::vector<std::string> out;
  constexpr std::string_view key = "linear_attn.";
  for (plugin::ModuleIndex i : below) {
    std::size_t len = 0;
    const char* s = awqmap_model_view_module_name(model.handle(), i, &len);
    const std::string_view name = plugin::detail::text(s, len);
    const std::string_view tail = name.substr(name.rfind(key) + key.size());
    if (tail.rfind("in_proj_", 0) != 0) continue;
    if (std::find(out.begin(), out.end(), tail) != out.end()) continue;
    if (out.size() == max_linear_attention_projections)
      throw plugin::Error(model.origin() + ": more than " + std::to_string(max_linear_attention_projections) +
                          " distinct linear-attention projections (modules named linear_attn.in_proj_*), over awqmap's "
                          "limit (see docs/limits.md); real hybrid models have two to four: check the checkpoint");
    out.emplace_back(tail);
  }
  return out;
}

inline std::vector<std::size_t> layers_with(const Model& model, const NamedAnchors& anchors,
                                            std::string_view component) {
  // Every "layers.<digits>.<component>" in a name has its prefix as a module too (parents are
  // always listed), so it is found from the modules named "…layers" and their numbered
  // children with one lookup per layer, instead of searching every name of the model.
  std::vector<std::size_t> out;
  std::string wanted;
  for (plugin::ModuleIndex list : anchors.layer_lists) {
    std::size_t len = 0;
    const char* s = awqmap_model_view_module_name(model.handle(), list, &len);
    const std::string_view n = plugin::detail::text(s, len);
    for (plugin::ModuleIndex c : model.children(list)) {
      s = awqmap_model_view_module_name(model.handle(), c, &len);
      const std::string_view item = plugin::detail::text(s, len);
      if (item.size() <= n.size()) continue;
      const std::string_view digits = item.substr(n.size() + 1);
      if (digits.empty() || digits.size() > 9 ||
          !std::all_of(digits.begin(), digits.end(), [](char d) { return d >= '0' && d <= '9'; }))
        continue;
      wanted.assign(item.data(), item.size());
      wanted += '.';
      wanted.append(component.data(), component.size());
      if (model.find(wanted) == plugin::no_module) continue;
      std::size_t index = 0;  // at most 9 digits: no overflow
      for (char d : digits) index = index * 10 + static_cast<std::size_t>(d - '0');
      out.push_back(index);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}
}  // namespace detail

/// docs/semantics.md §4.1 step 4: for module names containing `.linear_attn.`, the text after the last
/// `linear_attn.` when it starts with `in_proj_`; de-duplicated in first-seen order. Throws
/// plugin::Error on more than max_linear_attention_projections of them.
inline std::vector<std::string> linear_attention_projections(const Model& model) {
  return detail::linear_attention_projections(model, detail::named_anchors(model));
}

/// docs/semantics.md §4.1 step 5 (upstream's is_moe_model), in two parts.
/// Modules: some module's own class name contains `MoE` or `Expert` (case-sensitive). On
/// checkpoint-derived trees, which carry no class names, a module named `experts` (a name
/// component) counts instead: that is where every MoE checkpoint keeps its experts.
inline bool has_moe_modules(const Model& model) {
  // One accessor call per module (a whole plugin::Module takes seven): a dense model is scanned
  // to the end.
  const bool by_class = model.has_torch_class_names();
  const std::size_t count = model.size();
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t len = 0;
    const auto at = static_cast<plugin::ModuleIndex>(i);
    if (by_class) {
      const char* s = awqmap_model_view_module_type(model.handle(), at, &len);
      const std::string_view type = plugin::detail::text(s, len);
      if (type.find("MoE") != std::string_view::npos || type.find("Expert") != std::string_view::npos) return true;
    } else {
      const char* s = awqmap_model_view_module_name(model.handle(), at, &len);
      const std::string_view n = plugin::detail::text(s, len);
      const auto dot = n.rfind('.');
      if ((dot == std::string_view::npos ? n : n.substr(dot + 1)) == "experts") return true;
    }
  }
  return false;
}

/// Config: some public (not `_`-prefixed) top-level key of config.json, or one of
/// `class_fields` (the fields the architecture's config class always has), contains `moe` or
/// `expert`, case-insensitively. Keys under `text_config` do not count.
inline bool config_mentions_moe(const Model& model, const std::vector<std::string>& class_fields = {}) {
  auto mentions = [](std::string_view key) {
    return !key.empty() && key[0] != '_' && (detail::contains_ci(key, "moe") || detail::contains_ci(key, "expert"));
  };
  if (std::any_of(class_fields.begin(), class_fields.end(), mentions)) return true;
  // Walked one member at a time: a config with many keys costs a lookup per key.
  const awqmap_config_node* root = model.config().handle();
  const char* key = nullptr;
  std::size_t n = 0;
  const awqmap_config_node* value = nullptr;
  while (awqmap_config_next(root, key, n, &key, &n, &value))
    if (mentions(std::string_view(key, n))) return true;
  return false;
}

/// Indices i, ascending and distinct, of layers holding a module `<...>layers.<i>.<component>` or
/// something under it (a name component match, e.g. component "mlp.experts").
inline std::vector<std::size_t> layers_with(const Model& model, std::string_view component) {
  return detail::layers_with(model, detail::named_anchors(model), component);
}

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
inline BuildResult build_hybrid_attention_mappings(const Model& model, const HybridAttentionOptions& options) {
  auto types = layer_types(model);
  auto layers = config_integer(model, "num_hidden_layers");
  if (!types || !layers) return BuildResult::decline("the config has no layer_types and no num_hidden_layers");
  if (*layers > max_layers) detail::too_many_layers(model, "num_hidden_layers", std::to_string(*layers));
  if (std::find(types->begin(), types->end(), "full_attention") == types->end() ||
      std::find(types->begin(), types->end(), "linear_attention") == types->end())
    return BuildResult::decline("layer_types does not mix full_attention and linear_attention: not a hybrid model");
  auto full = layer_indices(*types, *layers, "full_attention");
  auto linear = layer_indices(*types, *layers, "linear_attention");
  if (full.empty() || linear.empty())
    return BuildResult::decline("no full-attention or no linear-attention layer among the first " +
                                std::to_string(*layers) + " layers");

  MappingList m;
  m.push_back({"re:.*layers\\.(" + index_alternation(full) + ")\\.input_layernorm$",
               {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}});
  const detail::NamedAnchors anchors = detail::named_anchors(model);
  auto projections = detail::linear_attention_projections(model, anchors);
  if (!projections.empty()) {
    std::vector<std::string> balance;
    for (const auto& p : projections) balance.push_back("re:.*linear_attn." + p + "$");
    m.push_back({"re:.*layers\\.(" + index_alternation(linear) + ")\\.input_layernorm$", balance});
  }
  if (has_moe_modules(model) || config_mentions_moe(model, options.config_class_fields)) {
    std::vector<std::string> balance = {"re:.*mlp.experts.*.gate_proj$", "re:.*mlp.experts.*.up_proj$",
                                        "re:.*mlp.shared_expert_gate$", "re:.*mlp.shared_expert.gate_proj$",
                                        "re:.*mlp.shared_expert.up_proj$"};
    if (!options.include_router) {
      m.push_back({"re:.*post_attention_layernorm$", std::move(balance)});
    } else {
      balance.insert(balance.begin(), "re:.*mlp.gate$");
      std::vector<std::size_t> moe = detail::layers_with(model, anchors, "mlp.experts"), dense;
      for (std::size_t i : detail::layers_with(model, anchors, "mlp"))
        if (!std::binary_search(moe.begin(), moe.end(), i)) dense.push_back(i);
      if (moe.empty() || dense.empty()) {
        m.push_back({"re:.*post_attention_layernorm$", std::move(balance)});
      } else {
        m.push_back({"re:.*layers\\.(" + index_alternation(moe) + ")\\.post_attention_layernorm$", std::move(balance)});
        m.push_back({"re:.*layers\\.(" + index_alternation(dense) + ")\\.post_attention_layernorm$",
                     {"re:.*mlp.gate_proj$", "re:.*mlp.up_proj$"}});
      }
    }
  } else {
    m.push_back({"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}});
  }
  m.push_back({"re:.*up_proj$", {"re:.*down_proj$"}});
  return BuildResult::use(std::move(m));
}

}  // namespace awqmap::toolkit
