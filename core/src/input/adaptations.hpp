#pragma once
// Checkpoint adaptations (docs/semantics.md §8): what an architecture's plugin declared about the way its
// checkpoints differ from the model torch builds (key renames, tensors the model drops, fused
// expert tensors), plus the multi-token-prediction layers every loader drops. Applied while
// the tensors become modules.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "awqmap/checkpoint.hpp"
#include "awqmap/limits.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/target.hpp"
#include "key_rename.hpp"
#include "module_tree.hpp"
#include "safetensors.hpp"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace awqmap::detail {

struct CompiledDrop {
  std::string pattern;
  Target target;
  /// What the pattern matches when it is literal characters only (letters, digits, '_' and
  /// escaped punctuation): re.match of it is then a prefix compare.
  std::optional<std::string> literal;
};

struct CompiledAdaptations {
  std::vector<CompiledKeyRename> renames;
  std::vector<CompiledDrop> drops;
  std::vector<FusedExpertSplit> fused_experts;
};

CompiledAdaptations compile_adaptations(const CheckpointAdaptations& adaptations, const std::string& architecture);

/// The text that the Python regex `pattern` matches when that is one fixed string: nothing but
/// ASCII letters, digits, '_' and escaped punctuation (`\.`). Nothing for any other pattern.
inline std::optional<std::string> literal_pattern(std::string_view pattern) {
  std::string text;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
      text += c;
    } else if (c == '\\' && i + 1 < pattern.size() &&
               std::string_view(".^$*+?{}[]()|\\-/").find(pattern[i + 1]) != std::string_view::npos) {
      text += pattern[++i];
    } else {
      return std::nullopt;
    }
  }
  return text;
}

/// Whether the drop matches the tensor name: Target::matches_name, with a prefix compare where
/// the pattern is literal and the name plain. `plain_name` is Target::is_plain_name(name).
inline bool drop_matches(const CompiledDrop& drop, std::string_view name, bool plain_name) {
  // On a plain name the regex runs on bytes, where a literal matches exactly its prefix; other
  // names take the engine that says what Python says about them (or refuses them as it does).
  if (drop.literal && plain_name) {
    // A few bytes, and most names differ in the first: no call.
    const std::string& literal = *drop.literal;
    if (name.size() < literal.size()) return false;
    for (std::size_t i = 0; i < literal.size(); ++i)
      if (name[i] != literal[i]) return false;
    return true;
  }
  return drop.target.matches_name(name, plain_name);
}

struct TensorNameFlags {
  bool double_dot;  ///< two dots side by side: an empty component inside the name
  bool plain;       ///< Target::is_plain_name
};

/// Both flags of `name` in one pass.
inline TensorNameFlags scan_tensor_name(std::string_view name) {
  std::size_t i = 0;
#ifdef __SSE2__
  // Sixteen bytes a step (name.find("..") makes a call per component, a byte loop a branch per
  // byte): a mask of the dots, and one of the bytes past ASCII and newlines.
  if (name.size() >= 16) {
    const __m128i dot = _mm_set1_epi8('.'), newline = _mm_set1_epi8('\n');
    unsigned bad = 0, carry = 0;  // carry: the previous step's last byte was a dot
    bool pair = false;
    auto dots_of = [&](std::size_t at) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(name.data() + at));
      bad |= static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(x, _mm_cmpeq_epi8(x, newline))));
      return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, dot)));
    };
    for (; i + 16 <= name.size(); i += 16) {
      const unsigned dots = dots_of(i);
      pair = pair || ((dots & (dots >> 1)) | (dots & carry)) != 0;
      carry = dots >> 15;
    }
    if (i < name.size()) {
      // The last bytes in one step too, re-reading some already tested: a pair that spans the
      // last boundary lies inside it.
      const unsigned dots = dots_of(name.size() - 16);
      pair = pair || (dots & (dots >> 1)) != 0;
    }
    return {pair, bad == 0};
  }
#endif
  bool pair = false, plain = true, after_dot = false;
  for (; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    pair = pair || (after_dot && c == '.');
    after_dot = c == '.';
    plain = plain && c != '\n' && c < 0x80;
  }
  return {pair, plain};
}

/// Refuses a tensor name that an earlier tensor of `set` has, naming both shards (each tensor
/// is stored once).
void check_tensors_unique(const TensorSet& set);

/// Every tensor of `set`, renamed, dropped or split as declared, becomes modules of `tree`.
/// Decoder layers with index >= `num_hidden_layers` are dropped (docs/semantics.md §8). A tensor
/// named twice is refused by check_tensors_unique; the caller runs that check too when this
/// throws, since a tensor stored twice is the error reported first.
void add_tensors(TensorSet& set, const CompiledAdaptations& adaptations, std::optional<std::uint64_t> num_hidden_layers,
                 const std::string& architecture, const InputLimits& limits, ModuleTreeBuilder& tree,
                 CheckpointSummary& summary);

}  // namespace awqmap::detail
