#include "naming_heuristics.hpp"

namespace awqmap::detail {

bool is_embedding_name(std::string_view last) {
  return last.find("embed") != std::string_view::npos || last == "wte" || last == "wpe";
}

bool is_tower_component(std::string_view component) {
  return component.find("vision") != std::string_view::npos || component.find("visual") != std::string_view::npos ||
         component.find("audio") != std::string_view::npos;
}

int sibling_rank(std::string_view last) {
  if (last == "vision_tower" || last == "vision_model" || last == "visual") return 0;
  if (last == "multi_modal_projector") return 1;
  return 2;
}

}  // namespace awqmap::detail
