#pragma once
// Internal: which modules each target string matches on one model, and which modules the
// quantization targets/ignore lists select — computed once, shared by resolution, repair and
// coverage. `ignore` never hides a module from matching (docs/semantics.md §6).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "awqmap/model.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/target.hpp"

namespace awqmap::detail {

/// Calls `visit(i)` for every i, in increasing order, with (tails[i] & mask) == want. Every
/// pattern scans the whole model this way, so four words a step: two 64-bit lanes per SSE2
/// compare, each equal when both of its 32-bit halves are.
template <typename Visit>
inline void for_each_tail_match(const std::vector<std::uint64_t>& tails, std::uint64_t mask, std::uint64_t want,
                                Visit visit) {
  const std::size_t n = tails.size();
  std::size_t i = 0;
#ifdef __SSE2__
  const __m128i m = _mm_set1_epi64x(static_cast<long long>(mask));
  const __m128i w = _mm_set1_epi64x(static_cast<long long>(want));
  auto equal_halves = [&](std::size_t at) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(tails.data() + at));
    return static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_and_si128(x, m), w))));
  };
  for (; i + 4 <= n; i += 4) {
    const unsigned halves = equal_halves(i) | equal_halves(i + 2) << 4;
    for (unsigned words = halves & halves >> 1 & 0x55u; words; words &= words - 1)
      visit(i + static_cast<std::size_t>(__builtin_ctz(words)) / 2);
  }
#endif
  for (; i < n; ++i)
    if ((tails[i] & mask) == want) visit(i);
}

/// The indices of `tails` grouped by a hash of each word's six high bytes (a name's last six
/// bytes), each group in increasing order: a pattern whose literal suffix has six bytes or more
/// looks only at the names that end with its last six bytes (and the few that collide with
/// them), not at every name.
class TailGroups {
 public:
  explicit TailGroups(const std::vector<std::uint64_t>& tails) : start_(kGroups + 1, 0), members_(tails.size()) {
    for (std::uint64_t t : tails) ++start_[group(t) + 1];
    for (std::size_t g = 0; g < kGroups; ++g) start_[g + 1] += start_[g];
    std::vector<std::uint32_t> fill(start_.begin(), start_.end() - 1);
    for (std::size_t i = 0; i < tails.size(); ++i) members_[fill[group(tails[i])]++] = static_cast<std::uint32_t>(i);
  }
  /// for_each_tail_match(tails, mask, want, visit) for the `tails` this was built from.
  template <typename Visit>
  void for_each_match(const std::vector<std::uint64_t>& tails, std::uint64_t mask, std::uint64_t want,
                      Visit visit) const {
    constexpr std::uint64_t high_six = ~0ull << 16;
    if ((mask & high_six) != high_six) return for_each_tail_match(tails, mask, want, visit);
    const std::size_t g = group(want);
    for (std::uint32_t k = start_[g]; k < start_[g + 1]; ++k)
      if ((tails[members_[k]] & mask) == want) visit(static_cast<std::size_t>(members_[k]));
  }

 private:
  static constexpr unsigned kBits = 12;
  static constexpr std::size_t kGroups = std::size_t{1} << kBits;
  static std::size_t group(std::uint64_t tail) {
    return static_cast<std::size_t>(((tail >> 16) * 0x9E3779B97F4A7C15ull) >> (64 - kBits));
  }
  std::vector<std::uint32_t> start_;
  std::vector<std::uint32_t> members_;
};

class MatchTable {
 public:
  MatchTable(const ModelView& model, const ResolveOptions& options);

  /// Per module: matches `text`. `origin` names the pattern's source in errors.
  const std::vector<char>& hits(const std::string& text, const std::string& origin);
  /// The hits of `text` when it was matched before, else null (so that a caller builds the
  /// origin text only for a pattern it has not seen).
  const std::vector<char>* cached(const std::string& text) const {
    auto it = cache_.find(text);
    return it == cache_.end() ? nullptr : &it->second;
  }
  /// Linear or Embedding, matching `targets` and not `ignore` (docs/semantics.md §6).
  bool targeted(ModuleIndex i) const;

 private:
  const ModelView& model_;
  // The lists are compiled up front (a bad pattern fails the construction) but matched only
  // for the modules asked about: resolution asks for the modules of its groups, a small part
  // of a large model.
  std::vector<Target> ignore_, quant_;
  mutable std::vector<char> targeted_;  // per module: 0 not asked yet, 1 no, 2 yes
  std::vector<char> plain_;
  std::vector<std::string_view> names_;
  // The last eight bytes of each name (zeros in front of shorter names), side by side: most
  // patterns end in a literal suffix, and testing it here touches 8 bytes per module instead
  // of a cache line of each name.
  std::vector<std::uint64_t> tails_;
  std::optional<TailGroups> groups_;    // built by the first pattern with a suffix
  std::vector<ModuleIndex> not_plain_;  // names the tail test cannot rule out (usually none)
  std::unordered_map<std::string, std::vector<char>> cache_;
};

/// For `re:.*<run>$` where the run is letters, digits, `_` and `\\.` only: the run's text. On a
/// name without a newline such a pattern matches exactly when the name ends with that text
/// (`.*` takes any such prefix, and no final newline can stand before `$`), so the match table
/// answers it from the name's end alone. Nothing for any other text.
inline std::optional<std::string> literal_suffix_pattern(std::string_view text) {
  constexpr std::string_view head = "re:.*";
  if (text.size() <= head.size() + 1 || text.substr(0, head.size()) != head || text.back() != '$') return std::nullopt;
  const std::string_view run = text.substr(head.size(), text.size() - head.size() - 1);
  std::string out;
  for (std::size_t i = 0; i < run.size(); ++i) {
    const char c = run[i];
    if (c == '\\' && i + 1 < run.size() && run[i + 1] == '.') {
      out += '.';
      ++i;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
      out += c;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

/// The literal text every match of target `text` ends with (before an optional final newline),
/// or "" when there is none or `text` is not a `re:` pattern. Defined with Target.
std::string required_suffix_of(const std::string& text);

/// Upstream's resolution of mapping `k` alone (indices and messages name `k`).
Resolution resolve_mapping(const ModelView& model, const MappingList& mappings, std::size_t k, MatchTable& table);

/// For every module, its layer: the nearest strict ancestor that is an item of a ModuleList
/// (`model.layers.3`), or no_module.
std::vector<ModuleIndex> layer_of_modules(const ModelView& model);

}  // namespace awqmap::detail
