#include "adaptations.hpp"

#include <cstring>

#include "awqmap/error.hpp"
#include "naming_heuristics.hpp"
#include "printable.hpp"

namespace awqmap::detail {
namespace {

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw InputError(printable(file) + ": " + what);
}

void count(std::vector<DroppedTensors>& dropped, const std::string& reason) {
  for (auto& d : dropped)
    if (d.reason == reason) {
      ++d.count;
      return;
    }
  dropped.push_back({reason, 1});
}

struct LayerIndex {
  std::uint64_t value;
  std::size_t prefix;  // `<...>.layers.<i>.`: every name beginning so has this index
};

// The index of a decoder layer (`<...>.layers.<i>.` outside vision and audio towers).
std::optional<LayerIndex> decoder_layer_index(std::string_view name) {
  std::size_t start = 0;
  bool tower = false;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    std::string_view comp = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (is_tower_component(comp)) tower = true;
    if (dot == std::string_view::npos) break;
    if (comp == "layers" && !tower) {
      std::size_t next = name.find('.', dot + 1);
      if (next == std::string_view::npos) return std::nullopt;  // `layers.<i>` with no member
      std::string_view index = name.substr(dot + 1, next - dot - 1);
      const auto value = parse_index(index);
      if (!value) return std::nullopt;
      return LayerIndex{*value, next + 1};
    }
    start = dot + 1;
  }
  return std::nullopt;
}

bool ends_with_component(std::string_view name, std::string_view suffix) {
  return name == suffix || (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix &&
                            name[name.size() - suffix.size() - 1] == '.');
}

}  // namespace

CompiledAdaptations compile_adaptations(const CheckpointAdaptations& adapt, const std::string& architecture) {
  CompiledAdaptations out;
  for (const auto& r : adapt.renames) out.renames.emplace_back(r.pattern, r.replacement);
  for (const auto& d : adapt.dropped)
    out.drops.push_back(
        {d, Target::compile("re:" + d, "checkpoint adaptation for " + architecture), literal_pattern(d)});
  out.fused_experts = adapt.fused_experts;
  return out;
}

void check_tensors_unique(const TensorSet& set) {
  const std::vector<Tensor>& tensors = set.tensors;
  NameTable seen(tensors.size());
  auto name_of = [&tensors](std::uint32_t id) { return tensors[id].name; };
  // Hashed first, so that each insert prefetches the slot of a name some places ahead.
  constexpr std::size_t kAhead = 16;
  std::vector<std::uint64_t> hashes(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) hashes[i] = name_hash(tensors[i].name);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (i + kAhead < tensors.size()) seen.prefetch(hashes[i + kAhead]);
    std::uint32_t other = seen.insert_hashed(static_cast<std::uint32_t>(i), tensors[i].name, hashes[i], name_of);
    if (other != no_entry)
      fail(set.shard_names[tensors[i].shard], "tensor '" + printable(tensors[i].name) + "' is also in " +
                                                  printable(set.shard_names[tensors[other].shard]) +
                                                  "; each tensor must be stored once");
  }
}

void add_tensors(TensorSet& set, const CompiledAdaptations& adapt, std::optional<std::uint64_t> layers,
                 const std::string& architecture, const InputLimits& limits, ModuleTreeBuilder& tree,
                 CheckpointSummary& summary) {
  // The module of a tensor is hashed when its slot is prefetched, kAhead tensors ahead, and the
  // hash is kept for add_hashed() unless a rename changed the name in between.
  constexpr std::size_t kAhead = 8;
  struct Ahead {
    std::string_view name, module;
    std::uint64_t hash = 0;
  };
  // Twice as many slots as names ahead: a tensor's slot stays as it is while the one kAhead
  // places on is filled, so it is read in place.
  Ahead ahead[2 * kAhead];
  auto hash_ahead = [&](std::size_t j) {
    Ahead& a = ahead[j % (2 * kAhead)];
    a.name = set.tensors[j].name;
    a.module = parent_of(a.name);
    a.hash = name_hash(a.module);
    tree.prefetch(a.hash);
  };
  for (std::size_t j = 0; j < kAhead && j < set.tensors.size(); ++j) hash_ahead(j);
  // The layer prefix found last: the tensors of one layer come together, and a name with the
  // same prefix has the same index without scanning its components again.
  std::string_view layer_prefix;
  std::uint64_t layer_of_prefix = 0;
  std::vector<std::string> drop_reasons;
  for (const auto& d : adapt.drops)
    drop_reasons.push_back("matches '" + d.pattern + "', which " + architecture + " does not load");
  // Tensors named twice (check_tensors_unique) are found without a table over every name: what
  // becomes a module's weight or bias is noted on the module, the other names (renamed,
  // dropped, split, or another last part) go to a table of their own. Which of the two a name
  // takes depends on the name alone, so a name stored twice meets itself there.
  std::vector<std::string_view> others;
  NameTable other_names;
  auto note_other = [&](std::string_view name) {
    const auto id = static_cast<std::uint32_t>(others.size());
    others.push_back(name);
    if (other_names.insert(id, name, [&others](std::uint32_t k) { return others[k]; }) != no_entry)
      check_tensors_unique(set);
  };
  for (std::size_t i = 0; i < set.tensors.size(); ++i) {
    const Ahead& mine = ahead[i % (2 * kAhead)];
    if (i + kAhead < set.tensors.size()) hash_ahead(i + kAhead);
    const Tensor& t = set.tensors[i];
    const std::string& file = set.shard_names[t.shard];
    // The stored name stays as it is, for check_tensors_unique.
    std::string_view name = t.name;
    bool noted = false;
    for (const auto& r : adapt.renames)
      if (auto renamed = r.apply(name)) {
        note_other(name);
        noted = true;
        name = set.own(std::move(*renamed));
        ++summary.renamed;
        break;
      }
    const TensorNameFlags flags = scan_tensor_name(name);
    bool dropped = false;
    for (std::size_t d = 0; d < adapt.drops.size(); ++d)
      if (drop_matches(adapt.drops[d], name, flags.plain)) {
        count(summary.dropped, drop_reasons[d]);
        dropped = true;
        break;
      }
    if (dropped) {
      if (!noted) note_other(name);
      continue;
    }
    if (layers) {
      std::optional<std::uint64_t> index_of;
      if (!layer_prefix.empty() && name.substr(0, layer_prefix.size()) == layer_prefix) {
        index_of = layer_of_prefix;
      } else if (auto found = decoder_layer_index(name)) {
        index_of = found->value;
        layer_prefix = name.substr(0, found->prefix);
        layer_of_prefix = found->value;
      }
      if (index_of && *index_of >= *layers) {
        count(summary.dropped, "decoder layer index >= num_hidden_layers (" + std::to_string(*layers) +
                                   "): a multi-token-prediction layer the model does not load");
        if (!noted) note_other(name);
        continue;
      }
    }
    if (name.front() == '.' || name.back() == '.' || flags.double_dot)
      fail(file, "tensor name '" + printable(name) + "' has an empty component");
    bool split = false;
    for (const auto& f : adapt.fused_experts) {
      if (!ends_with_component(name, f.fused)) continue;
      const auto shape = set.shape(t);
      const auto parts_count = static_cast<std::int64_t>(f.parts.size());
      if (shape.size() != 3 || shape[1] % parts_count != 0)
        fail(file, "fused expert tensor '" + printable(name) + "' must have shape [experts, " +
                       std::to_string(parts_count) + " x rows, columns]");
      // Checked before anything is made for them: a zero-size tensor can claim any count.
      const auto experts = static_cast<std::uint64_t>(shape[0]);
      if (experts > limits.max_fused_experts)
        fail(file, "fused expert tensor '" + printable(name) + "' has " + std::to_string(experts) +
                       " experts, over the limit InputLimits::max_fused_experts (" +
                       std::to_string(limits.max_fused_experts) + "); if the checkpoint is genuine, raise it (awqmap --limit max_fused_experts=N)");
      tree.reserve_or_fail(experts * (f.parts.size() + 1), file, "fused expert tensor '" + printable(name) + "'");
      const std::string base(name.substr(0, name.size() - f.fused.size()));
      for (std::uint64_t e = 0; e < experts; ++e)
        for (const auto& part : f.parts) {
          std::string_view module = set.own(base + f.prefix + "." + std::to_string(e) + "." + part);
          const std::int64_t dims[2] = {shape[1] / parts_count, shape[2]};
          tree.set_weight(tree.add(module, file), dims, 2);
        }
      ++summary.fused_split;
      split = true;
      break;
    }
    if (split) {
      if (!noted) note_other(name);
      continue;
    }
    // Not renamed since its module was hashed: the same view (a renamed name is stored anew).
    const bool same = mine.name.data() == name.data() && mine.name.size() == name.size();
    const std::string_view module = same ? mine.module : parent_of(name);
    std::uint32_t id = tree.add_hashed(module, same ? mine.hash : name_hash(module), file);
    // No name begins with a dot (refused above): an empty module means a name without one.
    const std::string_view last = module.empty() ? name : name.substr(module.size() + 1);
    // The set's shapes outlive the tree's finish().
    if (last == "weight") tree.set_weight_view(id, set.dims.data() + t.shape_begin, t.shape_size);
    if (noted) continue;
    const bool weight = last == "weight";
    if (weight || last == "bias") {
      if (!tree.note_tensor(id, weight ? 0 : 1)) check_tensors_unique(set);
    } else {
      note_other(name);
    }
  }
}

}  // namespace awqmap::detail
