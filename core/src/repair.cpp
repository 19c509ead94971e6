#include "awqmap/repair.hpp"

#include <algorithm>
#include <cstdint>
#include <map>

#include "match_table.hpp"

namespace awqmap {
namespace {

using detail::MatchTable;

bool is_regex(const std::string& target) {
  return target.rfind("re:", 0) == 0;
}

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

std::string_view last_component(std::string_view name) {
  auto dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

// "0-2, 5, 7-9" for indices in ascending order; non-numeric layer names are listed as they are.
std::string index_ranges(std::vector<std::string_view> items) {
  auto numeric = [](std::string_view s) {
    return !s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::vector<long> nums;
  std::string others;
  for (auto s : items) {
    if (numeric(s))
      nums.push_back(std::stol(std::string(s)));
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

// For one mapping: per layer, which balance targets match something inside it.
struct LayerAnalysis {
  struct Group {
    ModuleIndex list;                 // the ModuleList holding the layers
    std::uint64_t present;            // bit b: regex balance target b matches inside the layer
    std::vector<ModuleIndex> layers;  // in module order, distinct
    std::vector<ModuleIndex> smooth;
  };
  std::vector<Group> groups;          // in order of first appearance
  std::vector<ModuleIndex> no_layer;  // smooth modules outside any layer
  bool too_many_targets = false;
};

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

// The layers of a group, described: "model.layers 0-2: no match for re:.*mlp.gate$".
std::string describe(const ModelView& model, const Mapping& m, const LayerAnalysis::Group& g) {
  std::string where = std::string(model[g.list].name) + " " + layer_indices(model, g.layers);
  std::string missing = target_names(m, g.present, false);
  if (target_names(m, g.present, true).empty() && !has_exact_targets(m))
    return where + ": no balance target matches there (" + missing + ")";
  return where + (missing.empty() ? ": every balance target matches" : ": no match for " + missing);
}

// What --repair does with one failing mapping: replace it by mappings scoped to groups of
// layers, leave groups (or the whole mapping) out with the reason, or nothing at all when the
// failure cannot be repaired. resolve_with_repair and explain share this, so the explanation
// never promises what --repair then refuses.
struct RepairPlan {
  bool repairable = false;
  MappingList replacements;            // empty: the whole mapping is left out
  std::vector<std::string> left_out;   // what is left out, and why
  std::size_t left_out_layers = 0;
  std::string why_not;                 // when !repairable
};

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
      detail::resolve_mapping(model, plan.replacements, r, table);
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

}  // namespace

RepairedResolution resolve_with_repair(const ModelView& model, const MappingList& mappings,
                                       const ResolveOptions& options) {
  MatchTable table(model, options);
  const std::vector<ModuleIndex> layer_of = detail::layer_of_modules(model);
  RepairedResolution out;
  for (std::size_t k = 0; k < mappings.size(); ++k) {
    const Mapping& mapping = mappings[k];
    try {
      detail::resolve_mapping(model, mappings, k, table);
      out.mappings.push_back(mapping);
      out.repaired_from.push_back(std::nullopt);
      continue;
    } catch (const ResolutionError& e) {
      if (e.kind() != ResolutionErrorKind::multiple_smooth_layers && e.kind() != ResolutionErrorKind::incomplete_set)
        throw;
      RepairPlan plan = plan_repair(model, mapping, table, layer_of);
      if (!plan.repairable) throw;
      Repair repair{k, e.kind(), {}, std::move(plan.left_out), plan.left_out_layers, mapping};
      for (auto& r : plan.replacements) {
        repair.replaced_by.push_back(out.mappings.size());
        out.mappings.push_back(std::move(r));
        out.repaired_from.push_back(k);
      }
      out.repairs.push_back(std::move(repair));
    }
  }
  out.resolution = resolve(model, out.mappings, options);
  return out;
}

std::string explain(const ModelView& model, const MappingList& mappings, const ResolutionError& error,
                    const ResolveOptions& options) {
  const std::size_t k = error.mapping_index();
  if (k >= mappings.size()) return "mapping " + std::to_string(k) + " is not in the mapping list";
  const Mapping& m = mappings[k];
  std::string head = "mapping " + std::to_string(k) + " (smooth " + m.smooth_layer + ")";
  switch (error.kind()) {
    case ResolutionErrorKind::module_rematch: {
      std::string targets;
      for (const auto& t : error.targets()) targets += (targets.empty() ? "" : " and ") + t;
      return head + ": module " + (error.modules().empty() ? std::string("?") : error.modules()[0]) + " matches both " +
             targets + "; make the patterns exclusive (e.g. end them with \\.name$) so each module matches one target";
    }
    case ResolutionErrorKind::hook_target_missing: {
      std::string parent = error.modules().size() > 0 ? error.modules()[0] : "";
      std::string looked = error.modules().size() > 1 ? error.modules()[1] : "";
      std::string out = head + ": looked for module '" + looked + "' (activation_hook_target '" +
                        m.activation_hook_target.value_or("") + "' under parent '" + parent + "')";
      ModuleIndex p = model.find(parent);
      if (p != no_module) {
        std::string kids;
        for (ModuleIndex c : model.children(p))
          kids += (kids.empty() ? "" : ", ") + std::string(last_component(model[c].name));
        out += "; the parent's children are: " + (kids.empty() ? std::string("none") : kids);
      }
      return out;
    }
    case ResolutionErrorKind::multiple_smooth_layers:
    case ResolutionErrorKind::incomplete_set: break;
  }
  MatchTable table(model, options);
  const std::vector<ModuleIndex> layer_of = detail::layer_of_modules(model);
  LayerAnalysis a = analyse(model, m, table, layer_of);
  std::vector<std::string> lines;
  for (const auto& g : a.groups) lines.push_back(describe(model, m, g));
  if (!a.no_layer.empty()) {
    std::string names;
    for (ModuleIndex s : a.no_layer) names += (names.empty() ? "" : ", ") + std::string(model[s].name);
    lines.push_back("smooth modules in no layer: " + names);
  }
  if (error.kind() == ResolutionErrorKind::multiple_smooth_layers && !error.modules().empty()) {
    // Where the collapsed group's smooth layers are, by layer ranges.
    std::map<std::string, std::vector<std::string_view>> by_list;
    std::vector<std::string> order;
    for (const auto& name : error.modules()) {
      ModuleIndex i = model.find(name);
      ModuleIndex l = i == no_module ? no_module : layer_of[i];
      std::string list = l == no_module ? name : std::string(model[model[l].parent].name);
      if (!by_list.count(list)) order.push_back(list);
      by_list[list].push_back(l == no_module ? std::string_view{} : last_component(model[l].name));
    }
    std::string where;
    for (const auto& list : order) where += (where.empty() ? "" : "; ") + list + " " + index_ranges(by_list[list]);
    lines.push_back("the set opened at " + error.modules().front() + " never closed before the next smooth layer, so " +
                    std::to_string(error.modules().size()) + " smooth layers fell into one group: " + where);
  } else if (error.kind() == ResolutionErrorKind::incomplete_set) {
    std::string missing;
    for (const auto& t : error.targets()) missing += (missing.empty() ? "" : ", ") + t;
    lines.push_back("the last group found no match for " + missing);
  }
  RepairPlan plan = plan_repair(model, m, table, layer_of);
  // A later mapping that fails beyond repair stops --repair too: say so rather than promise.
  if (plan.repairable)
    for (std::size_t j = k + 1; j < mappings.size(); ++j) {
      try {
        detail::resolve_mapping(model, mappings, j, table);
      } catch (const ResolutionError& later) {
        bool repairable = later.kind() == ResolutionErrorKind::multiple_smooth_layers ||
                          later.kind() == ResolutionErrorKind::incomplete_set;
        std::string why = repairable ? plan_repair(model, mappings[j], table, layer_of).why_not
                                     : std::string("it fails with ") + std::string(to_string(later.kind()));
        if (!why.empty()) {
          plan.repairable = false;
          plan.why_not = "mapping " + std::to_string(j) + " fails as well and " + why;
          break;
        }
      }
    }
  if (!plan.repairable)
    lines.push_back("--repair cannot fix it: " + plan.why_not);
  else if (plan.replacements.empty())
    lines.push_back("--repair leaves this mapping out (nothing it could scope would balance anything)");
  else if (plan.left_out.empty())
    lines.push_back("--repair scopes the mapping to each group of layers above");
  else
    lines.push_back("--repair scopes the mapping to each group of layers above and leaves out the rest");
  std::string out = head + ":";
  for (const auto& l : lines) out += "\n  " + l;
  return out;
}

namespace {

// Shared by both coverage overloads; `reason` holds, per module, why it is not balanced when
// something more specific than "no mapping balances it" is known.
Coverage fold_coverage(const ModelView& model, const Resolution& resolution, MatchTable& table,
                       std::vector<std::string>& reason) {
  std::vector<char> balanced(model.size(), 0);
  for (const auto& g : resolution.resolved)
    for (auto n : g.balance_names)
      if (ModuleIndex i = model.find(n); i != no_module) balanced[i] = 1;
  auto reason_text = [](SkipReason r) {
    switch (r) {
      case SkipReason::incompatible: return "incompatible shapes";
      case SkipReason::no_balance_layers: return "no balance layers";
      case SkipReason::not_targeted: return "nothing in the group is targeted";
    }
    return "";
  };
  for (const auto& s : resolution.skipped)
    for (auto n : s.balance_names)
      if (ModuleIndex i = model.find(n); i != no_module && reason[i].empty())
        reason[i] = std::string(last_component(s.smooth_name)) + "->" + std::string(last_component(n)) + " skipped, " +
                    reason_text(s.reason);
  Coverage c;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Module& m = model[static_cast<ModuleIndex>(i)];
    if (!table.targeted(static_cast<ModuleIndex>(i)) || !m.is_linear()) continue;
    ++c.targeted;
    if (balanced[i]) {
      ++c.balanced;
      continue;
    }
    std::string folded;
    std::size_t start = 0;
    while (true) {
      std::size_t dot = m.name.find('.', start);
      std::string_view comp =
          m.name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      bool digits =
          !comp.empty() && std::all_of(comp.begin(), comp.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
      folded += (start ? "." : "") + (digits ? std::string("*") : std::string(comp));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    std::string why = reason[i].empty() ? "no mapping balances it" : reason[i];
    auto [it, fresh] = index.emplace(std::make_pair(folded, why), c.unbalanced.size());
    if (fresh) c.unbalanced.push_back({folded, 0, why});
    ++c.unbalanced[it->second].count;
  }
  return c;
}

}  // namespace

Coverage coverage(const ModelView& model, const MappingList& /*mappings*/, const Resolution& resolution,
                  const ResolveOptions& options) {
  MatchTable table(model, options);
  std::vector<std::string> reason(model.size());
  return fold_coverage(model, resolution, table, reason);
}

Coverage coverage(const ModelView& model, const RepairedResolution& repaired, const ResolveOptions& options) {
  MatchTable table(model, options);
  std::vector<std::string> reason(model.size());
  for (const auto& rep : repaired.repairs) {
    if (rep.left_out.empty()) continue;
    const std::string why = "left out by repair of mapping " + std::to_string(rep.mapping);
    for (const auto& t : rep.original.balance_layers) {
      const auto& hits = table.hits(t, "balance target " + t);
      for (std::size_t i = 0; i < hits.size(); ++i)
        if (hits[i] && reason[i].empty()) reason[i] = why;
    }
  }
  return fold_coverage(model, repaired.resolution, table, reason);
}

}  // namespace awqmap
