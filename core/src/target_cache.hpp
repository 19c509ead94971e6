#pragma once
// Compiled targets kept by their owner (a registry) rather than by the process: the patterns of
// every registered mapping recur across plugins and across the builders' outputs, and are compiled
// once per registry. Bounded by count and by the bytes of pattern text it holds, since a compiled
// pattern costs memory in proportion to its text (a 50,000-layer index alternation, about 300 kB,
// compiles to some 24 MB) and builders generate long patterns unique to one model.
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "awqmap/mapping.hpp"
#include "awqmap/target.hpp"

namespace awqmap::detail {

class TargetCache {
 public:
  /// Target::compile, kept for the next caller of the same text. Thread-safe.
  Target compile(const std::string& text, std::string_view origin) {
    return compile_lazily(text, [origin] { return std::string(origin); });
  }
  /// compile() with the origin made by `origin()`, called only when `text` is compiled here.
  template <class Origin>
  Target compile_lazily(const std::string& text, const Origin& origin) {
    {
      std::lock_guard lock(mutex_);
      auto it = by_text_.find(text);
      if (it != by_text_.end()) return it->second;
    }
    Target t = Target::compile(text, origin());
    // Longer patterns are the generated ones: compiled for their caller only, never kept.
    if (text.size() > kMaxPattern) return t;
    std::lock_guard lock(mutex_);
    if (by_text_.size() >= kMaxEntries || text_bytes_ + text.size() > kMaxTextBytes) {
      by_text_.clear();  // targets already handed out keep their compiled form alive
      text_bytes_ = 0;
    }
    if (by_text_.emplace(text, t).second) text_bytes_ += text.size();
    return t;
  }

 private:
  static constexpr std::size_t kMaxPattern = 4096;
  static constexpr std::size_t kMaxEntries = 1 << 14;
  static constexpr std::size_t kMaxTextBytes = 1 << 20;
  std::mutex mutex_;
  std::unordered_map<std::string, Target> by_text_;
  std::size_t text_bytes_ = 0;
};

/// validate_mappings, compiling through `cache`.
void validate_mappings(const MappingList& mappings, const std::string& origin, TargetCache& cache);

}  // namespace awqmap::detail
