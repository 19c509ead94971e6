#pragma once
// Helpers for the per-family architecture tests: resolve a model with the shipped plugins in
// exact mode and read one layer's groups as short strings that a test spells out by hand from
// the architecture's modeling code.
#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "awqmap/model_description.hpp"
#include "awqmap/origin.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/resolve.hpp"
#include "support.hpp"

namespace awqmap::test {

/// The corpus module tree transformers builds for `architecture` (`<arch>.real-tree.model.json`).
inline ModelView real_tree(const std::string& architecture) {
  return load_model_description((corpus_dir() / (architecture + ".real-tree.model.json")).string());
}

/// The module tree that `awqmap.describe` wrote for `architecture` built by transformers 5.17 from
/// its config class's defaults, shrunk to at most 4 layers and 8 experts (tests/described/, from
/// tools/numeric_check.py describe): for architectures the corpus has no real tree of.
inline ModelView described_tree(const std::string& architecture) {
  return load_model_description((described_dir() / (architecture + ".model.json")).string());
}

/// `name` with every purely numeric dotted component replaced by `*` (`experts.3.w1` -> `experts.*.w1`).
inline std::string fold_indices(std::string_view name) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string_view c = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    bool digits = !c.empty() && std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    out += (start ? "." : "") + (digits ? std::string("*") : std::string(c));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

/// The groups whose smooth module lies under `prefix` (e.g. "model.layers.0."), each as
/// "smooth -> b1 b2 ..." with `prefix` removed, expert indices folded to `*`, balance names
/// de-duplicated after folding and sorted; the list itself sorted. Throws what resolve throws.
inline std::vector<std::string> groups_under(const Resolution& r, std::string_view prefix) {
  std::vector<std::string> out;
  auto rel = [&](std::string_view n) {
    return n.substr(0, prefix.size()) == prefix ? std::string(n.substr(prefix.size())) : std::string(n);
  };
  for (const auto& g : r.resolved) {
    if (g.smooth_name.substr(0, prefix.size()) != prefix) continue;
    std::set<std::string> balance;
    for (auto b : g.balance_names) balance.insert(fold_indices(rel(b)));
    std::string s = fold_indices(rel(g.smooth_name)) + " ->";
    for (const auto& b : balance) s += " " + b;
    out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Selection in exact mode with the shipped plugins, then resolution with the default targets.
inline Resolution resolve_exact(const ModelView& model, Selection* selection = nullptr) {
  Selection s = shipped_registry().select(model, SelectionMode::exact);
  Resolution r = resolve(model, s.mappings);
  if (selection) *selection = std::move(s);
  return r;
}

/// A temporary model would be gone before the resolution that views its names: refused.
Resolution resolve_exact(ModelView&&, Selection* = nullptr) = delete;

/// Exact-mode selection and resolution of a model a family's plugin knows: `plugin` made the
/// selection, from its own analysis or a peer rather than upstream's table, and the model
/// resolves to groups.
inline Resolution resolve_checked(const ModelView& model, const std::string& plugin, Selection* selection = nullptr) {
  Selection s;
  Resolution r = resolve_exact(model, &s);
  CHECK(s.plugin == plugin);
  CHECK(s.origin != Origin::upstream);
  CHECK_FALSE(r.resolved.empty());
  if (selection) *selection = std::move(s);
  return r;
}
Resolution resolve_checked(ModelView&&, const std::string&, Selection* = nullptr) = delete;

/// groups_under(`prefix`) of resolve_checked(`model`, `plugin`).
inline std::vector<std::string> layer_groups(const ModelView& model, const std::string& prefix,
                                             const std::string& plugin, Selection* selection = nullptr) {
  return groups_under(resolve_checked(model, plugin, selection), prefix);
}

/// Every group's smooth module lies under `root`: nothing of a tower is smoothed.
inline void check_all_under(const Resolution& r, const std::string& root) {
  for (const auto& g : r.resolved) {
    INFO(g.smooth_name);
    CHECK(g.smooth_name.rfind(root, 0) == 0);
  }
}

/// Expected groups are compared sorted, as groups_under sorts them.
using Groups = std::vector<std::string>;
inline Groups sorted(Groups g) {
  std::sort(g.begin(), g.end());
  return g;
}
/// `g` and `more`, sorted.
inline Groups plus(Groups g, const Groups& more) {
  g.insert(g.end(), more.begin(), more.end());
  return sorted(std::move(g));
}
/// `n` copies of `group`: one per expert.
inline Groups times(int n, const std::string& group) {
  return Groups(static_cast<std::size_t>(n), group);
}
/// `n` copies of `group` (one per expert) and `rest`, sorted.
inline Groups with_experts(int n, const std::string& group, Groups rest) {
  return plus(times(n, group), rest);
}

}  // namespace awqmap::test
