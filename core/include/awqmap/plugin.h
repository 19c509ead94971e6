/* The plugin contract, in C: everything that crosses between the awqmap core and a plugin.
 * C99; it compiles as C and as C++. A plugin written in C includes this header alone; C++
 * plugins include <awqmap/plugin.hpp>, a header-only layer over it.
 *
 * Only what this header declares crosses the shared-library boundary: C strings, integers,
 * plain structs of them, opaque handles and C function pointers. No C++ type and no exception
 * crosses, so a plugin may be built by any compiler, standard library or flags
 * (_GLIBCXX_USE_CXX11_ABI=0, _GLIBCXX_DEBUG, another nlohmann or none) as long as the fingerprint
 * below matches.
 *
 * A plugin exports one symbol, `awqmap_plugin`: a pointer to a function that returns its
 * awqmap_plugin_info (AWQMAP_PLUGIN_ENTRY makes it). The loader reads `api_version` first, then
 * `struct_size` and `abi`, and refuses the plugin by file name, with the reason, when any of
 * them differs from its own; only then does it call `register_plugin` once.
 *
 * Conventions:
 *  - Functions that can fail return an int status: AWQMAP_PLUGIN_OK (0) or a nonzero code. A
 *    failed registrar call keeps its message in the registrar (awqmap_registrar_error); the
 *    registration fails as a whole and nothing of the plugin is kept.
 *  - Every string and array passed to the core is copied before the call returns.
 *  - Strings the core returns are not NUL-terminated unless said: they come with their length.
 *    They stay valid while the model they come from is alive, i.e. during the builder call.
 *  - Model and config accessors never fail: a NULL handle or an index out of range reads as
 *    absent (NULL, 0, AWQMAP_NO_MODULE).
 */
#ifndef AWQMAP_PLUGIN_H
#define AWQMAP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "awqmap/awqmap.h"

/** The version of this contract. Bumped whenever anything declared here changes in a way an
 *  existing plugin could observe (a struct layout, a function's meaning). */
#define AWQMAP_PLUGIN_API_VERSION 3u

#define AWQMAP_PLUGIN_STR_(x) #x
#define AWQMAP_PLUGIN_STR(x) AWQMAP_PLUGIN_STR_(x)
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define AWQMAP_PLUGIN_ABI_ENDIAN "be"
#else
#define AWQMAP_PLUGIN_ABI_ENDIAN "le"
#endif
#if defined(__SIZEOF_POINTER__) && defined(__SIZEOF_SIZE_T__) && defined(__SIZEOF_INT__)
/** The fingerprint of what crosses: the contract's C layout ("c1"), the sizes of a pointer,
 *  size_t and int, and the byte order, as the compiler that builds the plugin sees them. The
 *  loader refuses a plugin whose fingerprint is not its own. */
#define AWQMAP_PLUGIN_ABI                                                                             \
  "c1;ptr=" AWQMAP_PLUGIN_STR(__SIZEOF_POINTER__) ";sizet=" AWQMAP_PLUGIN_STR(__SIZEOF_SIZE_T__) ";int=" \
      AWQMAP_PLUGIN_STR(__SIZEOF_INT__) ";" AWQMAP_PLUGIN_ABI_ENDIAN
#else
#define AWQMAP_PLUGIN_ABI "c1;unknown-compiler"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define AWQMAP_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define AWQMAP_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum {
  AWQMAP_PLUGIN_OK = 0,
  /** The registration or the builder was refused; the message says why. */
  AWQMAP_PLUGIN_FAILED = 1,
  /** A NULL handle or pointer where one is needed. */
  AWQMAP_PLUGIN_INVALID_ARGUMENT = 2
};

/** Where a registration's mappings come from (docs/plugins.md). Zero is the default. */
enum {
  AWQMAP_ORIGIN_ANALYSIS = 0, /**< derived from the architecture's modeling code */
  AWQMAP_ORIGIN_UPSTREAM = 1, /**< llm-compressor's own registry, its mistakes included */
  AWQMAP_ORIGIN_PEER = 2      /**< another quantizer's mappings, checked to be exact */
};

typedef struct awqmap_provenance {
  uint32_t origin;    /**< AWQMAP_ORIGIN_* */
  const char* source; /**< where to check the mappings; may be NULL */
} awqmap_provenance;

/** One mapping: a smooth layer, the balance layers that read its output, an optional hook. */
typedef struct awqmap_plugin_mapping {
  const char* smooth_layer;
  const char* const* balance_layers;
  size_t balance_count;
  const char* activation_hook_target; /**< NULL when none */
} awqmap_plugin_mapping;

typedef struct awqmap_registrar awqmap_registrar;
typedef struct awqmap_plugin_model awqmap_plugin_model;
typedef struct awqmap_config_node awqmap_config_node;
typedef struct awqmap_build awqmap_build;

/** A dynamic builder: reads `model` and calls awqmap_build_add_mapping, awqmap_build_decline
 *  or awqmap_build_fail on `out`. Returns AWQMAP_PLUGIN_OK, or nonzero on failure. It must not
 *  keep `model` or anything read from it after it returns. It may run on many threads at once. */
typedef int (*awqmap_builder_fn)(void* user_data, const awqmap_plugin_model* model, awqmap_build* out);
/** Frees a builder's user data; called once, when the registration is dropped. */
typedef void (*awqmap_destroy_fn)(void* user_data);

/** What the entry returns. Layout rule: `api_version` stays the first member forever, so the
 *  loader can read it from a plugin of any version. */
typedef struct awqmap_plugin_info {
  uint32_t api_version; /**< AWQMAP_PLUGIN_API_VERSION */
  uint32_t struct_size; /**< sizeof(awqmap_plugin_info) */
  const char* name;
  const char* version;
  const char* abi; /**< AWQMAP_PLUGIN_ABI */
  int (*register_plugin)(awqmap_registrar* registrar);
} awqmap_plugin_info;

typedef const awqmap_plugin_info* (*awqmap_plugin_entry_fn)(void);

/* ---- registration (during register_plugin only) ---- */

/** Static mappings for an architecture (docs/semantics.md §2 step 3). `provenance` may be NULL
 *  (analysis, no source). */
AWQMAP_C_API int awqmap_registrar_add_static(awqmap_registrar* registrar, const char* architecture,
                                             const awqmap_plugin_mapping* mappings, size_t count,
                                             const awqmap_provenance* provenance);
/** A dynamic builder for an architecture (docs/semantics.md §2 step 2); `builder_name` is
 *  reported. The core owns `user_data` from this call on, whatever it returns: it calls
 *  `destroy` (may be NULL) when the registration is dropped, before the plugin is unloaded. */
AWQMAP_C_API int awqmap_registrar_add_dynamic(awqmap_registrar* registrar, const char* architecture,
                                              const char* builder_name, awqmap_builder_fn builder, void* user_data,
                                              awqmap_destroy_fn destroy, const awqmap_provenance* provenance);
/** The default mappings (docs/semantics.md §2 step 4). Exactly one loaded plugin may set them. */
AWQMAP_C_API int awqmap_registrar_set_default(awqmap_registrar* registrar, const awqmap_plugin_mapping* mappings,
                                              size_t count, const awqmap_provenance* provenance);
/** Checkpoint tensors the model drops when it loads: a Python regex, re.match on the name. */
AWQMAP_C_API int awqmap_registrar_drop_checkpoint_tensors(awqmap_registrar* registrar, const char* architecture,
                                                          const char* pattern);
/** Checkpoint key renames: a Python regex (re.match) and a replacement with \1-style groups. */
AWQMAP_C_API int awqmap_registrar_rename_checkpoint_keys(awqmap_registrar* registrar, const char* architecture,
                                                         const char* pattern, const char* replacement);
/** Fused per-layer expert tensors split into one module per expert (docs/semantics.md §8):
 *  `fused` is the tensor name suffix; expert e becomes `<prefix>.<e>.<parts[k]>`. */
AWQMAP_C_API int awqmap_registrar_split_fused_experts(awqmap_registrar* registrar, const char* architecture,
                                                      const char* fused, const char* prefix,
                                                      const char* const* parts, size_t part_count);
/** Fails the registration with the plugin's own message (e.g. an exception it caught). */
AWQMAP_C_API int awqmap_registrar_fail(awqmap_registrar* registrar, const char* message);
/** The first failure's message (NUL-terminated), or NULL while nothing failed. */
AWQMAP_C_API const char* awqmap_registrar_error(const awqmap_registrar* registrar);

/* ---- what a dynamic builder returns ---- */

/** Appends a mapping to the builder's result. */
AWQMAP_C_API int awqmap_build_add_mapping(awqmap_build* out, const char* smooth_layer,
                                          const char* const* balance_layers, size_t balance_count,
                                          const char* activation_hook_target);
/** The builder does not apply to this model; selection reports `reason` and moves on. */
AWQMAP_C_API int awqmap_build_decline(awqmap_build* out, const char* reason);
/** The builder fails (e.g. a malformed config): an error naming the plugin file and builder. */
AWQMAP_C_API int awqmap_build_fail(awqmap_build* out, const char* message);

/* ---- reading the model (during a builder call) ---- */

#define AWQMAP_NO_MODULE ((uint32_t)-1)

AWQMAP_C_API const char* awqmap_model_view_architecture(const awqmap_plugin_model* model, size_t* length);
/** The file or directory the model came from, for messages. */
AWQMAP_C_API const char* awqmap_model_view_origin(const awqmap_plugin_model* model, size_t* length);
/** 0 when class names were synthesised (checkpoint directories): only Linear, Embedding and
 *  ModuleList are known then, and builders must rely on module names. */
AWQMAP_C_API int awqmap_model_view_has_torch_class_names(const awqmap_plugin_model* model);
/** Modules in named_modules() order, the root ("") first. */
AWQMAP_C_API size_t awqmap_model_view_module_count(const awqmap_plugin_model* model);
/** The module named `name` (`length` bytes), or AWQMAP_NO_MODULE. */
AWQMAP_C_API uint32_t awqmap_model_view_find(const awqmap_plugin_model* model, const char* name, size_t length);
AWQMAP_C_API const char* awqmap_model_view_module_name(const awqmap_plugin_model* model, uint32_t module,
                                                       size_t* length);
/** The class name, e.g. "Linear". */
AWQMAP_C_API const char* awqmap_model_view_module_type(const awqmap_plugin_model* model, uint32_t module,
                                                       size_t* length);
/** Base class names, nearest first. */
AWQMAP_C_API size_t awqmap_model_view_module_base_count(const awqmap_plugin_model* model, uint32_t module);
AWQMAP_C_API const char* awqmap_model_view_module_base(const awqmap_plugin_model* model, uint32_t module,
                                                       size_t index, size_t* length);
/** 1 and *out set for a Linear's features; 0 when the module has none. */
AWQMAP_C_API int awqmap_model_view_module_in_features(const awqmap_plugin_model* model, uint32_t module,
                                                      int64_t* out);
AWQMAP_C_API int awqmap_model_view_module_out_features(const awqmap_plugin_model* model, uint32_t module,
                                                       int64_t* out);
/** The weight shape when known: its dimension count, and *dims pointing at them. */
AWQMAP_C_API size_t awqmap_model_view_module_shape(const awqmap_plugin_model* model, uint32_t module,
                                                   const int64_t** dims);
/** AWQMAP_NO_MODULE for the root. */
AWQMAP_C_API uint32_t awqmap_model_view_module_parent(const awqmap_plugin_model* model, uint32_t module);
/** The number of children of `module`; the first min(that, capacity) go to `out` in order. */
AWQMAP_C_API size_t awqmap_model_view_module_children(const awqmap_plugin_model* model, uint32_t module,
                                                      uint32_t* out, size_t capacity);

/* ---- reading config.json (during a builder call) ---- */

enum {
  AWQMAP_CONFIG_ABSENT = 0, /**< a NULL node: the key is not there */
  AWQMAP_CONFIG_NULL = 1,
  AWQMAP_CONFIG_BOOL = 2,
  AWQMAP_CONFIG_INT = 3,
  AWQMAP_CONFIG_FLOAT = 4,
  AWQMAP_CONFIG_STRING = 5,
  AWQMAP_CONFIG_ARRAY = 6,
  AWQMAP_CONFIG_OBJECT = 7
};

/** The whole config.json. */
AWQMAP_C_API const awqmap_config_node* awqmap_model_view_config(const awqmap_plugin_model* model);
/** `config.text_config.<key>` when text_config exists and that value is not null, else
 *  `config.<key>`; NULL when neither exists (docs/semantics.md §4.1 step 1). */
AWQMAP_C_API const awqmap_config_node* awqmap_model_view_config_field(const awqmap_plugin_model* model,
                                                                     const char* key, size_t length);
/** AWQMAP_CONFIG_*. */
AWQMAP_C_API int awqmap_config_kind(const awqmap_config_node* node);
/** The member `key` of an object; NULL when absent or not an object. */
AWQMAP_C_API const awqmap_config_node* awqmap_config_get(const awqmap_config_node* node, const char* key,
                                                         size_t length);
/** AWQMAP_PLUGIN_OK and *out set when the node is a boolean. */
AWQMAP_C_API int awqmap_config_bool(const awqmap_config_node* node, int* out);
/** AWQMAP_PLUGIN_OK and *out set when the node is an integer that fits int64_t. */
AWQMAP_C_API int awqmap_config_int(const awqmap_config_node* node, int64_t* out);
/** AWQMAP_PLUGIN_OK and *out set when the node is a number (integer or float). */
AWQMAP_C_API int awqmap_config_float(const awqmap_config_node* node, double* out);
/** The text of a string node and its length; NULL for any other node. */
AWQMAP_C_API const char* awqmap_config_string(const awqmap_config_node* node, size_t* length);
/** Elements of an array or members of an object; 0 for any other node. */
AWQMAP_C_API size_t awqmap_config_size(const awqmap_config_node* node);
/** Element `index` of an array; NULL when out of range or not an array. */
AWQMAP_C_API const awqmap_config_node* awqmap_config_at(const awqmap_config_node* node, size_t index);
/** Walks an object's members in key order: the first member when `after` is NULL, else the
 *  one after the key `after` (`after_length` bytes). Returns 1 with *key, *key_length and
 *  *value set, or 0 when there is none. Each step costs a lookup, not a walk from the start. */
AWQMAP_C_API int awqmap_config_next(const awqmap_config_node* node, const char* after, size_t after_length,
                                    const char** key, size_t* key_length, const awqmap_config_node** value);

#ifdef __cplusplus
}
#endif

/** Declares the plugin's entry: `awqmap_plugin`, a data symbol holding the address of
 *  `INFO_FN`, a function `const awqmap_plugin_info* INFO_FN(void)`. Once per plugin, at file
 *  scope. */
#ifdef __cplusplus
#define AWQMAP_PLUGIN_ENTRY(INFO_FN)                                  \
  extern "C" {                                                        \
  AWQMAP_PLUGIN_EXPORT extern const awqmap_plugin_entry_fn awqmap_plugin; \
  const awqmap_plugin_entry_fn awqmap_plugin = &INFO_FN;              \
  }
#else
#define AWQMAP_PLUGIN_ENTRY(INFO_FN) AWQMAP_PLUGIN_EXPORT const awqmap_plugin_entry_fn awqmap_plugin = &INFO_FN;
#endif

#endif /* AWQMAP_PLUGIN_H */
