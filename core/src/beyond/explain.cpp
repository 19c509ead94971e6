#include "awqmap/explain.hpp"

#include <map>

#include "../match_table.hpp"
#include "../names.hpp"
#include "repair_plan.hpp"

namespace awqmap {

using detail::last_component;

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
  detail::MatchTable table(model, options);
  const std::vector<ModuleIndex> layer_of = detail::layer_of_modules(model);
  detail::LayerAnalysis a = detail::analyse(model, m, table, layer_of);
  std::vector<std::string> lines;
  for (const auto& g : a.groups) lines.push_back(detail::describe(model, m, g));
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
    for (const auto& list : order) where += (where.empty() ? "" : "; ") + list + " " + detail::index_ranges(by_list[list]);
    lines.push_back("the set opened at " + error.modules().front() + " never closed before the next smooth layer, so " +
                    std::to_string(error.modules().size()) + " smooth layers fell into one group: " + where);
  } else if (error.kind() == ResolutionErrorKind::incomplete_set) {
    std::string missing;
    for (const auto& t : error.targets()) missing += (missing.empty() ? "" : ", ") + t;
    lines.push_back("the last group found no match for " + missing);
  }
  detail::RepairPlan plan = detail::plan_repair(model, m, table, layer_of);
  // A later mapping that fails beyond repair stops the repair too: say so rather than promise.
  if (plan.repairable)
    for (std::size_t j = k + 1; j < mappings.size(); ++j) {
      try {
        detail::resolve_mapping(model, mappings, j, table);
      } catch (const ResolutionError& later) {
        bool repairable = later.kind() == ResolutionErrorKind::multiple_smooth_layers ||
                          later.kind() == ResolutionErrorKind::incomplete_set;
        std::string why = repairable ? detail::plan_repair(model, mappings[j], table, layer_of).why_not
                                     : std::string("it fails with ") + std::string(to_string(later.kind()));
        if (!why.empty()) {
          plan.repairable = false;
          plan.why_not = "mapping " + std::to_string(j) + " fails as well and " + why;
          break;
        }
      }
    }
  if (!plan.repairable)
    lines.push_back("repair cannot fix it: " + plan.why_not);
  else if (plan.replacements.empty())
    lines.push_back("repair leaves this mapping out (nothing it could scope would balance anything)");
  else if (plan.left_out.empty())
    lines.push_back("repair scopes the mapping to each group of layers above");
  else
    lines.push_back("repair scopes the mapping to each group of layers above and leaves out the rest");
  std::string out = head + ":";
  for (const auto& l : lines) out += "\n  " + l;
  return out;
}

}  // namespace awqmap
