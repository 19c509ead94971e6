// awqmap recipe: an llm-compressor recipe whose AWQModifier carries the mappings resolve uses.
#include <cstdio>
#include <iostream>

#include "awqmap/awqmap.hpp"
#include "awqmap/recipe.hpp"
#include "commands.hpp"
#include "kept.hpp"
#include "output.hpp"
#include "session.hpp"

namespace awqmap::cli {

// The recipe's mappings must resolve (llm-compressor would fail on them otherwise), so recipe
// resolves first and fails exactly as resolve does.
int run_recipe(const Args& a) {
  Registry& registry = keep_until_exit<Registry>();
  load_plugins(registry, a);
  CheckpointSummary summary;
  const ModelView& model = keep_until_exit<ModelView>(load(registry, a, summary));
  report_checkpoint(summary);
  Selection selection = select_mappings(registry, model, a);
  const ResolveOptions options = resolve_options(a);
  RecipeOptions recipe;
  recipe.targets = options.targets;
  recipe.ignore = options.ignore;
  if (a.scheme) recipe.scheme = *a.scheme;
  std::string source = model.architecture() + ": mappings " + std::string(to_string(selection.kind));
  if (!selection.builder.empty())
    source += " (builder " + selection.builder + ", plugin " + selection.plugin + ")";
  else if (!selection.plugin.empty())
    source += " (plugin " + selection.plugin + ")";
  try {
    std::string text;
    if (a.repair) {
      RepairedResolution r = resolve_with_repair(model, selection.mappings, options);
      if (!r.repairs.empty()) source += ", " + std::to_string(r.repairs.size()) + " repaired";
      recipe.comments.push_back(source + "; " + std::to_string(r.resolution.resolved.size()) + " groups");
      text = awq_recipe_yaml(r.mappings, recipe);
    } else {
      Resolution r = resolve(model, selection.mappings, options);
      recipe.comments.push_back(source + "; " + std::to_string(r.resolved.size()) + " groups");
      text = awq_recipe_yaml(selection.mappings, recipe);
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
  } catch (const ResolutionError& e) {
    print_resolution_error(e, explain(model, selection.mappings, e, options));
    return kResolution;
  }
  return kOk;
}

}  // namespace awqmap::cli
