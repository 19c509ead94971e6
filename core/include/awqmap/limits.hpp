#pragma once
// Bounds on what an input file may make awqmap read or build (docs/limits.md). Every limit is
// checked before anything is allocated for it; exceeding one is an InputError naming the limit
// and the file. The defaults are far above real models (a 200,000-module model loads).
#include <cstdint>

namespace awqmap {

struct InputLimits {
  /// Bytes of a model description file.
  std::uint64_t max_description_bytes = 4ull << 30;
  /// Bytes of a config.json, a model.safetensors.index.json or a --mappings file.
  std::uint64_t max_json_file_bytes = 256ull << 20;
  /// Bytes of one safetensors JSON header.
  std::uint64_t max_safetensors_header_bytes = 100ull << 20;
  /// Dot-separated components in one tensor or module name.
  std::uint32_t max_name_depth = 256;
  /// Bytes of one tensor or module name.
  std::uint32_t max_name_bytes = 64 * 1024;
  /// Modules a checkpoint may create, fused experts included.
  std::uint64_t max_modules = 5'000'000;
  /// Bytes of all module names of a checkpoint together (each module's full dotted name).
  std::uint64_t max_total_name_bytes = 1ull << 30;
  /// Experts one fused expert tensor may hold (its leading dimension).
  std::uint64_t max_fused_experts = 65'536;
};

}  // namespace awqmap
