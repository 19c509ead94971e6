#include "awqmap/registry.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include "awqmap/error.hpp"
#include "awqmap/target.hpp"
#include "input/key_rename.hpp"

namespace awqmap {

namespace {
using PluginPtr = std::shared_ptr<const PluginRecord>;

// Member order matters: `plugin` (which keeps the library mapped) is destroyed last.
struct DynamicEntry {
  PluginPtr plugin;
  std::string builder_name;
  DynamicBuilder build;
  Provenance provenance;
};
struct StaticEntry {
  PluginPtr plugin;
  MappingList mappings;
  Provenance provenance;
};

// Upstream registrations and the others live side by side: an architecture may have both.
enum Tier { upstream_tier = 0, exact_tier = 1 };
Tier tier_of(const Provenance& p) { return p.origin == Origin::upstream ? upstream_tier : exact_tier; }
using Key = std::pair<std::string, Tier>;
std::string tier_text(Tier t) { return t == upstream_tier ? " (upstream)" : ""; }

std::string describe(const PluginRecord& p) {
  return "plugin '" + p.name + "' (" + p.file + ")";
}

// Collects one plugin's registrations, validating each as it arrives.
class Staging : public Registrar {
 public:
  explicit Staging(PluginPtr plugin) : plugin_(std::move(plugin)) {}

  void add_static(const std::string& architecture, MappingList mappings, Provenance provenance) override {
    check_name(architecture, "add_static: architecture");
    check_mappings(mappings, "static mappings for " + architecture);
    Key key{architecture, tier_of(provenance)};
    for (const auto& s : statics)
      if (s.first == key) fail("registers static mappings for " + architecture + tier_text(key.second) + " twice");
    statics.emplace_back(std::move(key), StaticEntry{plugin_, std::move(mappings), std::move(provenance)});
  }
  void add_dynamic(const std::string& architecture, const std::string& builder_name, DynamicBuilder builder,
                   Provenance provenance) override {
    check_name(architecture, "add_dynamic: architecture");
    check_name(builder_name, "add_dynamic: builder name for " + architecture);
    if (!builder) fail("add_dynamic: the builder '" + builder_name + "' for " + architecture + " is empty");
    Key key{architecture, tier_of(provenance)};
    for (const auto& d : dynamics)
      if (d.first == key) fail("registers a dynamic builder for " + architecture + tier_text(key.second) + " twice");
    dynamics.emplace_back(std::move(key),
                          DynamicEntry{plugin_, builder_name, std::move(builder), std::move(provenance)});
  }
  void set_default(MappingList mappings, Provenance provenance) override {
    check_mappings(mappings, "the default mappings");
    if (default_list) fail("sets the default mappings twice");
    default_list = StaticEntry{plugin_, std::move(mappings), std::move(provenance)};
  }
  void drop_checkpoint_tensors(const std::string& architecture, const std::string& pattern) override {
    check_name(architecture, "drop_checkpoint_tensors: architecture");
    check_pattern(pattern, "dropped-tensor pattern for " + architecture);
    adaptations[architecture].dropped.push_back(pattern);
  }
  void rename_checkpoint_keys(const std::string& architecture, const std::string& pattern,
                              const std::string& replacement) override {
    check_name(architecture, "rename_checkpoint_keys: architecture");
    check_pattern(pattern, "key-rename pattern for " + architecture);
    check_name(replacement, "rename_checkpoint_keys: replacement for " + architecture);
    try {
      (void)detail::CompiledKeyRename(pattern, replacement);  // the template is checked once, here
    } catch (const InputError& e) {
      fail(std::string("registers an invalid ") + e.what() + " for " + architecture);
    }
    adaptations[architecture].renames.push_back({pattern, replacement});
  }
  void split_fused_experts(const std::string& architecture, FusedExpertSplit split) override {
    check_name(architecture, "split_fused_experts: architecture");
    check_name(split.fused, "split_fused_experts: fused tensor suffix for " + architecture);
    check_name(split.prefix, "split_fused_experts: expert prefix for " + architecture);
    if (split.parts.empty()) fail("split_fused_experts for " + architecture + " names no parts");
    for (const auto& p : split.parts) check_name(p, "split_fused_experts: part name for " + architecture);
    adaptations[architecture].fused_experts.push_back(std::move(split));
  }

  std::vector<std::pair<Key, StaticEntry>> statics;
  std::vector<std::pair<Key, DynamicEntry>> dynamics;
  std::optional<StaticEntry> default_list;
  std::map<std::string, CheckpointAdaptations> adaptations;

 private:
  PluginPtr plugin_;

  [[noreturn]] void fail(const std::string& what) const { throw InputError(describe(*plugin_) + " " + what); }
  void check_name(const std::string& s, const std::string& what) const {
    if (s.empty()) fail(what + " is empty");
  }
  void check_mappings(const MappingList& mappings, const std::string& what) const {
    if (mappings.empty()) fail("registers no mappings in " + what);
    try {
      validate_mappings(mappings, what);
    } catch (const InputError& e) {
      fail(std::string("registers an invalid ") + e.what());
    }
  }
  void check_pattern(const std::string& pattern, const std::string& what) const {
    try {
      Target::compile("re:" + pattern, what);
    } catch (const InputError& e) {
      fail(std::string("registers an invalid ") + e.what());
    }
  }
};
}  // namespace

struct Registry::State {
  std::vector<PluginPtr> plugins;
  std::map<Key, DynamicEntry> dynamic;
  std::map<Key, StaticEntry> statics;
  std::optional<StaticEntry> default_list;
  std::map<std::string, CheckpointAdaptations> adaptations;
};

Registry::Registry() : state_(std::make_unique<State>()) {}
Registry::~Registry() = default;

void Registry::register_plugin(PluginRecord plugin, const std::function<void(Registrar&)>& register_fn,
                               bool allow_override) {
  if (!register_fn) throw InputError(describe(plugin) + " has no registration callback");
  auto record = std::make_shared<const PluginRecord>(std::move(plugin));
  Staging staging(record);
  try {
    register_fn(staging);
  } catch (const InputError& e) {
    // The registrar's own errors already name the plugin; one the plugin threw may not.
    if (std::string_view(e.what()).find(record->file) != std::string_view::npos) throw;
    throw InputError(describe(*record) + " failed while registering: " + e.what());
  } catch (const std::exception& e) {
    throw InputError(describe(*record) + " failed while registering: " + e.what());
  } catch (...) {
    throw InputError(describe(*record) + " failed while registering (unknown exception)");
  }

  std::unique_lock lock(mutex_);
  State& s = *state_;
  for (const auto& p : s.plugins) {
    if (p->file == record->file) throw InputError(describe(*record) + " is already loaded");
    // The same plugin found twice on the search path (installed and in a build folder, say):
    // the first one loaded stays, the copy is skipped.
    if (p->name == record->name && p->version == record->version) {
      skipped_duplicates_.push_back(describe(*record) + " is the same plugin as " + describe(*p) +
                                    " (same name and version); loaded once, from the first");
      return;
    }
  }
  // Conflicts are checked before anything is committed.
  auto conflict = [&](const PluginRecord& earlier, const std::string& what) {
    throw InputError(describe(*record) + " registers " + what + ", which " + describe(earlier) +
                     " already registered; remove one of the two files, or allow overrides "
                     "(--allow-override: the plugin loaded first wins)");
  };
  if (!allow_override) {
    for (const auto& [key, e] : staging.dynamics)
      if (auto it = s.dynamic.find(key); it != s.dynamic.end())
        conflict(*it->second.plugin, "a dynamic builder for " + key.first + tier_text(key.second));
    for (const auto& [key, e] : staging.statics)
      if (auto it = s.statics.find(key); it != s.statics.end())
        conflict(*it->second.plugin, "static mappings for " + key.first + tier_text(key.second));
    if (staging.default_list && s.default_list) conflict(*s.default_list->plugin, "the default mappings");
  }
  for (auto& [key, e] : staging.dynamics) s.dynamic.emplace(key, std::move(e));
  for (auto& [key, e] : staging.statics) s.statics.emplace(key, std::move(e));
  if (staging.default_list && !s.default_list) s.default_list = std::move(staging.default_list);
  for (auto& [arch, a] : staging.adaptations) {
    auto& into = s.adaptations[arch];
    into.dropped.insert(into.dropped.end(), a.dropped.begin(), a.dropped.end());
    into.renames.insert(into.renames.end(), a.renames.begin(), a.renames.end());
    into.fused_experts.insert(into.fused_experts.end(), a.fused_experts.begin(), a.fused_experts.end());
  }
  s.plugins.push_back(record);
}

Selection Registry::select(const ModelView& model, SelectionMode mode) const {
  std::shared_lock lock(mutex_);
  const State& s = *state_;
  Selection out;
  const std::string& arch = model.architecture();
  // Exact mode tries the peer/analysis registrations first, then upstream's; upstream mode
  // sees upstream's only.
  std::vector<Tier> tiers;
  if (mode == SelectionMode::exact) tiers.push_back(exact_tier);
  tiers.push_back(upstream_tier);
  for (Tier tier : tiers) {
    if (auto it = s.dynamic.find(Key{arch, tier}); it != s.dynamic.end()) {
      const DynamicEntry& d = it->second;
      const std::string who = "dynamic builder '" + d.builder_name + "' of " + describe(*d.plugin);
      BuildResult r;
      try {
        r = d.build(model);
      } catch (const std::exception& e) {
        throw InputError(who + " failed on " + model.origin() + ": " + e.what());
      }
      if (r.mappings) {
        try {
          validate_mappings(*r.mappings, who);
        } catch (const InputError& e) {
          throw InputError(who + " built an invalid mapping list: " + e.what());
        }
        out.kind = SelectionKind::dynamic;
        out.builder = d.builder_name;
        out.plugin = d.plugin->name;
        out.origin = d.provenance.origin;
        out.source = d.provenance.source;
        out.mappings = std::move(*r.mappings);
        return out;
      }
      const std::string reason = r.declined_because.empty() ? "no reason given" : r.declined_because;
      out.declined.push_back("dynamic builder '" + d.builder_name + "' (plugin " + d.plugin->name +
                             ") declined: " + reason);
      out.declined_builders.push_back({d.builder_name, d.plugin->name, reason});
    }
    if (auto it = s.statics.find(Key{arch, tier}); it != s.statics.end()) {
      out.kind = SelectionKind::static_list;
      out.plugin = it->second.plugin->name;
      out.origin = it->second.provenance.origin;
      out.source = it->second.provenance.source;
      out.mappings = it->second.mappings;
      return out;
    }
  }
  if (s.default_list) {
    out.kind = SelectionKind::default_list;
    out.plugin = s.default_list->plugin->name;
    out.origin = s.default_list->provenance.origin;
    out.source = s.default_list->provenance.source;
    out.mappings = s.default_list->mappings;
    return out;
  }
  throw InputError("no mappings for architecture '" + arch + "' (" + model.origin() +
                   "): no loaded plugin registers it and none sets the default mappings; "
                   "load the defaults plugin or pass --mappings FILE");
}

CheckpointAdaptations Registry::adaptations(const std::string& architecture) const {
  std::shared_lock lock(mutex_);
  auto it = state_->adaptations.find(architecture);
  return it == state_->adaptations.end() ? CheckpointAdaptations{} : it->second;
}

std::vector<std::shared_ptr<const PluginRecord>> Registry::plugins() const {
  std::shared_lock lock(mutex_);
  return state_->plugins;
}

std::vector<ArchitectureEntry> Registry::architectures() const {
  std::shared_lock lock(mutex_);
  std::vector<ArchitectureEntry> out;
  for (const auto& [key, e] : state_->dynamic)
    out.push_back({key.first, EntryKind::dynamic, e.builder_name, e.plugin, e.provenance, {}});
  for (const auto& [key, e] : state_->statics)
    out.push_back({key.first, EntryKind::static_list, {}, e.plugin, e.provenance, e.mappings});
  // By name; within a name the entry exact selection tries first comes first.
  auto rank = [](const ArchitectureEntry& a) {
    return (a.provenance.origin == Origin::upstream ? 2 : 0) + (a.kind == EntryKind::dynamic ? 0 : 1);
  };
  std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
    return a.architecture != b.architecture ? a.architecture < b.architecture : rank(a) < rank(b);
  });
  return out;
}

std::optional<MappingList> Registry::default_mappings() const {
  std::shared_lock lock(mutex_);
  if (!state_->default_list) return std::nullopt;
  return state_->default_list->mappings;
}

std::vector<std::string> Registry::skipped_duplicates() const {
  std::shared_lock lock(mutex_);
  return skipped_duplicates_;
}

bool Registry::has_default() const {
  std::shared_lock lock(mutex_);
  return state_->default_list.has_value();
}

}  // namespace awqmap
