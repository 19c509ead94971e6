#pragma once
// The command line as awqmap reads it: options, usage errors (with "did you mean"), --help.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "awqmap/limits.hpp"

namespace awqmap::cli {

/// Exit codes (--help lists them).
inline constexpr int kOk = 0, kUsage = 2, kBadInput = 3, kResolution = 4, kInternal = 5, kOutput = 6;

/// A command line awqmap cannot run: exit code 2, with the usage hint.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  std::string command;  ///< a command, or "help" / "version"
  std::optional<std::string> model;
  std::optional<std::string> mappings_file;
  std::vector<std::string> targets, ignore;
  std::string format = "table";
  std::optional<std::string> architecture;
  std::vector<std::filesystem::path> plugin_dirs;
  bool default_plugins = true;
  bool allow_override = false;
  bool repair = false;
  bool coverage = false;
  bool full = false;
  std::optional<std::string> scheme;
  bool upstream = false;
  bool quiet = false;
  InputLimits limits;
};

/// Throws UsageError for anything that is not a valid command line.
Args parse(int argc, char** argv);

/// The text of `awqmap --help`.
extern const char* const kHelp;

}  // namespace awqmap::cli
