#pragma once
// Mapping lists as nlohmann values, for the core's own readers and writers; the public API
// (mapping.hpp) takes and gives JSON text.
#include <string>

#include <nlohmann/json.hpp>

#include "awqmap/mapping.hpp"

namespace awqmap::detail {

/// mappings_from_json on a parsed value.
MappingList mappings_from_json_value(const nlohmann::json& input, const std::string& origin);
/// mappings_to_json as a value.
nlohmann::json mappings_to_json_value(const MappingList& mappings);

}  // namespace awqmap::detail
