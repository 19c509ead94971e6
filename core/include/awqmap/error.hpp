#pragma once
// Errors that awqmap reports. Every message names the file, plugin, mapping or pattern at
// fault; callers map the class to an exit code (InputError 3, ResolutionError 4).
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "awqmap/export.hpp"

namespace awqmap {

/// Base of every awqmap error.
class AWQMAP_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad input: a file, a format, a pattern, a plugin. Fix the input and run again.
class AWQMAP_API InputError : public Error {
 public:
  using Error::Error;
};

/// The four ways upstream's resolution fails (docs/semantics.md §5.2, §6).
enum class ResolutionErrorKind {
  multiple_smooth_layers,
  incomplete_set,
  module_rematch,
  hook_target_missing,
};

/// `multiple_smooth_layers` etc., as printed in `awqmap.error/v1`.
AWQMAP_API std::string_view to_string(ResolutionErrorKind kind);

/// Resolution stopped: upstream raises here too and keeps no result.
class AWQMAP_API ResolutionError : public Error {
 public:
  ResolutionError(ResolutionErrorKind kind, std::size_t mapping_index, std::string message,
                  std::vector<std::string> modules = {}, std::vector<std::string> targets = {})
      : Error(std::move(message)),
        kind_(kind),
        mapping_index_(mapping_index),
        modules_(std::move(modules)),
        targets_(std::move(targets)) {}
  ResolutionErrorKind kind() const noexcept { return kind_; }
  /// Index of the failing mapping in the list given to resolve().
  std::size_t mapping_index() const noexcept { return mapping_index_; }
  /// The modules at fault: the smooth layers of a collapsed group, the module matched twice,
  /// or the parent where a hook target was looked for.
  const std::vector<std::string>& modules() const noexcept { return modules_; }
  /// The targets at fault: those matched twice, or those left unmatched by an incomplete set.
  const std::vector<std::string>& targets() const noexcept { return targets_; }

 private:
  ResolutionErrorKind kind_;
  std::size_t mapping_index_;
  std::vector<std::string> modules_;
  std::vector<std::string> targets_;
};

}  // namespace awqmap
