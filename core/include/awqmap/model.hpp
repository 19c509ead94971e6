#pragma once
// ModelView: the model as every part of awqmap sees it — modules in torch's named_modules()
// order, with class and base names and Linear features, plus a view of the config. Read-only once
// built.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "awqmap/export.hpp"

namespace awqmap {

namespace detail {
struct ModelAccess;
struct ModelData;
}  // namespace detail

using ModuleIndex = std::uint32_t;
inline constexpr ModuleIndex no_module = static_cast<ModuleIndex>(-1);

/// One module of the tree. Strings are views into storage owned by the ModelView.
struct Module {
  std::string_view name;                     ///< dotted name; "" is the root
  std::string_view type;                     ///< class name, e.g. "Linear"
  std::vector<std::string_view> bases;       ///< base class names, nearest first (may be empty)
  std::optional<std::int64_t> in_features;   ///< Linear only
  std::optional<std::int64_t> out_features;  ///< Linear only
  std::vector<std::int64_t> shape;           ///< weight shape when known (may be empty)
  ModuleIndex parent = no_module;            ///< no_module for the root

  /// True when the class or one of its bases is `cls`.
  AWQMAP_API bool is_a(std::string_view cls) const;
  bool is_linear() const { return is_a("Linear"); }
  bool is_module_list() const { return is_a("ModuleList"); }
};

/// A read-only view of one value of the model's config (config.json), or of nothing (a key
/// that is absent). Valid while the ModelView it came from, or a copy of it, is alive.
class AWQMAP_API ConfigValue {
 public:
  /// An absent value.
  ConfigValue() = default;

  /// True when the value exists (it may be JSON null).
  explicit operator bool() const { return node_ != nullptr; }
  /// True for JSON null and for an absent value.
  bool is_null() const;
  bool is_bool() const;
  /// A JSON number without fraction or exponent, of any size.
  bool is_integer() const;
  /// Any JSON number (Infinity and NaN included: config.json files written by Python hold them).
  bool is_number() const;
  bool is_string() const;
  bool is_array() const;
  bool is_object() const;

  /// The value as that type. Throw InputError saying what the value is instead (an integer
  /// beyond 64 signed bits is not an int64).
  std::int64_t as_int64() const;
  /// Any number.
  double as_double() const;
  bool as_bool() const;
  std::string as_string() const;

  /// Elements of an array, members of an object; 0 otherwise.
  std::size_t size() const;
  /// Element `i` of an array; absent when out of range or not an array.
  ConfigValue at(std::size_t i) const;
  /// Member `key` of an object; absent when missing or not an object. No text_config precedence
  /// here: that is ModelView::config_field.
  ConfigValue get(std::string_view key) const;
  /// An object's keys, sorted; empty otherwise.
  std::vector<std::string> keys() const;
  /// The value as compact JSON ("null" when absent).
  std::string dump() const;

 private:
  friend struct detail::ModelAccess;
  explicit ConfigValue(const void* node) : node_(node) {}
  const void* node_ = nullptr;
};

/// The model as loaded: made by load_model, load_checkpoint and the description readers
/// (checkpoint.hpp, model_description.hpp). Copies share the loaded data and are cheap.
class AWQMAP_API ModelView {
 public:
  const std::string& architecture() const { return architecture_; }
  const std::string& origin() const { return origin_; }
  /// The whole config (an object; empty when the description has none).
  ConfigValue config() const;
  /// The whole config as compact JSON text.
  std::string config_json() const;
  /// False when class names were synthesised (checkpoint directories): then only Linear,
  /// Embedding and ModuleList are known, and builders must rely on module names.
  bool has_torch_class_names() const { return torch_class_names_; }
  /// True when the reader found every module name to be ASCII without control bytes, quotes or
  /// backslashes (false when it did not check): such names, and every part of them, go into
  /// JSON as they are and are matched by the byte engine.
  bool names_are_plain() const { return plain_names_; }

  /// `config.text_config.<key>` when text_config exists and that value is not null, else
  /// `config.<key>`; absent when neither exists (docs/semantics.md §4.1 step 1).
  ConfigValue config_field(std::string_view key) const;

  const std::vector<Module>& modules() const { return modules_; }
  std::size_t size() const { return modules_.size(); }
  const Module& operator[](ModuleIndex i) const { return modules_[i]; }

  /// O(1) lookup; no_module when absent.
  ModuleIndex find(std::string_view name) const;
  /// Children of module `i`, in registration order.
  std::vector<ModuleIndex> children(ModuleIndex i) const;

 private:
  friend struct detail::ModelAccess;
  ModelView() = default;

  std::string architecture_;
  std::string origin_;
  bool torch_class_names_ = true;
  bool plain_names_ = false;
  std::vector<Module> modules_;  // in named_modules() order; parents before children
  // The config, the bytes the names view, the name table and the children lists.
  std::shared_ptr<const detail::ModelData> data_;
};

}  // namespace awqmap
