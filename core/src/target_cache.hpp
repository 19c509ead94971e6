#pragma once
// Pattern texts known to be valid, kept by their owner (a registry) rather than by the process:
// the patterns of every registered mapping recur across plugins and across the builders'
// outputs, and are checked once per registry. Checking needs no compiled target (nothing
// registered is matched through the registry), so only the texts are kept. Bounded by count
// and by the bytes of text it holds, since builders generate long patterns unique to one model.
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "awqmap/mapping.hpp"

namespace awqmap::detail {

/// What Target::compile(text, origin) refuses, refused with the same InputError, without
/// building the target.
void check_target(const std::string& text, std::string_view origin);

class CheckedPatterns {
 public:
  /// check_target, skipped for a text checked before. Thread-safe.
  void check(const std::string& text, std::string_view origin) {
    check_lazily(text, [origin] { return std::string(origin); });
  }
  /// check() with the origin made by `origin()`, called only when `text` is checked here.
  template <class Origin>
  void check_lazily(const std::string& text, const Origin& origin) {
    {
      std::lock_guard lock(mutex_);
      if (valid_.count(text)) return;
    }
    check_target(text, origin());
    // Longer patterns are the generated ones: checked for their caller only, never kept.
    if (text.size() > kMaxPattern) return;
    std::lock_guard lock(mutex_);
    if (valid_.size() >= kMaxEntries || text_bytes_ + text.size() > kMaxTextBytes) {
      valid_.clear();
      text_bytes_ = 0;
    }
    if (valid_.insert(text).second) text_bytes_ += text.size();
  }

 private:
  static constexpr std::size_t kMaxPattern = 4096;
  static constexpr std::size_t kMaxEntries = 1 << 14;
  static constexpr std::size_t kMaxTextBytes = 1 << 20;
  std::mutex mutex_;
  std::unordered_set<std::string> valid_;
  std::size_t text_bytes_ = 0;
};

/// validate_mappings, checking through `checked`.
void validate_mappings(const MappingList& mappings, const std::string& origin, CheckedPatterns& checked);

}  // namespace awqmap::detail
