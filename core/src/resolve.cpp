#include "awqmap/resolve.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "awqmap/error.hpp"
#include "awqmap/target.hpp"
#include "match_table.hpp"
#include "word_scan.hpp"

namespace awqmap {

std::string_view to_string(SkipReason reason) {
  switch (reason) {
    case SkipReason::incompatible: return "incompatible";
    case SkipReason::no_balance_layers: return "no_balance_layers";
    case SkipReason::not_targeted: return "not_targeted";
  }
  return "unknown";
}

std::string_view to_string(ResolutionErrorKind kind) {
  switch (kind) {
    case ResolutionErrorKind::multiple_smooth_layers: return "multiple_smooth_layers";
    case ResolutionErrorKind::incomplete_set: return "incomplete_set";
    case ResolutionErrorKind::module_rematch: return "module_rematch";
    case ResolutionErrorKind::hook_target_missing: return "hook_target_missing";
  }
  return "unknown";
}

std::string_view lowest_common_ancestor(std::string_view a, std::string_view b) {
  // Upstream: p = commonprefix("." + min + ".", "." + max + "."); return p[1 : p.rfind(".")].
  // Without building the dotted strings, in one pass: when one name is the other or its
  // ancestor, the answer is that name; otherwise it is the common prefix of the raw names up
  // to its last '.'. The result is a prefix of both names.
  // Length of the common prefix, eight bytes at a time (names share long prefixes).
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the first differing byte is found with ctz");
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t common = 0;
  for (; common + 8 <= n; common += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a.data() + common, 8);
    std::memcpy(&y, b.data() + common, 8);
    if (x != y) {
      common += static_cast<std::size_t>(__builtin_ctzll(x ^ y)) / 8;  // little-endian: first differing byte
      break;
    }
  }
  if (common + 8 > n)
    while (common < n && a[common] == b[common]) ++common;
  if (common == a.size() && (common == b.size() || b[common] == '.')) return a;
  if (common == b.size() && a[common] == '.') return b;
  const std::size_t dot = a.substr(0, common).rfind('.');
  return dot == std::string_view::npos ? a.substr(0, 0) : a.substr(0, dot);
}

std::string_view lowest_common_ancestor(const std::vector<std::string_view>& names) {
  if (names.empty()) return {};
  auto [lo, hi] = std::minmax_element(names.begin(), names.end());
  return lowest_common_ancestor(*lo, *hi);
}

namespace {

std::string name_list(const ModelView& model, const std::vector<ModuleIndex>& mods) {
  std::string out = "[";
  for (std::size_t i = 0; i < mods.size(); ++i) {
    if (i) out += ", ";
    out += python_repr(std::string(model[mods[i]].name));
  }
  return out + "]";
}

std::string target_set(const std::vector<std::string>& targets) {
  std::string out = "{";
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (i) out += ", ";
    out += python_repr(targets[i]);
  }
  return out + "}";
}

// A literal suffix's length is known here, so the comparison is inlined.
template <std::size_t N>
bool ends_with(std::string_view s, const char (&suffix)[N]) {
  return s.size() >= N - 1 && std::memcmp(s.data() + s.size() - (N - 1), suffix, N - 1) == 0;
}

// Whether incompatible(smooth, b) can hold for any b: only for these smooth names.
bool may_be_incompatible(const Module& smooth) {
  return ends_with(smooth.name, ".v_proj") || ends_with(smooth.name, ".qkv_proj");
}

bool incompatible(const Module& smooth, const Module& balance) {
  // The name first: it rules out almost every pair without looking at class names.
  if (!ends_with(balance.name, ".o_proj")) return false;
  if (!smooth.is_linear() || !balance.is_linear()) return false;
  if (ends_with(smooth.name, ".v_proj") && *smooth.out_features != *balance.in_features) return true;
  if (ends_with(smooth.name, ".qkv_proj") && *smooth.out_features != 3 * *balance.in_features) return true;
  return false;
}

// The lowest common ancestor of two modules, through parent links. A ModelView only holds trees
// where a module's parent is the module named by its name up to the last dot (ModelAccess::make
// refuses anything else), so every dotted prefix of a name is an ancestor and this is the module
// named lowest_common_ancestor(a's name, b's name) (docs/semantics.md §5.3), found without
// reading a name's bytes. An ancestor's name is strictly shorter than its descendants', so of
// two different modules the one with the longer name is not an ancestor of the other and the
// answer is also the lowest common ancestor of its parent and the other.
ModuleIndex common_ancestor(const ModelView& model, ModuleIndex a, ModuleIndex b) {
  std::size_t a_size = model[a].name.size(), b_size = model[b].name.size();
  while (a != b) {
    if (a_size >= b_size) {
      if ((a = model[a].parent) == no_module) break;  // only the root has none
      a_size = model[a].name.size();
    } else {
      if ((b = model[b].parent) == no_module) break;
      b_size = model[b].name.size();
    }
  }
  return a == b ? a : no_module;
}

// Module::is_module_list, inline: asked of every group's parent.
bool is_module_list(const Module& m) {
  constexpr std::string_view list = "ModuleList";
  return m.type == list || std::find(m.bases.begin(), m.bases.end(), list) != m.bases.end();
}

class Resolver {
 public:
  Resolver(const ModelView& model, const MappingList& mappings, detail::MatchTable& table)
      : model_(model), mappings_(mappings), table_(table) {}

  Resolution take() { return std::move(out_); }

 private:
  const ModelView& model_;
  const MappingList& mappings_;
  detail::MatchTable& table_;
  Resolution out_;
  std::vector<std::uint8_t> target_of_;  // see mark_targets

  // Per module, the one distinct target it matches: s + 1 for slot s, 0 for none, kSeveral when
  // it matches two or more (the rematch error) or its slot has no code below kSeveral (mappings
  // of 255 or more distinct targets). One byte per module, set from each target's hits, so that
  // the walk reads one byte per module, skips eight modules that match nothing at a time, and
  // looks at the targets one by one only for modules marked kSeveral.
  static constexpr std::uint8_t kSeveral = 0xFF;
  void mark_targets(const std::vector<const detail::HitSet*>& hits) {
    target_of_.assign(model_.size(), 0);
    std::uint8_t* const out = target_of_.data();
    for (std::size_t s = 0; s < hits.size(); ++s) {
      const std::uint8_t code = s + 1 < kSeveral ? static_cast<std::uint8_t>(s + 1) : kSeveral;
      hits[s]->for_each([&](std::size_t i) { out[i] = out[i] ? kSeveral : code; });
    }
  }

  const detail::HitSet& matches_of(const std::string& text, std::size_t mapping) {
    if (const detail::HitSet* seen = table_.cached(text)) return *seen;
    return table_.hits(text, "mapping " + std::to_string(mapping) + " (" + python_repr(mappings_[mapping]) + ")");
  }

  // Module a is b or an ancestor of b: its name is b's up to a dot (the root's is empty), as the
  // tree holds names (see common_ancestor). One comparison instead of a walk up from b: the
  // balance modules of a group mostly lie under the ancestor of those before them.
  bool contains(ModuleIndex a, ModuleIndex b) const {
    const std::string_view an = model_[a].name, bn = model_[b].name;
    return an.empty() || (an.size() <= bn.size() && (an.size() == bn.size() || bn[an.size()] == '.') &&
                          same_bytes(an.data(), bn.data(), an.size()));
  }

  // memcmp(x, y, n) == 0 for module names, inline: eight bytes at a time from the back, where
  // names under one model differ (a layer or expert index), the first word read last.
  static bool same_bytes(const char* x, const char* y, std::size_t n) {
    if (n < 8) return std::memcmp(x, y, n) == 0;
    for (std::size_t at = n - 8;; at = at > 8 ? at - 8 : 0) {
      if (detail::load_word(x + at) != detail::load_word(y + at)) return false;
      if (at == 0) return true;
    }
  }

  [[noreturn]] void fail(ResolutionErrorKind kind, std::size_t k, const std::string& message,
                         std::vector<std::string> modules = {}, std::vector<std::string> targets = {}) const {
    throw ResolutionError(kind, k, message, std::move(modules), std::move(targets));
  }

 public:
  // Upstream's match_modules_set walk for mapping k, each group resolved as it is emitted
  // (upstream's generator order, which decides which error comes first).
  void resolve_mapping(std::size_t k) {
    const Mapping& mapping = mappings_[k];
    // Target strings in order; equal strings share one match list, as upstream's dict does.
    std::vector<std::string> targets;
    targets.push_back(mapping.smooth_layer);
    targets.insert(targets.end(), mapping.balance_layers.begin(), mapping.balance_layers.end());
    std::vector<std::string> distinct;
    std::vector<std::size_t> slot(targets.size());
    for (std::size_t t = 0; t < targets.size(); ++t) {
      auto it = std::find(distinct.begin(), distinct.end(), targets[t]);
      slot[t] = static_cast<std::size_t>(it - distinct.begin());
      if (it == distinct.end()) distinct.push_back(targets[t]);
    }
    std::vector<const detail::HitSet*> hits;
    for (const auto& text : distinct) hits.push_back(&matches_of(text, k));

    // How many targets share each distinct string: a module matching it is appended that many
    // times, once per target, as upstream's loop over the targets does.
    std::vector<std::size_t> repeats(distinct.size(), 0);
    for (std::size_t t = 0; t < targets.size(); ++t) ++repeats[slot[t]];
    mark_targets(hits);
    // Each group holds one smooth module (or resolution fails), so the modules matching the
    // smooth target bound the groups: the result never regrows within a mapping.
    out_.resolved.reserve(out_.resolved.size() + hits[slot[0]]->count());

    std::vector<std::vector<ModuleIndex>> matches(distinct.size());
    // The group (counted from 1) in which each distinct target last matched: a new group needs
    // no clearing.
    std::vector<std::size_t> matched_in(distinct.size(), 0);
    std::size_t group = 1;
    std::size_t unmatched_count = distinct.size();
    // The lowest common ancestor of the modules of the current group (upstream's parent
    // context, a name; here the module of that name), none before the first match.
    ModuleIndex context = no_module;
    bool has_context = false;
    // common_ancestor(mi, context) when context is set. A name longer than the context's is not
    // its ancestor, so the answer is that of mi's parent: modules in a row under one parent (an
    // expert's projections) share one walk while the context stays.
    ModuleIndex walked_parent = no_module, walked_context = no_module, walked_answer = no_module;
    auto with_context = [&](ModuleIndex mi) {
      const Module& m = model_[mi];
      if (m.parent == no_module || m.name.size() <= model_[context].name.size())
        return common_ancestor(model_, mi, context);
      if (m.parent != walked_parent || context != walked_context) {
        walked_parent = m.parent;
        walked_context = context;
        walked_answer = common_ancestor(model_, m.parent, context);
      }
      return walked_answer;
    };
    // Upstream's step for module `mi` matching the target in slot `s`.
    auto take = [&](ModuleIndex mi, std::size_t s) {
      ModuleIndex next = has_context ? with_context(mi) : mi;
      if (unmatched_count == 0 && next != context) {
        emit_group(k, targets, slot, matches);
        for (auto& m : matches) m.clear();
        ++group;
        unmatched_count = distinct.size();
        next = mi;
      }
      matches[s].push_back(mi);
      context = next;
      has_context = true;
      if (matched_in[s] != group) {
        matched_in[s] = group;
        --unmatched_count;
      }
    };

    const std::size_t n = model_.size();
    const std::uint8_t* const target_of = target_of_.data();
    std::vector<char> matched_here(distinct.size(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (i % 8 == 0) {
        // Eight modules that match nothing at once (most modules, in most mappings).
        while (i + 8 <= n && detail::load_word(reinterpret_cast<const char*>(target_of + i)) == 0) i += 8;
        if (i == n) break;
      }
      const std::uint8_t code = target_of[i];
      if (code == 0) continue;
      const auto mi = static_cast<ModuleIndex>(i);
      if (code != kSeveral) {
        for (std::size_t r = 0; r < repeats[code - 1u]; ++r) take(mi, code - 1u);
        continue;
      }
      std::fill(matched_here.begin(), matched_here.end(), 0);
      std::size_t matched_count = 0;
      for (std::size_t t = 0; t < targets.size(); ++t) {
        const std::size_t s = slot[t];
        if (!(*hits[s])[i]) continue;
        take(mi, s);
        if (!matched_here[s]) {
          matched_here[s] = 1;
          ++matched_count;
        }
      }
      if (matched_count > 1) {
        std::vector<std::string> which;
        for (std::size_t s = 0; s < distinct.size(); ++s)
          if (matched_here[s]) which.push_back(distinct[s]);
        fail(ResolutionErrorKind::module_rematch, k,
             "module: " + std::string(model_[mi].name) + " was matched with multiple targets: " + target_set(which) +
                 " which is unexpected disable this check by setting `error_on_module_rematch = False`"
                 " (mapping " +
                 std::to_string(k) + ": " + python_repr(mapping) + ")",
             {std::string(model_[mi].name)}, which);
      }
    }
    if (unmatched_count == distinct.size()) return;  // never matched anything
    if (unmatched_count == 0) {
      emit_group(k, targets, slot, matches);
      return;
    }
    std::vector<std::string> found, missing;
    for (std::size_t s = 0; s < distinct.size(); ++s) (matched_in[s] != group ? missing : found).push_back(distinct[s]);
    fail(ResolutionErrorKind::incomplete_set, k,
         "Found a final incomplete set with matches found for keys: " + target_set(found) +
             " but no matches found for keys: " + target_set(missing) + " (mapping " + std::to_string(k) + ": " +
             python_repr(mapping) + ")",
         {}, missing);
  }

 private:
  void emit_group(std::size_t k, const std::vector<std::string>& targets, const std::vector<std::size_t>& slot,
                  const std::vector<std::vector<ModuleIndex>>& matches) {
    const Mapping& mapping = mappings_[k];
    const auto& smooth_list = matches[slot[0]];
    if (smooth_list.size() > 1) {
      std::vector<std::string> smooth_names;
      for (ModuleIndex s : smooth_list) smooth_names.emplace_back(model_[s].name);
      fail(ResolutionErrorKind::multiple_smooth_layers, k,
           "AWQ needs to match a single smoothlayer for each mapping but got " + name_list(model_, smooth_list) +
               " for mapping: " + python_repr(mapping),
           std::move(smooth_names));
    }
    const ModuleIndex smooth = smooth_list[0];
    const Module& sm = model_[smooth];
    // The balance modules: the lists of the targets after the smooth one, in target order,
    // read where they are rather than copied into one list.
    auto each_balance = [&](auto&& visit) {
      for (std::size_t t = 1; t < targets.size(); ++t)
        for (const ModuleIndex b : matches[slot[t]]) visit(b);
    };
    std::size_t balance_count = 0;
    for (std::size_t t = 1; t < targets.size(); ++t) balance_count += matches[slot[t]].size();
    // Only a v_proj or qkv_proj smooth layer can be incompatible with a balance module: for any
    // other the balance modules are not looked at for it.
    bool compatible = true;
    if (may_be_incompatible(sm))
      each_balance([&](ModuleIndex b) { compatible = compatible && !incompatible(sm, model_[b]); });
    // Targeted when the smooth module or some balance module is: asked in that order, up to the
    // first that is.
    bool targeted = table_.targeted(smooth);
    for (std::size_t t = 1; t < targets.size() && !targeted; ++t)
      for (const ModuleIndex b : matches[slot[t]])
        if ((targeted = table_.targeted(b))) break;
    auto skip = [&](SkipReason reason) {
      SkippedGroup& g = out_.skipped.emplace_back(SkippedGroup{k, sm.name, reason, {}});
      g.balance_names.reserve(balance_count);
      each_balance([&](ModuleIndex b) { g.balance_names.push_back(model_[b].name); });
    };
    if (!compatible) return skip(SkipReason::incompatible);
    if (balance_count == 0) return skip(SkipReason::no_balance_layers);
    if (!targeted) return skip(SkipReason::not_targeted);
    ResolvedMapping& r = out_.resolved.emplace_back();
    r.mapping = k;
    r.smooth_name = sm.name;
    r.balance_names.reserve(balance_count);
    ModuleIndex p = no_module;
    each_balance([&](ModuleIndex b) {
      r.balance_names.push_back(model_[b].name);
      if (r.balance_names.size() == 1)
        p = b;
      else if (!contains(p, b))
        p = common_ancestor(model_, p, b);
    });
    while (p != no_module && !model_[p].name.empty() && is_module_list(model_[p])) p = model_[p].parent;
    std::string_view parent = p == no_module ? std::string_view{} : model_[p].name;
    r.parent_name = parent;
    if (mapping.activation_hook_target && !mapping.activation_hook_target->empty()) {
      const std::string& path = *mapping.activation_hook_target;
      std::string full = parent.empty() ? path : std::string(parent) + "." + path;
      ModuleIndex h = model_.find(full);
      if (h == no_module)
        fail(ResolutionErrorKind::hook_target_missing, k,
             "activation_hook_target '" + path + "' not found under parent '" + std::string(parent) +
                 "' (no module named '" + full + "') for smooth layer " + std::string(sm.name) + ", mapping " +
                 std::to_string(k) + ": " + python_repr(mapping),
             {std::string(parent), full});
      r.activation_hook_target = model_[h].name;
    }
  }
};

}  // namespace

Resolution resolve(const ModelView& model, const MappingList& mappings, const ResolveOptions& options) {
  detail::MatchTable table(model, options);
  // The last mapping that reads each target string: its hits are dropped after that one, so
  // that the table holds no more than the mappings still to come need.
  auto each_target = [&](std::size_t k, auto&& visit) {
    visit(mappings[k].smooth_layer);
    for (const std::string& b : mappings[k].balance_layers) visit(b);
  };
  std::unordered_map<std::string_view, std::size_t> last_use;
  for (std::size_t k = 0; k < mappings.size(); ++k)
    each_target(k, [&](const std::string& text) { last_use[text] = k; });
  Resolver resolver(model, mappings, table);
  for (std::size_t k = 0; k < mappings.size(); ++k) {
    resolver.resolve_mapping(k);
    each_target(k, [&](const std::string& text) {
      if (last_use[text] == k) table.forget(text);
    });
  }
  return resolver.take();
}

namespace detail {
Resolution resolve_mapping(const ModelView& model, const MappingList& mappings, std::size_t k, MatchTable& table) {
  Resolver resolver(model, mappings, table);
  resolver.resolve_mapping(k);
  return resolver.take();
}
}  // namespace detail

}  // namespace awqmap
