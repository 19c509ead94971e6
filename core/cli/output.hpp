#pragma once
// Output formats of the CLI: awqmap.resolved/v1 JSON (docs/format.md) and the table for people.
#include <cstdio>
#include <string>
#include <string_view>

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

/// `text` safe to print on a terminal: control characters (C0, DEL, C1) and bytes that are not
/// UTF-8 are written as `\xNN` (`\u0085` for C1), so that names from untrusted files cannot
/// move the cursor, clear the screen or cut a line. With `keep_newlines`, `\n` stays as is
/// (for text this program splits into lines itself).
std::string printable(std::string_view text, bool keep_newlines = false);

/// `mappings` is the list that was resolved (after repair, when there was one). With `sink`,
/// the text goes there in pieces as it is built and nothing is returned.
std::string resolution_json(const ModelView& model, const Selection& selection, const MappingList& mappings,
                            const Resolution& resolution, const Extras& extras = {}, std::FILE* sink = nullptr);
std::string resolution_table(const ModelView& model, const Selection& selection, const MappingList& mappings,
                             const Resolution& resolution, const Extras& extras = {});
std::string error_json(const ResolutionError& error, const std::string& explanation);
std::string selection_text(const Selection& selection);

}  // namespace awqmap::cli
