#include "options.hpp"

#include <algorithm>
#include <cstdint>

#include "names.hpp"

namespace awqmap::cli {

const char* const kHelp = R"(awqmap — which layers AWQ smooths together, resolved exactly as llm-compressor does.

Usage:
  awqmap resolve [MODEL] [--mappings FILE] [--targets T]... [--ignore T]... [--format table|json]
                 [--architecture NAME] [--repair] [--coverage] [--upstream] [--full]
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
  plugins        list the loaded plugins, what each registers, the checkpoint adaptations and
                 which plugin sets the default mappings
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
  --full                resolve's table: one line per group. Without it, groups of a mapping
                        whose names differ only in layer and expert indices share a line, the
                        indices folded into sets (model.layers.{0-2,4-6}.mlp.experts.{0-511}.up_proj),
                        and "..." in a line stands for the smooth layer's parent
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

namespace {

const std::vector<std::string> kCommands = {"resolve", "mappings", "recipe", "plugins", "architectures"};
const std::vector<std::string> kOptions = {
    "--mappings", "--targets", "--ignore",   "--format",          "--scheme",         "--architecture",
    "--plugin-dir", "--no-default-plugins", "--repair", "--upstream", "--coverage", "--allow-override",
    "--quiet",    "--help",    "--version", "--limit",  "--full"};

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
  const bool digits = value.size() <= 19 && detail::all_digits(value);
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

}  // namespace

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
    } else if (flag == "--full" && !has_inline) {
      a.full = true;
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
  if (a.full && (a.command != "resolve" || a.format != "table"))
    throw UsageError("--full belongs to 'resolve' in table format (the JSON always lists every group)");
  return a;
}

}  // namespace awqmap::cli
