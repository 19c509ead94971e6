#pragma once
// Shared by the fuzz targets: a private scratch directory for inputs that the readers take as
// files, the shipped plugins (for checkpoint adaptations and builders), and the one rule every
// target checks: bad input is an awqmap error, never a crash, a hang or another exception.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "awqmap/awqmap.hpp"
#include "awqmap/loader.hpp"
#include "awqmap/registry.hpp"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace awqmap::fuzz {

/// A directory of this process's own, removed at exit; on tmpfs when there is one, because
/// some targets write every input to a file.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
                                     ? std::filesystem::path("/dev/shm")
                                     : std::filesystem::temp_directory_path();
    std::string pattern = (base / "awqmap-fuzz-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) std::abort();
    std::filesystem::path made(pattern);
    static struct Remover {
      std::filesystem::path p;
      ~Remover() {
        std::error_code e;
        std::filesystem::remove_all(p, e);
      }
    } remover{made};
    return made;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) std::abort();
}

/// The plugins built next to the core (or, for a copied build, AWQMAP_FUZZ_PLUGIN_DIR), loaded once.
inline const Registry& shipped_registry() {
  static Registry registry;
  static bool loaded = [] {
    const char* moved = std::getenv("AWQMAP_FUZZ_PLUGIN_DIR");
    PluginLoader(registry).load_directory(moved && *moved ? moved : AWQMAP_PLUGIN_BUILD_DIR);
    return true;
  }();
  (void)loaded;
  return registry;
}

/// Selects and resolves the model's mappings, with and without repair, as the CLI does. Errors
/// of awqmap's own kinds are expected answers to bad input.
inline void select_and_resolve(const ModelView& model) {
  Selection s = shipped_registry().select(model);
  try {
    Resolution r = resolve(model, s.mappings);
    (void)r;
  } catch (const ResolutionError&) {
  }
}

/// Little-endian safetensors file: 8-byte header length, the header, then `data_size` bytes.
inline std::string safetensors_file(const std::string& header, std::size_t data_size) {
  std::string out;
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  out += header;
  out.append(data_size, '\0');
  return out;
}

}  // namespace awqmap::fuzz

/// Runs `body`; awqmap's errors are expected, anything else escapes to the fuzzer as a crash.
#define AWQMAP_FUZZ_EXPECTED_ERRORS(body) \
  try {                                   \
    body;                                 \
  } catch (const awqmap::Error&) {        \
  }
