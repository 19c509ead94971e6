#pragma once
// Finds, checks and loads plugin shared libraries into a Registry.
#include <filesystem>
#include <string>
#include <vector>

#include "awqmap/export.hpp"
#include "awqmap/registry.hpp"

namespace awqmap {

struct LoaderOptions {
  /// See Registry::register_plugin: earlier plugins in the search order win.
  bool allow_override = false;
};

class AWQMAP_API PluginLoader {
 public:
  explicit PluginLoader(Registry& registry, LoaderOptions options = {});

  /// Loads one plugin. Throws InputError naming the file: unreadable, not a shared library,
  /// missing dependencies (the dynamic loader's message is included), no entry symbol (or one
  /// that is not the entry pointer), another plugin API version, struct size or ABI fingerprint
  /// (docs/plugins.md), or a failed registration. A file already loaded is not loaded again.
  void load_file(const std::filesystem::path& file);

  /// Loads every `*.so` in `dir` in name order; other files are skipped. Throws InputError
  /// when the directory does not exist or cannot be read.
  void load_directory(const std::filesystem::path& dir);

  /// The search path: `extra_dirs` (e.g. --plugin-dir) in order, then the colon-separated
  /// AWQMAP_PLUGIN_PATH (empty entries are skipped), then default_plugin_dir() when
  /// `include_default` holds.
  void load_search_path(const std::vector<std::filesystem::path>& extra_dirs, bool include_default);

  /// Directories load_search_path would visit, in order.
  static std::vector<std::filesystem::path> search_path(const std::vector<std::filesystem::path>& extra_dirs,
                                                        bool include_default);

  /// The shipped plugins: `<libdir>/awqmap/plugins` next to the awqmap core library, which holds
  /// in the build tree and in any (moved) install prefix.
  static std::filesystem::path default_plugin_dir();

  /// Files loaded so far by this loader, in order.
  const std::vector<std::filesystem::path>& loaded() const { return loaded_; }

 private:
  Registry& registry_;
  LoaderOptions options_;
  std::vector<std::filesystem::path> loaded_;
};

}  // namespace awqmap
