#pragma once
// Errors that awqmap reports. Every message names the file, plugin, mapping or pattern at
// fault; callers map the class to an exit code (InputError 3, ResolutionError 4).
#include <stdexcept>
#include <string>
#include <string_view>

namespace awqmap {

/// Base of every awqmap error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad input: a file, a format, a pattern, a plugin. Fix the input and run again.
class InputError : public Error {
 public:
  using Error::Error;
};

/// The four ways upstream's resolution fails (SPEC §5.2, §6).
enum class ResolutionErrorKind {
  multiple_smooth_layers,
  incomplete_set,
  module_rematch,
  hook_target_missing,
};

/// `multiple_smooth_layers` etc., as printed in `awqmap.error/v1`.
std::string_view to_string(ResolutionErrorKind kind);

/// Resolution stopped: upstream raises here too and keeps no result.
class ResolutionError : public Error {
 public:
  ResolutionError(ResolutionErrorKind kind, std::size_t mapping_index, std::string message)
      : Error(std::move(message)), kind_(kind), mapping_index_(mapping_index) {}
  ResolutionErrorKind kind() const noexcept { return kind_; }
  /// Index of the failing mapping in the list given to resolve().
  std::size_t mapping_index() const noexcept { return mapping_index_; }

 private:
  ResolutionErrorKind kind_;
  std::size_t mapping_index_;
};

}  // namespace awqmap
