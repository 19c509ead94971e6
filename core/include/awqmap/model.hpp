#pragma once
// ModelView: the model as every part of awqmap sees it — modules in torch's named_modules()
// order, with class and base names and Linear features, plus the config. Read-only once built.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "awqmap/export.hpp"

namespace awqmap {

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

/// `config.text_config.<key>` when text_config exists and that value is not null, else
/// `config.<key>`; nullptr when neither exists (docs/semantics.md §4.1 step 1).
AWQMAP_API const nlohmann::json* config_field(const nlohmann::json& config, std::string_view key);

/// What a loader hands to ModelView: the records, and whatever owns the bytes they view.
struct ModelParts {
  std::string architecture;
  nlohmann::json config = nlohmann::json::object();
  std::vector<Module> modules;          ///< in named_modules() order; parents before children
  std::shared_ptr<const void> storage;  ///< keeps the viewed strings alive
  std::string origin;                   ///< file or directory the model came from (for errors)
  /// False when class names were synthesised (checkpoint directories): then only Linear,
  /// Embedding and ModuleList are known, and builders must rely on module names.
  bool torch_class_names = true;
};

class AWQMAP_API ModelView {
 public:
  /// Validates the parts (docs/format.md): unique names, each parent present earlier, Linear records
  /// with features. Throws InputError naming `parts.origin` and the module at fault.
  explicit ModelView(ModelParts parts);

  const std::string& architecture() const { return parts_.architecture; }
  const std::string& origin() const { return parts_.origin; }
  const nlohmann::json& config() const { return parts_.config; }
  /// See ModelParts::torch_class_names.
  bool has_torch_class_names() const { return parts_.torch_class_names; }

  /// `config.text_config.<key>` when text_config exists and that value is not null, else
  /// `config.<key>`; nullptr when neither exists (docs/semantics.md §4.1 step 1).
  const nlohmann::json* config_field(std::string_view key) const;

  const std::vector<Module>& modules() const { return parts_.modules; }
  std::size_t size() const { return parts_.modules.size(); }
  const Module& operator[](ModuleIndex i) const { return parts_.modules[i]; }

  /// O(1) lookup; no_module when absent.
  ModuleIndex find(std::string_view name) const;
  /// Children of module `i`, in registration order.
  std::vector<ModuleIndex> children(ModuleIndex i) const;

 private:
  ModelParts parts_;
  std::shared_ptr<const void> name_table_;  // detail::NameTable over module names
  std::vector<ModuleIndex> child_offsets_;  // CSR: children of i are child_list_[off[i]..off[i+1])
  std::vector<ModuleIndex> child_list_;
};

}  // namespace awqmap
