#include "session.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "awqmap/loader.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/model_description.hpp"
#include "output.hpp"

#ifndef AWQMAP_EXAMPLE_RELATIVE
#define AWQMAP_EXAMPLE_RELATIVE ""
#endif
#ifndef AWQMAP_EXAMPLE_SOURCE
#define AWQMAP_EXAMPLE_SOURCE ""
#endif

namespace fs = std::filesystem;

namespace awqmap::cli {

// Info lines go to stderr unless --quiet; warnings and errors always do.
namespace {
bool g_quiet = false;
}  // namespace

void set_quiet(bool quiet) { g_quiet = quiet; }

std::ostream& info() {
  static std::ostream null_stream(nullptr);
  if (g_quiet) return null_stream;
  return std::cerr << "awqmap: info: ";
}


namespace {

// Standard input ("-" as MODEL or --mappings), read whole but never more than `limit` bytes.
std::string read_stdin(std::uint64_t limit, const char* what) {
  std::string text;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
    if (text.size() + n > limit)
      throw InputError("<standard input>: " + std::string(what) + " is larger than " + std::to_string(limit) +
                       " bytes (docs/limits.md)");
    text.append(buf, n);
  }
  if (std::ferror(stdin)) throw InputError("<standard input>: reading " + std::string(what) + " failed");
  return text;
}

std::string default_model() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && std::string(AWQMAP_EXAMPLE_RELATIVE).size()) {
    fs::path installed = exe.parent_path() / AWQMAP_EXAMPLE_RELATIVE;
    if (fs::exists(installed, ec)) return installed.lexically_normal().string();
  }
  if (std::string(AWQMAP_EXAMPLE_SOURCE).size() && fs::exists(AWQMAP_EXAMPLE_SOURCE, ec)) return AWQMAP_EXAMPLE_SOURCE;
  throw InputError(
      "no MODEL given and the bundled example was not found next to the awqmap binary; "
      "pass a checkpoint directory or a model description");
}

}  // namespace

void load_plugins(Registry& registry, const Args& a) {
  PluginLoader loader(registry, LoaderOptions{a.allow_override});
  loader.load_search_path(a.plugin_dirs, a.default_plugins);
  for (const auto& d : registry.skipped_duplicates()) info() << printable(d) << "\n";
}

ModelView load(const Registry& registry, const Args& a, CheckpointSummary& summary) {
  if (a.model && *a.model == "-") {
    return parse_model_description(read_stdin(a.limits.max_description_bytes, "the model description"),
                                   "<standard input>");
  }
  return load_model(a.model ? *a.model : default_model(), CheckpointOptions{a.architecture, &registry, a.limits},
                    &summary);
}

// What the checkpoint reader left out, so that nothing is lost silently.
void report_checkpoint(const CheckpointSummary& s) {
  if (s.shards == 0) return;
  std::ostream& out = info();
  out << "checkpoint: " << s.shards << " shard(s), " << s.tensors << " tensors";
  if (s.renamed) out << ", " << s.renamed << " renamed";
  if (s.fused_split) out << ", " << s.fused_split << " fused expert tensors split";
  out << "\n";
  for (const auto& d : s.dropped)
    info() << "dropped " << d.count << " tensors: " << printable(d.reason) << "\n";
}

// An architecture no plugin knows, resolved with the default list in exact mode: its groups are
// a guess, so the user hears so (upstream mode reproduces upstream, silence included).
bool unknown_architecture(const Selection& s, const Args& a) {
  return s.kind == SelectionKind::default_list && !a.upstream;
}

SelectionMode mode_of(const Args& a) { return a.upstream ? SelectionMode::upstream : SelectionMode::exact; }

ResolveOptions resolve_options(const Args& a) {
  ResolveOptions options;
  if (!a.targets.empty()) options.targets = a.targets;
  if (!a.ignore.empty()) options.ignore = a.ignore;
  return options;
}

Selection select_mappings(const Registry& registry, const ModelView& model, const Args& a) {
  if (a.mappings_file) {
    Selection s;
    s.kind = SelectionKind::user;
    if (*a.mappings_file == "-") {
      const std::string text = read_stdin(a.limits.max_json_file_bytes, "the --mappings list");
      nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded()) throw InputError("<standard input>: the --mappings list is not valid JSON");
      s.mappings =
          mappings_from_json((j.is_object() && j.contains("mappings") ? j["mappings"] : j).dump(), "<standard input>");
    } else {
      s.mappings = load_mappings_file(*a.mappings_file);
    }
    return s;
  }
  Selection s = registry.select(model, mode_of(a));
  for (const auto& d : s.declined) info() << printable(d) << "\n";
  if (s.kind == SelectionKind::default_list)
    info() << "architecture " << printable(model.architecture())
              << " has no registered mappings; using the default mappings\n";
  return s;
}


}  // namespace awqmap::cli
