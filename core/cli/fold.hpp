#pragma once
// Folding of lines that differ only in indices (`model.layers.{0-2,4-6}.mlp.experts.{0-511}.up_proj`),
// so that a model of 48 layers with 512 experts each reads in a screenful, and nothing is lost.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace awqmap::cli {

/// Marks where index k of a row goes in a key: kSlot followed by the byte k. Keys are built
/// from printable() text, which never holds a control byte, so a slot is never taken for text.
/// kInnerSlot marks the slots of a Folder used inside the keys of another (names in a line).
inline constexpr char kSlot = '\x01', kInnerSlot = '\x02';
inline constexpr std::size_t kMaxSlots = 200;

/// An index component of a module name: a ModuleList index in its canonical decimal form (no
/// leading zero, at most 18 digits), so that writing the value back gives the same name.
bool index_component(std::string_view component, std::uint64_t& value);

/// `values` as one index: `5`, or `{0-2,4-6,9}` (sorted, runs of consecutive values as ranges).
std::string index_set(std::vector<std::uint64_t> values);

/// `key` with each `slot` k replaced by `sets[k]`; slots of the other kind stay as they are.
std::string fill_slots(std::string_view key, const std::vector<std::string>& sets, char slot = kSlot);

/// Rows with equal keys (a line with its indices taken out as slots) fold into lines that give
/// each slot a set of values. The lines hold exactly the rows added: each row is in one line,
/// and a line stands for the product of its sets. A row added twice stays two rows, in two
/// lines. Linear in the number of rows, apart from sorting each set of values.
class Folder {
 public:
  /// `slot`: kSlot, or kInnerSlot for a Folder whose keys go into the keys of another.
  explicit Folder(char slot = kSlot) : slot_(slot) {}

  /// `indices[k]` fills slot k of `key`; a key has as many slots as every one of its rows has indices.
  void add(std::string key, std::vector<std::uint64_t> indices);

  struct Line {
    std::string text;  ///< the key with each slot replaced by its set
    std::size_t rows;  ///< how many rows it stands for
  };
  /// In the order the keys first came, then the order of each line's first row.
  std::vector<Line> fold() const;

 private:
  struct Bucket {
    std::string key;
    std::vector<std::vector<std::uint64_t>> rows;
  };
  char slot_;
  std::vector<Bucket> buckets_;
  std::unordered_map<std::string, std::size_t> bucket_of_;  // key and repeat count -> bucket
  std::unordered_map<std::string, std::size_t> seen_;       // key and indices -> times added
};

}  // namespace awqmap::cli
