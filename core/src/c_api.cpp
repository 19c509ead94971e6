// The C API (awqmap/awqmap.h) over the C++ core. Every entry point catches everything: a C
// caller cannot unwind a C++ exception, so each failure becomes a status and an error object.
#include "awqmap/awqmap.h"

#include <deque>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "awqmap/awqmap.hpp"
#include "awqmap/loader.hpp"
#include "awqmap/python_regex.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/version.hpp"

struct awqmap_error {
  awqmap_status status = AWQMAP_INTERNAL;
  std::string message;
  std::string kind;
  std::size_t mapping_index = static_cast<std::size_t>(-1);
};

struct awqmap_registry {
  awqmap::Registry registry;
};

struct awqmap_model {
  explicit awqmap_model(awqmap::ModelView v) : view(std::move(v)) {}
  awqmap::ModelView view;
};

// Owns a copy of every string and array it hands out: the C++ resolution views the model's
// names, which are neither NUL-terminated nor owned here. Deques keep element addresses stable
// while they grow, so pointers taken earlier stay valid.
struct awqmap_result {
  std::deque<std::string> strings;
  std::deque<std::vector<const char*>> arrays;
  std::vector<awqmap_mapping> mappings;
  std::vector<awqmap_group> groups;
  std::vector<awqmap_skipped_group> skipped;
  awqmap_selection_info selection{};

  const char* keep(std::string_view s) { return strings.emplace_back(s).c_str(); }
  template <class Strings>
  const char* const* keep_array(const Strings& list) {
    std::vector<const char*>& a = arrays.emplace_back();
    a.reserve(list.size());
    for (const auto& s : list) a.push_back(keep(s));
    return a.data();
  }
};

namespace {

constexpr std::size_t no_index = static_cast<std::size_t>(-1);

// Handed out when memory ran out so badly that no error object could be made; never freed.
awqmap_error out_of_memory_error{AWQMAP_OUT_OF_MEMORY, "awqmap: out of memory", "out_of_memory", no_index};

// The message is joined from `parts` inside the try, so that running out of memory while
// reporting an error still returns a status (and the static error) instead of escaping.
awqmap_status fail(awqmap_error** error, awqmap_status status, std::initializer_list<std::string_view> parts,
                   std::string_view kind = {}, std::size_t mapping_index = no_index) noexcept {
  if (!error) return status;
  try {
    std::string text;
    for (std::string_view p : parts) text.append(p);
    *error = new awqmap_error{status, std::move(text),
                              std::string(kind.empty() ? std::string_view(awqmap_status_name(status)) : kind),
                              mapping_index};
  } catch (...) {
    *error = &out_of_memory_error;
  }
  return status;
}

// The one place exceptions turn into statuses: called from inside a catch block.
awqmap_status fail_current(awqmap_error** error, std::string_view function) noexcept {
  constexpr std::string_view internal = ": internal error (please report it): ";
  try {
    throw;
  } catch (const awqmap::ResolutionError& e) {
    return fail(error, AWQMAP_RESOLUTION_FAILED, {e.what()}, awqmap::to_string(e.kind()), e.mapping_index());
  } catch (const awqmap::Error& e) {
    return fail(error, AWQMAP_BAD_INPUT, {e.what()});
  } catch (const std::bad_alloc&) {
    return fail(error, AWQMAP_OUT_OF_MEMORY, {function, ": out of memory"});
  } catch (const std::exception& e) {
    return fail(error, AWQMAP_INTERNAL, {function, internal, e.what()});
  } catch (...) {
    return fail(error, AWQMAP_INTERNAL, {function, internal, "unknown exception"});
  }
}

awqmap_status invalid(awqmap_error** error, std::string_view function, std::string_view what) noexcept {
  return fail(error, AWQMAP_INVALID_ARGUMENT, {function, ": ", what});
}

// NULL entries in a C array of strings are the caller's mistake, not bad input.
std::optional<std::vector<std::string>> strings_of(const char* const* list, std::size_t count) {
  if (count == 0) return std::vector<std::string>{};
  if (!list) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (!list[i]) return std::nullopt;
    out.emplace_back(list[i]);
  }
  return out;
}

}  // namespace

extern "C" {

const char* awqmap_version(void) {
  return awqmap::version;
}

const char* awqmap_status_name(awqmap_status status) {
  switch (status) {
    case AWQMAP_OK: return "ok";
    case AWQMAP_BAD_INPUT: return "bad_input";
    case AWQMAP_RESOLUTION_FAILED: return "resolution_failed";
    case AWQMAP_INVALID_ARGUMENT: return "invalid_argument";
    case AWQMAP_OUT_OF_MEMORY: return "out_of_memory";
    case AWQMAP_INTERNAL: return "internal";
  }
  return "unknown";
}

// ---- errors ----

void awqmap_error_destroy(awqmap_error* error) {
  if (error != &out_of_memory_error) delete error;
}
awqmap_status awqmap_error_status(const awqmap_error* error) {
  return error ? error->status : AWQMAP_INVALID_ARGUMENT;
}
const char* awqmap_error_message(const awqmap_error* error) {
  return error ? error->message.c_str() : "awqmap_error_message: no error given";
}
const char* awqmap_error_kind(const awqmap_error* error) {
  return error ? error->kind.c_str() : awqmap_status_name(AWQMAP_INVALID_ARGUMENT);
}
size_t awqmap_error_mapping_index(const awqmap_error* error) {
  return error ? error->mapping_index : no_index;
}

// ---- plugins ----

awqmap_status awqmap_registry_create(awqmap_registry** out, awqmap_error** error) {
  if (!out) return invalid(error, "awqmap_registry_create", "the output pointer is NULL");
  try {
    *out = new awqmap_registry;
    return AWQMAP_OK;
  } catch (...) {
    return fail_current(error, "awqmap_registry_create");
  }
}

void awqmap_registry_destroy(awqmap_registry* registry) {
  delete registry;
}

awqmap_status awqmap_registry_load_plugins(awqmap_registry* registry, const char* const* extra_dirs, size_t extra_count,
                                           int include_shipped, awqmap_error** error) {
  const char* fn = "awqmap_registry_load_plugins";
  if (!registry) return invalid(error, fn, "the registry is NULL");
  try {
    std::optional<std::vector<std::string>> dirs = strings_of(extra_dirs, extra_count);
    if (!dirs) return invalid(error, fn, "extra_dirs is NULL or holds a NULL entry within extra_count");
    std::vector<std::filesystem::path> paths(dirs->begin(), dirs->end());
    awqmap::PluginLoader(registry->registry).load_search_path(paths, include_shipped != 0);
    return AWQMAP_OK;
  } catch (...) {
    return fail_current(error, fn);
  }
}

awqmap_status awqmap_registry_load_plugin_file(awqmap_registry* registry, const char* path, awqmap_error** error) {
  const char* fn = "awqmap_registry_load_plugin_file";
  if (!registry) return invalid(error, fn, "the registry is NULL");
  if (!path) return invalid(error, fn, "the path is NULL");
  try {
    awqmap::PluginLoader(registry->registry).load_file(path);
    return AWQMAP_OK;
  } catch (...) {
    return fail_current(error, fn);
  }
}

awqmap_status awqmap_registry_plugin_count(const awqmap_registry* registry, size_t* out) {
  if (!registry || !out) return AWQMAP_INVALID_ARGUMENT;
  try {
    *out = registry->registry.plugins().size();
    return AWQMAP_OK;
  } catch (...) {
    return fail_current(nullptr, "awqmap_registry_plugin_count");
  }
}

awqmap_status awqmap_registry_plugin(const awqmap_registry* registry, size_t index, const char** name,
                                     const char** version, const char** file) {
  if (!registry) return AWQMAP_INVALID_ARGUMENT;
  try {
    // The records are shared with the registry, which keeps them for its whole life.
    const auto plugins = registry->registry.plugins();
    if (index >= plugins.size()) return AWQMAP_INVALID_ARGUMENT;
    const awqmap::PluginRecord& p = *plugins[index];
    if (name) *name = p.name.c_str();
    if (version) *version = p.version.c_str();
    if (file) *file = p.file.c_str();
    return AWQMAP_OK;
  } catch (...) {
    return fail_current(nullptr, "awqmap_registry_plugin");
  }
}

// ---- models ----

awqmap_status awqmap_model_load(const awqmap_registry* registry, const char* path, const char* architecture,
                                awqmap_model** out, awqmap_error** error) {
  const char* fn = "awqmap_model_load";
  if (!path) return invalid(error, fn, "the path is NULL");
  if (!out) return invalid(error, fn, "the output pointer is NULL");
  try {
    awqmap::CheckpointOptions options;
    if (architecture) options.architecture = architecture;
    options.registry = registry ? &registry->registry : nullptr;
    *out = new awqmap_model(awqmap::load_model(path, options));
    return AWQMAP_OK;
  } catch (...) {
    return fail_current(error, fn);
  }
}

void awqmap_model_destroy(awqmap_model* model) {
  delete model;
}

awqmap_status awqmap_model_architecture(const awqmap_model* model, const char** out) {
  if (!model || !out) return AWQMAP_INVALID_ARGUMENT;
  *out = model->view.architecture().c_str();
  return AWQMAP_OK;
}

awqmap_status awqmap_model_module_count(const awqmap_model* model, size_t* out) {
  if (!model || !out) return AWQMAP_INVALID_ARGUMENT;
  *out = model->view.size();
  return AWQMAP_OK;
}

// ---- selection and resolution ----

awqmap_status awqmap_resolve_options_init(awqmap_resolve_options* options) {
  if (!options) return AWQMAP_INVALID_ARGUMENT;
  *options = awqmap_resolve_options{};
  return AWQMAP_OK;
}

awqmap_status awqmap_resolve(const awqmap_registry* registry, const awqmap_model* model,
                             const awqmap_resolve_options* options, awqmap_result** out, awqmap_error** error) {
  const char* fn = "awqmap_resolve";
  if (!model) return invalid(error, fn, "the model is NULL");
  if (!out) return invalid(error, fn, "the output pointer is NULL");
  const awqmap_resolve_options defaults{};
  const awqmap_resolve_options& o = options ? *options : defaults;
  if (!registry && !o.mappings_file)
    return invalid(error, fn, "the registry is NULL and no mappings_file is given: there is nothing to select from");
  try {
    awqmap::ResolveOptions resolve_options;
    std::optional<std::vector<std::string>> targets = strings_of(o.targets, o.target_count);
    std::optional<std::vector<std::string>> ignore = strings_of(o.ignore, o.ignore_count);
    if (!targets) return invalid(error, fn, "options->targets is NULL or holds a NULL entry within target_count");
    if (!ignore) return invalid(error, fn, "options->ignore is NULL or holds a NULL entry within ignore_count");
    if (!targets->empty()) resolve_options.targets = std::move(*targets);
    if (!ignore->empty()) resolve_options.ignore = std::move(*ignore);

    const awqmap::ModelView& view = model->view;
    const awqmap::SelectionMode mode = o.upstream ? awqmap::SelectionMode::upstream : awqmap::SelectionMode::exact;
    awqmap::Selection selection;
    if (o.mappings_file) {
      selection.kind = awqmap::SelectionKind::user;
      selection.origin = awqmap::Origin::analysis;
      selection.mappings = awqmap::load_mappings_file(o.mappings_file);
    } else {
      selection = registry->registry.select(view, mode);
    }

    auto result = std::make_unique<awqmap_result>();
    std::optional<awqmap::RepairedResolution> repaired;
    awqmap::Resolution plain;
    if (o.repair)
      repaired = awqmap::resolve_with_repair(view, selection.mappings, resolve_options);
    else
      plain = awqmap::resolve(view, selection.mappings, resolve_options);
    const awqmap::MappingList& mappings = repaired ? repaired->mappings : selection.mappings;
    const awqmap::Resolution& resolution = repaired ? repaired->resolution : plain;

    awqmap_result& r = *result;
    r.selection.kind = r.keep(awqmap::to_string(selection.kind));
    r.selection.mode = r.keep(awqmap::to_string(mode));
    r.selection.plugin = r.keep(selection.plugin);
    r.selection.builder = r.keep(selection.builder);
    r.selection.origin = r.keep(awqmap::to_string(selection.origin));
    r.selection.source = r.keep(selection.source);
    r.selection.architecture = r.keep(view.architecture());
    r.selection.mapping_count = mappings.size();
    r.selection.repair_count = repaired ? repaired->repairs.size() : 0;

    r.mappings.reserve(mappings.size());
    for (std::size_t i = 0; i < mappings.size(); ++i) {
      const awqmap::Mapping& m = mappings[i];
      awqmap_mapping c{};
      c.smooth_layer = r.keep(m.smooth_layer);
      c.balance_layers = r.keep_array(m.balance_layers);
      c.balance_count = m.balance_layers.size();
      c.activation_hook_target = m.activation_hook_target ? r.keep(*m.activation_hook_target) : nullptr;
      c.repaired_from = repaired && repaired->repaired_from[i] ? *repaired->repaired_from[i] : no_index;
      r.mappings.push_back(c);
    }
    r.groups.reserve(resolution.resolved.size());
    for (const awqmap::ResolvedMapping& g : resolution.resolved) {
      awqmap_group c{};
      c.mapping = g.mapping;
      c.smooth_name = r.keep(g.smooth_name);
      c.balance_names = r.keep_array(g.balance_names);
      c.balance_count = g.balance_names.size();
      c.parent_name = r.keep(g.parent_name);
      c.activation_hook_target = g.activation_hook_target ? r.keep(*g.activation_hook_target) : nullptr;
      r.groups.push_back(c);
    }
    r.skipped.reserve(resolution.skipped.size());
    for (const awqmap::SkippedGroup& s : resolution.skipped) {
      awqmap_skipped_group c{};
      c.mapping = s.mapping;
      c.smooth_name = r.keep(s.smooth_name);
      c.reason = r.keep(awqmap::to_string(s.reason));
      c.balance_names = r.keep_array(s.balance_names);
      c.balance_count = s.balance_names.size();
      r.skipped.push_back(c);
    }
    *out = result.release();
    return AWQMAP_OK;
  } catch (...) {
    return fail_current(error, fn);
  }
}

void awqmap_result_destroy(awqmap_result* result) {
  delete result;
}

awqmap_status awqmap_result_selection(const awqmap_result* result, awqmap_selection_info* out) {
  if (!result || !out) return AWQMAP_INVALID_ARGUMENT;
  *out = result->selection;
  return AWQMAP_OK;
}

awqmap_status awqmap_result_mapping(const awqmap_result* result, size_t index, awqmap_mapping* out) {
  if (!result || !out || index >= result->mappings.size()) return AWQMAP_INVALID_ARGUMENT;
  *out = result->mappings[index];
  return AWQMAP_OK;
}

awqmap_status awqmap_result_group_count(const awqmap_result* result, size_t* out) {
  if (!result || !out) return AWQMAP_INVALID_ARGUMENT;
  *out = result->groups.size();
  return AWQMAP_OK;
}

awqmap_status awqmap_result_group(const awqmap_result* result, size_t index, awqmap_group* out) {
  if (!result || !out || index >= result->groups.size()) return AWQMAP_INVALID_ARGUMENT;
  *out = result->groups[index];
  return AWQMAP_OK;
}

awqmap_status awqmap_result_skipped_count(const awqmap_result* result, size_t* out) {
  if (!result || !out) return AWQMAP_INVALID_ARGUMENT;
  *out = result->skipped.size();
  return AWQMAP_OK;
}

awqmap_status awqmap_result_skipped(const awqmap_result* result, size_t index, awqmap_skipped_group* out) {
  if (!result || !out || index >= result->skipped.size()) return AWQMAP_INVALID_ARGUMENT;
  *out = result->skipped[index];
  return AWQMAP_OK;
}

}  // extern "C"
