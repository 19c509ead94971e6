#pragma once
// Writes Hugging Face checkpoint directories for tests: config.json, safetensors shards with
// real headers and sparse (unwritten) data, and an index when there are several shards.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace awqmap::test {

inline std::uint64_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "BF16" || dtype == "F16" || dtype == "I16" || dtype == "U16") return 2;
  return 1;
}

/// A safetensors header for `tensors` ([{name, shape, dtype}]), laid out back to back.
inline std::string safetensors_header(const nlohmann::json& tensors, std::uint64_t& data_size) {
  nlohmann::json header = nlohmann::json::object();
  data_size = 0;
  for (const auto& t : tensors) {
    std::uint64_t n = dtype_bytes(t["dtype"]);
    for (auto d : t["shape"]) n *= d.get<std::uint64_t>();
    header[t["name"].get<std::string>()] = {
        {"dtype", t["dtype"]}, {"shape", t["shape"]}, {"data_offsets", {data_size, data_size + n}}};
    data_size += n;
  }
  return header.dump();
}

inline void write_shard(const std::filesystem::path& file, const std::string& header, std::uint64_t data_size) {
  {
    std::ofstream out(file, std::ios::binary);
    std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xFF));
    out << header;
  }
  std::filesystem::resize_file(file, 8 + header.size() + data_size);  // sparse: no data written
}

/// Writes `config` and `tensors` as a checkpoint in `dir`, split over `shards` files.
inline void write_checkpoint(const std::filesystem::path& dir, const nlohmann::json& config,
                             const nlohmann::json& tensors, std::size_t shards = 1) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << config.dump(1);
  if (shards <= 1) {
    std::uint64_t size;
    std::string header = safetensors_header(tensors, size);
    write_shard(dir / "model.safetensors", header, size);
    return;
  }
  nlohmann::json weight_map = nlohmann::json::object();
  const std::size_t per = (tensors.size() + shards - 1) / shards;
  for (std::size_t s = 0; s < shards; ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards);
    nlohmann::json part = nlohmann::json::array();
    for (std::size_t i = s * per; i < std::min(tensors.size(), (s + 1) * per); ++i) {
      part.push_back(tensors[i]);
      weight_map[tensors[i]["name"].get<std::string>()] = name;
    }
    std::uint64_t size;
    std::string header = safetensors_header(part, size);
    write_shard(dir / name, header, size);
  }
  std::ofstream(dir / "model.safetensors.index.json")
      << nlohmann::json{{"metadata", nlohmann::json::object()}, {"weight_map", weight_map}}.dump(1);
}

}  // namespace awqmap::test
