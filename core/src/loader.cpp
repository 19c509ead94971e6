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
#include "awqmap/plugin.h"

namespace awqmap {

namespace fs = std::filesystem;

namespace {
// The dynamic loader's own words from Boost.DLL's message, which wraps them as
// "...load() failed (dlerror system message: PATH: REASON): ERRNO TEXT" — the errno text is
// whatever errno last held, unrelated to the failure. Falls back to the whole message.
std::string dynamic_loader_reason(const std::string& what, const std::string& path) {
  const std::string marker = "dlerror system message: ";
  const auto start = what.find(marker);
  const auto end = what.rfind("): ");
  if (start == std::string::npos || end == std::string::npos || end < start + marker.size()) return what;
  std::string reason = what.substr(start + marker.size(), end - start - marker.size());
  if (reason.rfind(path + ": ", 0) == 0) reason.erase(0, path.size() + 2);
  return reason.empty() ? what : reason;
}

// The entry symbol's name, and this build's fingerprint of what crosses the boundary.
constexpr const char* plugin_entry_symbol = "awqmap_plugin";
constexpr const char* plugin_abi = AWQMAP_PLUGIN_ABI;

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

// What AWQMAP_PLUGIN_ENTRY exports is a pointer-sized data object holding the address of the
// entry function. A library that exports the name as a function or as other
// data would make the loader jump to arbitrary bytes, so what the symbol is and where it points
// are checked in the dynamic loader's own tables before anything is called.
awqmap_plugin_entry_fn checked_entry(const boost::dll::shared_library& library, const std::string& shown) {
  const std::string symbol(plugin_entry_symbol);
  const std::string fix =
      "; declare the entry with AWQMAP_PLUGIN from <awqmap/plugin.hpp> (AWQMAP_PLUGIN_ENTRY from <awqmap/plugin.h> in C)";
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
  awqmap_plugin_entry_fn entry_fn = nullptr;
  std::memcpy(&entry_fn, &target, sizeof entry_fn);
  return entry_fn;
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
    throw InputError(shown + ": cannot load the plugin: " + dynamic_loader_reason(e.what(), canonical.string()) +
                     "; is it a shared library built for this machine, with its dependencies installed?");
  }
  if (!library->has(plugin_entry_symbol))
    throw InputError(shown + ": not an awqmap plugin: it exports no '" + std::string(plugin_entry_symbol) +
                     "' entry symbol (declare one with AWQMAP_PLUGIN from <awqmap/plugin.hpp>)");
  const awqmap_plugin_info* info = checked_entry(*library, shown)();
  if (!info) throw InputError(shown + ": the plugin's entry point returned no plugin information");
  // api_version first: it is the one member every version of the contract has in place.
  if (info->api_version != plugin_api_version)
    throw InputError(shown + ": built for plugin API " + std::to_string(info->api_version) + ", this awqmap speaks " +
                     std::to_string(plugin_api_version) + ": rebuild the plugin against this awqmap");
  if (info->struct_size != sizeof(awqmap_plugin_info))
    throw InputError(shown + ": its plugin information is " + std::to_string(info->struct_size) +
                     " bytes, this awqmap's is " + std::to_string(sizeof(awqmap_plugin_info)) +
                     " (another compiler or target?): rebuild the plugin against this awqmap");
  if (!info->abi || std::strcmp(info->abi, plugin_abi) != 0)
    throw InputError(shown + ": built for the ABI '" + (info->abi ? std::string(info->abi) : std::string("(none)")) +
                     "', this awqmap's is '" + plugin_abi +
                     "' (pointer, size_t and int sizes, byte order): rebuild the plugin for this machine");
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
