// awqmap command line: argument parsing and output only; every decision lives in the core.
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <new>
#include <cstring>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "awqmap/awqmap.hpp"
#include "awqmap/limits.hpp"
#include "awqmap/loader.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/recipe.hpp"
#include "awqmap/registry.hpp"
#include "output.hpp"

#ifndef AWQMAP_EXAMPLE_RELATIVE
#define AWQMAP_EXAMPLE_RELATIVE ""
#endif
#ifndef AWQMAP_EXAMPLE_SOURCE
#define AWQMAP_EXAMPLE_SOURCE ""
#endif

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

namespace {

constexpr int kOk = 0, kUsage = 2, kBadInput = 3, kResolution = 4, kInternal = 5, kOutput = 6;

const char* kHelp = R"(awqmap — which layers AWQ smooths together, resolved exactly as llm-compressor does.

Usage:
  awqmap resolve [MODEL] [--mappings FILE] [--targets T]... [--ignore T]... [--format table|json]
                 [--architecture NAME] [--repair] [--coverage] [--upstream]
  awqmap recipe [MODEL] [--mappings FILE] [--targets T]... [--ignore T]... [--repair] [--scheme S]
  awqmap mappings [MODEL] [--format table|json] [--architecture NAME] [--upstream]
  awqmap plugins [--format table|json]
  awqmap architectures [--format table|json]
  awqmap --help | --version

Commands:
  resolve        select the mappings for MODEL and resolve them to concrete modules
  mappings       show the mappings selected for MODEL and where they came from
  recipe         print an llm-compressor recipe (YAML) whose AWQModifier carries the mappings
                 resolve selects (or repairs) for MODEL; fails like resolve when they do not resolve
  plugins        list the loaded plugins and what each registers
  architectures  list every registered architecture, its kind and its plugin

MODEL is a Hugging Face checkpoint directory (config.json plus model.safetensors, or
model.safetensors.index.json and its shards; only the safetensors headers are read) or an
awqmap.model/v1 description file (JSON). Without MODEL, the bundled example checkpoint is used.

Options:
  --mappings FILE       use the mappings in FILE (a JSON list of {"smooth_layer", "balance_layers",
                        "activation_hook_target"}) instead of selecting them (selection kind "user")
  --targets T           quantization target (repeatable, one target each; default: Linear)
  --ignore T            modules to leave unquantized (repeatable, one each; default: lm_head)
  --format F            table (default, for people) or json (awqmap.resolved/v1; mappings:
                        awqmap.mappings/v1, plugins: awqmap.plugins/v1, architectures:
                        awqmap.architectures/v1)
  --repair              a mapping that fails with multiple_smooth_layers or incomplete_set (mixed
                        dense/MoE layers, vision towers) is replaced by mappings scoped to groups of
                        layers; mappings that resolve cleanly are untouched. JSON then carries
                        "repaired_from" on repaired mappings and a "repairs" list
  --coverage            list the targeted Linear modules that no resolved group balances, folded by
                        name, with the reason (the table always shows the counts)
  --upstream            select exactly what llm-compressor's registry selects (its tables, its
                        dynamic builders and its default list), inexact groups and failures
                        included. Without it, every loaded plugin counts and an architecture's
                        exact mappings (from a peer quantizer or from its modeling code) take
                        precedence over upstream's
  --scheme S            recipe only: the llm-compressor preset scheme (default W4A16_ASYM)
  --architecture NAME   use NAME instead of the model's own architecture (config.json
                        architectures[0], or the description's "architecture")
  --plugin-dir DIR      load plugins from DIR first (repeatable); then AWQMAP_PLUGIN_PATH
                        (colon-separated, empty entries skipped); then the shipped plugins.
                        Plugin files are named awqmap-NAME.so; other files are skipped, and a
                        plugin found again with the same name and version is loaded once
  --no-default-plugins  do not load the shipped plugins directory
  --limit NAME=COUNT    raise (or lower) a bound on what input files may make awqmap read or
                        build, e.g. --limit max_modules=20000000 (repeatable; names and defaults
                        in docs/limits.md)
  -q, --quiet           no info lines on stderr (warnings and errors stay)
  --allow-override      when two plugins register the same architecture with the same kind (or
                        both set the default mappings), keep the one loaded first instead of failing
  -h, --help            this text
  --version             print the version

Exit codes:
  0  success
  2  usage error (unknown command or option, missing value)
  3  bad input (missing or malformed file, invalid pattern, plugin that fails to load)
  4  resolution error (upstream's failures: multiple_smooth_layers, incomplete_set,
     module_rematch, hook_target_missing); nothing is printed on stdout but, with
     --format json, an awqmap.error/v1 object
  5  internal failure (out of memory, a bug in awqmap): nothing to fix in the input; please
     report it with the command line
  6  the output could not be written (full disk, closed output); what was written is incomplete
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  std::string command;
  std::optional<std::string> model;
  std::optional<std::string> mappings_file;
  std::vector<std::string> targets, ignore;
  std::string format = "table";
  std::optional<std::string> architecture;
  std::vector<fs::path> plugin_dirs;
  bool default_plugins = true;
  bool allow_override = false;
  bool repair = false;
  bool coverage = false;
  std::optional<std::string> scheme;
  bool upstream = false;
  bool quiet = false;
  InputLimits limits;
};

const std::vector<std::string> kCommands = {"resolve", "mappings", "recipe", "plugins", "architectures"};
const std::vector<std::string> kOptions = {
    "--mappings", "--targets", "--ignore",   "--format",          "--scheme",         "--architecture",
    "--plugin-dir", "--no-default-plugins", "--repair", "--upstream", "--coverage", "--allow-override",
    "--quiet",    "--help",    "--version", "--limit"};

// Levenshtein distance, for "did you mean" (the words are short).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = 3;  // suggest only close misspellings
  for (const auto& k : known)
    if (std::size_t d = edit_distance(word, k); d < best_d) best_d = d, best = k;
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

// --limit NAME=VALUE: the InputLimits fields by their names in docs/limits.md.
void set_limit(InputLimits& l, const std::string& spec) {
  auto eq = spec.find('=');
  const std::string name = spec.substr(0, eq);
  const std::string value = eq == std::string::npos ? "" : spec.substr(eq + 1);
  std::uint64_t v = 0;
  bool digits = !value.empty() && value.size() <= 19 &&
                std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) throw UsageError("--limit needs NAME=COUNT with a decimal count, not '" + spec + "'");
  v = std::stoull(value);
  auto narrow = [&](std::uint32_t& field) {
    if (v > UINT32_MAX) throw UsageError("--limit " + name + " is at most " + std::to_string(UINT32_MAX));
    field = static_cast<std::uint32_t>(v);
  };
  if (name == "max_description_bytes") l.max_description_bytes = v;
  else if (name == "max_json_file_bytes") l.max_json_file_bytes = v;
  else if (name == "max_safetensors_header_bytes") l.max_safetensors_header_bytes = v;
  else if (name == "max_name_depth") narrow(l.max_name_depth);
  else if (name == "max_name_bytes") narrow(l.max_name_bytes);
  else if (name == "max_modules") l.max_modules = v;
  else if (name == "max_total_name_bytes") l.max_total_name_bytes = v;
  else if (name == "max_fused_experts") l.max_fused_experts = v;
  else
    throw UsageError("--limit: no limit named '" + name + "' (see docs/limits.md)" +
                     did_you_mean(name, {"max_description_bytes", "max_json_file_bytes", "max_safetensors_header_bytes",
                                         "max_name_depth", "max_name_bytes", "max_modules", "max_total_name_bytes",
                                         "max_fused_experts"}));
}

// Info lines go to stderr unless --quiet; warnings and errors always do.
bool g_quiet = false;
std::ostream& info() {
  static std::ostream null_stream(nullptr);
  if (g_quiet) return null_stream;
  return std::cerr << "awqmap: info: ";
}

Args parse(int argc, char** argv) {
  Args a;
  std::vector<std::string> rest(argv + 1, argv + argc);
  if (rest.empty()) throw UsageError("no command given");
  std::size_t i = 0;
  auto value = [&](const std::string& flag) -> std::string {
    if (i + 1 >= rest.size()) throw UsageError(flag + " needs a value");
    return rest[++i];
  };
  for (; i < rest.size(); ++i) {
    const std::string& s = rest[i];
    std::string flag = s, inline_value;
    bool has_inline = false;
    if (s.rfind("--", 0) == 0) {
      auto eq = s.find('=');
      if (eq != std::string::npos) {
        flag = s.substr(0, eq);
        inline_value = s.substr(eq + 1);
        has_inline = true;
      }
    }
    auto take = [&](const std::string& f) { return has_inline ? inline_value : value(f); };
    if (flag == "-h" || flag == "--help") {
      a.command = "help";
      return a;
    } else if (flag == "--version") {
      a.command = "version";
      return a;
    } else if (flag == "--mappings") {
      a.mappings_file = take(flag);
    } else if (flag == "--targets") {
      a.targets.push_back(take(flag));
      // An empty target would match only the unnamed root module: never what was meant.
      if (a.targets.back().empty())
        throw UsageError("--targets needs a module name, a class name or a re: pattern, not an empty string");
    } else if (flag == "--ignore") {
      a.ignore.push_back(take(flag));
    } else if (flag == "--format") {
      a.format = take(flag);
      if (a.format != "table" && a.format != "json")
        throw UsageError("--format must be table or json, not '" + a.format + "'");
    } else if (flag == "--scheme") {
      a.scheme = take(flag);
    } else if (flag == "--architecture") {
      a.architecture = take(flag);
      if (a.architecture->empty()) throw UsageError("--architecture needs a class name");
    } else if (flag == "--plugin-dir") {
      a.plugin_dirs.emplace_back(take(flag));
    } else if (flag == "--no-default-plugins" && !has_inline) {
      a.default_plugins = false;
    } else if (flag == "--repair" && !has_inline) {
      a.repair = true;
    } else if (flag == "--upstream" && !has_inline) {
      a.upstream = true;
    } else if (flag == "--coverage" && !has_inline) {
      a.coverage = true;
    } else if (flag == "--allow-override" && !has_inline) {
      a.allow_override = true;
    } else if (flag == "--limit") {
      set_limit(a.limits, take(flag));
    } else if ((flag == "--quiet" || flag == "-q") && !has_inline) {
      a.quiet = true;
    } else if (s.size() > 1 && s[0] == '-') {
      throw UsageError("unknown option '" + s + "'" + did_you_mean(flag, kOptions));
    } else if (a.command.empty()) {
      a.command = s;
    } else if (!a.model) {
      a.model = s;
    } else {
      throw UsageError("unexpected argument '" + s + "'");
    }
  }
  if (a.command == "help") return a;
  if (a.command != "resolve" && a.command != "mappings" && a.command != "plugins" && a.command != "architectures" &&
      a.command != "recipe")
    throw UsageError(a.command.empty() ? "no command given"
                                       : "unknown command '" + a.command + "'" + did_you_mean(a.command, kCommands));
  if ((a.command == "plugins" || a.command == "architectures") && a.model)
    throw UsageError(a.command + " takes no MODEL");
  if ((a.command == "plugins" || a.command == "architectures") && a.architecture)
    throw UsageError("--architecture belongs to 'resolve' and 'mappings'");
  if (a.scheme && a.command != "recipe") throw UsageError("--scheme belongs to 'recipe'");
  if (a.command == "recipe" && a.coverage) throw UsageError("--coverage belongs to 'resolve'");
  if (a.command != "resolve" && a.command != "recipe" && a.command != "mappings" &&
      (a.mappings_file || !a.targets.empty() || !a.ignore.empty() || a.repair || a.coverage))
    throw UsageError("--mappings, --targets, --ignore, --repair and --coverage belong to 'resolve'");
  if (a.command == "mappings" && (a.mappings_file || a.coverage))
    throw UsageError("--mappings and --coverage belong to 'resolve'");
  if (a.model && *a.model == "-" && a.mappings_file && *a.mappings_file == "-")
    throw UsageError("MODEL and --mappings cannot both read standard input ('-')");
  if (a.model && *a.model == "-" && a.architecture)
    throw UsageError("--architecture cannot override a description read from standard input; set its "
                     "\"architecture\" field instead");
  if (a.upstream && a.command != "resolve" && a.command != "mappings" && a.command != "recipe")
    throw UsageError("--upstream belongs to 'resolve', 'mappings' and 'recipe'");
  return a;
}

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

void load_plugins(Registry& registry, const Args& a) {
  PluginLoader loader(registry, LoaderOptions{a.allow_override});
  loader.load_search_path(a.plugin_dirs, a.default_plugins);
  for (const auto& d : registry.skipped_duplicates()) info() << cli::printable(d) << "\n";
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
    info() << "dropped " << d.count << " tensors: " << cli::printable(d.reason) << "\n";
}

// An architecture no plugin knows, resolved with the default list in exact mode: its groups are
// a guess, so the user hears so (upstream mode reproduces upstream, silence included).
bool unknown_architecture(const Selection& s, const Args& a) {
  return s.kind == SelectionKind::default_list && !a.upstream;
}

SelectionMode mode_of(const Args& a) { return a.upstream ? SelectionMode::upstream : SelectionMode::exact; }

Selection select_mappings(const Registry& registry, const ModelView& model, const Args& a) {
  if (a.mappings_file) {
    Selection s;
    s.kind = SelectionKind::user;
    if (*a.mappings_file == "-") {
      const std::string text = read_stdin(a.limits.max_json_file_bytes, "the --mappings list");
      nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded()) throw InputError("<standard input>: the --mappings list is not valid JSON");
      s.mappings = mappings_from_json(j.is_object() && j.contains("mappings") ? j["mappings"] : j, "<standard input>");
    } else {
      s.mappings = load_mappings_file(*a.mappings_file);
    }
    return s;
  }
  Selection s = registry.select(model, mode_of(a));
  for (const auto& d : s.declined) info() << cli::printable(d) << "\n";
  if (s.kind == SelectionKind::default_list)
    info() << "architecture " << cli::printable(model.architecture())
              << " has no registered mappings; using the default mappings\n";
  return s;
}

// Like compilers that skip freeing at exit: with 100k modules, tearing down the model and the
// result costs about as much as building them, and the process ends right after printing.
// They stay reachable from here, so leak checkers do not report them.
struct KeptUntilExit {
  std::unique_ptr<ModelView> model;
  std::unique_ptr<Resolution> resolution;
  std::unique_ptr<RepairedResolution> repaired;
};
KeptUntilExit* kept = new KeptUntilExit;

int run_resolve(const Args& a) {
  Registry registry;
  load_plugins(registry, a);
  CheckpointSummary summary;
  kept->model = std::make_unique<ModelView>(load(registry, a, summary));
  const ModelView& model = *kept->model;
  report_checkpoint(summary);
  Selection selection = select_mappings(registry, model, a);
  ResolveOptions options;
  if (!a.targets.empty()) options.targets = a.targets;
  if (!a.ignore.empty()) options.ignore = a.ignore;
  try {
    const MappingList* mappings = &selection.mappings;
    const Resolution* r = nullptr;
    cli::Extras extras;
    extras.checkpoint = &summary;
    if (a.repair) {
      kept->repaired = std::make_unique<RepairedResolution>(resolve_with_repair(model, selection.mappings, options));
      mappings = &kept->repaired->mappings;
      r = &kept->repaired->resolution;
      extras.repair = kept->repaired.get();
      for (const auto& rep : kept->repaired->repairs) {
        std::ostream& out = info();
        out << "repaired mapping " << rep.mapping << " (" << to_string(rep.error) << "): ";
        if (rep.replaced_by.empty())
          out << "left out";
        else
          out << rep.replaced_by.size() << (rep.replaced_by.size() == 1 ? " scoped mapping" : " scoped mappings");
        if (rep.left_out_layers) out << ", " << rep.left_out_layers << " layer(s) left out";
        out << "\n";
      }
    } else {
      kept->resolution = std::make_unique<Resolution>(resolve(model, selection.mappings, options));
      r = kept->resolution.get();
    }
    Coverage cov;
    const bool unknown = unknown_architecture(selection, a);
    if (a.coverage || a.format == "table" || unknown) {
      cov = kept->repaired ? coverage(model, *kept->repaired, options) : coverage(model, *mappings, *r, options);
      if (unknown)
        std::cerr << "awqmap: warning: no loaded plugin registers " << cli::printable(model.architecture())
                  << ": the default mappings resolved to " << r->resolved.size()
                  << " groups that are unverified for this architecture (they balance " << cov.balanced << " of "
                  << cov.targeted << " targeted Linear modules); check them with awqmap.verify, or register the "
                  << "architecture in a plugin\n";
      if (!a.coverage) cov.unbalanced.clear();  // the table shows only the counts
      if (a.coverage || a.format == "table") extras.coverage = &cov;
    }
    if (a.format == "json") {
      cli::resolution_json(model, selection, *mappings, *r, extras, stdout);
    } else {
      std::string text = cli::resolution_table(model, selection, *mappings, *r, extras);
      std::fwrite(text.data(), 1, text.size(), stdout);
    }
  } catch (const ResolutionError& e) {
    std::string why = explain(model, selection.mappings, e, options);
    if (unknown_architecture(selection, a))
      why = "architecture " + model.architecture() +
            " is unknown to every loaded plugin, so it got the default mappings, which do not fit it; "
            "write a plugin for it (docs/plugins.md), pass your own --mappings FILE, or try --repair.\n" + why;
    std::cerr << "awqmap: resolution error (" << to_string(e.kind()) << "): " << cli::printable(e.what()) << "\n";
    std::cerr << "awqmap: explanation: " << cli::printable(why, true) << "\n";
    if (a.format == "json") std::cout << cli::error_json(e, why);
    return kResolution;
  }
  return kOk;
}

// The recipe's mappings must resolve (llm-compressor would fail on them otherwise), so recipe
// resolves first and fails exactly as resolve does.
int run_recipe(const Args& a) {
  Registry registry;
  load_plugins(registry, a);
  CheckpointSummary summary;
  ModelView model = load(registry, a, summary);
  report_checkpoint(summary);
  Selection selection = select_mappings(registry, model, a);
  ResolveOptions options;
  if (!a.targets.empty()) options.targets = a.targets;
  if (!a.ignore.empty()) options.ignore = a.ignore;
  RecipeOptions recipe;
  recipe.targets = options.targets;
  recipe.ignore = options.ignore;
  if (a.scheme) recipe.scheme = *a.scheme;
  std::string source = model.architecture() + ": mappings " + std::string(to_string(selection.kind));
  if (!selection.builder.empty())
    source += " (builder " + selection.builder + ", plugin " + selection.plugin + ")";
  else if (!selection.plugin.empty())
    source += " (plugin " + selection.plugin + ")";
  try {
    std::string text;
    if (a.repair) {
      RepairedResolution r = resolve_with_repair(model, selection.mappings, options);
      if (!r.repairs.empty()) source += ", " + std::to_string(r.repairs.size()) + " repaired";
      recipe.comments.push_back(source + "; " + std::to_string(r.resolution.resolved.size()) + " groups");
      text = awq_recipe_yaml(r.mappings, recipe);
    } else {
      Resolution r = resolve(model, selection.mappings, options);
      recipe.comments.push_back(source + "; " + std::to_string(r.resolved.size()) + " groups");
      text = awq_recipe_yaml(selection.mappings, recipe);
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
  } catch (const ResolutionError& e) {
    std::cerr << "awqmap: resolution error (" << to_string(e.kind()) << "): " << e.what() << "\n";
    std::cerr << "awqmap: explanation: " << explain(model, selection.mappings, e, options) << "\n";
    return kResolution;
  }
  return kOk;
}

int run_mappings(const Args& a) {
  Registry registry;
  load_plugins(registry, a);
  CheckpointSummary summary;
  ModelView model = load(registry, a, summary);
  report_checkpoint(summary);
  Selection s = registry.select(model, mode_of(a));
  // --repair shows the list that `resolve --repair` would use (it resolves to find out).
  std::optional<RepairedResolution> repaired;
  if (a.repair) {
    ResolveOptions options;
    if (!a.targets.empty()) options.targets = a.targets;
    if (!a.ignore.empty()) options.ignore = a.ignore;
    try {
      repaired = resolve_with_repair(model, s.mappings, options);
    } catch (const ResolutionError& e) {
      std::cerr << "awqmap: resolution error (" << to_string(e.kind()) << "): " << cli::printable(e.what()) << "\n";
      std::cerr << "awqmap: explanation: " << cli::printable(explain(model, s.mappings, e, options), true) << "\n";
      return kResolution;
    }
  }
  const MappingList& list = repaired ? repaired->mappings : s.mappings;
  if (a.format == "json") {
    nlohmann::json j;
    j["format"] = "awqmap.mappings/v1";
    j["architecture"] = model.architecture();
    j["selection"] = {{"kind", std::string(to_string(s.kind))},
                      {"origin", std::string(to_string(s.origin))},
                      {"mode", std::string(to_string(mode_of(a)))}};
    if (!s.builder.empty()) j["selection"]["builder"] = s.builder;
    if (!s.plugin.empty()) j["selection"]["plugin"] = s.plugin;
    if (!s.source.empty()) j["selection"]["source"] = s.source;
    nlohmann::json declined = nlohmann::json::array();
    for (const auto& d : s.declined_builders)
      declined.push_back({{"builder", d.builder}, {"plugin", d.plugin}, {"reason", d.reason}});
    j["declined"] = declined;
    j["mappings"] = mappings_to_json(list);
    if (repaired)
      for (std::size_t i = 0; i < list.size(); ++i)
        if (repaired->repaired_from[i]) j["mappings"][i]["repaired_from"] = *repaired->repaired_from[i];
    std::cout << j.dump(1) << "\n";
    return kOk;
  }
  std::cout << cli::printable(model.architecture()) << ": " << cli::printable(cli::selection_text(s)) << "\n";
  for (const auto& d : s.declined) std::cout << "  " << cli::printable(d) << "\n";
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Mapping& m = list[i];
    std::cout << "[" << i << "] " << cli::printable(m.smooth_layer) << " -> [";
    for (std::size_t b = 0; b < m.balance_layers.size(); ++b)
      std::cout << (b ? ", " : "") << cli::printable(m.balance_layers[b]);
    std::cout << "]";
    if (m.activation_hook_target) std::cout << " hook " << cli::printable(*m.activation_hook_target);
    if (repaired && repaired->repaired_from[i]) std::cout << "  (repairs mapping " << *repaired->repaired_from[i] << ")";
    std::cout << "\n";
  }
  return kOk;
}

std::string kind_name(EntryKind k) {
  return k == EntryKind::dynamic ? "dynamic" : "static";
}

// One registration as the JSON listings (plugins, architectures) write it.
nlohmann::json registration_json(const ArchitectureEntry& e) {
  nlohmann::json j = {{"architecture", e.architecture},
                      {"kind", kind_name(e.kind)},
                      {"origin", std::string(to_string(e.provenance.origin))},
                      {"source", e.provenance.source}};
  if (!e.builder.empty()) j["builder"] = e.builder;
  return j;
}

int run_plugins(const Args& a) {
  Registry registry;
  load_plugins(registry, a);
  auto archs = registry.architectures();
  if (a.format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : registry.plugins()) {
      nlohmann::json regs = nlohmann::json::array();
      for (const auto& e : archs) {
        if (e.plugin != p) continue;
        regs.push_back(registration_json(e));
      }
      list.push_back({{"name", p->name}, {"version", p->version}, {"file", p->file}, {"registrations", std::move(regs)}});
    }
    nlohmann::json out = {{"format", "awqmap.plugins/v1"},
                          {"plugins", std::move(list)},
                          {"default_mappings", registry.has_default()},
                          {"skipped_duplicates", registry.skipped_duplicates()}};
    std::cout << out.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kOk;
  }
  for (const auto& p : registry.plugins()) {
    std::cout << cli::printable(p->name) << " " << cli::printable(p->version) << "  " << cli::printable(p->file) << "\n";
    for (const auto& e : archs)
      if (e.plugin == p)
        std::cout << "  " << kind_name(e.kind) << "  " << cli::printable(e.architecture)
                  << (e.builder.empty() ? "" : "  (builder " + cli::printable(e.builder) + ")") << "\n";
  }
  if (registry.plugins().empty()) std::cout << "no plugins loaded\n";
  return kOk;
}

// One row per architecture: what exact selection uses and how it relates to upstream's choice.
struct ArchitectureRow {
  const ArchitectureEntry* used;      // what exact mode tries first
  const ArchitectureEntry* upstream;  // upstream's registration, or nullptr (default list)
  std::string differs;                // "yes", "no", or "builder" when a dynamic builder decides
};

std::vector<ArchitectureRow> architecture_rows(const std::vector<ArchitectureEntry>& entries,
                                               const std::optional<MappingList>& default_list) {
  std::vector<ArchitectureRow> rows;
  for (std::size_t i = 0; i < entries.size();) {
    std::size_t j = i;
    const ArchitectureEntry* upstream = nullptr;
    for (; j < entries.size() && entries[j].architecture == entries[i].architecture; ++j)
      if (!upstream && entries[j].provenance.origin == Origin::upstream) upstream = &entries[j];
    const ArchitectureEntry* used = &entries[i];
    std::string differs;
    if (used == upstream || used->provenance.origin == Origin::upstream)
      differs = "no";
    else if (used->kind == EntryKind::dynamic || (upstream && upstream->kind == EntryKind::dynamic))
      differs = "builder";
    else if (upstream)
      differs = used->mappings == upstream->mappings ? "no" : "yes";
    else
      differs = default_list && used->mappings == *default_list ? "no" : "yes";
    rows.push_back({used, upstream, differs});
    i = j;
  }
  return rows;
}

int run_architectures(const Args& a) {
  Registry registry;
  load_plugins(registry, a);
  const auto entries = registry.architectures();
  const auto default_list = registry.default_mappings();
  const auto rows = architecture_rows(entries, default_list);
  if (a.format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json j = registration_json(*r.used);
      j["plugin"] = r.used->plugin->name;
      j["upstream"] = r.upstream ? nlohmann::json(kind_name(r.upstream->kind)) : nlohmann::json("default");
      j["differs_from_upstream"] = r.differs;
      list.push_back(std::move(j));
    }
    nlohmann::json out = {{"format", "awqmap.architectures/v1"},
                          {"architectures", std::move(list)},
                          {"default_mappings", default_list.has_value()}};
    std::cout << out.dump(1) << "\n";
    return kOk;
  }
  std::vector<std::array<std::string, 6>> table = {
      {"ARCHITECTURE", "KIND", "PLUGIN", "ORIGIN", "VS UPSTREAM", "SOURCE"}};
  for (const auto& r : rows)
    table.push_back({cli::printable(r.used->architecture), kind_name(r.used->kind), cli::printable(r.used->plugin->name),
                     std::string(to_string(r.used->provenance.origin)),
                     r.differs == "no" ? "same" : r.differs == "yes" ? "differs" : "builder",
                     cli::printable(r.used->provenance.source)});
  std::array<std::size_t, 6> width{};
  for (const auto& row : table)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  for (const auto& row : table) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c)
      line += c + 1 < row.size() ? row[c] + std::string(width[c] - row[c].size() + 2, ' ') : row[c];
    std::cout << line << "\n";
  }
  std::cout << "\n" << rows.size() << " architectures; "
            << (default_list ? "any other architecture gets the default mappings (unverified for it)\n"
                             : "no default mappings loaded\n");
  return kOk;
}

}  // namespace

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

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse(argc, argv);
    g_quiet = args.quiet;
  } catch (const UsageError& e) {
    std::cerr << "awqmap: " << cli::printable(e.what()) << "\nRun 'awqmap --help' for usage.\n";
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
    std::cerr << "awqmap: error: " << cli::printable(e.what()) << "\n";
    return kBadInput;
  } catch (const ResolutionError& e) {
    std::cerr << "awqmap: resolution error (" << to_string(e.kind()) << "): " << cli::printable(e.what()) << "\n";
    return kResolution;
  } catch (const std::bad_alloc&) {
    std::cerr << "awqmap: internal error: out of memory\n";
    return kInternal;
  } catch (const std::exception& e) {
    std::cerr << "awqmap: internal error: " << cli::printable(e.what())
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
