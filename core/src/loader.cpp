#include "awqmap/loader.hpp"

#include <dlfcn.h>
#include <link.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "awqmap/error.hpp"

namespace awqmap {

namespace fs = std::filesystem;

namespace {

// Whether `address` lies in an executable segment of the loaded object `object`.
bool in_executable_segment(const link_map* object, const void* address) {
  struct Query {
    const link_map* object;
    std::uintptr_t address;
    bool found;
  } q{object, reinterpret_cast<std::uintptr_t>(address), false};
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto* q = static_cast<Query*>(data);
        const char* name = info->dlpi_name ? info->dlpi_name : "";
        const char* wanted = q->object->l_name ? q->object->l_name : "";
        if (info->dlpi_addr != q->object->l_addr || std::strcmp(name, wanted) != 0) return 0;
        for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
          const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
          if (q->address >= start && q->address - start < ph.p_memsz) q->found = true;
        }
        return 1;
      },
      &q);
  return q.found;
}

// What AWQMAP_PLUGIN (Boost.DLL's alias) exports is a pointer-sized data object holding the
// address of the entry function. A library that exports the name as a function or as other
// data would make the loader jump to arbitrary bytes, so what the symbol is and where it points
// are checked in the dynamic loader's own tables before anything is called.
PluginEntry* checked_entry(const boost::dll::shared_library& library, const std::string& shown) {
  const std::string symbol(plugin_entry_symbol);
  const std::string fix = "; declare the entry with AWQMAP_PLUGIN from <awqmap/plugin.hpp>";
  void* handle = library.native();
  ::dlerror();
  void* found = ::dlsym(handle, plugin_entry_symbol);
  link_map* own = nullptr;
  if (!found || ::dlinfo(handle, RTLD_DI_LINKMAP, &own) != 0 || !own)
    throw InputError(shown + ": cannot look up the '" + symbol + "' entry symbol" + fix);
  Dl_info where{};
  ElfW(Sym)* entry = nullptr;
  if (!::dladdr1(found, &where, reinterpret_cast<void**>(&entry), RTLD_DL_SYMENT) || !entry ||
      where.dli_saddr != found)
    throw InputError(shown + ": the '" + symbol + "' entry symbol is not in the library's symbol table" + fix);
  link_map* holder = nullptr;
  if (!::dladdr1(found, &where, reinterpret_cast<void**>(&holder), RTLD_DL_LINKMAP) || holder != own)
    throw InputError(shown + ": the '" + symbol + "' entry symbol comes from another library it links to, not from " +
                     "the plugin itself" + fix);
  const unsigned type = entry->st_info & 0xF;  // ELF{32,64}_ST_TYPE
  if (type == STT_FUNC || type == STT_GNU_IFUNC)
    throw InputError(shown + ": not an awqmap plugin: its '" + symbol +
                     "' symbol is a function, not the entry pointer awqmap reads" + fix);
  if (type != STT_OBJECT || entry->st_size < sizeof(void*))
    throw InputError(shown + ": not an awqmap plugin: its '" + symbol + "' symbol is not the entry pointer awqmap reads" +
                     fix);
  const void* target = *static_cast<const void* const*>(found);
  if (!in_executable_segment(own, target))
    throw InputError(shown + ": not an awqmap plugin: its '" + symbol +
                     "' symbol does not point to code in the plugin" + fix);
  return reinterpret_cast<PluginEntry*>(const_cast<void*>(target));
}

}  // namespace

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
  const PluginInfo* info = checked_entry(*library, shown)();
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
    // Plugins are named awqmap-<name>.so (what awqmap_add_plugin makes); other libraries that
    // share the directory (libawqmap.so itself in <prefix>/lib) are not plugins.
    const std::string name = it->path().filename().string();
    if (name.size() > 10 && name.compare(0, 7, "awqmap-") == 0 && name.compare(name.size() - 3, 3, ".so") == 0)
      files.push_back(it->path());
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
