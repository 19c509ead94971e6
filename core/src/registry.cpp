#include "awqmap/registry.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>

#include "awqmap/error.hpp"
#include "input/key_rename.hpp"
#include "target_cache.hpp"

namespace awqmap {

namespace {
using PluginPtr = std::shared_ptr<const PluginRecord>;

// A plugin's builder: its C function, and the user data the core owns from registration on.
// Destroyed (user data freed by the plugin's own function) before the plugin is unloaded: see
// DynamicEntry's member order.
struct Builder {
  awqmap_builder_fn fn = nullptr;
  void* user_data = nullptr;
  awqmap_destroy_fn destroy = nullptr;

  Builder(awqmap_builder_fn f, void* u, awqmap_destroy_fn d) : fn(f), user_data(u), destroy(d) {}
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;
  ~Builder() {
    if (destroy) destroy(user_data);
  }
};

// Member order matters: `plugin` (which keeps the library mapped) is destroyed last.
struct DynamicEntry {
  PluginPtr plugin;
  std::string builder_name;
  std::shared_ptr<const Builder> build;
  Provenance provenance;
};
struct StaticEntry {
  PluginPtr plugin;
  std::shared_ptr<const MappingList> mappings;  // shared by the entries that register an equal list
  Provenance provenance;
};

// A list as a plugin passes it (pointers checked), hashed and compared as the core's lists are.
std::size_t list_hash(std::size_t h, std::string_view text) {
  return (h * 1000003) ^ std::hash<std::string_view>{}(text);
}
std::size_t hash_of(const awqmap_plugin_mapping* mappings, std::size_t count) {
  std::size_t h = count;
  for (std::size_t i = 0; i < count; ++i) {
    const awqmap_plugin_mapping& m = mappings[i];
    h = list_hash(h * 31 + m.balance_count, m.smooth_layer);
    for (std::size_t j = 0; j < m.balance_count; ++j) h = list_hash(h, m.balance_layers[j]);
    h = m.activation_hook_target ? list_hash(h + 1, m.activation_hook_target) : h * 7;
  }
  return h;
}
std::size_t hash_of(const MappingList& mappings) {
  std::size_t h = mappings.size();
  for (const Mapping& m : mappings) {
    h = list_hash(h * 31 + m.balance_layers.size(), m.smooth_layer);
    for (const auto& b : m.balance_layers) h = list_hash(h, b);
    h = m.activation_hook_target ? list_hash(h + 1, *m.activation_hook_target) : h * 7;
  }
  return h;
}
bool equal(const awqmap_plugin_mapping* mappings, std::size_t count, const MappingList& list) {
  if (count != list.size()) return false;
  for (std::size_t i = 0; i < count; ++i) {
    const awqmap_plugin_mapping& m = mappings[i];
    const Mapping& l = list[i];
    if (l.smooth_layer != m.smooth_layer || l.balance_layers.size() != m.balance_count ||
        l.activation_hook_target.has_value() != (m.activation_hook_target != nullptr) ||
        (m.activation_hook_target && *l.activation_hook_target != m.activation_hook_target))
      return false;
    for (std::size_t j = 0; j < m.balance_count; ++j)
      if (l.balance_layers[j] != m.balance_layers[j]) return false;
  }
  return true;
}

// The static lists registered so far: plugins register one list for many architectures (the
// shipped ones 248 lists, 121 distinct), and a list equal to one registered before needs
// neither a copy nor a check. Lists of plugins that failed later stay: they are valid.
class RegisteredLists {
 public:
  std::shared_ptr<const MappingList> find(const awqmap_plugin_mapping* mappings, std::size_t count) {
    const std::size_t h = hash_of(mappings, count);
    std::lock_guard lock(mutex_);
    for (auto [it, end] = by_hash_.equal_range(h); it != end; ++it)
      if (equal(mappings, count, *it->second)) return it->second;
    return nullptr;
  }
  /// `list`, checked, for later registrations to share.
  std::shared_ptr<const MappingList> add(MappingList list) {
    auto shared = std::make_shared<const MappingList>(std::move(list));
    const std::size_t h = hash_of(*shared);
    std::lock_guard lock(mutex_);
    by_hash_.emplace(h, shared);
    return shared;
  }

 private:
  std::mutex mutex_;
  std::unordered_multimap<std::size_t, std::shared_ptr<const MappingList>> by_hash_;
};

// A static list from a plugin: one registered before, or the plugin's own, converted.
struct StaticList {
  std::shared_ptr<const MappingList> registered;
  MappingList converted;
};

// Upstream registrations and the others live side by side: an architecture may have both.
enum Tier { upstream_tier = 0, exact_tier = 1 };
Tier tier_of(const Provenance& p) { return p.origin == Origin::upstream ? upstream_tier : exact_tier; }
using Key = std::pair<std::string, Tier>;
std::string tier_text(Tier t) { return t == upstream_tier ? " (upstream)" : ""; }

std::string describe(const PluginRecord& p) {
  return "plugin '" + p.name + "' (" + p.file + ")";
}

// Collects one plugin's registrations, validating each as it arrives. Throws InputError
// naming the plugin; the C registrar functions turn that into a status and a message.
class Staging {
 public:
  Staging(PluginPtr plugin, detail::CheckedTexts& patterns, detail::CheckedTexts& renames, RegisteredLists& lists)
      : plugin_(std::move(plugin)), patterns_(patterns), renames_(renames), lists_(lists) {}

  void add_static(const std::string& architecture, StaticList list, Provenance provenance) {
    check_name(architecture, "add_static: architecture");
    std::shared_ptr<const MappingList> mappings = std::move(list.registered);
    if (!mappings) {
      check_mappings(list.converted, [&] { return "static mappings for " + architecture; });
      mappings = lists_.add(std::move(list.converted));
    }
    Key key{architecture, tier_of(provenance)};
    for (const auto& s : statics)
      if (s.first == key) fail("registers static mappings for " + architecture + tier_text(key.second) + " twice");
    statics.emplace_back(std::move(key), StaticEntry{plugin_, std::move(mappings), std::move(provenance)});
  }
  void add_dynamic(const std::string& architecture, const std::string& builder_name,
                   std::shared_ptr<const Builder> builder, Provenance provenance) {
    check_name(architecture, "add_dynamic: architecture");
    check_name(builder_name, "add_dynamic: builder name for " + architecture);
    if (!builder->fn) fail("add_dynamic: the builder '" + builder_name + "' for " + architecture + " is empty");
    Key key{architecture, tier_of(provenance)};
    for (const auto& d : dynamics)
      if (d.first == key) fail("registers a dynamic builder for " + architecture + tier_text(key.second) + " twice");
    dynamics.emplace_back(std::move(key),
                          DynamicEntry{plugin_, builder_name, std::move(builder), std::move(provenance)});
  }
  void set_default(MappingList mappings, Provenance provenance) {
    check_mappings(mappings, [] { return std::string("the default mappings"); });
    if (default_list) fail("sets the default mappings twice");
    default_list = StaticEntry{plugin_, std::make_shared<const MappingList>(std::move(mappings)), std::move(provenance)};
  }
  void drop_checkpoint_tensors(const std::string& architecture, const std::string& pattern) {
    check_name(architecture, "drop_checkpoint_tensors: architecture");
    check_pattern(pattern, "dropped-tensor pattern for " + architecture);
    adaptations[architecture].dropped.push_back(pattern);
  }
  void rename_checkpoint_keys(const std::string& architecture, const std::string& pattern,
                              const std::string& replacement) {
    check_name(architecture, "rename_checkpoint_keys: architecture");
    check_pattern(pattern, "key-rename pattern for " + architecture);
    check_name(replacement, "rename_checkpoint_keys: replacement for " + architecture);
    try {
      // The template is checked here, once per registry for a pair that recurs across architectures.
      renames_.check_once(pattern + '\0' + replacement,
                          [&] { detail::CompiledKeyRename::check(pattern, replacement); });
    } catch (const InputError& e) {
      fail(std::string("registers an invalid ") + e.what() + " for " + architecture);
    }
    adaptations[architecture].renames.push_back({pattern, replacement});
  }
  void split_fused_experts(const std::string& architecture, FusedExpertSplit split) {
    check_name(architecture, "split_fused_experts: architecture");
    check_name(split.fused, "split_fused_experts: fused tensor suffix for " + architecture);
    check_name(split.prefix, "split_fused_experts: expert prefix for " + architecture);
    if (split.parts.empty()) fail("split_fused_experts for " + architecture + " names no parts");
    for (const auto& p : split.parts) check_name(p, "split_fused_experts: part name for " + architecture);
    adaptations[architecture].fused_experts.push_back(std::move(split));
  }
  [[noreturn]] void fail(const std::string& what) const { throw InputError(describe(*plugin_) + " " + what); }
  const PluginRecord& plugin() const { return *plugin_; }
  RegisteredLists& lists() const { return lists_; }

  std::vector<std::pair<Key, StaticEntry>> statics;
  std::vector<std::pair<Key, DynamicEntry>> dynamics;
  std::optional<StaticEntry> default_list;
  std::map<std::string, CheckpointAdaptations> adaptations;

 private:
  PluginPtr plugin_;
  detail::CheckedTexts& patterns_;
  detail::CheckedTexts& renames_;
  RegisteredLists& lists_;

  void check_name(const std::string& s, const std::string& what) const {
    if (s.empty()) fail(what + " is empty");
  }
  // `what()` names the list, for a message only.
  void check_mappings(const MappingList& mappings, const std::function<std::string()>& what) const {
    if (mappings.empty()) fail("registers no mappings in " + what());
    try {
      detail::validate_mappings(mappings, what, patterns_);
    } catch (const InputError& e) {
      fail(std::string("registers an invalid ") + e.what());
    }
  }
  void check_pattern(const std::string& pattern, const std::string& what) const {
    try {
      const std::string text = "re:" + pattern;
      if (detail::may_refuse(text)) patterns_.check_once(text, [&] { detail::check_target(text, what); });
    } catch (const InputError& e) {
      fail(std::string("registers an invalid ") + e.what());
    }
  }
};
}  // namespace

}  // namespace awqmap

// The C registrar: a staging area and the first failure's message. Once a call has failed,
// every later call fails too, so a plugin that ignores a status still keeps nothing.
struct awqmap_registrar {
  awqmap::Staging* staging = nullptr;
  std::string error;
  bool failed = false;
};

// What a builder call returns through the C functions.
struct awqmap_build {
  awqmap::MappingList mappings;
  bool declined = false;
  std::string declined_because;
  bool failed = false;
  std::string message;
};

namespace {

// Runs `what` against the registrar's staging area; every exception becomes a status and the
// registrar's message.
template <class F>
int registrar_call(awqmap_registrar* r, const char* call, F&& what) noexcept {
  if (!r) return AWQMAP_PLUGIN_INVALID_ARGUMENT;
  if (r->failed) return AWQMAP_PLUGIN_FAILED;
  try {
    what(*r->staging);
    return AWQMAP_PLUGIN_OK;
  } catch (const awqmap::InputError& e) {
    r->error = e.what();
  } catch (const std::bad_alloc&) {
    r->error = "out of memory";
  } catch (const std::exception& e) {
    r->error = awqmap::describe(r->staging->plugin()) + " " + call + ": " + e.what();
  } catch (...) {
    r->error = awqmap::describe(r->staging->plugin()) + " " + call + " failed";
  }
  r->failed = true;
  return AWQMAP_PLUGIN_FAILED;
}

std::string text(const char* s) {
  return s ? std::string(s) : std::string();
}

// NULL strings where a string is needed are refused by the staging area's own checks (empty),
// except inside a mapping, where they are refused here by position.
void check_c_mappings(const awqmap::Staging& staging, const awqmap_plugin_mapping* mappings, std::size_t count,
                      const std::function<std::string()>& what) {
  if (count && !mappings) staging.fail("passes no mapping array for " + what());
  for (std::size_t i = 0; i < count; ++i) {
    const awqmap_plugin_mapping& m = mappings[i];
    // Made only for a message: plugins pass thousands of mappings.
    auto where = [&] { return "mapping #" + std::to_string(i) + " of " + what(); };
    if (!m.smooth_layer) staging.fail("passes no smooth_layer in " + where());
    if (m.balance_count && !m.balance_layers) staging.fail("passes no balance_layers array in " + where());
    for (std::size_t j = 0; j < m.balance_count; ++j)
      if (!m.balance_layers[j]) staging.fail("passes a NULL balance layer #" + std::to_string(j) + " in " + where());
  }
}

// Checked with check_c_mappings.
awqmap::MappingList mappings_from_c(const awqmap_plugin_mapping* mappings, std::size_t count) {
  awqmap::MappingList out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const awqmap_plugin_mapping& m = mappings[i];
    std::optional<std::string> hook;
    if (m.activation_hook_target) hook = m.activation_hook_target;
    out.emplace_back(m.smooth_layer, std::vector<std::string>(m.balance_layers, m.balance_layers + m.balance_count),
                     std::move(hook));
  }
  return out;
}

awqmap::MappingList checked_mappings_from_c(const awqmap::Staging& staging, const awqmap_plugin_mapping* mappings,
                                            std::size_t count, const std::function<std::string()>& what) {
  check_c_mappings(staging, mappings, count, what);
  return mappings_from_c(mappings, count);
}

awqmap::StaticList static_list_from_c(const awqmap::Staging& staging, const awqmap_plugin_mapping* mappings,
                                      std::size_t count, const std::function<std::string()>& what) {
  check_c_mappings(staging, mappings, count, what);
  awqmap::StaticList out;
  out.registered = staging.lists().find(mappings, count);
  if (!out.registered) out.converted = mappings_from_c(mappings, count);
  return out;
}

awqmap::Provenance provenance_from_c(const awqmap::Staging& staging, const awqmap_provenance* p) {
  awqmap::Provenance out;
  if (!p) return out;
  switch (p->origin) {
    case AWQMAP_ORIGIN_ANALYSIS: out.origin = awqmap::Origin::analysis; break;
    case AWQMAP_ORIGIN_UPSTREAM: out.origin = awqmap::Origin::upstream; break;
    case AWQMAP_ORIGIN_PEER: out.origin = awqmap::Origin::peer; break;
    default:
      staging.fail("gives an unknown origin " + std::to_string(p->origin) +
                   " (AWQMAP_ORIGIN_ANALYSIS, _UPSTREAM or _PEER)");
  }
  out.source = text(p->source);
  return out;
}

template <class F>
int build_call(awqmap_build* out, F&& what) noexcept {
  if (!out) return AWQMAP_PLUGIN_INVALID_ARGUMENT;
  try {
    what(*out);
    return AWQMAP_PLUGIN_OK;
  } catch (...) {
    out->failed = true;
    if (out->message.empty()) out->message = "out of memory while recording its result";
    return AWQMAP_PLUGIN_FAILED;
  }
}

}  // namespace

extern "C" {

int awqmap_registrar_add_static(awqmap_registrar* r, const char* architecture, const awqmap_plugin_mapping* mappings,
                                size_t count, const awqmap_provenance* provenance) {
  return registrar_call(r, "add_static", [&](awqmap::Staging& s) {
    const std::string arch = text(architecture);
    s.add_static(arch, static_list_from_c(s, mappings, count, [&] { return "static mappings for " + arch; }),
                 provenance_from_c(s, provenance));
  });
}

int awqmap_registrar_add_dynamic(awqmap_registrar* r, const char* architecture, const char* builder_name,
                                 awqmap_builder_fn builder, void* user_data, awqmap_destroy_fn destroy,
                                 const awqmap_provenance* provenance) {
  // The core owns user_data from here on, whatever happens next.
  std::shared_ptr<const awqmap::Builder> held;
  try {
    held = std::make_shared<const awqmap::Builder>(builder, user_data, destroy);
  } catch (...) {
    if (destroy) destroy(user_data);
    if (r && !r->failed) {
      r->failed = true;
      r->error = "out of memory";
    }
    return AWQMAP_PLUGIN_FAILED;
  }
  return registrar_call(r, "add_dynamic", [&](awqmap::Staging& s) {
    s.add_dynamic(text(architecture), text(builder_name), std::move(held), provenance_from_c(s, provenance));
  });
}

int awqmap_registrar_set_default(awqmap_registrar* r, const awqmap_plugin_mapping* mappings, size_t count,
                                 const awqmap_provenance* provenance) {
  return registrar_call(r, "set_default", [&](awqmap::Staging& s) {
    s.set_default(checked_mappings_from_c(s, mappings, count, [] { return std::string("the default mappings"); }),
                  provenance_from_c(s, provenance));
  });
}

int awqmap_registrar_drop_checkpoint_tensors(awqmap_registrar* r, const char* architecture, const char* pattern) {
  return registrar_call(r, "drop_checkpoint_tensors", [&](awqmap::Staging& s) {
    if (!pattern) s.fail("drop_checkpoint_tensors: passes no pattern");
    s.drop_checkpoint_tensors(text(architecture), pattern);
  });
}

int awqmap_registrar_rename_checkpoint_keys(awqmap_registrar* r, const char* architecture, const char* pattern,
                                            const char* replacement) {
  return registrar_call(r, "rename_checkpoint_keys", [&](awqmap::Staging& s) {
    if (!pattern) s.fail("rename_checkpoint_keys: passes no pattern");
    s.rename_checkpoint_keys(text(architecture), pattern, text(replacement));
  });
}

int awqmap_registrar_split_fused_experts(awqmap_registrar* r, const char* architecture, const char* fused,
                                         const char* prefix, const char* const* parts, size_t part_count) {
  return registrar_call(r, "split_fused_experts", [&](awqmap::Staging& s) {
    awqmap::FusedExpertSplit split{text(fused), text(prefix), {}};
    if (part_count && !parts) s.fail("split_fused_experts: passes no parts array");
    for (std::size_t i = 0; i < part_count; ++i) split.parts.push_back(text(parts[i]));
    s.split_fused_experts(text(architecture), std::move(split));
  });
}

int awqmap_registrar_fail(awqmap_registrar* r, const char* message) {
  return registrar_call(r, "fail", [&](awqmap::Staging& s) {
    s.fail("failed while registering: " + (message && *message ? std::string(message) : "no reason given"));
  });
}

const char* awqmap_registrar_error(const awqmap_registrar* r) {
  return r && r->failed ? r->error.c_str() : nullptr;
}

int awqmap_build_add_mapping(awqmap_build* out, const char* smooth_layer, const char* const* balance_layers,
                             size_t balance_count, const char* activation_hook_target) {
  if (out && (!smooth_layer || (balance_count && !balance_layers))) {
    out->failed = true;
    out->message = "awqmap_build_add_mapping got a NULL smooth_layer or balance_layers";
    return AWQMAP_PLUGIN_INVALID_ARGUMENT;
  }
  return build_call(out, [&](awqmap_build& b) {
    std::vector<std::string> balance;
    for (std::size_t i = 0; i < balance_count; ++i) {
      if (!balance_layers[i]) throw std::invalid_argument("NULL balance layer");
      balance.emplace_back(balance_layers[i]);
    }
    std::optional<std::string> hook;
    if (activation_hook_target) hook = activation_hook_target;
    b.mappings.emplace_back(smooth_layer, std::move(balance), std::move(hook));
  });
}

int awqmap_build_decline(awqmap_build* out, const char* reason) {
  return build_call(out, [&](awqmap_build& b) {
    b.declined = true;
    b.declined_because = text(reason);
  });
}

int awqmap_build_fail(awqmap_build* out, const char* message) {
  return build_call(out, [&](awqmap_build& b) {
    b.failed = true;
    if (b.message.empty()) b.message = message && *message ? message : "no reason given";
  });
}

}  // extern "C"

namespace awqmap {

// Hidden although nested in an exported class: nothing of it is public API.
struct __attribute__((visibility("hidden"))) Registry::Impl {
  std::vector<PluginPtr> plugins;
  std::map<Key, DynamicEntry> dynamic;
  std::map<Key, StaticEntry> statics;
  std::optional<StaticEntry> default_list;
  std::map<std::string, CheckpointAdaptations> adaptations;  // merged across plugins, for the reader
  std::vector<AdaptationEntry> adaptation_entries;          // per plugin, in load order, for listings
  std::vector<std::string> skipped_duplicates;
  mutable std::shared_mutex mutex;
  // Every registered pattern and every builder output is checked; the texts recur across
  // plugins and models, so those that take translating are checked once per registry. So are
  // the key renames (a pattern and its template, joined by a NUL that neither can hold: they
  // come as C strings).
  mutable detail::CheckedTexts patterns;
  detail::CheckedTexts renames;
  RegisteredLists lists;

  void register_with(PluginRecord plugin, const std::function<int(awqmap_registrar*)>& call, bool allow_override);
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

const awqmap_plugin_model* plugin_model(const ModelView& model) {
  return reinterpret_cast<const awqmap_plugin_model*>(&model);
}

void Registry::register_plugin(PluginRecord record, const std::function<void(Registrar&)>& register_fn,
                               bool allow_override) {
  if (!register_fn) throw InputError(describe(record) + " has no registration callback");
  impl_->register_with(
      std::move(record), [&register_fn](awqmap_registrar* r) { return plugin::run_registration(r, register_fn); },
      allow_override);
}

void Registry::register_plugin(PluginRecord record, int (*register_fn)(awqmap_registrar*), bool allow_override) {
  if (!register_fn) throw InputError(describe(record) + " has no registration callback");
  impl_->register_with(std::move(record), register_fn, allow_override);
}

void Registry::Impl::register_with(PluginRecord plugin_record, const std::function<int(awqmap_registrar*)>& call,
                             bool allow_override) {
  auto record = std::make_shared<const PluginRecord>(std::move(plugin_record));
  Staging staging(record, patterns, renames, lists);
  awqmap_registrar registrar;
  registrar.staging = &staging;
  int status = AWQMAP_PLUGIN_FAILED;
  try {
    status = call(&registrar);
  } catch (...) {
    // A C++ plugin without the header's own guard: nothing it registered is kept.
    throw InputError(describe(*record) + " failed while registering: an exception escaped its registration "
                     "function; register through AWQMAP_PLUGIN, which catches it");
  }
  if (registrar.failed) throw InputError(registrar.error);
  if (status != AWQMAP_PLUGIN_OK)
    throw InputError(describe(*record) + " failed while registering: its registration function returned " +
                     std::to_string(status) + " without a message");

  std::unique_lock lock(mutex);
  Impl& s = *this;
  for (const auto& p : s.plugins) {
    if (p->file == record->file) throw InputError(describe(*record) + " is already loaded");
    // The same plugin found twice on the search path (installed and in a build folder, say):
    // the first one loaded stays, the copy is skipped.
    if (p->name == record->name && p->version == record->version) {
      skipped_duplicates.push_back(describe(*record) + " is the same plugin as " + describe(*p) +
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
    s.adaptation_entries.push_back(
        {arch, record, std::move(a.dropped), std::move(a.renames), std::move(a.fused_experts)});
  }
  s.plugins.push_back(record);
}

Selection Registry::select(const ModelView& model, SelectionMode mode) const {
  std::shared_lock lock(impl_->mutex);
  const Impl& s = *impl_;
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
      awqmap_build r;
      int status = AWQMAP_PLUGIN_FAILED;
      try {
        status = d.build->fn(d.build->user_data, plugin_model(model), &r);
      } catch (...) {
        // A C++ builder registered without the header's own guard.
        r.failed = true;
        r.message = "an exception escaped the builder; register it through awqmap::Registrar, which catches it";
      }
      if (r.failed || status != AWQMAP_PLUGIN_OK)
        throw InputError(who + " failed on " + model.origin() + ": " +
                         (r.message.empty() ? "it returned " + std::to_string(status) + " without a message"
                                            : r.message));
      if (!r.declined) {
        try {
          detail::validate_mappings(r.mappings, [&] { return who; }, s.patterns);
        } catch (const InputError& e) {
          throw InputError(who + " built an invalid mapping list: " + e.what());
        }
        out.kind = SelectionKind::dynamic;
        out.builder = d.builder_name;
        out.plugin = d.plugin->name;
        out.origin = d.provenance.origin;
        out.source = d.provenance.source;
        out.mappings = std::move(r.mappings);
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
      out.mappings = *it->second.mappings;
      return out;
    }
  }
  if (s.default_list) {
    out.kind = SelectionKind::default_list;
    out.plugin = s.default_list->plugin->name;
    out.origin = s.default_list->provenance.origin;
    out.source = s.default_list->provenance.source;
    out.mappings = *s.default_list->mappings;
    return out;
  }
  throw InputError("no mappings for architecture '" + arch + "' (" + model.origin() +
                   "): no loaded plugin registers it and none sets the default mappings; "
                   "load the defaults plugin or pass --mappings FILE");
}

CheckpointAdaptations Registry::adaptations(const std::string& architecture) const {
  std::shared_lock lock(impl_->mutex);
  auto it = impl_->adaptations.find(architecture);
  return it == impl_->adaptations.end() ? CheckpointAdaptations{} : it->second;
}

std::vector<AdaptationEntry> Registry::adaptation_entries() const {
  std::shared_lock lock(impl_->mutex);
  std::vector<AdaptationEntry> out = impl_->adaptation_entries;
  std::stable_sort(out.begin(), out.end(),
                   [](const AdaptationEntry& a, const AdaptationEntry& b) { return a.architecture < b.architecture; });
  return out;
}

std::shared_ptr<const PluginRecord> Registry::default_plugin() const {
  std::shared_lock lock(impl_->mutex);
  return impl_->default_list ? impl_->default_list->plugin : nullptr;
}

std::vector<std::shared_ptr<const PluginRecord>> Registry::plugins() const {
  std::shared_lock lock(impl_->mutex);
  return impl_->plugins;
}

std::vector<ArchitectureEntry> Registry::architectures() const {
  std::shared_lock lock(impl_->mutex);
  std::vector<ArchitectureEntry> out;
  for (const auto& [key, e] : impl_->dynamic)
    out.push_back({key.first, EntryKind::dynamic, e.builder_name, e.plugin, e.provenance, {}});
  for (const auto& [key, e] : impl_->statics)
    out.push_back({key.first, EntryKind::static_list, {}, e.plugin, e.provenance, *e.mappings});
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
  std::shared_lock lock(impl_->mutex);
  if (!impl_->default_list) return std::nullopt;
  return *impl_->default_list->mappings;
}

std::vector<std::string> Registry::skipped_duplicates() const {
  std::shared_lock lock(impl_->mutex);
  return impl_->skipped_duplicates;
}

bool Registry::has_default() const {
  std::shared_lock lock(impl_->mutex);
  return impl_->default_list.has_value();
}

}  // namespace awqmap
