// awqmap resolve: the groups of the selected (or repaired) mappings, as a table or JSON.
#include <iostream>
#include <memory>

#include "awqmap/awqmap.hpp"
#include "commands.hpp"
#include "kept.hpp"
#include "output.hpp"
#include "session.hpp"

namespace awqmap::cli {
int run_resolve(const Args& a) {
  Registry& registry = keep_until_exit<Registry>();
  load_plugins(registry, a);
  CheckpointSummary summary;
  const ModelView& model = keep_until_exit<ModelView>(load(registry, a, summary));
  report_checkpoint(summary);
  Selection& selection = keep_until_exit<Selection>(select_mappings(registry, model, a));
  const ResolveOptions options = resolve_options(a);
  try {
    const MappingList* mappings = &selection.mappings;
    const Resolution* r = nullptr;
    const RepairedResolution* repaired = nullptr;
    Extras extras;
    extras.checkpoint = &summary;
    if (a.repair) {
      repaired = &keep_until_exit<RepairedResolution>(resolve_with_repair(model, selection.mappings, options));
      mappings = &repaired->mappings;
      r = &repaired->resolution;
      extras.repair = repaired;
      for (const auto& rep : repaired->repairs) {
        std::ostream& out = info();
        out << "repaired mapping " << rep.mapping << " (" << to_string(rep.error) << "): ";
        if (rep.replaced_by.empty())
          out << "left out";
        else
          out << rep.replaced_by.size() << (rep.replaced_by.size() == 1 ? " scoped mapping" : " scoped mappings");
        if (rep.left_out_layers) out << ", " << rep.left_out_layers << " layer(s) left out";
        out << "\n";
      }
    } else {
      r = &keep_until_exit<Resolution>(resolve(model, selection.mappings, options));
    }
    Coverage cov;
    const bool unknown = unknown_architecture(selection, a);
    if (a.coverage || a.format == "table" || unknown) {
      cov = repaired ? coverage(model, *repaired, options) : coverage(model, *mappings, *r, options);
      if (unknown)
        std::cerr << "awqmap: warning: no loaded plugin registers " << printable(model.architecture())
                  << ": the default mappings resolved to " << r->resolved.size()
                  << " groups that are unverified for this architecture (they balance " << cov.balanced << " of "
                  << cov.targeted << " targeted Linear modules); check them with awqmap.verify, or register the "
                  << "architecture in a plugin\n";
      if (!a.coverage) cov.unbalanced.clear();  // the table shows only the counts
      if (a.coverage || a.format == "table") extras.coverage = &cov;
    }
    if (a.format == "json") {
      resolution_json(model, selection, *mappings, *r, extras, stdout);
    } else {
      std::string text = resolution_table(model, selection, *mappings, *r, extras, a.full);
      std::fwrite(text.data(), 1, text.size(), stdout);
    }
  } catch (const ResolutionError& e) {
    std::string why = explain(model, selection.mappings, e, options);
    if (unknown_architecture(selection, a))
      why = "architecture " + model.architecture() +
            " is unknown to every loaded plugin, so it got the default mappings, which do not fit it; "
            "write a plugin for it (docs/plugins.md), pass your own --mappings FILE, or try --repair.\n" + why;
    print_resolution_error(e, why);
    if (a.format == "json") std::cout << error_json(e, why);
    return kResolution;
  }
  return kOk;
}

}  // namespace awqmap::cli
