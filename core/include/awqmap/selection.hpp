#pragma once
// Which mappings a model gets, and where they came from (docs/semantics.md §2).
#include <string>
#include <string_view>
#include <vector>

#include "awqmap/export.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/origin.hpp"

namespace awqmap {

enum class SelectionKind { dynamic, static_list, default_list, user };

/// Which registrations selection considers.
///  - exact (the default): every loaded plugin; a peer or analysis registration of an
///    architecture takes precedence over an upstream one.
///  - upstream: only registrations of Origin::upstream and the default list: llm-compressor's
///    registry as it is, its inexact groups and its failures included.
enum class SelectionMode { exact, upstream };
/// "exact" or "upstream".
AWQMAP_API std::string_view to_string(SelectionMode mode);
/// "dynamic", "static", "default" or "user", as in the JSON `selection.kind`.
AWQMAP_API std::string_view to_string(SelectionKind kind);

struct Selection {
  SelectionKind kind = SelectionKind::default_list;
  std::string builder;  ///< dynamic builder name; empty otherwise
  std::string plugin;   ///< plugin that supplied the mappings; empty for user mappings
  Origin origin = Origin::upstream;  ///< of the registration used; analysis for user mappings
  std::string source;                ///< the registration's source reference, if any
  MappingList mappings;
  /// Why dynamic builders declined before this selection was made, one line each.
  std::vector<std::string> declined;
  /// The same, as data.
  struct Declined {
    std::string builder, plugin, reason;
  };
  std::vector<Declined> declined_builders;
};

}  // namespace awqmap
