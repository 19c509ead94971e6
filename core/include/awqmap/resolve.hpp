#pragma once
// Upstream's grouping and resolution (docs/semantics.md §5.2, §5.3, §6): a pure function of the model, the
// mappings and the quantization targets/ignore lists.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "awqmap/export.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/model.hpp"

namespace awqmap {

struct ResolveOptions {
  std::vector<std::string> targets{"Linear"};
  std::vector<std::string> ignore{"lm_head"};
};

/// One concrete group. Names view the ModelView, which must outlive this value.
struct ResolvedMapping {
  std::size_t mapping = 0;  ///< index in the mapping list
  std::string_view smooth_name;
  std::vector<std::string_view> balance_names;
  std::string_view parent_name;                            ///< "" is the root
  std::optional<std::string_view> activation_hook_target;  ///< module name of the hook target
};

enum class SkipReason { incompatible, no_balance_layers, not_targeted };
AWQMAP_API std::string_view to_string(SkipReason reason);

struct SkippedGroup {
  std::size_t mapping = 0;
  std::string_view smooth_name;
  SkipReason reason;
  std::vector<std::string_view> balance_names;  ///< what the group would have balanced
};

struct Resolution {
  std::vector<ResolvedMapping> resolved;  ///< mapping order, then group order
  std::vector<SkippedGroup> skipped;
};

/// Resolves `mappings` on `model`. Throws ResolutionError (upstream's four failures; nothing is
/// kept) or InputError (an invalid pattern, naming the mapping).
AWQMAP_API Resolution resolve(const ModelView& model, const MappingList& mappings, const ResolveOptions& options = {});

/// docs/semantics.md §5.3: lowest common ancestor of dotted names; the result is a prefix of one of them.
AWQMAP_API std::string_view lowest_common_ancestor(std::string_view a, std::string_view b);
AWQMAP_API std::string_view lowest_common_ancestor(const std::vector<std::string_view>& names);

}  // namespace awqmap
