#pragma once
// The plugin author's C++ layer: header-only, over the C contract of <awqmap/plugin.h>.
//
//   #include <awqmap/plugin.hpp>
//   static void register_plugin(awqmap::Registrar& r) {
//     r.add_static("MixtralForCausalLM", {{"re:.*input_layernorm$", {"re:.*q_proj$", ...}}});
//   }
//   AWQMAP_PLUGIN("mixtral", "1.0.0", register_plugin)
//
// Everything here compiles into the plugin: the C++ types (std::string, std::function,
// exceptions) stay on the plugin's side and only the C structs, strings and function pointers
// of plugin.h reach the core. Any exception the author's code throws is caught here and turned
// into an error value (a failed registration, or a failed builder naming the plugin file and
// the builder). So a plugin may be built with another compiler, standard library or flags than
// the core; docs/plugins.md states the rules the loader checks.
//
// The plugin-side types live in awqmap::plugin (awqmap::plugin::Model, Module, Config), so that
// a translation unit may include this header and the core's own headers (awqmap::ModelView,
// awqmap::Module) together.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "awqmap/mapping.hpp"
#include "awqmap/origin.hpp"
#include "awqmap/plugin.h"

namespace awqmap {

/// The plugin contract's version (AWQMAP_PLUGIN_API_VERSION).
inline constexpr std::uint32_t plugin_api_version = AWQMAP_PLUGIN_API_VERSION;

namespace plugin {

using ModuleIndex = std::uint32_t;
inline constexpr ModuleIndex no_module = AWQMAP_NO_MODULE;

/// What this layer throws on the plugin's side (a config value of the wrong type, say). A
/// builder that lets it escape fails with its message; it never reaches the core as an exception.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline std::string_view text(const char* p, std::size_t n) {
  return p ? std::string_view(p, n) : std::string_view();
}
// A registrar call failed: its message is already in the registrar.
class RegistrationFailed : public Error {
 public:
  using Error::Error;
};
}  // namespace detail

/// A read-only view of one config.json value, or of nothing (a key that is absent). Reads like
/// a pointer to a JSON value: `if (v && v->is_boolean() && v->get<bool>())`.
class Config {
 public:
  Config() = default;
  explicit Config(const awqmap_config_node* node) : node_(node) {}

  /// True when the value exists (it may be JSON null).
  explicit operator bool() const { return node_ != nullptr; }
  const Config* operator->() const { return this; }
  const Config& operator*() const { return *this; }
  const awqmap_config_node* handle() const { return node_; }

  /// AWQMAP_CONFIG_*.
  int kind() const { return awqmap_config_kind(node_); }
  /// True for JSON null and for an absent value.
  bool is_null() const { return kind() <= AWQMAP_CONFIG_NULL; }
  bool is_boolean() const { return kind() == AWQMAP_CONFIG_BOOL; }
  bool is_number_integer() const { return kind() == AWQMAP_CONFIG_INT; }
  bool is_number_float() const { return kind() == AWQMAP_CONFIG_FLOAT; }
  bool is_number() const { return is_number_integer() || is_number_float(); }
  bool is_string() const { return kind() == AWQMAP_CONFIG_STRING; }
  bool is_array() const { return kind() == AWQMAP_CONFIG_ARRAY; }
  bool is_object() const { return kind() == AWQMAP_CONFIG_OBJECT; }
  /// "null", "boolean", "number", "string", "array" or "object", as JSON libraries say it.
  const char* type_name() const {
    switch (kind()) {
      case AWQMAP_CONFIG_BOOL: return "boolean";
      case AWQMAP_CONFIG_INT:
      case AWQMAP_CONFIG_FLOAT: return "number";
      case AWQMAP_CONFIG_STRING: return "string";
      case AWQMAP_CONFIG_ARRAY: return "array";
      case AWQMAP_CONFIG_OBJECT: return "object";
      default: return "null";
    }
  }

  /// The value as bool, an integer type, a floating type (from any number), std::string or
  /// std::string_view. Throws plugin::Error when it is not of that kind or does not fit.
  template <class T>
  T get() const {
    if constexpr (std::is_same_v<T, bool>) {
      int b = 0;
      if (awqmap_config_bool(node_, &b) != AWQMAP_PLUGIN_OK) mismatch("a boolean");
      return b != 0;
    } else if constexpr (std::is_integral_v<T>) {
      std::int64_t v = 0;
      if (awqmap_config_int(node_, &v) != AWQMAP_PLUGIN_OK) mismatch("an integer within 64 bits");
      if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
          (v > 0 && static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<T>::max())))
        mismatch("an integer in range");
      return static_cast<T>(v);
    } else if constexpr (std::is_floating_point_v<T>) {
      double v = 0;
      if (awqmap_config_float(node_, &v) != AWQMAP_PLUGIN_OK) mismatch("a number");
      return static_cast<T>(v);
    } else if constexpr (std::is_same_v<T, std::string_view> || std::is_same_v<T, std::string>) {
      std::size_t n = 0;
      const char* s = awqmap_config_string(node_, &n);
      if (!s) mismatch("a string");
      return T(s, n);
    } else {
      static_assert(std::is_same_v<T, bool>, "Config::get reads bool, integers, floating types and strings");
    }
  }

  /// Elements of an array, members of an object; 0 otherwise.
  std::size_t size() const { return awqmap_config_size(node_); }
  bool empty() const { return size() == 0; }
  /// Element `i` of an array (absent when out of range).
  Config operator[](std::size_t i) const { return Config(awqmap_config_at(node_, i)); }
  Config at(std::size_t i) const { return (*this)[i]; }
  /// Member `key` of an object (absent when missing). No text_config precedence here: that is
  /// Model::config_field.
  Config find(std::string_view key) const { return Config(awqmap_config_get(node_, key.data(), key.size())); }
  Config operator[](std::string_view key) const { return find(key); }
  bool contains(std::string_view key) const { return static_cast<bool>(find(key)); }

  /// An object's members in key order.
  std::vector<std::pair<std::string_view, Config>> items() const {
    std::vector<std::pair<std::string_view, Config>> out;
    const char* key = nullptr;
    std::size_t n = 0;
    const awqmap_config_node* value = nullptr;
    while (awqmap_config_next(node_, key, n, &key, &n, &value)) out.emplace_back(std::string_view(key, n), Config(value));
    return out;
  }

  /// Iterates an array's elements (nothing for other values).
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Config;
    using difference_type = std::ptrdiff_t;
    using pointer = const Config*;
    using reference = Config;
    iterator(const awqmap_config_node* node, std::size_t i) : node_(node), i_(i) {}
    Config operator*() const { return Config(awqmap_config_at(node_, i_)); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const iterator& o) const { return node_ == o.node_ && i_ == o.i_; }
    bool operator!=(const iterator& o) const { return !(*this == o); }

   private:
    const awqmap_config_node* node_;
    std::size_t i_;
  };
  iterator begin() const { return {node_, 0}; }
  iterator end() const { return {node_, is_array() ? size() : 0}; }

  /// The value as compact JSON, for messages.
  std::string dump() const {
    std::string out;
    dump_into(out);
    return out;
  }

  friend bool operator==(const Config& c, std::string_view s) { return c.is_string() && c.get<std::string_view>() == s; }
  friend bool operator!=(const Config& c, std::string_view s) { return !(c == s); }

 private:
  const awqmap_config_node* node_ = nullptr;

  [[noreturn]] void mismatch(const char* wanted) const {
    throw Error(std::string("config value is ") + (node_ ? std::string("a ") + type_name() : "absent") + ", not " +
                wanted);
  }
  static void quote(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (u < 0x20) {
        out += "\\u00";
        out += hex[u >> 4];
        out += hex[u & 15];
      } else {
        out += c;
      }
    }
    out += '"';
  }
  void dump_into(std::string& out) const {
    switch (kind()) {
      case AWQMAP_CONFIG_BOOL: out += get<bool>() ? "true" : "false"; return;
      case AWQMAP_CONFIG_INT: {
        std::int64_t v = 0;
        if (awqmap_config_int(node_, &v) == AWQMAP_PLUGIN_OK) {
          out += std::to_string(v);
          return;
        }
        out += std::to_string(get<double>());  // beyond 64 signed bits
        return;
      }
      case AWQMAP_CONFIG_FLOAT: out += std::to_string(get<double>()); return;
      case AWQMAP_CONFIG_STRING: quote(out, get<std::string_view>()); return;
      case AWQMAP_CONFIG_ARRAY: {
        out += '[';
        bool first = true;
        for (Config e : *this) {
          if (!first) out += ',';
          first = false;
          e.dump_into(out);
        }
        out += ']';
        return;
      }
      case AWQMAP_CONFIG_OBJECT: {
        out += '{';
        bool first = true;
        for (const auto& [k, v] : items()) {
          if (!first) out += ',';
          first = false;
          quote(out, k);
          out += ':';
          v.dump_into(out);
        }
        out += '}';
        return;
      }
      default: out += "null"; return;
    }
  }
};

/// One module, read from the model. `name` and `type` view the model's storage: valid during
/// the builder call.
struct Module {
  std::string_view name;                     ///< dotted name; "" is the root
  std::string_view type;                     ///< class name, e.g. "Linear"
  std::optional<std::int64_t> in_features;   ///< Linear only
  std::optional<std::int64_t> out_features;  ///< Linear only
  ModuleIndex parent = no_module;            ///< no_module for the root
  ModuleIndex index = no_module;
  const awqmap_plugin_model* model = nullptr;

  /// Base class names, nearest first (may be empty).
  std::vector<std::string_view> bases() const {
    std::vector<std::string_view> out;
    const std::size_t n = awqmap_model_view_module_base_count(model, index);
    for (std::size_t j = 0; j < n; ++j) {
      std::size_t len = 0;
      const char* b = awqmap_model_view_module_base(model, index, j, &len);
      out.push_back(detail::text(b, len));
    }
    return out;
  }
  /// The weight shape when known (may be empty).
  std::vector<std::int64_t> shape() const {
    const std::int64_t* dims = nullptr;
    const std::size_t n = awqmap_model_view_module_shape(model, index, &dims);
    return dims ? std::vector<std::int64_t>(dims, dims + n) : std::vector<std::int64_t>{};
  }
  /// True when the class or one of its bases is `cls`.
  bool is_a(std::string_view cls) const {
    if (type == cls) return true;
    const std::size_t n = awqmap_model_view_module_base_count(model, index);
    for (std::size_t j = 0; j < n; ++j) {
      std::size_t len = 0;
      const char* b = awqmap_model_view_module_base(model, index, j, &len);
      if (detail::text(b, len) == cls) return true;
    }
    return false;
  }
  bool is_linear() const { return is_a("Linear"); }
  bool is_module_list() const { return is_a("ModuleList"); }
};

/// The model as a dynamic builder reads it: modules in named_modules() order and config.json.
/// A view over the core's model through the C accessors; cheap to copy; valid during the
/// builder call only.
class Model {
 public:
  explicit Model(const awqmap_plugin_model* handle) : handle_(handle) {}
  /// In-process callers (tests, embedders) may pass the core's own model: any type for which
  /// `plugin_model(view)` gives the C handle (the core declares it for awqmap::ModelView).
  template <class View, class Handle = decltype(plugin_model(std::declval<const View&>())),
            class = std::enable_if_t<std::is_convertible_v<Handle, const awqmap_plugin_model*>>>
  Model(const View& view) : handle_(plugin_model(view)) {}  // NOLINT: implicit on purpose

  const awqmap_plugin_model* handle() const { return handle_; }

  std::string architecture() const {
    std::size_t n = 0;
    const char* s = awqmap_model_view_architecture(handle_, &n);
    return std::string(detail::text(s, n));
  }
  /// The file or directory the model came from, for messages.
  std::string origin() const {
    std::size_t n = 0;
    const char* s = awqmap_model_view_origin(handle_, &n);
    return std::string(detail::text(s, n));
  }
  /// False when class names were synthesised (checkpoint directories): then only Linear,
  /// Embedding and ModuleList are known, and builders must rely on module names.
  bool has_torch_class_names() const { return awqmap_model_view_has_torch_class_names(handle_) != 0; }

  std::size_t size() const { return awqmap_model_view_module_count(handle_); }
  Module operator[](ModuleIndex i) const { return module(i); }
  Module module(ModuleIndex i) const {
    Module m;
    std::size_t n = 0;
    const char* s = awqmap_model_view_module_name(handle_, i, &n);
    m.name = detail::text(s, n);
    s = awqmap_model_view_module_type(handle_, i, &n);
    m.type = detail::text(s, n);
    std::int64_t f = 0;
    if (awqmap_model_view_module_in_features(handle_, i, &f)) m.in_features = f;
    if (awqmap_model_view_module_out_features(handle_, i, &f)) m.out_features = f;
    m.parent = awqmap_model_view_module_parent(handle_, i);
    m.index = i;
    m.model = handle_;
    return m;
  }
  /// The module named `name`, or no_module.
  ModuleIndex find(std::string_view name) const { return awqmap_model_view_find(handle_, name.data(), name.size()); }
  /// Children of module `i`, in registration order.
  std::vector<ModuleIndex> children(ModuleIndex i) const {
    std::vector<ModuleIndex> out(awqmap_model_view_module_children(handle_, i, nullptr, 0));
    if (!out.empty()) out.resize(awqmap_model_view_module_children(handle_, i, out.data(), out.size()));
    return out;
  }

  /// config.json.
  Config config() const { return Config(awqmap_model_view_config(handle_)); }
  /// `config.text_config.<key>` when text_config exists and that value is not null, else
  /// `config.<key>`; absent when neither exists (docs/semantics.md §4.1 step 1).
  Config config_field(std::string_view key) const {
    return Config(awqmap_model_view_config_field(handle_, key.data(), key.size()));
  }

  /// Every module in order: `for (const auto& m : model.modules())`.
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Module;
    using difference_type = std::ptrdiff_t;
    using pointer = const Module*;
    using reference = Module;
    iterator(const Model* model, ModuleIndex i) : handle_(model->handle_), i_(i) {}
    Module operator*() const { return Model(handle_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const iterator& o) const { return handle_ == o.handle_ && i_ == o.i_; }
    bool operator!=(const iterator& o) const { return !(*this == o); }

   private:
    const awqmap_plugin_model* handle_;
    ModuleIndex i_;
  };
  class Modules {
   public:
    explicit Modules(const Model* model) : model_(model) {}
    iterator begin() const { return {model_, 0}; }
    iterator end() const { return {model_, static_cast<ModuleIndex>(model_->size())}; }
    std::size_t size() const { return model_->size(); }

   private:
    const Model* model_;
  };
  Modules modules() const { return Modules(this); }

 private:
  const awqmap_plugin_model* handle_;
};

/// What a dynamic builder returns: mappings, or a decline with the reason selection reports.
struct BuildResult {
  std::optional<MappingList> mappings;
  std::string declined_because;

  static BuildResult use(MappingList m) { return {std::move(m), {}}; }
  static BuildResult decline(std::string reason) { return {std::nullopt, std::move(reason)}; }
};

/// Called with a read-only view of the model; must not keep it. May run on many threads at once.
using DynamicBuilder = std::function<BuildResult(const Model&)>;

/// Fused per-layer expert tensors that calibration splits into one module per expert
/// (docs/semantics.md §8). `fused` is the tensor name suffix (e.g. "mlp.experts.gate_up_proj"); each expert
/// e of the leading dimension becomes `<prefix>.<e>.<parts[k]>`, the second dimension being
/// split into `parts.size()` equal slices in order.
struct FusedExpertSplit {
  std::string fused;
  std::string prefix;
  std::vector<std::string> parts;
};

namespace detail {
inline awqmap_provenance c_provenance(const Provenance& p) {
  awqmap_provenance out{AWQMAP_ORIGIN_ANALYSIS, p.source.c_str()};
  if (p.origin == Origin::upstream) out.origin = AWQMAP_ORIGIN_UPSTREAM;
  if (p.origin == Origin::peer) out.origin = AWQMAP_ORIGIN_PEER;
  return out;
}

// A mapping list as the C structs, with the pointer arrays they refer to.
class CMappings {
 public:
  explicit CMappings(const MappingList& list) : balance_(list.size()) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      for (const auto& b : list[i].balance_layers) balance_[i].push_back(b.c_str());
      const auto& hook = list[i].activation_hook_target;
      mappings_.push_back({list[i].smooth_layer.c_str(), balance_[i].data(), balance_[i].size(),
                           hook ? hook->c_str() : nullptr});
    }
  }
  const awqmap_plugin_mapping* data() const { return mappings_.data(); }
  std::size_t size() const { return mappings_.size(); }

 private:
  std::vector<std::vector<const char*>> balance_;
  std::vector<awqmap_plugin_mapping> mappings_;
};

inline int run_builder(void* user_data, const awqmap_plugin_model* model, awqmap_build* out) noexcept {
  try {
    const BuildResult r = (*static_cast<const DynamicBuilder*>(user_data))(Model(model));
    if (!r.mappings) return awqmap_build_decline(out, r.declined_because.c_str());
    std::vector<const char*> balance;
    for (const Mapping& m : *r.mappings) {
      balance.clear();
      for (const auto& b : m.balance_layers) balance.push_back(b.c_str());
      const int status =
          awqmap_build_add_mapping(out, m.smooth_layer.c_str(), balance.data(), balance.size(),
                                   m.activation_hook_target ? m.activation_hook_target->c_str() : nullptr);
      if (status != AWQMAP_PLUGIN_OK) return status;
    }
    return AWQMAP_PLUGIN_OK;
  } catch (const std::exception& e) {
    awqmap_build_fail(out, e.what());
  } catch (...) {
    awqmap_build_fail(out, "it threw an exception that is not a std::exception");
  }
  return AWQMAP_PLUGIN_FAILED;
}

inline void destroy_builder(void* user_data) noexcept {
  delete static_cast<DynamicBuilder*>(user_data);
}
}  // namespace detail

/// What a plugin registers, through the C registrar. Every call is validated by the core on
/// the spot (patterns compile in the Python dialect, names are non-empty); a refused call
/// throws, and if the registration function fails in any way nothing of the plugin is kept.
class Registrar {
 public:
  explicit Registrar(awqmap_registrar* registrar) : r_(registrar) {}
  awqmap_registrar* handle() const { return r_; }

  /// Static mappings for an architecture (docs/semantics.md §2 step 3).
  void add_static(const std::string& architecture, const MappingList& mappings, const Provenance& provenance = {}) {
    const detail::CMappings c(mappings);
    const awqmap_provenance p = detail::c_provenance(provenance);
    check(awqmap_registrar_add_static(r_, architecture.c_str(), c.data(), c.size(), &p));
  }
  /// A dynamic builder for an architecture (docs/semantics.md §2 step 2); `builder_name` is reported.
  void add_dynamic(const std::string& architecture, const std::string& builder_name, DynamicBuilder builder,
                   const Provenance& provenance = {}) {
    const awqmap_provenance p = detail::c_provenance(provenance);
    if (!builder) {  // the core owns nothing then; it refuses the empty builder by name
      check(awqmap_registrar_add_dynamic(r_, architecture.c_str(), builder_name.c_str(), nullptr, nullptr, nullptr, &p));
      return;
    }
    auto* held = new DynamicBuilder(std::move(builder));
    // The core owns `held` from here on, whatever the call returns.
    check(awqmap_registrar_add_dynamic(r_, architecture.c_str(), builder_name.c_str(), &detail::run_builder, held,
                                       &detail::destroy_builder, &p));
  }
  /// The default mappings (docs/semantics.md §2 step 4). Exactly one loaded plugin may set them.
  void set_default(const MappingList& mappings, const Provenance& provenance = {}) {
    const detail::CMappings c(mappings);
    const awqmap_provenance p = detail::c_provenance(provenance);
    check(awqmap_registrar_set_default(r_, c.data(), c.size(), &p));
  }
  /// Checkpoint tensors the model drops when it loads: a Python regex, re.match on the name.
  void drop_checkpoint_tensors(const std::string& architecture, const std::string& pattern) {
    check(awqmap_registrar_drop_checkpoint_tensors(r_, architecture.c_str(), pattern.c_str()));
  }
  /// Checkpoint key renames: a Python regex (re.match) and a replacement with \1-style groups.
  void rename_checkpoint_keys(const std::string& architecture, const std::string& pattern,
                              const std::string& replacement) {
    check(awqmap_registrar_rename_checkpoint_keys(r_, architecture.c_str(), pattern.c_str(), replacement.c_str()));
  }
  /// Fused expert tensors to split into per-expert modules.
  void split_fused_experts(const std::string& architecture, const FusedExpertSplit& split) {
    std::vector<const char*> parts;
    for (const auto& p : split.parts) parts.push_back(p.c_str());
    check(awqmap_registrar_split_fused_experts(r_, architecture.c_str(), split.fused.c_str(), split.prefix.c_str(),
                                               parts.data(), parts.size()));
  }

 private:
  awqmap_registrar* r_;

  void check(int status) const {
    if (status == AWQMAP_PLUGIN_OK) return;
    const char* why = awqmap_registrar_error(r_);
    throw detail::RegistrationFailed(why ? why : "the registrar refused a registration");
  }
};

/// Runs a registration function against the C registrar: what AWQMAP_PLUGIN's entry calls.
/// Any exception is caught and becomes the registration's error; nothing escapes.
template <class Fn>
int run_registration(awqmap_registrar* registrar, Fn&& register_fn) noexcept {
  try {
    Registrar r(registrar);
    register_fn(r);
  } catch (const detail::RegistrationFailed&) {
    // The registrar already holds the message.
  } catch (const std::exception& e) {
    awqmap_registrar_fail(registrar, e.what());
  } catch (...) {
    awqmap_registrar_fail(registrar, "it threw an exception that is not a std::exception");
  }
  return awqmap_registrar_error(registrar) ? AWQMAP_PLUGIN_FAILED : AWQMAP_PLUGIN_OK;
}

}  // namespace plugin

// The names plugins use; none of them clashes with the core's own (awqmap::ModelView,
// awqmap::Module, awqmap::FusedExpertSplit stay the core's).
using plugin::BuildResult;
using plugin::DynamicBuilder;
using plugin::Registrar;

}  // namespace awqmap

/// Declares the plugin's entry point: one per plugin shared library, at file scope.
#define AWQMAP_PLUGIN(NAME, VERSION, REGISTER_FN)                                                              \
  namespace {                                                                                                  \
  int awqmap_plugin_register_(awqmap_registrar* r) noexcept {                                                  \
    return ::awqmap::plugin::run_registration(r, REGISTER_FN);                                                 \
  }                                                                                                            \
  const awqmap_plugin_info* awqmap_plugin_info_() noexcept {                                                   \
    static const awqmap_plugin_info info = {AWQMAP_PLUGIN_API_VERSION, sizeof(awqmap_plugin_info), NAME, VERSION, \
                                            AWQMAP_PLUGIN_ABI, &awqmap_plugin_register_};                      \
    return &info;                                                                                              \
  }                                                                                                            \
  }                                                                                                            \
  AWQMAP_PLUGIN_ENTRY(awqmap_plugin_info_)
