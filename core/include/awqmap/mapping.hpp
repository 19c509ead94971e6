#pragma once
// AWQ mappings (docs/semantics.md §1): a smooth layer, the balance layers that read its output, and an
// optional activation hook path relative to the resolved parent.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "awqmap/export.hpp"

namespace awqmap {

struct Mapping {
  Mapping() = default;
  Mapping(std::string smooth, std::vector<std::string> balance, std::optional<std::string> hook = std::nullopt)
      : smooth_layer(std::move(smooth)), balance_layers(std::move(balance)), activation_hook_target(std::move(hook)) {}

  std::string smooth_layer;
  std::vector<std::string> balance_layers;
  std::optional<std::string> activation_hook_target;

  bool operator==(const Mapping& o) const {
    return smooth_layer == o.smooth_layer && balance_layers == o.balance_layers &&
           activation_hook_target == o.activation_hook_target;
  }
};

using MappingList = std::vector<Mapping>;

/// Upstream's repr: `AWQMapping(smooth_layer='re:...', balance_layers=[...], activation_hook_target=None)`.
AWQMAP_API std::string python_repr(const Mapping& mapping);
/// Python's repr of a str (quotes and escapes as CPython prints them).
AWQMAP_API std::string python_repr(const std::string& text);

/// Reads JSON text: a list of {"smooth_layer", "balance_layers", "activation_hook_target"}
/// objects, or a whole awqmap.resolved/v1 document (its `mappings`), and compiles every pattern.
/// Throws InputError naming `origin`, and the mapping index and field where one is at fault.
AWQMAP_API MappingList mappings_from_json(std::string_view json_text, const std::string& origin);
/// Same, from a file.
AWQMAP_API MappingList load_mappings_file(const std::string& path);
/// The inverse of mappings_from_json: the list as compact JSON text (activation_hook_target
/// null when absent).
AWQMAP_API std::string mappings_to_json(const MappingList& mappings);

/// Compiles every pattern of the list; throws InputError naming `origin` and the mapping.
AWQMAP_API void validate_mappings(const MappingList& mappings, const std::string& origin);

}  // namespace awqmap
