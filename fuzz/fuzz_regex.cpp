// The Python-regex translator and the matchers: the input is a pattern, then NUL-separated
// names. Whatever the translator accepts, the fast paths (literal-suffix prefilter, `.*a.*b$`
// matcher, the whole-model filter) must answer exactly as the regex engine does.
#include "fuzz_support.hpp"

#include <vector>

namespace {
// Catastrophic patterns such as `(\w+)*x(?P=n)$` cost Boost up to seconds per name before its
// state limit stops them (Python's re does not stop at all); short names keep the fuzzer
// exploring patterns instead of Boost's backtracking limit.
constexpr std::size_t kMaxNames = 8, kMaxNameBytes = 48;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string pattern(input.substr(0, nul));
  std::vector<std::string> names;
  if (nul != std::string_view::npos) {
    std::string_view rest = input.substr(nul + 1);
    while (names.size() < kMaxNames) {
      const std::size_t next = rest.find('\0');
      names.emplace_back(rest.substr(0, std::min(next, kMaxNameBytes)));
      if (next == std::string_view::npos) break;
      rest.remove_prefix(next + 1);
    }
  }
  std::optional<awqmap::Target> target;
  try {
    target.emplace(awqmap::Target::compile("re:" + pattern, "the fuzzer"));
  } catch (const awqmap::InputError&) {
    return 0;
  }
  std::vector<awqmap::Module> modules(names.size());
  std::vector<std::string_view> views;
  std::vector<char> plain, hits(names.size(), 1);
  std::vector<int> engine(names.size(), -1);  // -1: the engine gave up (too complex)
  for (std::size_t i = 0; i < names.size(); ++i) {
    modules[i].name = names[i];
    modules[i].type = "Linear";
    views.push_back(names[i]);
    plain.push_back(awqmap::Target::is_plain_name(names[i]));
    try {
      engine[i] = target->matches_name_with_regex(names[i]);
    } catch (const awqmap::InputError&) {
    }
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (engine[i] < 0) continue;
    try {
      if (target->matches_name(names[i]) != (engine[i] == 1)) std::abort();  // fast matcher disagrees
    } catch (const awqmap::InputError&) {
    }
  }
  try {
    target->filter(modules, views, plain, hits);
    for (std::size_t i = 0; i < names.size(); ++i)
      if (engine[i] >= 0 && hits[i] != engine[i]) std::abort();  // whole-model filter disagrees
  } catch (const awqmap::InputError&) {
  }
  return 0;
}
