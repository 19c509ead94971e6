#pragma once
// Beyond upstream: why a resolution failed, in the model's terms, and what repair would do
// about it (resolve_with_repair in repair.hpp, the CLI's --repair, acts on the same analysis).
#include <string>

#include "awqmap/error.hpp"
#include "awqmap/export.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/model.hpp"
#include "awqmap/resolve.hpp"

namespace awqmap {

/// Why `error` happened, in the model's terms: which layers have which targets, which modules
/// matched twice, where a hook target was looked for. Layers are named by index ranges. One or
/// more lines, no trailing newline. The last line says what repair (resolve_with_repair) does
/// with the mapping: "repair scopes the mapping...", "repair leaves this mapping out...", or
/// "repair cannot fix it: <why>".
AWQMAP_API std::string explain(const ModelView& model, const MappingList& mappings, const ResolutionError& error,
                               const ResolveOptions& options = {});

}  // namespace awqmap
