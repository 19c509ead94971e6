#include "match_table.hpp"

#include <algorithm>
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

// For a name that passed the tail word test of `end` (its last min(8, size) bytes): whether it
// ends with `end` under its mask. The rest is compared eight bytes at a time from the back,
// where names that share the tail differ first (`experts.7.gate_proj`, `shared_expert.gate_proj`).
bool ends_like(std::string_view name, const EndPattern& end) {
  const std::size_t n = end.chars.size();
  if (name.size() < n) return false;
  const char* base = name.data() + name.size() - n;
  for (std::size_t at = n > 8 ? n - 8 : 0; at > 0;) {
    at = at > 8 ? at - 8 : 0;
    if ((load_word(base + at) ^ load_word(end.chars.data() + at)) & load_word(end.mask.data() + at)) return false;
  }
  return true;
}

// Whether the end's middle occurs in name[0, limit) at `from` or after.
bool middle_occurs(std::string_view name, std::size_t from, std::size_t limit, const EndPattern& end) {
  const std::size_t n = end.middle.size();
  for (std::size_t at = from; at + n <= limit; ++at) {
    std::size_t j = 0;
    while (j < n && ((name[at + j] ^ end.middle[j]) & end.middle_mask[j]) == 0) ++j;
    if (j == n) return true;
  }
  return false;
}
}  // namespace

MatchTable::MatchTable(const ModelView& model, const ResolveOptions& options)
    : model_(model), targeted_(model.size(), 0), all_plain_(model.names_are_plain()) {
  const std::size_t n = model.size();
  if (!all_plain_) plain_.resize(n);  // otherwise the reader has checked every name already
  // Appended rather than resized and overwritten: one pass over the 800 KB at 100k modules.
  tails_.reserve(n);
  const Module* const modules = model.modules().data();
  for (std::size_t i = 0; i < n; ++i) tails_.push_back(tail_word(modules[i].name));
  for (std::size_t i = 0; i < n && !all_plain_; ++i) {
    plain_[i] = Target::is_plain_name(modules[i].name);
    if (!plain_[i]) not_plain_.push_back(static_cast<ModuleIndex>(i));
  }
  for (const auto& text : options.ignore) ignore_.push_back(Target::compile(text, "the ignore list"));
  for (const auto& text : options.targets) quant_.push_back(Target::compile(text, "the targets list"));
  for (const std::vector<Target>* list : {&ignore_, &quant_})
    for (const Target& t : *list)
      if (t.is_regex())
        any_regex_ = true;
      else
        exact_texts_.push_back(t.text());
}

namespace {
// The description reader keeps one copy of each class name: equal views are often the same bytes.
bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.data() == b.data() || a == b);
}
}  // namespace

bool MatchTable::same_class(const ClassAnswer& c, const Module& m) {
  return same_text(c.type, m.type) && c.bases.size() == m.bases.size() &&
         std::equal(c.bases.begin(), c.bases.end(), m.bases.begin(), same_text);
}

const MatchTable::ClassAnswer& MatchTable::class_answer(const Module& m, bool plain) const {
  if (last_class_ < classes_.size() && same_class(classes_[last_class_], m)) return classes_[last_class_];
  for (last_class_ = 0; last_class_ < classes_.size(); ++last_class_)
    if (same_class(classes_[last_class_], m)) return classes_[last_class_];
  // A few classes per model; a model of very many has its answers made again past the limit.
  if (classes_.size() == 64) classes_.clear();
  last_class_ = classes_.size();
  ClassAnswer& c = classes_.emplace_back();
  c.type = m.type;
  c.bases = m.bases;
  c.quantizable = m.is_a("Linear") || m.is_a("Embedding");
  for (const std::vector<Target>* list : {&ignore_, &quant_})
    for (const Target& t : *list) c.by_class.push_back(!t.is_regex() && t.matches(m, plain));
  auto any = [&](std::size_t from, std::size_t to) {
    return std::find(c.by_class.begin() + from, c.by_class.begin() + to, 1) != c.by_class.begin() + to;
  };
  c.answer = c.quantizable && !any(0, ignore_.size()) && any(ignore_.size(), c.by_class.size());
  return c;
}

bool MatchTable::decide_targeted(ModuleIndex i) const {
  // Most often: no regex in the lists, the class (by the very bytes of its name, without
  // bases) of the module asked about before, a name that is no target's text.
  const Module& m = model_[i];
  bool named = false;
  for (const std::string& text : exact_texts_) named = named || same_text(text, m.name);
  if (!named && m.type.data() == fast_type_.data() && m.type.size() == fast_type_.size() && m.bases.empty()) {
    targeted_[i] = fast_answer_ ? 2 : 1;
    return fast_answer_;
  }
  return decide_targeted_slowly(i, named);
}

bool MatchTable::decide_targeted_slowly(ModuleIndex i, bool named) const {
  const Module& m = model_[i];
  const bool is_plain = plain(i);
  const ClassAnswer* c = named ? nullptr : &class_answer(m, is_plain);
  if (c && !any_regex_ && c->bases.empty() && c->type.data() != nullptr) {
    fast_type_ = c->type;
    fast_answer_ = c->answer;
  }
  // `ignore` only decides what is quantized; grouping still sees every module (docs/semantics.md §6).
  // In list order, as Target::matches answers (a regex may throw on a name).
  auto matched = [&](const std::vector<Target>& list, std::size_t first) {
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Target& t = list[k];
      if (c && !t.is_regex() ? c->by_class[first + k] != 0 : t.matches(m, is_plain)) return true;
    }
    return false;
  };
  const bool yes = c && !any_regex_ ? c->answer
                                    : (c ? c->quantizable : m.is_a("Linear") || m.is_a("Embedding")) &&
                                          !matched(ignore_, 0) && matched(quant_, ignore_.size());
  targeted_[i] = yes ? 2 : 1;
  return yes;
}

const HitSet& MatchTable::hits(const std::string& text, const std::string& origin) {
  auto it = cache_.find(text);
  if (it != cache_.end()) return it->second;
  Target t = Target::compile(text, origin);
  const std::size_t n = model_.size();
  HitSet hits(n);
  // What every plain name that matches ends with: the whole answer for `re:.*<segment>$`,
  // else the literal suffix (a necessary condition, the full match deciding).
  const std::optional<EndPattern> end = end_pattern_of(text);
  const EndPattern ending = end ? *end : [&] {
    EndPattern suffix{required_suffix_of(text), {}, {}, {}};
    suffix.mask.assign(suffix.chars.size(), '\xff');
    return suffix;
  }();
  if (ending.chars.empty()) {
    for (std::size_t i = 0; i < n; ++i)
      if (t.matches(model_[static_cast<ModuleIndex>(i)], plain(i))) hits.set(i);
    return cache_.emplace(text, std::move(hits)).first->second;
  }
  // One pass: a necessary condition on the dense tails (a plain name whose last, up to eight,
  // bytes differ from the ending's under its mask cannot match), and the rest of the test only
  // for names that pass it. Names that are not plain (a final newline may follow the suffix)
  // always get the full match.
  const std::uint64_t mask = tail_word(ending.mask);  // zeros in front of an ending under eight bytes
  const std::uint64_t want = tail_word(ending.chars) & mask;
  // For `.*<middle>.*<segment>$`, per module: whether the middle occurs in its whole name (0 not
  // known yet, 1 no, 2 yes). A name's occurrences are its parent's (which end by the parent's
  // end) and those ending after it, so each ancestor of the names looked at is searched once,
  // in its last component only: the experts of a layer share the search of `mlp.experts`.
  const bool has_middle = end && !end->middle.empty();
  std::vector<char> middle_in(has_middle ? n : 0, 0);
  std::vector<ModuleIndex> path;
  const std::size_t middle_size = has_middle ? end->middle.size() : 0;
  // Where an occurrence ending after a parent's name of `parent_size` bytes can start.
  auto after_parent = [&](std::size_t parent_size) {
    return parent_size + 1 >= middle_size ? parent_size + 1 - middle_size : 0;
  };
  auto middle_in_name = [&](ModuleIndex x) {
    const Module& m = model_[x];
    if (middle_in[x] == 0 && m.parent != no_module && middle_in[m.parent] != 0) {
      // Its parent known (siblings share it): no path to keep.
      const bool yes = middle_in[m.parent] == 2 ||
                       middle_occurs(m.name, after_parent(model_[m.parent].name.size()), m.name.size(), *end);
      middle_in[x] = yes ? 2 : 1;
    }
    for (ModuleIndex a = x; middle_in[a] == 0; a = model_[a].parent) {
      path.push_back(a);
      if (model_[a].parent == no_module) break;
    }
    for (; !path.empty(); path.pop_back()) {
      const Module& m = model_[path.back()];
      const bool yes = m.parent == no_module
                           ? middle_occurs(m.name, 0, m.name.size(), *end)
                           : middle_in[m.parent] == 2 ||
                                 middle_occurs(m.name, after_parent(model_[m.parent].name.size()), m.name.size(), *end);
      middle_in[path.back()] = yes ? 2 : 1;
    }
    return middle_in[x] == 2;
  };
  // Whether the middle occurs before the end segment of a name that ends with it.
  auto middle_before = [&](const Module& m) {
    const std::size_t limit = m.name.size() - end->chars.size();
    if (m.parent == no_module || model_[m.parent].name.size() > limit) return middle_occurs(m.name, 0, limit, *end);
    const std::size_t parent_size = model_[m.parent].name.size();
    return middle_in_name(m.parent) || middle_occurs(m.name, after_parent(parent_size), limit, *end);
  };
  if (!groups_) groups_.emplace(tails_);
  // One loop per kind of test, each small enough to be inlined into the scan.
  const Module* const modules = model_.modules().data();
  auto scan = [&](auto&& test) {
    // Inlined into the scan's loop: called for every candidate (tens of thousands per pattern).
    groups_->for_each_match(tails_, mask, want, [&](std::size_t i) __attribute__((always_inline)) {
      if (plain(i) && test(modules[i])) hits.set(i);  // names that are not plain below
    });
  };
  if (!end)
    scan([&](const Module& m) { return t.matches_name(m.name, true); });
  else if (!has_middle)
    scan([&](const Module& m) { return ends_like(m.name, *end); });
  else
    scan([&](const Module& m) { return ends_like(m.name, *end) && middle_before(m); });
  for (ModuleIndex i : not_plain_) hits.assign(i, t.matches_name(model_[i].name, false));
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
