#include "awqmap/selection.hpp"

namespace awqmap {

std::string_view to_string(SelectionKind kind) {
  switch (kind) {
    case SelectionKind::dynamic: return "dynamic";
    case SelectionKind::static_list: return "static";
    case SelectionKind::default_list: return "default";
    case SelectionKind::user: return "user";
  }
  return "unknown";
}

}  // namespace awqmap

namespace awqmap {

std::string_view to_string(Origin origin) {
  switch (origin) {
    case Origin::upstream: return "upstream";
    case Origin::peer: return "peer";
    case Origin::analysis: return "analysis";
  }
  return "unknown";
}

std::string_view to_string(SelectionMode mode) {
  return mode == SelectionMode::upstream ? "upstream" : "exact";
}

}  // namespace awqmap
