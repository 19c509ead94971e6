// The table for people: one line per group (--full), or groups that differ only in layer and
// expert indices folded into one line. Names in a line are written one way: the smooth layer in
// full, every other name relative to the smooth layer's parent ("...") when it lies under it.
#include <map>

#include "fold.hpp"
#include "names.hpp"
#include "output.hpp"

namespace awqmap::cli {
namespace {

const std::string kElided = "...";

// Renders the names of one group with the smooth layer's indices taken out as slots, so that
// groups differing only there get the same key.
class GroupNames {
 public:
  explicit GroupNames(std::string_view smooth) : base_(detail::parent_of(smooth)) {
    detail::for_each_component(smooth, [&](std::string_view c) {
      std::uint64_t v;
      const bool slot = indices_.size() < kMaxSlots && index_component(c, v);
      components_.push_back({c, slot ? static_cast<int>(indices_.size()) : -1});
      if (slot) indices_.push_back(v);
    });
  }

  const std::vector<std::uint64_t>& indices() const { return indices_; }

  std::string smooth() const {
    std::string out;
    for (std::size_t i = 0; i < components_.size(); ++i) {
      if (i) out += '.';
      append(out, components_[i]);
    }
    return out;
  }

  // `name` as the line writes it. With `own`, the indices of `name` that are not the smooth
  // layer's become kInnerSlot slots whose values go to `own` (to fold the names of one group).
  std::string name(std::string_view name, std::vector<std::uint64_t>* own = nullptr) const {
    if (name.empty()) return "<root>";
    std::string out;
    std::string_view rest = name;
    if (!base_.empty() && name.size() > base_.size() + 1 && name.substr(0, base_.size()) == base_ &&
        name[base_.size()] == '.') {
      out = kElided;
      rest = name.substr(base_.size() + 1);
    } else {
      // Leading components shared with the smooth layer keep its slots: they are its indices.
      std::size_t i = 0, pos = 0;
      while (i < components_.size() && pos <= name.size()) {
        const std::size_t dot = name.find('.', pos);
        const std::string_view c = name.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
        if (c != components_[i].text) break;
        if (i) out += '.';
        append(out, components_[i]);
        ++i;
        if (dot == std::string_view::npos) return out;
        pos = dot + 1;
      }
      if (i) out += '.';
      rest = name.substr(pos);
    }
    bool first = true;
    detail::for_each_component(rest, [&](std::string_view c) {
      if (!first) out += '.';
      first = false;
      std::uint64_t v;
      if (own && own->size() < kMaxSlots && index_component(c, v)) {
        out += kInnerSlot;
        out += static_cast<char>(own->size());
        own->push_back(v);
      } else {
        out += printable(c);
      }
    });
    return out;
  }

  // The balance layers, those that differ only in their own indices folded together.
  std::string balances(const std::vector<std::string_view>& names) const {
    if (names.empty()) return "(none)";
    Folder folder(kInnerSlot);
    for (auto n : names) {
      std::vector<std::uint64_t> own;
      std::string key = name(n, &own);
      folder.add(std::move(key), std::move(own));
    }
    std::string out;
    for (const auto& line : folder.fold()) {
      if (!out.empty()) out += ", ";
      out += line.text;
    }
    return out;
  }

 private:
  struct Component {
    std::string_view text;
    int slot;  // -1: not an index
  };
  void append(std::string& out, const Component& c) const {
    if (c.slot < 0) {
      out += printable(c.text);
    } else {
      out += kSlot;
      out += static_cast<char>(c.slot);
    }
  }

  std::string_view base_;
  std::vector<Component> components_;
  std::vector<std::uint64_t> indices_;
};

std::string shapes_text(const GroupNames& names, const IncompatibleShapes& shapes) {
  std::string out = "out_features " + std::to_string(shapes.out_features) + " != ";
  if (shapes.factor != 1) out += std::to_string(shapes.factor) + " x ";
  for (std::size_t i = 0; i < shapes.balances.size(); ++i) {
    if (i) out += ", ";
    out += "in_features " + std::to_string(shapes.balances[i].second) + " of " + names.name(shapes.balances[i].first);
  }
  return out;
}

// Adds one line per row to `folder`, or prints it at once with --full.
struct Lines {
  bool full;
  Folder folder;
  std::string out;
  void add(const std::string& key, const std::vector<std::uint64_t>& indices) {
    if (!full) {
      folder.add(key, indices);
      return;
    }
    std::vector<std::string> sets;
    for (auto v : indices) sets.push_back(std::to_string(v));
    out += fill_slots(key, sets) + "\n";
  }
  std::string take() {
    if (full) return std::move(out);
    std::string text;
    for (const auto& line : folder.fold()) {
      text += line.text;
      if (line.rows > 1) text += "  (" + std::to_string(line.rows) + " groups)";
      text += "\n";
    }
    return text;
  }
};

}  // namespace

std::string resolution_table(const ModelView& model, const Selection& selection, const MappingList& mappings,
                             const Resolution& r, const Extras& extras, bool full) {
  static const CheckpointSummary no_checkpoint;
  const CheckpointSummary& checkpoint = extras.checkpoint ? *extras.checkpoint : no_checkpoint;
  std::string out = printable(model.architecture()) + " (" + printable(model.origin()) + ")\n";
  if (checkpoint.shards) {
    std::size_t dropped = 0;
    for (const auto& d : checkpoint.dropped) dropped += d.count;
    out += "checkpoint: " + std::to_string(checkpoint.shards) + " shard(s), " + std::to_string(checkpoint.tensors) +
           " tensors, " + std::to_string(model.size()) + " modules, " + std::to_string(dropped) + " tensors dropped\n";
  }
  out += "mappings: " + std::to_string(selection.mappings.size()) + ", " + printable(selection_text(selection)) + "\n";
  if (extras.repair) {
    for (const auto& rep : extras.repair->repairs) {
      out += "repaired mapping " + std::to_string(rep.mapping) + " (" + std::string(to_string(rep.error)) + ")";
      if (rep.replaced_by.empty()) out += ": left out";
      else out += " into";
      for (auto i : rep.replaced_by) out += " [" + std::to_string(i) + "]";
      out += ":\n";
      for (auto i : rep.replaced_by) out += "  [" + std::to_string(i) + "] " + printable(mappings[i].smooth_layer) + "\n";
      for (const auto& l : rep.left_out) out += "  left out: " + printable(l) + "\n";
    }
  }
  out += "\n";

  Lines groups{full, Folder(), {}};
  for (const auto& rm : r.resolved) {
    GroupNames names(rm.smooth_name);
    std::string key = "[" + std::to_string(rm.mapping) + "] " + names.smooth() + " -> " + names.balances(rm.balance_names);
    // Upstream's parent is the common ancestor of the balance layers unless that is a
    // ModuleList: only then does it say something the balance names do not.
    if (rm.parent_name != lowest_common_ancestor(rm.balance_names)) key += "  (parent " + names.name(rm.parent_name) + ")";
    if (rm.activation_hook_target) key += "  hook " + names.name(*rm.activation_hook_target);
    groups.add(key, names.indices());
  }
  out += groups.take();
  if (!full && !r.resolved.empty())
    out += "(\"" + kElided + "\" is the smooth layer's parent; {a-b,c} folds the groups that differ only in "
           "those indices; --full lists one group a line)\n";

  std::map<std::string, std::size_t> by_reason;
  for (const auto& s : r.skipped) ++by_reason[std::string(to_string(s.reason))];
  if (!by_reason.empty()) {
    out += "\nskipped:";
    for (const auto& [reason, n] : by_reason) out += " " + reason + " " + std::to_string(n) + ";";
    out.pop_back();
    out += "\n";
    Lines skipped{full, Folder(), {}};
    for (const auto& s : r.skipped) {
      GroupNames names(s.smooth_name);
      std::string key = "[" + std::to_string(s.mapping) + "] " + names.smooth() + " -> " + names.balances(s.balance_names) +
                        ": " + std::string(to_string(s.reason));
      if (auto shapes = incompatible_shapes(model, s)) key += " (" + shapes_text(names, *shapes) + ")";
      skipped.add(key, names.indices());
    }
    out += skipped.take();
  }
  if (extras.coverage) {
    out += "\ncoverage: " + std::to_string(extras.coverage->balanced) + " of " +
           std::to_string(extras.coverage->targeted) + " targeted Linear modules are balanced\n";
    for (const auto& u : extras.coverage->unbalanced)
      out += "  " + printable(u.name) + ": " + std::to_string(u.count) + " - " + printable(u.reason) + "\n";
  }
  out += "\n" + std::to_string(r.resolved.size()) + " resolved, " + std::to_string(r.skipped.size()) +
         " skipped, from " + std::to_string(mappings.size()) + (mappings.size() == 1 ? " mapping" : " mappings");
  if (extras.repair) {
    std::size_t layers = 0, whole = 0;
    for (const auto& rep : extras.repair->repairs) {
      layers += rep.left_out_layers;
      whole += rep.replaced_by.empty();
    }
    if (layers) out += ", " + std::to_string(layers) + (layers == 1 ? " layer" : " layers") + " left out by repair";
    if (whole) out += ", " + std::to_string(whole) + (whole == 1 ? " mapping" : " mappings") + " left out by repair";
  }
  out += "\n";
  return out;
}

}  // namespace awqmap::cli
