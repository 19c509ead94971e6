#pragma once
// Which mappings a model gets, and where they came from (SPEC §2).
#include <string>
#include <string_view>
#include <vector>

#include "awqmap/mapping.hpp"

namespace awqmap {

enum class SelectionKind { dynamic, static_list, default_list, user };
/// "dynamic", "static", "default" or "user", as in the JSON `selection.kind`.
std::string_view to_string(SelectionKind kind);

struct Selection {
  SelectionKind kind = SelectionKind::default_list;
  std::string builder;  ///< dynamic builder name; empty otherwise
  std::string plugin;   ///< plugin that supplied the mappings; empty for user mappings
  MappingList mappings;
  /// Why dynamic builders declined before this selection was made, one line each.
  std::vector<std::string> declined;
};

}  // namespace awqmap
