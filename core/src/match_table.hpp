#pragma once
// Internal: which modules each target string matches on one model, and which modules the
// quantization targets/ignore lists select — computed once, shared by resolution, repair and
// coverage. `ignore` never hides a module from matching (docs/semantics.md §6).
#include <cstdint>
#include <memory>
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
  // members_ and group_of are written in full before they are read: left uninitialised rather
  // than zeroed first (a pass over 600 KB at 100k modules).
  explicit TailGroups(const std::vector<std::uint64_t>& tails)
      : start_(kGroups + 1, 0), members_(new std::uint32_t[tails.size()]) {
    static_assert(kBits <= 16, "a group fits in 16 bits");
    const std::unique_ptr<std::uint16_t[]> group_of(new std::uint16_t[tails.size()]);  // hashed once
    for (std::size_t i = 0; i < tails.size(); ++i) ++start_[(group_of[i] = static_cast<std::uint16_t>(group(tails[i]))) + 1];
    for (std::size_t g = 0; g < kGroups; ++g) start_[g + 1] += start_[g];
    std::vector<std::uint32_t> fill(start_.begin(), start_.end() - 1);
    for (std::size_t i = 0; i < tails.size(); ++i) members_[fill[group_of[i]]++] = static_cast<std::uint32_t>(i);
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
  std::unique_ptr<std::uint32_t[]> members_;
};

/// Which modules one target string matches: a bit per module, read as the byte vector it
/// replaces was (size() and operator[]), and visited in increasing order by for_each. Eight
/// times smaller than bytes, and the resolver's passes over it skip 64 modules at a time.
class HitSet {
 public:
  HitSet() = default;
  explicit HitSet(std::size_t n) : size_(n), words_((n + 63) / 64, 0) {}
  std::size_t size() const { return size_; }
  bool operator[](std::size_t i) const { return (words_[i / 64] >> (i % 64) & 1u) != 0; }
  void set(std::size_t i) { words_[i / 64] |= std::uint64_t{1} << (i % 64); }
  void assign(std::size_t i, bool on) {
    const std::uint64_t bit = std::uint64_t{1} << (i % 64);
    words_[i / 64] = on ? words_[i / 64] | bit : words_[i / 64] & ~bit;
  }
  std::size_t count() const {
    std::size_t n = 0;
    for (const std::uint64_t w : words_) n += static_cast<std::size_t>(__builtin_popcountll(w));
    return n;
  }
  /// Calls `visit(i)` for every module matched, in increasing order.
  template <typename Visit>
  void for_each(Visit visit) const {
    for (std::size_t k = 0; k < words_.size(); ++k)
      for (std::uint64_t w = words_[k]; w; w &= w - 1)
        visit(k * 64 + static_cast<std::size_t>(__builtin_ctzll(w)));
  }

 private:
  std::size_t size_ = 0;
  std::vector<std::uint64_t> words_;
};

/// For `re:.*<segment>$` and `re:.*<middle>.*<segment>$` where the pattern's fast matcher reads
/// the segments as literal bytes and `.` wildcards: each segment's bytes and a mask (0xff where
/// literal, 0 for `.`; `middle` empty for the first form). On a plain name such a pattern
/// matches exactly when the name ends with bytes equal to the segment's under the mask and the
/// middle occurs before them, so the match table answers it from the name's end and its
/// parent's answer (the parent's name is the name up to its last dot). Nothing for any other
/// text. Defined with Target.
struct EndPattern {
  std::string chars, mask;
  std::string middle, middle_mask;
};
std::optional<EndPattern> end_pattern_of(const std::string& text);

class MatchTable {
 public:
  MatchTable(const ModelView& model, const ResolveOptions& options);

  /// Per module: matches `text`. `origin` names the pattern's source in errors.
  const HitSet& hits(const std::string& text, const std::string& origin);
  /// The hits of `text` when it was matched before, else null (so that a caller builds the
  /// origin text only for a pattern it has not seen).
  const HitSet* cached(const std::string& text) const {
    auto it = cache_.find(text);
    return it == cache_.end() ? nullptr : &it->second;
  }
  /// Drops the hits of `text` (a caller that needs them no more); asked again, they are
  /// computed again.
  void forget(const std::string& text) { cache_.erase(text); }
  /// Linear or Embedding, matching `targets` and not `ignore` (docs/semantics.md §6).
  bool targeted(ModuleIndex i) const {
    const char memo = targeted_[i];
    return memo == 0 ? decide_targeted(i) : memo == 2;
  }

 private:
  bool plain(std::size_t i) const { return all_plain_ || plain_[i] != 0; }
  bool decide_targeted(ModuleIndex i) const;  // targeted() the first time

  const ModelView& model_;
  // The lists are compiled up front (a bad pattern fails the construction) but matched only
  // for the modules asked about: resolution asks for the modules of its groups, a small part
  // of a large model.
  std::vector<Target> ignore_, quant_;
  mutable std::vector<char> targeted_;  // per module: 0 not asked yet, 1 no, 2 yes
  // A target that is not a regex matches a module by its name, or else by its class and bases
  // alone; resolution asks about thousands of modules of a few classes. Per class seen (its
  // type and bases): Linear or Embedding, and which of these targets (ignore_, then quant_)
  // match it by class. Only for modules whose name is none of the texts.
  struct ClassAnswer {
    std::string_view type;
    std::vector<std::string_view> bases;
    bool quantizable = false;
    std::vector<char> by_class;
    bool answer = false;  // targeted(), when neither list has a regex
  };
  mutable std::vector<ClassAnswer> classes_;
  mutable std::size_t last_class_ = 0;    // where the last lookup found its class
  std::vector<std::string> exact_texts_;  // the texts of the targets that are not regexes
  bool any_regex_ = false;                // in either list
  // The answer for a module whose type is these very bytes and which has no bases, when
  // neither list has a regex and its name is no target's text.
  mutable std::string_view fast_type_;
  mutable bool fast_answer_ = false;
  static bool same_class(const ClassAnswer& c, const Module& m);
  const ClassAnswer& class_answer(const Module& m, bool plain) const;
  [[gnu::noinline]] bool decide_targeted_slowly(ModuleIndex i, bool named) const;
  // Per module: is_plain_name; left empty when the reader has checked every name.
  bool all_plain_ = false;
  std::vector<char> plain_;
  // The last eight bytes of each name (zeros in front of shorter names), side by side: most
  // patterns end in a literal suffix, and testing it here touches 8 bytes per module instead
  // of a cache line of each name.
  std::vector<std::uint64_t> tails_;
  std::optional<TailGroups> groups_;    // built by the first pattern with a suffix
  std::vector<ModuleIndex> not_plain_;  // names the tail test cannot rule out (usually none)
  std::unordered_map<std::string, HitSet> cache_;
};

/// The literal text every match of target `text` ends with (before an optional final newline),
/// or "" when there is none or `text` is not a `re:` pattern. Defined with Target.
std::string required_suffix_of(const std::string& text);

/// Upstream's resolution of mapping `k` alone (indices and messages name `k`).
Resolution resolve_mapping(const ModelView& model, const MappingList& mappings, std::size_t k, MatchTable& table);

/// For every module, its layer: the nearest strict ancestor that is an item of a ModuleList
/// (`model.layers.3`), or no_module.
std::vector<ModuleIndex> layer_of_modules(const ModelView& model);

}  // namespace awqmap::detail
