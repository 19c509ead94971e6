#pragma once
// Shared helpers for the tests: file access, corpus discovery, running the CLI.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "awqmap/loader.hpp"
#include "awqmap/registry.hpp"

namespace awqmap::test {

/// The shipped plugins from the build tree, loaded once per test process.
inline awqmap::Registry& shipped_registry() {
  static awqmap::Registry registry;
  static bool loaded = [] {
    awqmap::PluginLoader(registry).load_directory(AWQMAP_PLUGIN_BUILD_DIR);
    return true;
  }();
  (void)loaded;
  return registry;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline nlohmann::json read_json(const std::filesystem::path& p) {
  return nlohmann::json::parse(read_file(p));
}

inline std::filesystem::path corpus_dir() {
  return AWQMAP_CORPUS_DIR;
}

/// Module trees written by `awqmap.describe` of real transformers models (tests/described).
inline std::filesystem::path described_dir() {
  return AWQMAP_DESCRIBED_DIR;
}

/// NAME of every NAME.model.json in `dir`, sorted.
inline std::vector<std::string> model_names(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string f = e.path().filename().string();
    const std::string suffix = ".model.json";
    if (f.size() > suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(f.substr(0, f.size() - suffix.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Case names (NAME in NAME.model.json) of the shared corpus, sorted.
inline std::vector<std::string> corpus_cases() {
  return model_names(corpus_dir());
}

/// A temporary directory removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("awqmap-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    auto p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

struct CliResult {
  int exit_code;
  std::string out, err;
};

/// Runs the awqmap CLI with `args` (already shell-quoted) and optional environment prefix.
inline CliResult run_cli(const std::string& args, const std::string& env = "AWQMAP_PLUGIN_PATH=") {
  TempDir tmp;
  auto out = tmp.path / "out", err = tmp.path / "err";
  std::string cmd =
      env + " '" + std::string(AWQMAP_CLI) + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
}

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace awqmap::test
