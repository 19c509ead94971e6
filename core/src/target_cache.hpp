#pragma once
// Texts known to pass a check, kept by their owner (a registry) rather than by the process: the
// patterns of registered mappings and checkpoint adaptations recur across plugins and across the
// builders' outputs, and those whose check translates them (may_refuse) are checked once per
// registry; the others cost less to check again than to look up. Checking a pattern needs no
// compiled target (nothing registered is matched through the registry), so only the texts are
// kept. Bounded by count and by the bytes of text it holds, since builders generate long
// patterns unique to one model.
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "awqmap/mapping.hpp"

namespace awqmap::detail {

/// What Target::compile(text, origin) refuses, refused with the same InputError, without
/// building the target.
void check_target(const std::string& text, std::string_view origin);
/// Whether check_target may refuse `text`: false for the texts it takes without translating them
/// (names, and patterns of the shapes plugins register).
bool may_refuse(const std::string& text);

class CheckedTexts {
 public:
  /// Runs `check()`, which throws to refuse, unless `key` passed it before. Thread-safe.
  template <class Check>
  void check_once(const std::string& key, const Check& check) {
    {
      std::lock_guard lock(mutex_);
      if (passed_.count(key)) return;
    }
    check();
    // Longer texts are the generated ones: checked for their caller only, never kept.
    if (key.size() > kMaxText) return;
    std::lock_guard lock(mutex_);
    if (passed_.size() >= kMaxEntries || text_bytes_ + key.size() > kMaxTextBytes) {
      passed_.clear();
      text_bytes_ = 0;
    }
    if (passed_.insert(key).second) text_bytes_ += key.size();
  }

 private:
  static constexpr std::size_t kMaxText = 4096;
  static constexpr std::size_t kMaxEntries = 1 << 14;
  static constexpr std::size_t kMaxTextBytes = 1 << 20;
  std::mutex mutex_;
  std::unordered_set<std::string> passed_;
  std::size_t text_bytes_ = 0;
};

/// validate_mappings, checking each pattern that may be refused once per `checked`; `origin()`
/// is called only for a message.
void validate_mappings(const MappingList& mappings, const std::function<std::string()>& origin,
                       CheckedTexts& checked);

}  // namespace awqmap::detail
