// The model and config.json as plugin builders read them: the C accessors of <awqmap/plugin.h>
// over a ModelView (awqmap_plugin_model) and its nlohmann values (awqmap_config_node). Nothing
// here throws: a NULL handle or an index out of range reads as absent.
#include <cstring>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "awqmap/model.hpp"
#include "awqmap/plugin.h"
#include "awqmap/registry.hpp"
#include "model_parts.hpp"

namespace {

const awqmap::ModelView* view(const awqmap_plugin_model* m) {
  return reinterpret_cast<const awqmap::ModelView*>(m);
}
const nlohmann::json* json(const awqmap_config_node* n) {
  return reinterpret_cast<const nlohmann::json*>(n);
}
const awqmap_config_node* node(const nlohmann::json* j) {
  return reinterpret_cast<const awqmap_config_node*>(j);
}
// Bounds checked on pointers, not by dividing the vector's byte size by a Module's: builders
// call the accessors once per module of the model.
const awqmap::Module* module_at(const awqmap_plugin_model* m, uint32_t i) {
  if (!m) return nullptr;
  const std::vector<awqmap::Module>& modules = view(m)->modules();
  const awqmap::Module* const x = modules.data() + i;
  return x < modules.data() + modules.size() ? x : nullptr;
}
const char* out_text(std::string_view s, size_t* length) {
  if (length) *length = s.size();
  return s.data() ? s.data() : "";
}
const char* no_text(size_t* length) {
  if (length) *length = 0;
  return nullptr;
}

}  // namespace

extern "C" {

const char* awqmap_model_view_architecture(const awqmap_plugin_model* m, size_t* length) {
  return m ? out_text(view(m)->architecture(), length) : no_text(length);
}

const char* awqmap_model_view_origin(const awqmap_plugin_model* m, size_t* length) {
  return m ? out_text(view(m)->origin(), length) : no_text(length);
}

int awqmap_model_view_has_torch_class_names(const awqmap_plugin_model* m) {
  return m && view(m)->has_torch_class_names() ? 1 : 0;
}

size_t awqmap_model_view_module_count(const awqmap_plugin_model* m) {
  return m ? view(m)->size() : 0;
}

uint32_t awqmap_model_view_find(const awqmap_plugin_model* m, const char* name, size_t length) {
  if (!m || (!name && length)) return AWQMAP_NO_MODULE;
  return view(m)->find(std::string_view(name ? name : "", length));
}

const char* awqmap_model_view_module_name(const awqmap_plugin_model* m, uint32_t i, size_t* length) {
  const awqmap::Module* x = module_at(m, i);
  return x ? out_text(x->name, length) : no_text(length);
}

const char* awqmap_model_view_module_type(const awqmap_plugin_model* m, uint32_t i, size_t* length) {
  const awqmap::Module* x = module_at(m, i);
  return x ? out_text(x->type, length) : no_text(length);
}

size_t awqmap_model_view_module_base_count(const awqmap_plugin_model* m, uint32_t i) {
  const awqmap::Module* x = module_at(m, i);
  return x ? x->bases.size() : 0;
}

const char* awqmap_model_view_module_base(const awqmap_plugin_model* m, uint32_t i, size_t index, size_t* length) {
  const awqmap::Module* x = module_at(m, i);
  return x && index < x->bases.size() ? out_text(x->bases[index], length) : no_text(length);
}

int awqmap_model_view_module_in_features(const awqmap_plugin_model* m, uint32_t i, int64_t* out) {
  const awqmap::Module* x = module_at(m, i);
  if (!x || !x->in_features) return 0;
  if (out) *out = *x->in_features;
  return 1;
}

int awqmap_model_view_module_out_features(const awqmap_plugin_model* m, uint32_t i, int64_t* out) {
  const awqmap::Module* x = module_at(m, i);
  if (!x || !x->out_features) return 0;
  if (out) *out = *x->out_features;
  return 1;
}

size_t awqmap_model_view_module_shape(const awqmap_plugin_model* m, uint32_t i, const int64_t** dims) {
  const awqmap::Module* x = module_at(m, i);
  if (dims) *dims = x && !x->shape.empty() ? x->shape.data() : nullptr;
  return x ? x->shape.size() : 0;
}

uint32_t awqmap_model_view_module_parent(const awqmap_plugin_model* m, uint32_t i) {
  const awqmap::Module* x = module_at(m, i);
  return x ? x->parent : AWQMAP_NO_MODULE;
}

size_t awqmap_model_view_module_children(const awqmap_plugin_model* m, uint32_t i, uint32_t* out, size_t capacity) {
  if (!module_at(m, i)) return 0;
  try {
    const std::vector<awqmap::ModuleIndex> children = view(m)->children(i);
    if (out)
      for (size_t k = 0; k < children.size() && k < capacity; ++k) out[k] = children[k];
    return children.size();
  } catch (...) {
    return 0;  // out of memory: read as no children
  }
}

const awqmap_config_node* awqmap_model_view_config(const awqmap_plugin_model* m) {
  return m ? node(&awqmap::detail::ModelAccess::config(*view(m))) : nullptr;
}

const awqmap_config_node* awqmap_model_view_config_field(const awqmap_plugin_model* m, const char* key,
                                                         size_t length) {
  if (!m || (!key && length)) return nullptr;
  try {
    return node(awqmap::detail::config_field(awqmap::detail::ModelAccess::config(*view(m)),
                                             std::string_view(key ? key : "", length)));
  } catch (...) {
    return nullptr;
  }
}

int awqmap_config_kind(const awqmap_config_node* n) {
  if (!n) return AWQMAP_CONFIG_ABSENT;
  switch (json(n)->type()) {
    case nlohmann::json::value_t::null: return AWQMAP_CONFIG_NULL;
    case nlohmann::json::value_t::boolean: return AWQMAP_CONFIG_BOOL;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return AWQMAP_CONFIG_INT;
    case nlohmann::json::value_t::number_float: return AWQMAP_CONFIG_FLOAT;
    case nlohmann::json::value_t::string: return AWQMAP_CONFIG_STRING;
    case nlohmann::json::value_t::array: return AWQMAP_CONFIG_ARRAY;
    case nlohmann::json::value_t::object: return AWQMAP_CONFIG_OBJECT;
    default: return AWQMAP_CONFIG_NULL;  // binary or discarded values never come from a config file
  }
}

const awqmap_config_node* awqmap_config_get(const awqmap_config_node* n, const char* key, size_t length) {
  if (!n || !json(n)->is_object() || (!key && length)) return nullptr;
  try {
    const auto& object = json(n)->get_ref<const nlohmann::json::object_t&>();
    auto it = object.find(std::string(key ? key : "", length));
    return it == object.end() ? nullptr : node(&it->second);
  } catch (...) {
    return nullptr;
  }
}

int awqmap_config_bool(const awqmap_config_node* n, int* out) {
  if (!n || !json(n)->is_boolean()) return AWQMAP_PLUGIN_FAILED;
  if (out) *out = json(n)->get_ref<const bool&>() ? 1 : 0;
  return AWQMAP_PLUGIN_OK;
}

int awqmap_config_int(const awqmap_config_node* n, int64_t* out) {
  if (!n) return AWQMAP_PLUGIN_FAILED;
  const nlohmann::json& j = *json(n);
  if (j.is_number_unsigned()) {
    const auto v = j.get_ref<const nlohmann::json::number_unsigned_t&>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<int64_t>::max())) return AWQMAP_PLUGIN_FAILED;
    if (out) *out = static_cast<int64_t>(v);
    return AWQMAP_PLUGIN_OK;
  }
  if (!j.is_number_integer()) return AWQMAP_PLUGIN_FAILED;
  if (out) *out = j.get_ref<const nlohmann::json::number_integer_t&>();
  return AWQMAP_PLUGIN_OK;
}

int awqmap_config_float(const awqmap_config_node* n, double* out) {
  if (!n || !json(n)->is_number()) return AWQMAP_PLUGIN_FAILED;
  if (out) *out = json(n)->get<double>();
  return AWQMAP_PLUGIN_OK;
}

const char* awqmap_config_string(const awqmap_config_node* n, size_t* length) {
  if (!n || !json(n)->is_string()) return no_text(length);
  const auto& s = json(n)->get_ref<const std::string&>();
  if (length) *length = s.size();
  return s.c_str();
}

size_t awqmap_config_size(const awqmap_config_node* n) {
  if (!n || !(json(n)->is_array() || json(n)->is_object())) return 0;
  return json(n)->size();
}

const awqmap_config_node* awqmap_config_at(const awqmap_config_node* n, size_t index) {
  if (!n || !json(n)->is_array()) return nullptr;
  const auto& array = json(n)->get_ref<const nlohmann::json::array_t&>();
  return index < array.size() ? node(&array[index]) : nullptr;
}

int awqmap_config_next(const awqmap_config_node* n, const char* after, size_t after_length, const char** key,
                       size_t* key_length, const awqmap_config_node** value) {
  if (!n || !json(n)->is_object() || (!after && after_length)) return 0;
  try {
    const auto& object = json(n)->get_ref<const nlohmann::json::object_t&>();
    auto it = after ? object.upper_bound(std::string(after, after_length)) : object.begin();
    if (it == object.end()) return 0;
    if (key) *key = it->first.c_str();
    if (key_length) *key_length = it->first.size();
    if (value) *value = node(&it->second);
    return 1;
  } catch (...) {
    return 0;
  }
}

}  // extern "C"
