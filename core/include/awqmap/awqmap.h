/* The awqmap C API: embed the awqmap core from C, or from any language with a C foreign
 * function interface (Rust, Go, Zig, Python's ctypes). C99; no C++ type crosses it and no
 * exception leaves it.
 *
 *   awqmap_registry* registry;  awqmap_model* model;  awqmap_result* result;
 *   awqmap_error* error = NULL;
 *   awqmap_registry_create(&registry, &error);
 *   awqmap_registry_load_plugins(registry, NULL, 0, 1, &error);   AWQMAP_PLUGIN_PATH + shipped
 *   awqmap_model_load(registry, "/path/to/checkpoint", NULL, &model, &error);
 *   awqmap_resolve(registry, model, NULL, &result, &error);      exact selection, no repair
 *   ... awqmap_result_group_count / awqmap_result_group ...
 *   awqmap_result_destroy(result); awqmap_model_destroy(model); awqmap_registry_destroy(registry);
 *
 * Conventions:
 *  - Every function returns an awqmap_status, except the destroy functions, awqmap_version,
 *    awqmap_status_name and the awqmap_error accessors, which cannot fail.
 *  - Functions that do work (create, load, resolve) take an `awqmap_error** error` last. When it
 *    is not NULL and the call fails, *error receives an error object that the caller frees with
 *    awqmap_error_destroy; on success *error is left untouched. Pass NULL to get the status only.
 *  - Accessors (counts, names, groups) report a NULL handle, a NULL output pointer or an index
 *    out of range as AWQMAP_INVALID_ARGUMENT, with no error object.
 *  - Strings and arrays returned are owned by the handle they came from and stay valid, unchanged,
 *    until that handle is destroyed. A result owns copies of every name it returns, so it stays
 *    valid after its model and registry are destroyed.
 *  - Handles are immutable once created, except that loading plugins changes a registry: after
 *    loading, one registry and one model may be used by awqmap_resolve from many threads at once.
 */
#ifndef AWQMAP_H
#define AWQMAP_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define AWQMAP_C_API __attribute__((visibility("default")))
#else
#define AWQMAP_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum awqmap_status {
  AWQMAP_OK = 0,
  /** Bad input: a file, a format, a pattern or a plugin; the message names it. Fix it and retry. */
  AWQMAP_BAD_INPUT = 1,
  /** Resolution failed the way upstream (llm-compressor) fails: awqmap_error_kind says which way. */
  AWQMAP_RESOLUTION_FAILED = 2,
  /** The caller passed a NULL handle or output pointer, or an index out of range. */
  AWQMAP_INVALID_ARGUMENT = 3,
  /** Memory ran out. */
  AWQMAP_OUT_OF_MEMORY = 4,
  /** A failure that is not the input's fault (a bug in awqmap or a plugin); please report it. */
  AWQMAP_INTERNAL = 5
} awqmap_status;

typedef struct awqmap_error awqmap_error;
typedef struct awqmap_registry awqmap_registry;
typedef struct awqmap_model awqmap_model;
typedef struct awqmap_result awqmap_result;

/** The library version, e.g. "0.1.0". */
AWQMAP_C_API const char* awqmap_version(void);
/** "ok", "bad_input", "resolution_failed", "invalid_argument", "out_of_memory", "internal";
 *  "unknown" for any other value. */
AWQMAP_C_API const char* awqmap_status_name(awqmap_status status);

/* ---- errors ---- */

AWQMAP_C_API void awqmap_error_destroy(awqmap_error* error);
/** The status the failing call returned; AWQMAP_INVALID_ARGUMENT for a NULL error. */
AWQMAP_C_API awqmap_status awqmap_error_status(const awqmap_error* error);
/** The message: names the file, plugin, mapping or pattern at fault and what to do. */
AWQMAP_C_API const char* awqmap_error_message(const awqmap_error* error);
/** For AWQMAP_RESOLUTION_FAILED, upstream's failure: "multiple_smooth_layers", "incomplete_set",
 *  "module_rematch" or "hook_target_missing"; otherwise awqmap_status_name of the status. */
AWQMAP_C_API const char* awqmap_error_kind(const awqmap_error* error);
/** For AWQMAP_RESOLUTION_FAILED, the index of the failing mapping in the selected list;
 *  (size_t)-1 otherwise. */
AWQMAP_C_API size_t awqmap_error_mapping_index(const awqmap_error* error);

/* ---- plugins ---- */

/** An empty registry: no plugin loaded, so no mappings known yet. */
AWQMAP_C_API awqmap_status awqmap_registry_create(awqmap_registry** out, awqmap_error** error);
AWQMAP_C_API void awqmap_registry_destroy(awqmap_registry* registry);

/** Loads plugins from the search path the awqmap CLI uses: `extra_dirs` in order (may be NULL
 *  when `extra_count` is 0), then the colon-separated AWQMAP_PLUGIN_PATH, then, when
 *  `include_shipped` is nonzero, the plugins shipped next to libawqmap. */
AWQMAP_C_API awqmap_status awqmap_registry_load_plugins(awqmap_registry* registry, const char* const* extra_dirs,
                                                        size_t extra_count, int include_shipped,
                                                        awqmap_error** error);
/** Loads one plugin file (awqmap-NAME.so). */
AWQMAP_C_API awqmap_status awqmap_registry_load_plugin_file(awqmap_registry* registry, const char* path,
                                                            awqmap_error** error);
/** Plugins loaded so far, and the name, version and file of plugin `index`. */
AWQMAP_C_API awqmap_status awqmap_registry_plugin_count(const awqmap_registry* registry, size_t* out);
AWQMAP_C_API awqmap_status awqmap_registry_plugin(const awqmap_registry* registry, size_t index,
                                                  const char** name, const char** version, const char** file);

/* ---- models ---- */

/** Loads a model description file (awqmap.model/v1) or a Hugging Face checkpoint directory.
 *  `registry` (may be NULL) supplies the architecture's checkpoint adaptations (dropped, renamed
 *  and split tensors): pass the registry you will resolve with. `architecture` (may be NULL)
 *  replaces the model's own architecture name. */
AWQMAP_C_API awqmap_status awqmap_model_load(const awqmap_registry* registry, const char* path,
                                             const char* architecture, awqmap_model** out, awqmap_error** error);
AWQMAP_C_API void awqmap_model_destroy(awqmap_model* model);
AWQMAP_C_API awqmap_status awqmap_model_architecture(const awqmap_model* model, const char** out);
/** Modules in the tree, the root included. */
AWQMAP_C_API awqmap_status awqmap_model_module_count(const awqmap_model* model, size_t* out);

/* ---- selection and resolution ---- */

typedef struct awqmap_resolve_options {
  /** Nonzero: select exactly what llm-compressor's registry selects (its tables, its inexact
   *  groups and its failures). Zero (the default): exact selection, which prefers mappings
   *  checked against the modeling code. */
  int upstream;
  /** Nonzero: a mapping that fails with multiple_smooth_layers or incomplete_set is replaced by
   *  mappings scoped to groups of layers (see awqmap_result_mapping's repaired_from). */
  int repair;
  /** Quantization targets: module names, class names or "re:" patterns. A count of 0 keeps
   *  the default, {"Linear"}. */
  const char* const* targets;
  size_t target_count;
  /** Modules left unquantized. A count of 0 keeps the default, {"lm_head"}. */
  const char* const* ignore;
  size_t ignore_count;
  /** A JSON file of mappings to resolve instead of selecting from the registry (may be NULL). */
  const char* mappings_file;
} awqmap_resolve_options;

/** Fills `options` with the defaults (all zero/NULL); returns AWQMAP_INVALID_ARGUMENT for NULL. */
AWQMAP_C_API awqmap_status awqmap_resolve_options_init(awqmap_resolve_options* options);

/** Selects the model's mappings from `registry` (or reads options->mappings_file) and resolves
 *  them on `model`. `options` may be NULL for the defaults. Fails with AWQMAP_RESOLUTION_FAILED
 *  where upstream would raise (no partial result), AWQMAP_BAD_INPUT when nothing can be selected
 *  or a pattern is invalid. */
AWQMAP_C_API awqmap_status awqmap_resolve(const awqmap_registry* registry, const awqmap_model* model,
                                          const awqmap_resolve_options* options, awqmap_result** out,
                                          awqmap_error** error);
AWQMAP_C_API void awqmap_result_destroy(awqmap_result* result);

/** Where the mappings came from. */
typedef struct awqmap_selection_info {
  const char* kind;          /**< "dynamic", "static", "default" or "user" */
  const char* mode;          /**< "exact" or "upstream" */
  const char* plugin;        /**< the plugin that supplied the mappings; "" for user mappings */
  const char* builder;       /**< the dynamic builder's name; "" otherwise */
  const char* origin;        /**< "upstream", "peer" or "analysis" */
  const char* source;        /**< the registration's source reference; may be "" */
  const char* architecture;  /**< the model's architecture */
  size_t mapping_count;      /**< mappings resolved (after repair) */
  size_t repair_count;       /**< mappings repaired; 0 without repair */
} awqmap_selection_info;
AWQMAP_C_API awqmap_status awqmap_result_selection(const awqmap_result* result, awqmap_selection_info* out);

/** One mapping of the resolved list, as patterns. */
typedef struct awqmap_mapping {
  const char* smooth_layer;
  const char* const* balance_layers;
  size_t balance_count;
  const char* activation_hook_target; /**< NULL when none */
  size_t repaired_from;               /**< index in the selected list this mapping repairs; (size_t)-1 if none */
} awqmap_mapping;
AWQMAP_C_API awqmap_status awqmap_result_mapping(const awqmap_result* result, size_t index, awqmap_mapping* out);

/** One smoothing group: the smooth layer, the layers balanced against it, and their parent. */
typedef struct awqmap_group {
  size_t mapping;                     /**< index of its mapping (awqmap_result_mapping) */
  const char* smooth_name;
  const char* const* balance_names;
  size_t balance_count;
  const char* parent_name;            /**< "" is the root module */
  const char* activation_hook_target; /**< module name of the hook target; NULL when none */
} awqmap_group;
/** Groups in mapping order, then in the model's module order. */
AWQMAP_C_API awqmap_status awqmap_result_group_count(const awqmap_result* result, size_t* out);
AWQMAP_C_API awqmap_status awqmap_result_group(const awqmap_result* result, size_t index, awqmap_group* out);

/** A group upstream skips, with the reason: "incompatible", "no_balance_layers" or "not_targeted". */
typedef struct awqmap_skipped_group {
  size_t mapping;
  const char* smooth_name;
  const char* reason;
  const char* const* balance_names; /**< what the group would have balanced */
  size_t balance_count;
} awqmap_skipped_group;
AWQMAP_C_API awqmap_status awqmap_result_skipped_count(const awqmap_result* result, size_t* out);
AWQMAP_C_API awqmap_status awqmap_result_skipped(const awqmap_result* result, size_t index,
                                                 awqmap_skipped_group* out);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif /* AWQMAP_H */
