#pragma once
// Reader for `awqmap.model/v1` model descriptions (docs/format.md): the hot input path.
#include <optional>
#include <string>
#include <string_view>

#include "awqmap/export.hpp"
#include "awqmap/limits.hpp"
#include "awqmap/model.hpp"

namespace awqmap {

/// Loads and validates a description file. Throws InputError naming the file and the item.
/// `architecture`, when given, replaces the description's own. The file is read once into
/// memory the model owns (it may change or vanish afterwards); only a regular file is read,
/// up to InputLimits::max_description_bytes.
AWQMAP_API ModelView load_model_description(const std::string& path,
                                            const std::optional<std::string>& architecture = std::nullopt,
                                            const InputLimits& limits = {});

/// Same, from JSON text in memory; `origin` names it in errors.
AWQMAP_API ModelView parse_model_description(std::string_view json, const std::string& origin);

}  // namespace awqmap
