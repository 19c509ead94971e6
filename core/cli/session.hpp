#pragma once
// What every command does before its own work: info lines, plugins, the model, the selection.
#include <ostream>
#include <string>

#include "awqmap/checkpoint.hpp"
#include "awqmap/model.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/selection.hpp"
#include "options.hpp"

namespace awqmap::cli {

/// Info lines go to stderr unless --quiet; warnings and errors always do.
void set_quiet(bool quiet);
/// A stream for one info line, prefixed "awqmap: info: ".
std::ostream& info();

/// Loads --plugin-dir, AWQMAP_PLUGIN_PATH and the shipped plugins as `a` says.
void load_plugins(Registry& registry, const Args& a);
/// MODEL (a checkpoint directory, a description, or "-" for standard input), or the bundled example.
ModelView load(const Registry& registry, const Args& a, CheckpointSummary& summary);
/// Info lines on what the checkpoint reader renamed, split and dropped.
void report_checkpoint(const CheckpointSummary& s);

SelectionMode mode_of(const Args& a);
/// --targets and --ignore, or the defaults.
ResolveOptions resolve_options(const Args& a);
/// --mappings, or the registry's selection (with info lines on declines and the default list).
Selection select_mappings(const Registry& registry, const ModelView& model, const Args& a);
/// An architecture no plugin knows, in exact mode: its groups come from the default list.
bool unknown_architecture(const Selection& s, const Args& a);

}  // namespace awqmap::cli
