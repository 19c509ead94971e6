// awqmap mappings: the mappings selected for a model (or, with --repair, the repaired list).
#include <iostream>
#include <optional>

#include "awqmap/awqmap.hpp"
#include "commands.hpp"
#include "kept.hpp"
#include "output.hpp"
#include "session.hpp"

namespace awqmap::cli {

int run_mappings(const Args& a) {
  Registry& registry = keep_until_exit<Registry>();
  load_plugins(registry, a);
  CheckpointSummary summary;
  const ModelView& model = keep_until_exit<ModelView>(load(registry, a, summary));
  report_checkpoint(summary);
  Selection s = registry.select(model, mode_of(a));
  // --repair shows the list that `resolve --repair` would use (it resolves to find out).
  std::optional<RepairedResolution> repaired;
  if (a.repair) {
    const ResolveOptions options = resolve_options(a);
    try {
      repaired = resolve_with_repair(model, s.mappings, options);
    } catch (const ResolutionError& e) {
      print_resolution_error(e, explain(model, s.mappings, e, options));
      return kResolution;
    }
  }
  const MappingList& list = repaired ? repaired->mappings : s.mappings;
  const RepairedResolution* r = repaired ? &*repaired : nullptr;
  std::cout << (a.format == "json" ? mappings_json(model, s, mode_of(a), list, r) : mappings_text(model, s, list, r));
  return kOk;
}

}  // namespace awqmap::cli
