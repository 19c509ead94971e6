#pragma once
// What a command keeps until the process ends. Like compilers that skip freeing at exit: with
// 100k modules, tearing down the model, the result and the registry (every plugin's
// registrations, then unloading the plugins) costs about as much as building them, and the
// process ends right after printing (main's _exit after a checked flush). The objects stay
// reachable from here, so leak checkers do not report them.
#include <memory>
#include <utility>
#include <vector>

namespace awqmap::cli {

inline std::vector<std::shared_ptr<void>>& kept_objects() {
  static auto* kept = new std::vector<std::shared_ptr<void>>;
  return *kept;
}

/// A T made from `args`, alive until the process exits.
template <class T, class... Args>
T& keep_until_exit(Args&&... args) {
  auto object = std::make_shared<T>(std::forward<Args>(args)...);
  kept_objects().push_back(object);
  return *object;
}

}  // namespace awqmap::cli
