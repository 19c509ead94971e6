#include "awqmap/toolkit.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "awqmap/error.hpp"

namespace awqmap::toolkit {

namespace {
[[noreturn]] void bad_config(const ModelView& model, const std::string& what) {
  throw InputError(model.origin() + ": config " + what);
}

// Where a field was read from, for messages: docs/semantics.md §4.1 step 1 prefers text_config.
std::string field_path(const ModelView& model, std::string_view key) {
  const auto& cfg = model.config();
  if (cfg.is_object()) {
    auto tc = cfg.find("text_config");
    if (tc != cfg.end() && tc->is_object()) {
      auto v = tc->find(std::string(key));
      if (v != tc->end() && !v->is_null()) return "text_config." + std::string(key);
    }
  }
  return std::string(key);
}

[[noreturn]] void too_many_layers(const ModelView& model, std::string_view key, std::string_view count) {
  throw InputError(model.origin() + ": config " + field_path(model, key) + " gives " + std::string(count) +
                   " layers, more than awqmap's layer limit of " + std::to_string(max_layers) +
                   " (see docs/limits.md); no real model has that many: check the config");
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != haystack.end();
}
}  // namespace

std::optional<std::int64_t> config_integer(const ModelView& model, std::string_view key) {
  const nlohmann::json* v = model.config_field(key);
  if (!v || v->is_null()) return std::nullopt;
  // The value's type, not its text: a hostile config may hold anything there.
  if (!v->is_number_integer())
    bad_config(model, field_path(model, key) + " must be an integer, not a " + std::string(v->type_name()));
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    bad_config(model, field_path(model, key) + " is too large");
  return v->get<std::int64_t>();
}

std::optional<std::vector<std::string>> layer_types(const ModelView& model) {
  const nlohmann::json* v = model.config_field("layer_types");
  if (v && !v->is_null()) {
    if (!v->is_array()) bad_config(model, field_path(model, "layer_types") + " must be a list of strings");
    if (v->size() > static_cast<std::size_t>(max_layers))
      too_many_layers(model, "layer_types", std::to_string(v->size()));
    std::vector<std::string> out;
    out.reserve(v->size());
    for (const auto& t : *v) {
      if (!t.is_string())
        bad_config(model, field_path(model, "layer_types") + " must be a list of strings, found a " +
                              std::string(t.type_name()));
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
  if (*layers > max_layers) too_many_layers(model, "num_hidden_layers", std::to_string(*layers));
  std::int64_t interval = config_integer(model, "full_attention_interval").value_or(4);
  if (interval < 1) bad_config(model, "full_attention_interval must be at least 1");
  std::vector<std::string> out;
  for (std::int64_t i = 0; i < *layers; ++i)
    out.emplace_back((i + 1) % interval != 0 ? "linear_attention" : "full_attention");
  return out;
}

std::vector<std::size_t> layer_indices(const std::vector<std::string>& types, std::int64_t num_layers,
                                       std::string_view type) {
  if (num_layers > static_cast<std::int64_t>(types.size()))
    throw InputError("config layer_types has " + std::to_string(types.size()) + " entries but num_hidden_layers is " +
                     std::to_string(num_layers) + "; give one type per layer");
  std::vector<std::size_t> out;
  for (std::int64_t i = 0; i < num_layers; ++i)
    if (types[static_cast<std::size_t>(i)] == type) out.push_back(static_cast<std::size_t>(i));
  return out;
}

std::string index_alternation(const std::vector<std::size_t>& indices) {
  std::string out;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (i) out += '|';
    out += std::to_string(indices[i]);
  }
  return out;
}

std::vector<std::string> linear_attention_projections(const ModelView& model) {
  std::vector<std::string> out;
  for (const Module& m : model.modules()) {
    if (m.name.find(".linear_attn.") == std::string_view::npos) continue;
    std::string_view tail = m.name.substr(m.name.rfind("linear_attn.") + std::string_view("linear_attn.").size());
    if (tail.rfind("in_proj_", 0) != 0) continue;
    if (std::find(out.begin(), out.end(), tail) == out.end()) out.emplace_back(tail);
  }
  return out;
}

bool has_moe_modules(const ModelView& model) {
  if (model.has_torch_class_names()) {
    return std::any_of(model.modules().begin(), model.modules().end(), [](const Module& m) {
      return m.type.find("MoE") != std::string_view::npos || m.type.find("Expert") != std::string_view::npos;
    });
  }
  return std::any_of(model.modules().begin(), model.modules().end(), [](const Module& m) {
    std::string_view n = m.name;
    auto dot = n.rfind('.');
    return (dot == std::string_view::npos ? n : n.substr(dot + 1)) == "experts";
  });
}

bool config_mentions_moe(const ModelView& model, const std::vector<std::string>& class_fields) {
  auto mentions = [](std::string_view key) {
    return !key.empty() && key[0] != '_' && (contains_ci(key, "moe") || contains_ci(key, "expert"));
  };
  if (std::any_of(class_fields.begin(), class_fields.end(), mentions)) return true;
  const auto& cfg = model.config();
  if (!cfg.is_object()) return false;
  for (auto it = cfg.begin(); it != cfg.end(); ++it)
    if (mentions(it.key())) return true;
  return false;
}

BuildResult build_hybrid_attention_mappings(const ModelView& model, const HybridAttentionOptions& options) {
  auto types = layer_types(model);
  auto layers = config_integer(model, "num_hidden_layers");
  if (!types || !layers) return BuildResult::decline("the config has no layer_types and no num_hidden_layers");
  if (*layers > max_layers) too_many_layers(model, "num_hidden_layers", std::to_string(*layers));
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
  auto projections = linear_attention_projections(model);
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
      std::vector<std::size_t> moe = layers_with(model, "mlp.experts"), dense;
      for (std::size_t i : layers_with(model, "mlp"))
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

std::vector<std::size_t> layers_with(const ModelView& model, std::string_view component) {
  // Every "layers.<digits>.<component>" in a name has its prefix as a module too (parents are
  // always listed), so it is found from the modules named "…layers" and their numbered
  // children with one lookup per layer, instead of searching every name of the model.
  std::vector<std::size_t> out;
  std::string wanted;
  for (std::size_t i = 0; i < model.size(); ++i) {
    const std::string_view n = model[static_cast<ModuleIndex>(i)].name;
    if (n.size() < 6 || n.compare(n.size() - 6, 6, "layers") != 0 || (n.size() > 6 && n[n.size() - 7] != '.'))
      continue;
    for (ModuleIndex c : model.children(static_cast<ModuleIndex>(i))) {
      const std::string_view item = model[c].name;
      const std::string_view digits = item.substr(n.size() + 1);
      if (digits.empty() || digits.size() > 9 ||
          !std::all_of(digits.begin(), digits.end(), [](char d) { return d >= '0' && d <= '9'; }))
        continue;
      wanted.assign(item.data(), item.size());
      wanted += '.';
      wanted.append(component.data(), component.size());
      if (model.find(wanted) == no_module) continue;
      std::size_t index = 0;  // at most 9 digits: no overflow
      for (char d : digits) index = index * 10 + static_cast<std::size_t>(d - '0');
      out.push_back(index);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace awqmap::toolkit
