#include "module_tree.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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


}  // namespace

ModuleTreeBuilder::ModuleTreeBuilder(std::size_t expected_modules, const InputLimits& limits)
    : limits_(limits), by_name_(expected_modules) {
  // Modules outnumber tensors by their ancestors (a third more in MoE checkpoints): reserving
  // for them spares moving every node when the vector would grow.
  nodes_.reserve(expected_modules + expected_modules / 2 + 16);
  dims_.reserve(2 * expected_modules);
  nodes_.push_back(make_node(std::string_view{}, std::string_view{}));
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
  // The previous module's ancestors are usually this one's (a sibling's parent, an expert's
  // grandparent): they are compared before hashing, nearest first, each only while its name
  // is no shorter than the one sought, so that the walk goes up along with the names' own.
  std::uint32_t known = nodes_[last_].parent;
  // Each name's last dot gives both its parent and its last part: found once per name.
  auto split = [](std::string_view n) {
    // memrchr: a vectorised search from the end, where rfind steps a byte at a time.
    const void* found = n.empty() ? nullptr : ::memrchr(n.data(), '.', n.size());
    if (!found) return std::pair{std::string_view{}, n};
    const auto dot = static_cast<std::size_t>(static_cast<const char*>(found) - n.data());
    return std::pair{n.substr(0, dot), n.substr(dot + 1)};
  };
  std::pair<std::string_view, std::string_view> up = split(name);  // the parent, the last part
  nodes_.push_back(make_node(name, up.second));
  name_bytes_ += name.size();
  // Missing ancestors are created innermost first, each linked under the next. No recursion:
  // the depth is bounded by the limit, but the walk must not depend on it. The root always
  // exists, so the walk stops there at the latest.
  std::uint32_t child = id;
  for (;;) {
    const std::string_view cur = up.first;
    while (known != no_entry && nodes_[known].name.size() > cur.size()) known = nodes_[known].parent;
    std::uint32_t parent = known;
    bool created = false;
    if (known == no_entry || nodes_[known].name.size() != cur.size() || nodes_[known].name != cur) {
      const auto fresh = static_cast<std::uint32_t>(nodes_.size());
      parent = by_name_.insert_hashed(fresh, cur, name_hash(cur), name_of);
      if (parent == no_entry) {
        if (nodes_.size() + 1 > limits_.max_modules) over_modules();
        up = split(cur);
        nodes_.push_back(make_node(cur, up.second));
        name_bytes_ += cur.size();
        parent = fresh;
        created = true;
      }
    }
    nodes_[child].parent = parent;
    if (!created) break;
    child = parent;
  }
  return last_ = id;
}

void ModuleTreeBuilder::set_weight(std::uint32_t id, const std::int64_t* dims, std::size_t n) {
  nodes_[id].shape = nullptr;
  nodes_[id].shape_begin = static_cast<std::uint32_t>(dims_.size());
  nodes_[id].shape_size = static_cast<std::uint32_t>(n);
  nodes_[id].has_weight = true;
  dims_.insert(dims_.end(), dims, dims + n);
}

void ModuleTreeBuilder::check_total(const std::string& origin) const {
  if (name_bytes_ > limits_.max_total_name_bytes)
    over_limit(origin, "module names take " + std::to_string(name_bytes_) + " bytes", "max_total_name_bytes",
               limits_.max_total_name_bytes);
}

void ModuleTreeBuilder::finish(ModelParts& parts, std::shared_ptr<const void> names, bool names_plain) {
  check_total(parts.origin);
  // Depth-first; siblings by rank, then in numeric-aware order. Each module is laid out when the
  // walk reaches it. The children lists, the parent links and the name table are handed to the
  // model as they are known here (ModelParts::tree).
  const std::size_t n = nodes_.size();
  auto tree = std::make_unique<ModelParts::Tree>();
  std::vector<std::uint32_t> pos(n);
  std::vector<ModuleIndex>& offsets = tree->child_offsets;
  std::vector<ModuleIndex>& children = tree->child_list;  // node ids until every position is known
  offsets.reserve(n + 1);
  offsets.push_back(0);
  children.reserve(n - 1);
  // Each record constructed where the walk fills it: one pass over the records' memory, not a
  // pass to construct them all and another to fill them.
  parts.modules.reserve(n);
  std::size_t k_at = 0;  // modules laid out
  std::vector<std::uint32_t> stack{0};
  bool features_checked = true;  // no Linear record has a negative feature count
  struct Kid {
    std::uint64_t key;  // an item's value in a ModuleList, else the sibling rank
    std::uint32_t id;
  };
  std::vector<Kid> kids;
  // Each module's children, in the order they were made, in one array (CSR): the walk reads
  // a module's children side by side, where a linked list would make it wait for each in turn.
  std::vector<std::uint32_t> first_kid(n + 1, 0), kid_list(n - 1);
  for (std::size_t c = 1; c < n; ++c) ++first_kid[nodes_[c].parent + 1];
  for (std::size_t k = 0; k < n; ++k) first_kid[k + 1] += first_kid[k];
  for (std::size_t c = 1; c < n; ++c) kid_list[first_kid[nodes_[c].parent]++] = static_cast<std::uint32_t>(c);
  for (std::size_t k = n; k > 0; --k) first_kid[k] = first_kid[k - 1];  // back to each start
  first_kid[0] = 0;
  // Checkpoints store a module's tensors in order or in reverse order more often than not: a
  // pass that finds the children sorted either way spares the sort.
  auto put_in_order = [&kids](const auto& less) {
    bool ascending = true, descending = true;
    for (std::size_t k = 1; k < kids.size() && (ascending || descending); ++k)
      (less(kids[k], kids[k - 1]) ? ascending : descending) = false;
    if (ascending) return;
    if (descending)
      std::reverse(kids.begin(), kids.end());
    else
      std::sort(kids.begin(), kids.end(), less);
  };
  while (!stack.empty()) {
    const std::uint32_t id = stack.back();
    stack.pop_back();
    const Node& node = nodes_[id];
    pos[id] = static_cast<std::uint32_t>(k_at);
    Module& m = parts.modules.emplace_back();
    ++k_at;
    m.name = node.name;
    m.parent = node.parent == no_entry ? no_module : pos[node.parent];  // the parent came first

    kids.clear();
    bool all_numeric = true, numbered = true;
    for (std::uint32_t k = first_kid[id]; k < first_kid[id + 1]; ++k) {
      const std::uint32_t c = kid_list[k];
      const Node& kid = nodes_[c];
      all_numeric = all_numeric && kid.digits;
      numbered = numbered && kid.digits && kid.last_size <= 18;
      kids.push_back({0, c});
    }
    const std::int64_t* shape = node.shape ? node.shape : dims_.data() + node.shape_begin;
    if (node.has_weight && node.shape_size == 2) {
      if (may_be_embedding_name(node.last()) && is_embedding_name(node.last())) {
        m.type = "Embedding";
      } else {
        m.type = "Linear";
        m.out_features = shape[0];
        m.in_features = shape[1];
        features_checked = features_checked && shape[0] >= 0 && shape[1] >= 0;
      }
    } else if (!kids.empty() && all_numeric) {
      m.type = "ModuleList";
    } else {
      m.type = "Module";
    }
    if (node.has_weight) m.shape.assign(shape, shape + node.shape_size);

    // The items of a ModuleList (all names numbers, one rank) sort by value, then by text
    // ("01" before "1"), which is natural_less's order on them, computed once per name.
    if (kids.size() > 1 && numbered) {
      for (Kid& k : kids)
        for (char d : nodes_[k.id].last()) k.key = k.key * 10 + static_cast<std::uint64_t>(d - '0');
      put_in_order([this](const Kid& a, const Kid& b) {
        if (a.key != b.key) return a.key < b.key;
        return nodes_[a.id].last() < nodes_[b.id].last();
      });
    } else if (kids.size() > 1) {
      for (Kid& k : kids) k.key = static_cast<std::uint64_t>(sibling_rank(nodes_[k.id].last()));
      put_in_order([this](const Kid& a, const Kid& b) {
        if (a.key != b.key) return a.key < b.key;
        return natural_less(nodes_[a.id].last(), nodes_[b.id].last());
      });
    }
    for (const Kid& k : kids) children.push_back(k.id);
    offsets.push_back(static_cast<ModuleIndex>(children.size()));
    for (auto k = kids.rbegin(); k != kids.rend(); ++k) stack.push_back(k->id);
  }
  for (ModuleIndex& c : children) c = pos[c];
  by_name_.renumber(pos);
  tree->names = std::move(by_name_);
  parts.plain_names = names_plain;
  parts.storage = std::move(names);
  // Shapes are never negative as the shard readers give them; should one be, make() checks the
  // records itself and says which.
  if (features_checked) parts.tree = std::move(tree);
}

}  // namespace awqmap::detail
