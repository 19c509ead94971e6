#include "awqmap/coverage.hpp"

#include <map>
#include <utility>

#include "../match_table.hpp"
#include "../names.hpp"
#include "awqmap/repair.hpp"

namespace awqmap {
namespace {

using detail::last_component;

const char* skip_reason_text(SkipReason r) {
  switch (r) {
    case SkipReason::incompatible: return "incompatible shapes";
    case SkipReason::no_balance_layers: return "no balance layers";
    case SkipReason::not_targeted: return "nothing in the group is targeted";
  }
  return "";
}

// Shared by both coverage overloads; `reason` holds, per module, why it is not balanced when
// something more specific than "no mapping balances it" is known.
Coverage fold_coverage(const ModelView& model, const Resolution& resolution, detail::MatchTable& table,
                       std::vector<std::string>& reason) {
  std::vector<char> balanced(model.size(), 0);
  for (const auto& g : resolution.resolved)
    for (auto n : g.balance_names)
      if (ModuleIndex i = model.find(n); i != no_module) balanced[i] = 1;
  for (const auto& s : resolution.skipped)
    for (auto n : s.balance_names)
      if (ModuleIndex i = model.find(n); i != no_module && reason[i].empty())
        reason[i] = std::string(last_component(s.smooth_name)) + "->" + std::string(last_component(n)) + " skipped, " +
                    skip_reason_text(s.reason);
  Coverage c;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Module& m = model[static_cast<ModuleIndex>(i)];
    if (!table.targeted(static_cast<ModuleIndex>(i)) || !m.is_linear()) continue;
    ++c.targeted;
    if (balanced[i]) {
      ++c.balanced;
      continue;
    }
    std::string why = reason[i].empty() ? "no mapping balances it" : reason[i];
    auto [it, fresh] = index.emplace(std::make_pair(detail::fold_indices(m.name), why), c.unbalanced.size());
    if (fresh) c.unbalanced.push_back({it->first.first, 0, why});
    ++c.unbalanced[it->second].count;
  }
  return c;
}

}  // namespace

Coverage coverage(const ModelView& model, const MappingList& /*mappings*/, const Resolution& resolution,
                  const ResolveOptions& options) {
  detail::MatchTable table(model, options);
  std::vector<std::string> reason(model.size());
  return fold_coverage(model, resolution, table, reason);
}

Coverage coverage(const ModelView& model, const RepairedResolution& repaired, const ResolveOptions& options) {
  detail::MatchTable table(model, options);
  std::vector<std::string> reason(model.size());
  for (const auto& rep : repaired.repairs) {
    if (rep.left_out.empty()) continue;
    const std::string why = "left out by repair of mapping " + std::to_string(rep.mapping);
    for (const auto& t : rep.original.balance_layers) {
      const auto& hits = table.hits(t, "balance target " + t);
      for (std::size_t i = 0; i < hits.size(); ++i)
        if (hits[i] && reason[i].empty()) reason[i] = why;
    }
  }
  return fold_coverage(model, repaired.resolution, table, reason);
}

}  // namespace awqmap
