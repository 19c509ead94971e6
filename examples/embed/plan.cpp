// Prints the AWQ smoothing plan of a checkpoint, layer by layer, as a quantizer would walk it:
// load the plugins, read the checkpoint, select and resolve the mappings, then visit each group.
#include <awqmap/awqmap.hpp>
#include <awqmap/loader.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: awqmap_plan CHECKPOINT_DIR\n";
    return 2;
  }
  try {
    awqmap::Registry registry;
    awqmap::PluginLoader(registry).load_search_path({}, /*include_default=*/true);
    awqmap::ModelView model = awqmap::load_model(argv[1], {std::nullopt, &registry});
    awqmap::Selection selection = registry.select(model);
    awqmap::Resolution plan = awqmap::resolve(model, selection.mappings);

    std::cout << model.architecture() << ": " << plan.resolved.size() << " smoothing groups ("
              << awqmap::to_string(selection.kind) << " mappings from plugin " << selection.plugin << ")\n";
    for (const awqmap::ResolvedMapping& group : plan.resolved) {
      std::cout << "smooth " << group.smooth_name << "  parent "
                << (group.parent_name.empty() ? "<root>" : group.parent_name) << "\n";
      for (std::string_view name : group.balance_names) {
        const awqmap::Module& m = model[model.find(name)];
        std::cout << "  balance " << name << "  [" << m.out_features.value_or(0) << " x " << m.in_features.value_or(0)
                  << "]\n";
      }
    }
    for (const awqmap::SkippedGroup& s : plan.skipped)
      std::cout << "skip " << s.smooth_name << " (" << awqmap::to_string(s.reason) << ")\n";
  } catch (const awqmap::ResolutionError& e) {
    std::cerr << "resolution failed (" << awqmap::to_string(e.kind()) << "): " << e.what() << "\n";
    return 4;
  } catch (const awqmap::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
