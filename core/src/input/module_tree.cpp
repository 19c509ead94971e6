#include "module_tree.hpp"

#include <algorithm>
#include <utility>

#include "awqmap/error.hpp"
#include "naming_heuristics.hpp"
#include "printable.hpp"

namespace awqmap::detail {
namespace {

[[noreturn]] void over_limit(const std::string& file, const std::string& what, const char* limit,
                             std::uint64_t value) {
  throw InputError(printable(file) + ": " + what + ", over the limit InputLimits::" + limit + " (" +
                   std::to_string(value) + "); if the checkpoint is genuine, raise it (awqmap --limit " + limit + "=N)");
}

// Numeric-aware order of sibling names: digit runs compare as numbers.
bool natural_less(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = a[i] >= '0' && a[i] <= '9', db = b[j] >= '0' && b[j] <= '9';
    if (da && db) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && a[ie] >= '0' && a[ie] <= '9') ++ie;
      while (je < b.size() && b[je] >= '0' && b[je] <= '9') ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return a.size() - i < b.size() - j;
  return a < b;
}

struct TreeStorage {
  std::string ordered;  // every module name, in module order: what the views point into
};

}  // namespace

ModuleTreeBuilder::ModuleTreeBuilder(std::size_t expected_modules, const InputLimits& limits)
    : limits_(limits), by_name_(expected_modules) {
  // Modules outnumber tensors by their ancestors (a third more in MoE checkpoints): reserving
  // for them spares moving every node when the vector would grow.
  nodes_.reserve(expected_modules + expected_modules / 2 + 16);
  dims_.reserve(2 * expected_modules);
  nodes_.push_back({std::string_view{}, std::string_view{}, no_entry, no_entry, no_entry, 0, 0, false});
  by_name_.insert(0, std::string_view{}, [this](std::uint32_t id) { return nodes_[id].name; });
}

void ModuleTreeBuilder::reserve_or_fail(std::uint64_t more, const std::string& file, const std::string& what) const {
  if (more > limits_.max_modules || nodes_.size() + more > limits_.max_modules)
    over_limit(file, what + " would make " + std::to_string(more) + " more modules", "max_modules",
               limits_.max_modules);
}

std::uint32_t ModuleTreeBuilder::add_hashed(std::string_view name, std::uint64_t hash, const std::string& file) {
  auto name_of = [this](std::uint32_t id) { return nodes_[id].name; };
  if (nodes_[last_].name == name) return last_;
  // One probe finds the name or claims its slot: a new module is stored under the id it is
  // about to get, and its node is pushed before the table can grow (which reads every name).
  const auto id = static_cast<std::uint32_t>(nodes_.size());
  if (std::uint32_t other = by_name_.insert_hashed(id, name, hash, name_of); other != no_entry) return last_ = other;
  // A name has at most one part more than it has bytes: shorter names need no count.
  if (name.size() + 1 > limits_.max_name_depth) {
    const auto depth = static_cast<std::uint64_t>(std::count(name.begin(), name.end(), '.')) + 1;
    if (depth > limits_.max_name_depth)
      over_limit(file, "module name '" + printable(name.substr(0, 80)) + "...' has " + std::to_string(depth) + " parts",
                 "max_name_depth", limits_.max_name_depth);
  }
  if (name.size() > limits_.max_name_bytes)
    over_limit(file, "module name of " + std::to_string(name.size()) + " bytes", "max_name_bytes",
               limits_.max_name_bytes);
  auto over_modules = [&] {
    over_limit(file, "the tensors name more modules than allowed", "max_modules", limits_.max_modules);
  };
  if (nodes_.size() + 1 > limits_.max_modules) over_modules();
  // The previous module's parent is usually this one's: compared before hashing.
  const std::uint32_t last_parent = nodes_[last_].parent;
  // Each name's last dot gives both its parent and its last part: found once per name.
  auto split = [](std::string_view n) {
    const auto dot = n.rfind('.');
    return dot == std::string_view::npos ? std::pair{std::string_view{}, n}
                                         : std::pair{n.substr(0, dot), n.substr(dot + 1)};
  };
  std::pair<std::string_view, std::string_view> up = split(name);  // the parent, the last part
  nodes_.push_back({name, up.second, no_entry, no_entry, no_entry, 0, 0, false});
  // Missing ancestors are created innermost first, each linked under the next. No recursion:
  // the depth is bounded by the limit, but the walk must not depend on it. The root always
  // exists, so the walk stops there at the latest.
  std::uint32_t child = id;
  for (;;) {
    const std::string_view cur = up.first;
    std::uint32_t parent = no_entry;
    bool created = false;
    if (last_parent != no_entry && nodes_[last_parent].name == cur) {
      parent = last_parent;
    } else {
      const auto fresh = static_cast<std::uint32_t>(nodes_.size());
      parent = by_name_.insert_hashed(fresh, cur, name_hash(cur), name_of);
      if (parent == no_entry) {
        if (nodes_.size() + 1 > limits_.max_modules) over_modules();
        up = split(cur);
        nodes_.push_back({cur, up.second, no_entry, no_entry, no_entry, 0, 0, false});
        parent = fresh;
        created = true;
      }
    }
    nodes_[child].parent = parent;
    nodes_[child].next_sibling = nodes_[parent].first_child;
    nodes_[parent].first_child = child;
    if (!created) break;
    child = parent;
  }
  return last_ = id;
}

void ModuleTreeBuilder::set_weight(std::uint32_t id, const std::int64_t* dims, std::size_t n) {
  nodes_[id].shape_begin = static_cast<std::uint32_t>(dims_.size());
  nodes_[id].shape_size = static_cast<std::uint32_t>(n);
  nodes_[id].has_weight = true;
  dims_.insert(dims_.end(), dims, dims + n);
}

void ModuleTreeBuilder::finish(ModelParts& parts) {
  // Depth-first; siblings by rank, then in numeric-aware order.
  std::vector<std::uint32_t> order;
  order.reserve(nodes_.size());
  std::vector<std::uint32_t> stack{0}, kids;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed;
  std::uint64_t name_bytes = 0;
  while (!stack.empty()) {
    std::uint32_t id = stack.back();
    stack.pop_back();
    order.push_back(id);
    name_bytes += nodes_[id].name.size();
    kids.clear();
    for (std::uint32_t c = nodes_[id].first_child; c != no_entry; c = nodes_[c].next_sibling) kids.push_back(c);
    // The items of a ModuleList (all names numbers, one rank) sort by value, then by text
    // ("01" before "1"), which is natural_less's order on them, computed once per name.
    const bool numbered = kids.size() > 1 && std::all_of(kids.begin(), kids.end(), [&](std::uint32_t k) {
      return nodes_[k].last.size() <= 18 && all_digits(nodes_[k].last);
    });
    if (numbered) {
      keyed.clear();
      for (std::uint32_t k : kids) {
        std::uint64_t v = 0;
        for (char d : nodes_[k].last) v = v * 10 + static_cast<std::uint64_t>(d - '0');
        keyed.push_back({v, k});
      }
      std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first < b.first;
        return nodes_[a.second].last < nodes_[b.second].last;
      });
      for (std::size_t k = 0; k < kids.size(); ++k) kids[k] = keyed[k].second;
    } else {
      std::sort(kids.begin(), kids.end(), [&](std::uint32_t a, std::uint32_t b) {
        const int ra = sibling_rank(nodes_[a].last), rb = sibling_rank(nodes_[b].last);
        if (ra != rb) return ra < rb;
        return natural_less(nodes_[a].last, nodes_[b].last);
      });
    }
    stack.insert(stack.end(), kids.rbegin(), kids.rend());
  }
  if (name_bytes > limits_.max_total_name_bytes)
    over_limit(parts.origin, "module names take " + std::to_string(name_bytes) + " bytes", "max_total_name_bytes",
               limits_.max_total_name_bytes);
  auto storage = std::make_shared<TreeStorage>();
  // Names laid out contiguously in module order: resolution walks them in that order.
  storage->ordered.reserve(static_cast<std::size_t>(name_bytes));
  for (std::uint32_t id : order) storage->ordered += nodes_[id].name;
  std::size_t at = 0;
  parts.modules.reserve(order.size());
  for (std::uint32_t id : order) {
    Node& node = nodes_[id];
    Module m;
    m.name = std::string_view(storage->ordered).substr(at, node.name.size());
    at += node.name.size();
    const bool has_children = node.first_child != no_entry;
    bool all_numeric = has_children;
    for (std::uint32_t c = node.first_child; c != no_entry && all_numeric; c = nodes_[c].next_sibling)
      all_numeric = all_digits(nodes_[c].last);
    const std::int64_t* shape = dims_.data() + node.shape_begin;
    if (node.has_weight && node.shape_size == 2) {
      if (is_embedding_name(node.last)) {
        m.type = "Embedding";
      } else {
        m.type = "Linear";
        m.out_features = shape[0];
        m.in_features = shape[1];
      }
    } else if (all_numeric) {
      m.type = "ModuleList";
    } else {
      m.type = "Module";
    }
    if (node.has_weight) m.shape.assign(shape, shape + node.shape_size);
    parts.modules.push_back(std::move(m));
  }
  parts.storage = std::move(storage);
}

}  // namespace awqmap::detail
