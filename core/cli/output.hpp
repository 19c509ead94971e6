#pragma once
// Output formats of the CLI: the JSON formats of docs/format.md and the text for people.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "awqmap/awqmap.hpp"  // results of resolve, repair and coverage
#include "awqmap/registry.hpp"

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

/// Why an `incompatible` group was skipped: the smooth layer's out_features and the in_features
/// of the balance layers (o_proj) that do not fit it (docs/semantics.md §6 step 3).
struct IncompatibleShapes {
  std::string_view smooth;
  std::int64_t out_features = 0;
  int factor = 1;  ///< 3 for a qkv_proj, whose out_features must be three times o_proj's in_features
  std::vector<std::pair<std::string_view, std::int64_t>> balances;
};
/// Nothing unless `skipped` is an incompatible group whose shapes the model gives.
std::optional<IncompatibleShapes> incompatible_shapes(const ModelView& model, const SkippedGroup& skipped);

/// `mappings` is the list that was resolved (after repair, when there was one). With `sink`,
/// the text goes there in pieces as it is built and nothing is returned.
std::string resolution_json(const ModelView& model, const Selection& selection, const MappingList& mappings,
                            const Resolution& resolution, const Extras& extras = {}, std::FILE* sink = nullptr);
/// Groups that differ only in layer and expert indices fold into one line; `full` gives one
/// line per group instead.
std::string resolution_table(const ModelView& model, const Selection& selection, const MappingList& mappings,
                             const Resolution& resolution, const Extras& extras = {}, bool full = false);
std::string error_json(const ResolutionError& error, const std::string& explanation);
/// The two stderr lines of a resolution error, names escaped as everywhere on the terminal.
void print_resolution_error(const ResolutionError& error, const std::string& explanation);
std::string selection_text(const Selection& selection);

/// `awqmap mappings`: the selected (or repaired) list and where it came from.
std::string mappings_json(const ModelView& model, const Selection& selection, SelectionMode mode,
                          const MappingList& list, const RepairedResolution* repaired);
std::string mappings_text(const ModelView& model, const Selection& selection, const MappingList& list,
                          const RepairedResolution* repaired);

/// `awqmap plugins`: each plugin and its registrations, the checkpoint adaptations, and the
/// plugin that sets the default list (empty: none does).
std::string plugins_json(const Registry& registry);
std::string plugins_text(const Registry& registry);

/// `awqmap architectures`: every registered architecture, its kind and plugin, against upstream.
std::string architectures_json(const Registry& registry);
std::string architectures_text(const Registry& registry);

}  // namespace awqmap::cli
