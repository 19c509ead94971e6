#include "match_table.hpp"

#include <cstring>

namespace awqmap::detail {
namespace {
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "a name's last bytes are the word's high bytes");

// The last min(8, size) bytes of `s` in the high bytes of a little-endian word.
std::uint64_t tail_word(std::string_view s) {
  std::uint64_t w = 0;
  const std::size_t n = s.size() < 8 ? s.size() : 8;
  if (n) std::memcpy(reinterpret_cast<char*>(&w) + (8 - n), s.data() + s.size() - n, n);
  return w;
}
}  // namespace

MatchTable::MatchTable(const ModelView& model, const ResolveOptions& options) : model_(model) {
  const std::size_t n = model.size();
  plain_.resize(n);
  names_.resize(n);
  tails_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view name = model[static_cast<ModuleIndex>(i)].name;
    names_[i] = name;
    plain_[i] = Target::is_plain_name(name);
    tails_[i] = tail_word(name);
    if (!plain_[i]) not_plain_.push_back(static_cast<ModuleIndex>(i));
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
  const std::string suffix = required_suffix_of(text);
  if (suffix.empty()) {
    std::vector<char> hits(model_.size(), 1);
    t.filter(model_.modules(), names_, plain_, hits);
    return cache_.emplace(text, std::move(hits)).first->second;
  }
  // One pass: a necessary condition on the dense tails (a plain name that lacks the suffix's
  // last, up to eight, bytes cannot match), and the full match only for names that pass it.
  // Names that are not plain (a final newline may follow the suffix) always get the full match.
  std::vector<char> hits(model_.size(), 0);
  const std::size_t k = suffix.size() < 8 ? suffix.size() : 8;
  const std::uint64_t want = tail_word(suffix);
  const std::uint64_t mask = k == 8 ? ~0ull : ~0ull << (8 * (8 - k));
  const std::uint64_t* tails = tails_.data();
  for (std::size_t i = 0, n = hits.size(); i < n; ++i)
    if ((tails[i] & mask) == want) hits[i] = static_cast<char>(t.matches_name(names_[i], plain_[i] != 0));
  for (ModuleIndex i : not_plain_) hits[i] = static_cast<char>(t.matches_name(names_[i], false));
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
