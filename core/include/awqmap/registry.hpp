#pragma once
// What plugins registered — static lists, dynamic builders, checkpoint adaptations, the
// default list — each entry owned by the plugin that registered it, and the selection of
// docs/semantics.md §2. Safe to select from many threads once loading is done.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "awqmap/export.hpp"
#include "awqmap/model.hpp"
#include "awqmap/plugin.hpp"
#include "awqmap/selection.hpp"

namespace awqmap {

/// A loaded plugin as the registry knows it. `library` keeps the shared object mapped for as
/// long as anything it registered is alive; it is empty for in-process registrations.
struct PluginRecord {
  std::string file;  ///< path of the shared library, or a label for in-process plugins
  std::string name;
  std::string version;
  std::shared_ptr<const void> library;
};

/// Fused per-layer expert tensors that calibration splits into one module per expert
/// (docs/semantics.md §8): what a plugin registered with split_fused_experts.
struct FusedExpertSplit {
  std::string fused;
  std::string prefix;
  std::vector<std::string> parts;
};

struct KeyRename {
  std::string pattern;
  std::string replacement;
};

/// The checkpoint adaptations registered for one architecture.
struct CheckpointAdaptations {
  std::vector<std::string> dropped;  ///< Python regexes on tensor names
  std::vector<KeyRename> renames;
  std::vector<FusedExpertSplit> fused_experts;
};

enum class EntryKind { dynamic, static_list };

/// The checkpoint adaptations one plugin registered for one architecture, for listings. An
/// architecture may have adaptations and no mappings (its mappings then come from the default
/// list or another plugin).
struct AdaptationEntry {
  std::string architecture;
  std::shared_ptr<const PluginRecord> plugin;
  std::vector<std::string> dropped;  ///< Python regexes on tensor names
  std::vector<KeyRename> renames;
  std::vector<FusedExpertSplit> fused_experts;
};

/// One registered architecture entry, for listings.
struct ArchitectureEntry {
  std::string architecture;
  EntryKind kind;
  std::string builder;  ///< dynamic only
  std::shared_ptr<const PluginRecord> plugin;
  Provenance provenance;
  MappingList mappings;  ///< static only
};

/// The C handle through which builders read `model` (awqmap_model_view_* of <awqmap/plugin.h>).
/// It lets in-process code run plugin-side code, such as the toolkit, on a core model:
/// awqmap::plugin::Model converts from a ModelView through it.
AWQMAP_API const awqmap_plugin_model* plugin_model(const ModelView& model);

class AWQMAP_API Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Runs a plugin's C registration function (awqmap_plugin_info::register_plugin) against a
  /// staging area and commits it only if it succeeds entirely. Errors (InputError) name
  /// `plugin.file` and the item. With `allow_override`, an architecture/kind (or the default
  /// list) that an earlier plugin already registered keeps the earlier registration and the
  /// later one is ignored; without it, that is an error naming both files.
  void register_plugin(PluginRecord plugin, int (*register_fn)(awqmap_registrar*), bool allow_override = false);
  /// The same for in-process registrations (tests, embedders), through the plugin-side
  /// awqmap::Registrar of <awqmap/plugin.hpp>; an exception `register_fn` throws fails the
  /// registration like a plugin's.
  void register_plugin(PluginRecord plugin, const std::function<void(Registrar&)>& register_fn,
                       bool allow_override = false);

  /// docs/semantics.md §2 without user mappings: dynamic, then static, then default. In exact mode the
  /// architecture's peer/analysis registrations are tried before its upstream ones; in upstream
  /// mode only upstream registrations count. Throws InputError when nothing applies (no plugin
  /// set the default list).
  Selection select(const ModelView& model, SelectionMode mode = SelectionMode::exact) const;

  /// The default list, if a plugin set it (for comparisons and listings).
  std::optional<MappingList> default_mappings() const;

  /// The plugin that set the default list; empty when none did.
  std::shared_ptr<const PluginRecord> default_plugin() const;

  /// Adaptations for an architecture, merged across plugins in load order (empty when none
  /// were registered).
  CheckpointAdaptations adaptations(const std::string& architecture) const;
  /// Every plugin's adaptations, one entry per architecture and plugin: sorted by architecture,
  /// then in load order.
  std::vector<AdaptationEntry> adaptation_entries() const;

  std::vector<std::shared_ptr<const PluginRecord>> plugins() const;
  /// Sorted by name; within a name in the order exact selection tries them.
  std::vector<ArchitectureEntry> architectures() const;
  bool has_default() const;
  /// Plugins skipped because a plugin of the same name and version was already registered
  /// (found twice on the search path), one line each.
  std::vector<std::string> skipped_duplicates() const;


 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace awqmap
