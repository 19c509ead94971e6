#include "match_table.hpp"

#include <cstring>

#include "word_scan.hpp"

namespace awqmap::detail {
namespace {
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "a name's last bytes are the word's high bytes");

// The last min(8, size) bytes of `s` in the high bytes of a little-endian word.
std::uint64_t tail_word(std::string_view s) {
  if (s.size() >= 8) return load_word(s.data() + s.size() - 8);  // one load, not a variable-length copy
  std::uint64_t w = 0;
  const std::size_t n = s.size();  // under eight bytes here
  if (n) std::memcpy(reinterpret_cast<char*>(&w) + (8 - n), s.data(), n);
  return w;
}
}  // namespace

MatchTable::MatchTable(const ModelView& model, const ResolveOptions& options)
    : model_(model), targeted_(model.size(), 0) {
  const std::size_t n = model.size();
  plain_.resize(n);
  names_.resize(n);
  tails_.resize(n);
  const bool all_plain = model.names_are_plain();  // the reader has checked every name already
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view name = model[static_cast<ModuleIndex>(i)].name;
    names_[i] = name;
    plain_[i] = all_plain || Target::is_plain_name(name);
    tails_[i] = tail_word(name);
    if (!plain_[i]) not_plain_.push_back(static_cast<ModuleIndex>(i));
  }
  for (const auto& text : options.ignore) ignore_.push_back(Target::compile(text, "the ignore list"));
  for (const auto& text : options.targets) quant_.push_back(Target::compile(text, "the targets list"));
}

bool MatchTable::targeted(ModuleIndex i) const {
  char& memo = targeted_[i];
  if (memo == 0) {
    const Module& m = model_[i];
    const bool plain = plain_[i] != 0;
    // `ignore` only decides what is quantized; grouping still sees every module (docs/semantics.md §6).
    auto matched = [&](const std::vector<Target>& list) {
      for (const Target& t : list)
        if (t.matches(m, plain)) return true;
      return false;
    };
    const bool yes = (m.is_a("Linear") || m.is_a("Embedding")) && !matched(ignore_) && matched(quant_);
    memo = yes ? 2 : 1;
  }
  return memo == 2;
}

const std::vector<char>& MatchTable::hits(const std::string& text, const std::string& origin) {
  auto it = cache_.find(text);
  if (it != cache_.end()) return it->second;
  Target t = Target::compile(text, origin);
  const std::optional<std::string> whole = literal_suffix_pattern(text);
  const std::string suffix = whole ? *whole : required_suffix_of(text);
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
  // For `re:.*<literal>$` the tail test is the whole answer on plain names when the literal
  // fits in the tail, and the rest of the literal is all that is left to compare when not.
  auto by_suffix = [&](std::string_view name) {
    return suffix.size() <= 8 || std::memcmp(name.data() + name.size() - suffix.size(), suffix.data(), suffix.size() - 8) == 0;
  };
  if (!groups_) groups_.emplace(tails_);
  groups_->for_each_match(tails_, mask, want, [&](std::size_t i) {
    const std::string_view name = names_[i];
    if (whole && plain_[i])
      hits[i] = name.size() >= suffix.size() && by_suffix(name);
    else
      hits[i] = static_cast<char>(t.matches_name(name, plain_[i] != 0));
  });
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
