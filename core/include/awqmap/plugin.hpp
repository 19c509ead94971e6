#pragma once
// The plugin contract: the one header a plugin author needs.
//
//   #include <awqmap/plugin.hpp>
//   static void register_plugin(awqmap::Registrar& r) {
//     r.add_static("MixtralForCausalLM", {{"re:.*input_layernorm$", {"re:.*q_proj$", ...}}});
//   }
//   AWQMAP_PLUGIN("mixtral", "1.0.0", register_plugin)
//
// The loader finds the exported entry symbol, checks `api_version` before touching anything
// else, then calls `register_plugin` once with a Registrar. Everything registered is validated
// on the spot (patterns compile in the Python dialect, names are non-empty); if the callback
// throws or registers anything invalid, nothing of the plugin is kept.
//
// ABI: a plugin passes C++ types (std::string, std::function) to the core, so it must be built
// with the same compiler family and standard library as the core, against the same
// `plugin_api_version`. A plugin built for another API version is refused by name.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <boost/dll/alias.hpp>

#include "awqmap/mapping.hpp"
#include "awqmap/model.hpp"
#include "awqmap/origin.hpp"

namespace awqmap {

/// Bumped whenever Registrar, BuildResult, Provenance or PluginInfo change in any way.
inline constexpr std::uint32_t plugin_api_version = 2;

/// What a dynamic builder returns: mappings, or a decline with the reason selection reports.
struct BuildResult {
  std::optional<MappingList> mappings;
  std::string declined_because;

  static BuildResult use(MappingList m) { return {std::move(m), {}}; }
  static BuildResult decline(std::string reason) { return {std::nullopt, std::move(reason)}; }
};

/// Called with a read-only view of the model; must not keep references to it.
using DynamicBuilder = std::function<BuildResult(const ModelView&)>;

/// Fused per-layer expert tensors that calibration splits into one module per expert
/// (docs/semantics.md §8). `fused` is the tensor name suffix (e.g. "mlp.experts.gate_up_proj"); each expert
/// e of the leading dimension becomes `<prefix>.<e>.<parts[k]>`, the second dimension being
/// split into `parts.size()` equal slices in order.
struct FusedExpertSplit {
  std::string fused;
  std::string prefix;
  std::vector<std::string> parts;
};

class Registrar {
 public:
  virtual ~Registrar() = default;
  /// Static mappings for an architecture (docs/semantics.md §2 step 3).
  virtual void add_static(const std::string& architecture, MappingList mappings, Provenance provenance) = 0;
  /// A dynamic builder for an architecture (docs/semantics.md §2 step 2); `builder_name` is reported.
  virtual void add_dynamic(const std::string& architecture, const std::string& builder_name,
                           DynamicBuilder builder, Provenance provenance) = 0;
  /// The default mappings (docs/semantics.md §2 step 4). Exactly one loaded plugin may set them.
  virtual void set_default(MappingList mappings, Provenance provenance) = 0;

  /// The same, for mappings of the plugin's own analysis (Origin::analysis, no source).
  void add_static(const std::string& architecture, MappingList mappings) {
    add_static(architecture, std::move(mappings), Provenance{});
  }
  void add_dynamic(const std::string& architecture, const std::string& builder_name, DynamicBuilder builder) {
    add_dynamic(architecture, builder_name, std::move(builder), Provenance{});
  }
  void set_default(MappingList mappings) { set_default(std::move(mappings), Provenance{}); }
  /// Checkpoint tensors the model drops when it loads: a Python regex, re.match on the name.
  virtual void drop_checkpoint_tensors(const std::string& architecture, const std::string& pattern) = 0;
  /// Checkpoint key renames: a Python regex (re.match) and a replacement with \1-style groups.
  virtual void rename_checkpoint_keys(const std::string& architecture, const std::string& pattern,
                                      const std::string& replacement) = 0;
  /// Fused expert tensors to split into per-expert modules.
  virtual void split_fused_experts(const std::string& architecture, FusedExpertSplit split) = 0;
};

extern "C" {
/// Layout rule: `api_version` stays the first member forever, so the loader can read it from
/// a plugin of any version.
struct PluginInfo {
  std::uint32_t api_version;
  const char* name;
  const char* version;
  void (*register_plugin)(Registrar&);
};
}

using PluginEntry = const PluginInfo*();

/// The exported symbol's name.
inline constexpr const char* plugin_entry_symbol = "awqmap_plugin";

}  // namespace awqmap

/// Declares the plugin's entry point: one per plugin shared library.
#define AWQMAP_PLUGIN(NAME, VERSION, REGISTER_FN)                                                      \
  namespace {                                                                                          \
  const ::awqmap::PluginInfo* awqmap_plugin_info() {                                                   \
    static const ::awqmap::PluginInfo info{::awqmap::plugin_api_version, NAME, VERSION, &REGISTER_FN}; \
    return &info;                                                                                      \
  }                                                                                                    \
  }                                                                                                    \
  BOOST_DLL_ALIAS(awqmap_plugin_info, awqmap_plugin)
