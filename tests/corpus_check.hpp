#pragma once
// Compares a resolution (or its error) with a corpus `.expected.json`, printing what differed.
#include <catch2/catch.hpp>

#include "awqmap/error.hpp"
#include "awqmap/resolve.hpp"
#include "support.hpp"

namespace awqmap::test {

inline nlohmann::json resolved_to_json(const Resolution& r) {
  nlohmann::json resolved = nlohmann::json::array(), skipped = nlohmann::json::array();
  for (const auto& m : r.resolved) {
    nlohmann::json names = nlohmann::json::array();
    for (auto n : m.balance_names) names.push_back(std::string(n));
    resolved.push_back(
        {{"mapping", m.mapping},
         {"smooth_name", std::string(m.smooth_name)},
         {"balance_names", names},
         {"parent_name", std::string(m.parent_name)},
         {"activation_hook_target",
          m.activation_hook_target ? nlohmann::json(std::string(*m.activation_hook_target)) : nlohmann::json()}});
  }
  for (const auto& s : r.skipped)
    skipped.push_back({{"mapping", s.mapping},
                       {"smooth_name", std::string(s.smooth_name)},
                       {"reason", std::string(to_string(s.reason))}});
  return {{"resolved", resolved}, {"skipped", skipped}};
}

/// Resolves and checks against `expected` (resolved/skipped exactly, or the error kind and,
/// for multiple_smooth_layers, upstream's exact message).
inline void check_against_expected(const ModelView& model, const MappingList& mappings,
                                   const nlohmann::json& expected) {
  ResolveOptions options;
  options.targets = expected.value("targets", std::vector<std::string>{"Linear"});
  options.ignore = expected.value("ignore", std::vector<std::string>{"lm_head"});
  if (expected.contains("error")) {
    const std::string kind = expected["error"]["kind"];
    try {
      resolve(model, mappings, options);
      FAIL("expected a " << kind << " error, got a result");
    } catch (const ResolutionError& e) {
      CHECK(std::string(to_string(e.kind())) == kind);
      if (kind == "multiple_smooth_layers")
        CHECK(std::string(e.what()) == expected["error"]["message"].get<std::string>());
    }
    return;
  }
  nlohmann::json got = resolved_to_json(resolve(model, mappings, options));
  const auto& want_resolved = expected["resolved"];
  const auto& got_resolved = got["resolved"];
  CHECK(got_resolved.size() == want_resolved.size());
  for (std::size_t i = 0; i < std::min(got_resolved.size(), want_resolved.size()); ++i) {
    INFO("resolved[" << i << "]");
    CHECK(got_resolved[i].dump() == want_resolved[i].dump());
  }
  CHECK(got["skipped"].dump() == expected["skipped"].dump());
}

}  // namespace awqmap::test
