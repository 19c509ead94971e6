#pragma once
// An llm-compressor recipe (YAML) whose AWQModifier carries a list of mappings: the way back from
// awqmap into the quantizer. The CLI's `recipe` command and the Python package print the same text.
#include <string>
#include <vector>

#include "awqmap/export.hpp"
#include "awqmap/mapping.hpp"

namespace awqmap {

struct RecipeOptions {
  std::vector<std::string> targets{"Linear"};
  std::vector<std::string> ignore{"lm_head"};
  /// llm-compressor preset scheme name (e.g. W4A16_ASYM, W4A16, W8A16).
  std::string scheme = "W4A16_ASYM";
  /// One-line comments written at the top (where the mappings came from); may be empty.
  std::vector<std::string> comments;
};

/// The recipe as YAML text:
///   default_stage:
///     default_modifiers:
///       AWQModifier:
///         targets: [...]
///         ignore: [...]
///         scheme: ...
///         mappings:
///         - smooth_layer: "..."
///           balance_layers: ["...", ...]
///           activation_hook_target: "..."   (only when set)
/// Strings are YAML double-quoted scalars. Throws InputError naming the mapping when a string
/// is not valid UTF-8, and when the scheme is not a plain word.
AWQMAP_API std::string awq_recipe_yaml(const MappingList& mappings, const RecipeOptions& options = {});

/// A YAML double-quoted scalar for `text` (valid UTF-8; non-printable characters escaped).
/// Throws InputError naming `origin` when `text` is not valid UTF-8.
AWQMAP_API std::string yaml_quoted(const std::string& text, const std::string& origin);

}  // namespace awqmap
