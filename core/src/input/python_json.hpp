#pragma once
// JSON in Python's dialect for numbers: `json.dumps` writes float('inf') and float('nan') as the
// bare literals Infinity, -Infinity and NaN, and transformers does so in real config.json files
// (`"time_step_limit": [0.0, Infinity]`). They are accepted wherever a number may stand.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace awqmap::detail {

/// Parses `text`; the plain parser runs first and the dialect is handled only when it fails on
/// such a literal. Throws InputError naming `origin` with the byte position (never the bytes).
nlohmann::json parse_python_json(std::string_view text, const std::string& origin);

/// True when `text` has a bare Infinity, -Infinity or NaN outside strings.
bool has_python_number_literals(std::string_view text);

}  // namespace awqmap::detail
