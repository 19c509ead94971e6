#include "match_table.hpp"

namespace awqmap::detail {

MatchTable::MatchTable(const ModelView& model, const ResolveOptions& options) : model_(model) {
  const std::size_t n = model.size();
  plain_.resize(n);
  names_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    names_[i] = model[static_cast<ModuleIndex>(i)].name;
    plain_[i] = Target::is_plain_name(names_[i]);
  }
  // `ignore` only decides what is quantized; grouping still sees every module (docs/semantics.md §6).
  std::vector<char> ignored(n, 0);
  for (const auto& text : options.ignore) {
    Target t = Target::compile(text, "the ignore list");
    for (std::size_t i = 0; i < n; ++i)
      if (!ignored[i] && t.matches(model[static_cast<ModuleIndex>(i)], plain_[i])) ignored[i] = 1;
  }
  std::vector<Target> quant;
  for (const auto& text : options.targets) quant.push_back(Target::compile(text, "the targets list"));
  targeted_.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const Module& m = model[static_cast<ModuleIndex>(i)];
    if (ignored[i] || !(m.is_a("Linear") || m.is_a("Embedding"))) continue;
    for (const auto& t : quant)
      if (t.matches(m, plain_[i])) {
        targeted_[i] = 1;
        break;
      }
  }
}

const std::vector<char>& MatchTable::hits(const std::string& text, const std::string& origin) {
  auto it = cache_.find(text);
  if (it != cache_.end()) return it->second;
  Target t = Target::compile(text, origin);
  std::vector<char> hits(model_.size(), 1);
  t.filter(model_.modules(), names_, plain_, hits);
  return cache_.emplace(text, std::move(hits)).first->second;
}

std::vector<ModuleIndex> layer_of_modules(const ModelView& model) {
  std::vector<ModuleIndex> layer(model.size(), no_module);
  for (std::size_t i = 0; i < model.size(); ++i) {
    ModuleIndex p = model[static_cast<ModuleIndex>(i)].parent;
    if (p == no_module) continue;
    ModuleIndex pp = model[p].parent;
    layer[i] = pp != no_module && model[pp].is_module_list() ? p : layer[p];
  }
  return layer;
}

}  // namespace awqmap::detail
