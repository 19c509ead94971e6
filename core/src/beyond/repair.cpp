#include "awqmap/repair.hpp"

#include <optional>

#include "../match_table.hpp"
#include "repair_plan.hpp"

namespace awqmap {

RepairedResolution resolve_with_repair(const ModelView& model, const MappingList& mappings,
                                       const ResolveOptions& options) {
  detail::MatchTable table(model, options);
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
      detail::RepairPlan plan = detail::plan_repair(model, mapping, table, layer_of);
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

}  // namespace awqmap
