#pragma once
// Output formats of the CLI: awqmap.resolved/v1 JSON (SPEC §7.2) and the table for people.
#include <string>

#include "awqmap/checkpoint.hpp"
#include "awqmap/error.hpp"
#include "awqmap/model.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/selection.hpp"

namespace awqmap::cli {

/// `checkpoint` adds what the checkpoint reader read and dropped (empty for descriptions).
std::string resolution_json(const ModelView& model, const Selection& selection, const Resolution& resolution,
                            const CheckpointSummary& checkpoint = {});
std::string resolution_table(const ModelView& model, const Selection& selection, const Resolution& resolution,
                             const CheckpointSummary& checkpoint = {});
std::string error_json(const ResolutionError& error);
std::string selection_text(const Selection& selection);

}  // namespace awqmap::cli
