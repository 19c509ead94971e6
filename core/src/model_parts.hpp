#pragma once
// Internal: what a loader hands over to make a ModelView, the data a ModelView shares between
// its copies, and the core's own access to the config as nlohmann values (the public API sees
// it through awqmap::ConfigValue).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "awqmap/model.hpp"
#include "name_table.hpp"

namespace awqmap {

/// The records, and whatever owns the bytes they view.
struct ModelParts {
  std::string architecture;
  nlohmann::json config = nlohmann::json::object();
  std::vector<Module> modules;          ///< in named_modules() order; parents before children
  std::shared_ptr<const void> storage;  ///< keeps the viewed strings alive
  std::string origin;                   ///< file or directory the model came from (for errors)
  /// See ModelView::has_torch_class_names.
  bool torch_class_names = true;
  /// See ModelView::names_are_plain: set only by a reader that checked every name.
  bool plain_names = false;
  /// What a reader that built the tree itself (a checkpoint's, the description scanner's)
  /// knows: every name once, each Module::parent set to an earlier module, Linear records with
  /// features that are not negative. make() takes these as they are instead of building and
  /// checking them again.
  struct Tree {
    detail::NameTable names;                 ///< over the module names, by module index
    std::vector<ModuleIndex> child_offsets;  ///< as ModelData's
    std::vector<ModuleIndex> child_list;
  };
  std::unique_ptr<Tree> tree;
};

namespace detail {

struct ModelData {
  nlohmann::json config;
  std::shared_ptr<const void> storage;
  NameTable names;                          // over the module names
  std::vector<ModuleIndex> child_offsets;  // CSR: children of i are child_list[off[i]..off[i+1])
  std::vector<ModuleIndex> child_list;
};

struct ModelAccess {
  /// Validates the parts (docs/format.md): unique names, each parent present earlier, Linear
  /// records with features. Throws InputError naming `parts.origin` and the module at fault.
  static ModelView make(ModelParts parts);
  /// For parts with a ModelParts::tree: takes it as it is, with no check.
  static ModelView make_from_tree(ModelParts parts);
  /// The view of `parts`, with `data` holding its tables (make's and make_from_tree's last step).
  static ModelView assemble(ModelParts parts, std::shared_ptr<ModelData> data);
  static const nlohmann::json& config(const ModelView& model) { return model.data_->config; }
  static ConfigValue value(const nlohmann::json* node) { return ConfigValue(node); }
  static const nlohmann::json* node(const ConfigValue& v) { return static_cast<const nlohmann::json*>(v.node_); }
};

/// `config.text_config.<key>` when text_config exists and that value is not null, else
/// `config.<key>`; nullptr when neither exists (docs/semantics.md §4.1 step 1).
const nlohmann::json* config_field(const nlohmann::json& config, std::string_view key);

}  // namespace detail

/// See ModelAccess::make and ModelAccess::make_from_tree.
inline ModelView make_model_view(ModelParts parts) {
  if (parts.tree) return detail::ModelAccess::make_from_tree(std::move(parts));
  return detail::ModelAccess::make(std::move(parts));
}

}  // namespace awqmap
