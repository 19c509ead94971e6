#pragma once
// Safetensors shard headers and the sharded-checkpoint index (docs/semantics.md §8): only each shard's
// 8-byte length and JSON header are read, every entry is checked against the file's size.
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "awqmap/limits.hpp"
#include "file_access.hpp"
#include "../string_arena.hpp"
#include "../word_scan.hpp"

namespace awqmap::detail {

/// One tensor of a shard header. The name views the set's storage (names copied out of the
/// header once it is read, escaped or renamed names); shapes live in one shared array.
struct Tensor {
  std::string_view name;
  std::uint32_t shape_begin, shape_size;
  std::uint32_t shard;
};

/// Tensor names copied out of the shard headers (a name takes under half of its entry's bytes
/// in a header, and one header buffer serves every shard), noting whether all are plain.
class NameArena : public StringArena {
 public:
  NameArena() : StringArena(std::size_t{256} << 10) {}
  std::string_view copy(std::string_view s) {
    plain_ = plain_ && names_are_plain(s);  // while the name is in the cache
    return StringArena::copy(s);
  }
  /// Every name copied is plain (see ModelView::names_are_plain).
  bool plain() const { return plain_; }

 private:
  bool plain_ = true;
};

/// Where the tensor names of a set are stored (names read plainly, names decoded or made).
struct TensorNames {
  NameArena arena;
  std::deque<std::string> owned;

  bool plain() const {
    if (!arena.plain()) return false;
    for (const std::string& s : owned)
      if (!names_are_plain(s)) return false;
    return true;
  }
};

struct TensorSet {
  std::vector<Tensor> tensors;
  std::vector<std::int64_t> dims;
  simdjson::padded_string header;  ///< the shard header being read (reused: it grows, never shrinks)
  NameArena names;
  std::deque<std::string> owned;
  std::vector<std::string> shard_names;  ///< as messages show them, by Tensor::shard

  std::string_view own(std::string s) { return owned.emplace_back(std::move(s)); }
  std::vector<std::int64_t> shape(const Tensor& t) const {
    return {dims.begin() + t.shape_begin, dims.begin() + t.shape_begin + t.shape_size};
  }
};

/// Reads one shard's header into `set`; throws InputError naming the shard.
void read_shard(const RegularFile& shard, simdjson::ondemand::parser& parser, const InputLimits& limits,
                TensorSet& set);

struct ShardList {
  std::vector<std::string> shards;  ///< in order of first appearance
  std::size_t tensors = 0;          ///< entries of the weight_map
};

/// Shard names of an index's weight_map; names that leave the directory (absolute, `..`) are
/// refused. `text` is the index file.
ShardList index_shards(const simdjson::padded_string& text, const std::string& display);

}  // namespace awqmap::detail
