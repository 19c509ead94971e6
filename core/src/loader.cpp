#include "awqmap/loader.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "awqmap/error.hpp"

namespace awqmap {

namespace fs = std::filesystem;

PluginLoader::PluginLoader(Registry& registry, LoaderOptions options) : registry_(registry), options_(options) {}

void PluginLoader::load_file(const fs::path& file) {
  std::error_code ec;
  const std::string shown = file.string();
  if (!fs::exists(file, ec)) throw InputError(shown + ": plugin file does not exist");
  if (!fs::is_regular_file(file, ec)) throw InputError(shown + ": plugin is not a regular file");
  fs::path canonical = fs::canonical(file, ec);
  if (ec) canonical = fs::absolute(file);
  if (std::find(loaded_.begin(), loaded_.end(), canonical) != loaded_.end()) return;
  for (const auto& p : registry_.plugins())
    if (p->file == canonical.string()) return;
  {
    std::ifstream probe(canonical, std::ios::binary);
    if (!probe) throw InputError(shown + ": cannot read the plugin file (check its permissions)");
  }

  auto library = std::make_shared<boost::dll::shared_library>();
  try {
    library->load(canonical, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw InputError(shown + ": cannot load the plugin: " + e.what() +
                     "; is it a shared library built for this machine, with its dependencies installed?");
  }
  if (!library->has(plugin_entry_symbol))
    throw InputError(shown + ": not an awqmap plugin: it exports no '" + std::string(plugin_entry_symbol) +
                     "' entry symbol (declare one with AWQMAP_PLUGIN from <awqmap/plugin.hpp>)");
  const PluginInfo* info = library->get_alias<PluginEntry>(plugin_entry_symbol)();
  if (!info) throw InputError(shown + ": the plugin's entry point returned no plugin information");
  if (info->api_version != plugin_api_version)
    throw InputError(shown + ": plugin API version " + std::to_string(info->api_version) +
                     ", but this awqmap needs version " + std::to_string(plugin_api_version) +
                     "; rebuild the plugin against this awqmap");
  if (!info->name || !*info->name) throw InputError(shown + ": the plugin has an empty name");
  if (!info->register_plugin) throw InputError(shown + ": the plugin has no registration callback");

  PluginRecord record;
  record.file = canonical.string();
  record.name = info->name;
  record.version = info->version ? info->version : "";
  record.library = library;
  registry_.register_plugin(std::move(record), info->register_plugin, options_.allow_override);
  loaded_.push_back(canonical);
}

void PluginLoader::load_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw InputError(dir.string() + ": plugin directory does not exist");
  if (!fs::is_directory(dir, ec)) throw InputError(dir.string() + ": plugin directory is not a directory");
  std::vector<fs::path> files;
  fs::directory_iterator it(dir, ec), end;
  if (ec) throw InputError(dir.string() + ": cannot read the plugin directory (" + ec.message() + ")");
  for (; it != end; it.increment(ec)) {
    if (ec) throw InputError(dir.string() + ": cannot read the plugin directory (" + ec.message() + ")");
    if (it->path().extension() == ".so") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) load_file(f);
}

std::vector<fs::path> PluginLoader::search_path(const std::vector<fs::path>& extra_dirs, bool include_default) {
  std::vector<fs::path> dirs(extra_dirs.begin(), extra_dirs.end());
  if (const char* env = std::getenv("AWQMAP_PLUGIN_PATH")) {
    std::string value(env);
    std::size_t start = 0;
    while (start <= value.size()) {
      std::size_t colon = value.find(':', start);
      if (colon == std::string::npos) colon = value.size();
      if (colon > start) dirs.emplace_back(value.substr(start, colon - start));
      start = colon + 1;
    }
  }
  if (include_default) dirs.push_back(default_plugin_dir());
  return dirs;
}

void PluginLoader::load_search_path(const std::vector<fs::path>& extra_dirs, bool include_default) {
  for (const auto& dir : search_path(extra_dirs, include_default)) load_directory(dir);
}

fs::path PluginLoader::default_plugin_dir() {
  std::error_code ec;
  fs::path core = boost::dll::this_line_location(ec);
  return core.parent_path() / "awqmap" / "plugins";
}

}  // namespace awqmap
