#pragma once
// Safetensors shard headers and the sharded-checkpoint index (docs/semantics.md §8): only each shard's
// 8-byte length and JSON header are read, every entry is checked against the file's size.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "awqmap/limits.hpp"
#include "file_access.hpp"

namespace awqmap::detail {

/// One tensor of a shard header. The name views the header text (kept alive by the set) or
/// the set's own storage (escaped or renamed names); shapes live in one shared array.
struct Tensor {
  std::string_view name;
  std::uint32_t shape_begin, shape_size;
  std::uint32_t shard;
};

struct TensorSet {
  std::vector<Tensor> tensors;
  std::vector<std::int64_t> dims;
  std::vector<simdjson::padded_string> headers;
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
