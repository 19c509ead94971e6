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

// Eight bytes a step (name.find("..") makes a call per component, a byte loop a branch per
// byte): each byte that is a '.' sets its high bit in `dots` (exactly: no carry crosses bytes),
// and two adjacent ones overlap once shifted by a byte; `carry` holds the previous word's last.
bool has_double_dot(std::string_view name) {
  constexpr std::uint64_t low7 = 0x7f7f7f7f7f7f7f7full, dot = 0x2e2e2e2e2e2e2e2eull;
  std::uint64_t carry = 0;
  std::size_t i = 0;
  auto step = [&](std::uint64_t w) {
    const std::uint64_t x = w ^ dot;  // zero bytes where w has '.'
    const std::uint64_t dots = ~(((x & low7) + low7) | x | low7);
    const bool hit = ((dots & (dots << 8)) | (dots & carry)) != 0;
    carry = dots >> 56;
    return hit;
  };
  for (; i + 8 <= name.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, name.data() + i, 8);
    if (step(w)) return true;
  }
  if (i < name.size()) {
    std::uint64_t w = 0;  // zero bytes are not dots
    std::memcpy(&w, name.data() + i, name.size() - i);
    if (step(w)) return true;
  }
  return false;
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
    out.drops.emplace_back(d, Target::compile("re:" + d, "checkpoint adaptation for " + architecture));
  out.fused_experts = adapt.fused_experts;
  return out;
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
  Ahead ahead[kAhead];
  auto hash_ahead = [&](std::size_t j) {
    Ahead& a = ahead[j % kAhead];
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
  for (std::size_t i = 0; i < set.tensors.size(); ++i) {
    const Ahead mine = ahead[i % kAhead];
    if (i + kAhead < set.tensors.size()) hash_ahead(i + kAhead);
    Tensor& t = set.tensors[i];
    const std::string& file = set.shard_names[t.shard];
    for (const auto& r : adapt.renames)
      if (auto renamed = r.apply(t.name)) {
        t.name = set.own(std::move(*renamed));
        ++summary.renamed;
        break;
      }
    bool dropped = false;
    for (const auto& [pattern, target] : adapt.drops)
      if (target.matches_name(t.name)) {
        count(summary.dropped, "matches '" + pattern + "', which " + architecture + " does not load");
        dropped = true;
        break;
      }
    if (dropped) continue;
    if (layers) {
      std::optional<std::uint64_t> index_of;
      if (!layer_prefix.empty() && t.name.substr(0, layer_prefix.size()) == layer_prefix) {
        index_of = layer_of_prefix;
      } else if (auto found = decoder_layer_index(t.name)) {
        index_of = found->value;
        layer_prefix = t.name.substr(0, found->prefix);
        layer_of_prefix = found->value;
      }
      if (index_of && *index_of >= *layers) {
        count(summary.dropped, "decoder layer index >= num_hidden_layers (" + std::to_string(*layers) +
                                   "): a multi-token-prediction layer the model does not load");
        continue;
      }
    }
    const std::string_view name = t.name;
    if (name.front() == '.' || name.back() == '.' || has_double_dot(name))
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
    if (split) continue;
    // Not renamed since its module was hashed: the same view (a renamed name is stored anew).
    const bool same = mine.name.data() == name.data() && mine.name.size() == name.size();
    const std::string_view module = same ? mine.module : parent_of(name);
    std::uint32_t id = tree.add_hashed(module, same ? mine.hash : name_hash(module), file);
    // No name begins with a dot (refused above): an empty module means a name without one.
    const std::string_view last = module.empty() ? name : name.substr(module.size() + 1);
    if (last == "weight") tree.set_weight(id, set.dims.data() + t.shape_begin, t.shape_size);
  }
}

}  // namespace awqmap::detail
