#pragma once
// Shared by the fuzz targets: a private scratch directory for inputs that the readers take as
// files, the shipped plugins (for checkpoint adaptations and builders), and the one rule every
// target checks: bad input is an awqmap error, never a crash, a hang or another exception.
#include <fcntl.h>
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

/// A file in scratch() kept open across inputs, for targets that write a file per input:
/// rewriting it in place costs a truncate and a write instead of a create, a write and a close,
/// contents equal to the last ones are not written again, and trailing zeros are a hole that
/// costs nothing to write (the readers never read tensor data, only the file's size).
class ScratchFile {
 public:
  explicit ScratchFile(const char* name) : fd_(::open((scratch() / name).c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) {
    if (fd_ < 0) std::abort();
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  ~ScratchFile() { ::close(fd_); }

  /// The file becomes `head` followed by `zeros` zero bytes.
  void assign(std::string_view head, std::size_t zeros = 0) {
    if (written_ && zeros == zeros_ && head == head_) return;
    // Truncating to nothing first leaves no byte of the previous contents in the new tail.
    if (::ftruncate(fd_, 0) != 0) std::abort();
    for (std::size_t done = 0; done < head.size();) {
      const ssize_t n = ::pwrite(fd_, head.data() + done, head.size() - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<std::size_t>(n);
    }
    if (zeros && ::ftruncate(fd_, static_cast<off_t>(head.size() + zeros)) != 0) std::abort();
    head_.assign(head);
    zeros_ = zeros;
    written_ = true;
  }

 private:
  int fd_;
  std::string head_;
  std::size_t zeros_ = 0;
  bool written_ = false;
};

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

/// `s` as a JSON string: quotes, backslashes and control characters escaped, and each byte that
/// is not part of well-formed UTF-8 replaced by U+FFFD, so that any bytes make a name the
/// header reader accepts.
inline void append_json_string(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // Length and the range of the second byte by the lead byte (Unicode Table 3-7).
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = k == 1 ? b >= lo && b <= hi : b >= 0x80 && b <= 0xBF;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out += '"';
}

}  // namespace awqmap::fuzz

/// Runs `body`; awqmap's errors are expected, anything else escapes to the fuzzer as a crash.
#define AWQMAP_FUZZ_EXPECTED_ERRORS(body) \
  try {                                   \
    body;                                 \
  } catch (const awqmap::Error&) {        \
  }
