// awqmap plugins and awqmap architectures: what the loaded plugins register.
#include <iostream>

#include "commands.hpp"
#include "output.hpp"
#include "session.hpp"

namespace awqmap::cli {

int run_plugins(const Args& a) {
  Registry registry;
  load_plugins(registry, a);
  std::cout << (a.format == "json" ? plugins_json(registry) : plugins_text(registry));
  return kOk;
}

int run_architectures(const Args& a) {
  Registry registry;
  load_plugins(registry, a);
  std::cout << (a.format == "json" ? architectures_json(registry) : architectures_text(registry));
  return kOk;
}

}  // namespace awqmap::cli
