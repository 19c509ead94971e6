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
