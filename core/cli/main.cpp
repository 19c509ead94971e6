// awqmap command line: main reads the options, runs the command and turns what it throws into
// an exit code. Parsing is in options.cpp, the commands in commands/, their output in output.cpp,
// table.cpp and listings.cpp; every decision lives in the core.
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <new>

#include "awqmap/error.hpp"
#include "awqmap/version.hpp"
#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"
#include "session.hpp"

// Sanitizer builds (GCC says so with a macro, clang with __has_feature).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AWQMAP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define AWQMAP_SANITIZED 1
#endif
#endif
#ifndef AWQMAP_SANITIZED
#define AWQMAP_SANITIZED 0
#endif

namespace fs = std::filesystem;
using namespace awqmap;
using namespace awqmap::cli;

namespace {

// Large models (100k modules) make the process touch ~50 MB of fresh memory, and faulting it
// in 4 KiB pages costs as much as parsing the description. So for large inputs the CLI grows
// malloc's heap once, by about what the run will need, asks the kernel to back that range with
// transparent huge pages, and keeps malloc serving every block from it (no separate mappings,
// no trimming). This is what glibc's `glibc.malloc.hugetlb=1` tunable does, without the second
// exec that setting a tunable takes. Any failure just leaves the default pages.
std::uint64_t expected_input_bytes(const Args& a) {
  std::error_code ec;
  const fs::path model(*a.model);
  if (fs::is_regular_file(model, ec)) return fs::file_size(model, ec);
  if (!fs::is_directory(model, ec)) return 0;
  // A checkpoint's modules are named by its tensors: the index lists each once.
  const std::uint64_t index = fs::file_size(model / "model.safetensors.index.json", ec);
  return ec ? 0 : index;
}

void use_huge_pages_for_large_models(const Args& a) {
  constexpr std::uint64_t kLarge = 4u << 20, kHuge = 2u << 20, kMostReserved = 256u << 20;
  if (!a.model || *a.model == "-" || (a.command != "resolve" && a.command != "mappings" && a.command != "recipe"))
    return;
  const std::uint64_t input = expected_input_bytes(a);
  if (input < kLarge) return;
  // Generous: only what is touched becomes resident (the JSON parser alone reserves four bytes
  // per input byte for its index and fills a fraction of it).
  const std::size_t reserve = static_cast<std::size_t>(std::min<std::uint64_t>(input * 8, kMostReserved));
  if (!::mallopt(M_MMAP_THRESHOLD, static_cast<int>(2 * kMostReserved)) ||
      !::mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * kMostReserved)))
    return;
  char* block = static_cast<char*>(std::malloc(reserve));
  if (!block) return;
  const auto begin = (reinterpret_cast<std::uintptr_t>(block) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(block) + reserve) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  std::free(block);  // back to the heap's top, where the next allocations are carved from
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse(argc, argv);
    set_quiet(args.quiet);
  } catch (const UsageError& e) {
    std::cerr << "awqmap: " << printable(e.what()) << "\nRun 'awqmap --help' for usage.\n";
    return kUsage;
  }
  use_huge_pages_for_large_models(args);
  int code = kOk;
  try {
    if (args.command == "help") {
      std::cout << kHelp;
    } else if (args.command == "version") {
      std::cout << "awqmap " << awqmap::version << "\n";
    } else if (args.command == "resolve") {
      code = run_resolve(args);
    } else if (args.command == "mappings") {
      code = run_mappings(args);
    } else if (args.command == "recipe") {
      code = run_recipe(args);
    } else if (args.command == "plugins") {
      code = run_plugins(args);
    } else {
      code = run_architectures(args);
    }
  } catch (const InputError& e) {
    std::cerr << "awqmap: error: " << printable(e.what()) << "\n";
    return kBadInput;
  } catch (const ResolutionError& e) {
    std::cerr << "awqmap: resolution error (" << to_string(e.kind()) << "): " << printable(e.what()) << "\n";
    return kResolution;
  } catch (const std::bad_alloc&) {
    std::cerr << "awqmap: internal error: out of memory\n";
    return kInternal;
  } catch (const std::exception& e) {
    std::cerr << "awqmap: internal error: " << printable(e.what())
              << " (not a problem with the input; please report it with the command line)\n";
    return kInternal;
  }
  // A full disk or a closed output must not look like success with a truncated result.
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::cerr << "awqmap: error: could not write the output: " << std::strerror(errno) << "\n";
    return kOutput;
  }
#if !AWQMAP_SANITIZED
  // Everything is written and checked: skip the static destructors (ICU's caches, the plugins'
  // registrations, the kept model), which would only return memory the exit returns anyway.
  // Sanitizer builds exit normally so that their leak checks run.
  std::cerr.flush();
  ::_exit(code);
#else
  return code;
#endif
}
