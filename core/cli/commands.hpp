#pragma once
// One function per command; each returns the exit code (options.hpp) and throws what main turns
// into one (InputError: bad input; ResolutionError: resolution; anything else: internal).
#include "options.hpp"

namespace awqmap::cli {

int run_resolve(const Args& a);
int run_recipe(const Args& a);
int run_mappings(const Args& a);
int run_plugins(const Args& a);
int run_architectures(const Args& a);

}  // namespace awqmap::cli
