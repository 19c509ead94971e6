#pragma once
// The module tree of a checkpoint (docs/semantics.md §8): modules are created from tensor names with their
// ancestors, then laid out depth-first with siblings by rank and numeric-aware name.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../name_table.hpp"
#include "../names.hpp"
#include "../word_scan.hpp"
#include "awqmap/limits.hpp"
#include "awqmap/model.hpp"
#include "../model_parts.hpp"

namespace awqmap::detail {

/// False only for last name parts that is_embedding_name refuses: it needs "embed" (so a 'b')
/// or three bytes ("wte", "wpe"), and most parts have neither, which a look at their bytes
/// settles without the call.
inline bool may_be_embedding_name(std::string_view last) {
  if (last.size() == 3) return true;
  if (last.size() >= 8 && last.size() <= 16)  // two words, overlapping where shorter
    return has_byte(load_word(last.data()), 'b') || has_byte(load_word(last.data() + last.size() - 8), 'b');
  return !last.empty() && std::memchr(last.data(), 'b', last.size()) != nullptr;
}

class ModuleTreeBuilder {
 public:
  ModuleTreeBuilder(std::size_t expected_modules, const InputLimits& limits);

  /// Creates the module `name` and its missing ancestors and returns its id. `name` must stay
  /// alive until finish(). Names deeper than InputLimits::max_name_depth, or more modules than
  /// InputLimits::max_modules, are InputErrors naming `file`.
  std::uint32_t add(std::string_view name, const std::string& file) { return add_hashed(name, name_hash(name), file); }
  /// add() with `hash` == name_hash(name), computed ahead by a caller that prefetched its slot.
  std::uint32_t add_hashed(std::string_view name, std::uint64_t hash, const std::string& file);
  /// Starts loading the table slot of a name of hash `hash` (name_hash) that add_hashed() will
  /// probe: callers adding many names call it a few names ahead, so that the probes do not
  /// each wait for memory.
  void prefetch(std::uint64_t hash) const { by_name_.prefetch(hash); }
  /// The module's weight has the shape `dims[0..n)` (copied).
  void set_weight(std::uint32_t id, const std::int64_t* dims, std::size_t n);
  /// set_weight() for `dims` that stay alive until finish() (not copied).
  void set_weight_view(std::uint32_t id, const std::int64_t* dims, std::size_t n) {
    Node& node = nodes_[id];
    node.shape = dims;
    node.shape_size = static_cast<std::uint32_t>(n);
    node.has_weight = true;
  }
  /// Records that the module has the tensor `<name>.weight` (`part` 0) or `<name>.bias` (1);
  /// false when it was recorded before. A tensor named twice shows up here without a table
  /// over every tensor name.
  bool note_tensor(std::uint32_t id, unsigned part) {
    const auto bit = static_cast<std::uint8_t>(1u << part);
    const bool fresh = (nodes_[id].tensor_parts & bit) == 0;
    nodes_[id].tensor_parts = static_cast<std::uint8_t>(nodes_[id].tensor_parts | bit);
    return fresh;
  }
  /// Modules so far, the root included.
  std::size_t size() const { return nodes_.size(); }
  /// Refuses `more` modules beyond size() when they would pass InputLimits::max_modules.
  void reserve_or_fail(std::uint64_t more, const std::string& file, const std::string& what) const;

  /// Throws the InputError finish() would throw on names over InputLimits::max_total_name_bytes
  /// (naming `origin`), for a caller that frees what it kept for errors before finish().
  void check_total(const std::string& origin) const;
  /// Lays out the modules into `parts`, with ModelParts::tree. The module names view the names
  /// given to add(), which `names` keeps alive (it becomes ModelParts::storage);
  /// `names_plain` says that every one of them is (ModelParts::plain_names). The builder is
  /// spent afterwards.
  void finish(ModelParts& parts, std::shared_ptr<const void> names, bool names_plain);

 private:
  // 48 bytes: at 100k modules the nodes are the builder's largest table.
  struct Node {
    std::string_view name;
    std::uint32_t last_size;  // of the last name component, the sort key among siblings
    std::uint32_t parent;
    const std::int64_t* shape = nullptr;            // set_weight_view's, else in dims_ from shape_begin
    std::uint32_t shape_begin = 0, shape_size = 0;  // when has_weight
    bool has_weight = false;
    std::uint8_t tensor_parts = 0;  // note_tensor()'s bits
    // The last component is all digits (a ModuleList item): known when the name is read, so
    // that laying out the tree reads most names only to copy them.
    bool digits = false;

    std::string_view last() const { return name.substr(name.size() - last_size); }
  };
  static_assert(sizeof(Node) <= 48, "a node takes 48 bytes at most");
  Node make_node(std::string_view name, std::string_view last) const {
    Node n{name, static_cast<std::uint32_t>(last.size()), no_entry};
    n.digits = all_digits(last);
    return n;
  }
  const InputLimits& limits_;
  std::vector<Node> nodes_;
  std::vector<std::int64_t> dims_;  // set_weight()'s shapes, back to back
  std::uint64_t name_bytes_ = 0;    // of every module name
  NameTable by_name_;
  std::uint32_t last_ = 0;  // the module add() returned last: the next name is usually its sibling
};

}  // namespace awqmap::detail
