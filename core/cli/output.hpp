#pragma once
// Output formats of the CLI: awqmap.resolved/v1 JSON (SPEC §7.2) and the table for people.
#include <cstdio>
#include <string>

#include "awqmap/checkpoint.hpp"
#include "awqmap/error.hpp"
#include "awqmap/model.hpp"
#include "awqmap/repair.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/selection.hpp"

namespace awqmap::cli {

/// What a result may carry beyond upstream's fields.
struct Extras {
  const CheckpointSummary* checkpoint = nullptr;  ///< what the checkpoint reader read and dropped
  const RepairedResolution* repair = nullptr;     ///< --repair: the final list came from it
  const Coverage* coverage = nullptr;             ///< --coverage (the table always shows a summary)
};

/// `mappings` is the list that was resolved (after repair, when there was one). With `sink`,
/// the text goes there in pieces as it is built and nothing is returned.
std::string resolution_json(const ModelView& model, const Selection& selection, const MappingList& mappings,
                            const Resolution& resolution, const Extras& extras = {}, std::FILE* sink = nullptr);
std::string resolution_table(const ModelView& model, const Selection& selection, const MappingList& mappings,
                             const Resolution& resolution, const Extras& extras = {});
std::string error_json(const ResolutionError& error, const std::string& explanation);
std::string selection_text(const Selection& selection);

}  // namespace awqmap::cli
