#include "repair_plan.hpp"

#include <algorithm>
#include <map>

#include "../names.hpp"
#include "awqmap/error.hpp"

namespace awqmap::detail {
namespace {

// Python's re.escape for the characters module names can hold.
std::string regex_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("()[]{}?*+-|^$\\.&~# \t\n\r\v\f").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// `re:P` restricted to names under `scope` (a lookahead after any global flags); other targets
// are exact names or classes and stay as they are.
std::string scoped(const std::string& target, const std::string& scope) {
  if (!is_regex(target)) return target;
  std::string_view p = std::string_view(target).substr(3);
  std::size_t flags_end = 0;
  while (p.compare(flags_end, 2, "(?") == 0) {
    std::size_t j = flags_end + 2;
    while (j < p.size() && std::string_view("aiLmsux").find(p[j]) != std::string_view::npos) ++j;
    if (j == flags_end + 2 || j >= p.size() || p[j] != ')') break;
    flags_end = j + 1;
  }
  return "re:" + std::string(p.substr(0, flags_end)) + scope + std::string(p.substr(flags_end));
}

std::string layer_indices(const ModelView& model, const std::vector<ModuleIndex>& layers) {
  std::vector<std::string_view> idx;
  for (ModuleIndex l : layers) idx.push_back(last_component(model[l].name));
  return index_ranges(idx);
}

std::string target_names(const Mapping& m, std::uint64_t mask, bool present) {
  std::string out;
  for (std::size_t b = 0; b < m.balance_layers.size(); ++b)
    if (is_regex(m.balance_layers[b]) && (((mask >> b) & 1) != 0) == present)
      out += (out.empty() ? "" : ", ") + m.balance_layers[b];
  return out;
}

bool has_exact_targets(const Mapping& m) {
  return std::any_of(m.balance_layers.begin(), m.balance_layers.end(),
                     [](const std::string& t) { return !is_regex(t); });
}

}  // namespace

std::string index_ranges(std::vector<std::string_view> items) {
  std::vector<std::uint64_t> nums;
  std::string others;
  for (auto s : items) {
    if (auto n = parse_index(s, 9))
      nums.push_back(*n);
    else
      others += (others.empty() ? "" : ", ") + std::string(s);
  }
  std::sort(nums.begin(), nums.end());
  nums.erase(std::unique(nums.begin(), nums.end()), nums.end());
  std::string out;
  for (std::size_t i = 0; i < nums.size();) {
    std::size_t j = i;
    while (j + 1 < nums.size() && nums[j + 1] == nums[j] + 1) ++j;
    out += (out.empty() ? "" : ", ") + std::to_string(nums[i]) + (j > i ? "-" + std::to_string(nums[j]) : "");
    i = j + 1;
  }
  if (!others.empty()) out += (out.empty() ? "" : ", ") + others;
  return out;
}

LayerAnalysis analyse(const ModelView& model, const Mapping& mapping, MatchTable& table,
                      const std::vector<ModuleIndex>& layer_of) {
  LayerAnalysis a;
  const auto& balance = mapping.balance_layers;
  if (balance.size() > 64) {
    a.too_many_targets = true;
    return a;
  }
  std::vector<std::uint64_t> present(model.size(), 0);
  for (std::size_t b = 0; b < balance.size(); ++b) {
    if (!is_regex(balance[b])) continue;
    const auto& hits = table.hits(balance[b], "balance target " + balance[b]);
    for (std::size_t i = 0; i < hits.size(); ++i)
      if (hits[i])
        for (ModuleIndex l = layer_of[i]; l != no_module; l = layer_of[l]) present[l] |= std::uint64_t{1} << b;
  }
  const auto& smooth_hits = table.hits(mapping.smooth_layer, "smooth target " + mapping.smooth_layer);
  std::map<std::pair<ModuleIndex, std::uint64_t>, std::size_t> group_of;
  for (std::size_t i = 0; i < smooth_hits.size(); ++i) {
    if (!smooth_hits[i]) continue;
    ModuleIndex layer = layer_of[i];
    if (layer == no_module) {
      a.no_layer.push_back(static_cast<ModuleIndex>(i));
      continue;
    }
    auto key = std::make_pair(model[layer].parent, present[layer]);
    auto [it, fresh] = group_of.emplace(key, a.groups.size());
    if (fresh) a.groups.push_back({key.first, key.second, {}, {}});
    auto& g = a.groups[it->second];
    if (g.layers.empty() || g.layers.back() != layer) g.layers.push_back(layer);
    g.smooth.push_back(static_cast<ModuleIndex>(i));
  }
  return a;
}

std::string describe(const ModelView& model, const Mapping& m, const LayerAnalysis::Group& g) {
  std::string where = std::string(model[g.list].name) + " " + layer_indices(model, g.layers);
  std::string missing = target_names(m, g.present, false);
  if (target_names(m, g.present, true).empty() && !has_exact_targets(m))
    return where + ": no balance target matches there (" + missing + ")";
  return where + (missing.empty() ? ": every balance target matches" : ": no match for " + missing);
}

RepairPlan plan_repair(const ModelView& model, const Mapping& mapping, MatchTable& table,
                       const std::vector<ModuleIndex>& layer_of) {
  RepairPlan plan;
  LayerAnalysis a = analyse(model, mapping, table, layer_of);
  if (a.too_many_targets) {
    plan.why_not = "it has more than 64 balance targets";
    return plan;
  }
  for (const auto& g : a.groups) {
    if (g.present == 0 && !has_exact_targets(mapping)) {
      plan.left_out.push_back(describe(model, mapping, g));
      plan.left_out_layers += g.layers.size();
      continue;
    }
    if (g.smooth.size() > g.layers.size()) {
      plan.why_not = std::string(model[g.list].name) + " " + layer_indices(model, g.layers) +
                     ": several smooth modules in one layer; narrow the smooth pattern";
      return plan;
    }
    std::string alternation;
    for (ModuleIndex l : g.layers)
      alternation += (alternation.empty() ? "" : "|") + std::string(last_component(model[l].name));
    const std::string scope = "(?=" + regex_escape(model[g.list].name) + "\\.(?:" + alternation + ")\\.)";
    Mapping r;
    r.smooth_layer = scoped(mapping.smooth_layer, scope);
    for (std::size_t b = 0; b < mapping.balance_layers.size(); ++b) {
      const std::string& t = mapping.balance_layers[b];
      if (!is_regex(t))
        r.balance_layers.push_back(t);
      else if ((g.present >> b) & 1)
        r.balance_layers.push_back(scoped(t, scope));
    }
    r.activation_hook_target = mapping.activation_hook_target;
    plan.replacements.push_back(std::move(r));
  }
  for (ModuleIndex s : a.no_layer)
    plan.left_out.push_back(std::string(model[s].name) + ": in no layer (no ancestor is an item of a ModuleList)");
  if (a.groups.empty() && a.no_layer.empty())
    plan.left_out.push_back("the smooth target " + mapping.smooth_layer +
                            " matches no module, so nothing can be smoothed for its balance targets");
  // The replacements must resolve on their own.
  for (std::size_t r = 0; r < plan.replacements.size(); ++r) {
    try {
      resolve_mapping(model, plan.replacements, r, table);
    } catch (const ResolutionError& e) {
      plan.why_not = "its scoped form " + plan.replacements[r].smooth_layer + " still fails (" +
                     std::string(to_string(e.kind())) + ")";
      plan.replacements.clear();
      return plan;
    }
  }
  plan.repairable = true;
  return plan;
}

}  // namespace awqmap::detail
