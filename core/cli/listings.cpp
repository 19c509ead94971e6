// Output of the listing commands: mappings, plugins, architectures (JSON and aligned text).
#include <array>

#include <nlohmann/json.hpp>

#include "output.hpp"

namespace awqmap::cli {
namespace {

std::string kind_name(EntryKind k) {
  return k == EntryKind::dynamic ? "dynamic" : "static";
}

// Names from plugins may hold any bytes: the JSON replaces invalid UTF-8 instead of failing.
std::string dump(const nlohmann::json& j) {
  return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Columns padded to their widest cell, two spaces apart; the last column is not padded.
template <std::size_t N>
std::string aligned(const std::vector<std::array<std::string, N>>& rows, const std::string& indent = "") {
  std::array<std::size_t, N> width{};
  for (const auto& row : rows)
    for (std::size_t c = 0; c < N; ++c) width[c] = std::max(width[c], row[c].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t c = 0; c < N; ++c)
      line += c + 1 < N ? row[c] + std::string(width[c] - row[c].size() + 2, ' ') : row[c];
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

// One registration as the JSON listings (plugins, architectures) write it.
nlohmann::json registration_json(const ArchitectureEntry& e) {
  nlohmann::json j = {{"architecture", e.architecture},
                      {"kind", kind_name(e.kind)},
                      {"origin", std::string(to_string(e.provenance.origin))},
                      {"source", e.provenance.source}};
  if (!e.builder.empty()) j["builder"] = e.builder;
  return j;
}

// One row per architecture: what exact selection uses and how it relates to upstream's choice.
struct ArchitectureRow {
  const ArchitectureEntry* used;      // what exact mode tries first
  const ArchitectureEntry* upstream;  // upstream's registration, or nullptr (default list)
  std::string differs;                // "yes", "no", or "builder" when a dynamic builder decides
};

std::vector<ArchitectureRow> architecture_rows(const std::vector<ArchitectureEntry>& entries,
                                               const std::optional<MappingList>& default_list) {
  std::vector<ArchitectureRow> rows;
  for (std::size_t i = 0; i < entries.size();) {
    std::size_t j = i;
    const ArchitectureEntry* upstream = nullptr;
    for (; j < entries.size() && entries[j].architecture == entries[i].architecture; ++j)
      if (!upstream && entries[j].provenance.origin == Origin::upstream) upstream = &entries[j];
    const ArchitectureEntry* used = &entries[i];
    std::string differs;
    if (used == upstream || used->provenance.origin == Origin::upstream)
      differs = "no";
    else if (used->kind == EntryKind::dynamic || (upstream && upstream->kind == EntryKind::dynamic))
      differs = "builder";
    else if (upstream)
      differs = used->mappings == upstream->mappings ? "no" : "yes";
    else
      differs = default_list && used->mappings == *default_list ? "no" : "yes";
    rows.push_back({used, upstream, differs});
    i = j;
  }
  return rows;
}

}  // namespace

std::string mappings_json(const ModelView& model, const Selection& s, SelectionMode mode, const MappingList& list,
                          const RepairedResolution* repaired) {
  nlohmann::json j;
  j["format"] = "awqmap.mappings/v1";
  j["architecture"] = model.architecture();
  j["selection"] = {{"kind", std::string(to_string(s.kind))},
                    {"origin", std::string(to_string(s.origin))},
                    {"mode", std::string(to_string(mode))}};
  if (!s.builder.empty()) j["selection"]["builder"] = s.builder;
  if (!s.plugin.empty()) j["selection"]["plugin"] = s.plugin;
  if (!s.source.empty()) j["selection"]["source"] = s.source;
  nlohmann::json declined = nlohmann::json::array();
  for (const auto& d : s.declined_builders)
    declined.push_back({{"builder", d.builder}, {"plugin", d.plugin}, {"reason", d.reason}});
  j["declined"] = declined;
  j["mappings"] = nlohmann::json::parse(mappings_to_json(list));
  if (repaired)
    for (std::size_t i = 0; i < list.size(); ++i)
      if (repaired->repaired_from[i]) j["mappings"][i]["repaired_from"] = *repaired->repaired_from[i];
  return j.dump(1) + "\n";
}

std::string mappings_text(const ModelView& model, const Selection& s, const MappingList& list,
                          const RepairedResolution* repaired) {
  std::string out = printable(model.architecture()) + ": " + printable(selection_text(s)) + "\n";
  for (const auto& d : s.declined) out += "  " + printable(d) + "\n";
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Mapping& m = list[i];
    out += "[" + std::to_string(i) + "] " + printable(m.smooth_layer) + " -> [";
    for (std::size_t b = 0; b < m.balance_layers.size(); ++b) out += (b ? ", " : "") + printable(m.balance_layers[b]);
    out += "]";
    if (m.activation_hook_target) out += " hook " + printable(*m.activation_hook_target);
    if (repaired && repaired->repaired_from[i])
      out += "  (repairs mapping " + std::to_string(*repaired->repaired_from[i]) + ")";
    out += "\n";
  }
  return out;
}

std::string plugins_json(const Registry& registry) {
  const auto archs = registry.architectures();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : registry.plugins()) {
    nlohmann::json regs = nlohmann::json::array();
    for (const auto& e : archs)
      if (e.plugin == p) regs.push_back(registration_json(e));
    list.push_back({{"name", p->name}, {"version", p->version}, {"file", p->file}, {"registrations", std::move(regs)}});
  }
  nlohmann::json adapted = nlohmann::json::array();
  for (const auto& a : registry.adaptation_entries()) {
    nlohmann::json renames = nlohmann::json::array(), fused = nlohmann::json::array();
    for (const auto& r : a.renames) renames.push_back({{"pattern", r.pattern}, {"replacement", r.replacement}});
    for (const auto& f : a.fused_experts) fused.push_back({{"fused", f.fused}, {"prefix", f.prefix}, {"parts", f.parts}});
    adapted.push_back({{"architecture", a.architecture}, {"plugin", a.plugin->name}, {"dropped", a.dropped},
                       {"renames", std::move(renames)}, {"fused_experts", std::move(fused)}});
  }
  const auto defaults = registry.default_plugin();
  nlohmann::json out = {{"format", "awqmap.plugins/v1"},
                        {"plugins", std::move(list)},
                        {"default_mappings", defaults != nullptr},
                        {"default_mappings_plugin", defaults ? nlohmann::json(defaults->name) : nlohmann::json()},
                        {"adaptations", std::move(adapted)},
                        {"skipped_duplicates", registry.skipped_duplicates()}};
  return dump(out);
}

std::string plugins_text(const Registry& registry) {
  const auto archs = registry.architectures();
  const auto plugins = registry.plugins();
  if (plugins.empty()) return "no plugins loaded\n";
  std::string out;
  for (const auto& p : plugins) {
    out += printable(p->name) + " " + printable(p->version) + "  " + printable(p->file) + "\n";
    std::vector<std::array<std::string, 3>> rows;
    for (const auto& e : archs)
      if (e.plugin == p)
        rows.push_back({kind_name(e.kind), printable(e.architecture),
                        e.builder.empty() ? "" : "(builder " + printable(e.builder) + ")"});
    out += aligned(rows, "  ");
  }
  const auto defaults = registry.default_plugin();
  out += "\ndefault mappings: " +
         (defaults ? "set by plugin " + printable(defaults->name)
                   : std::string("none (an architecture no plugin registers cannot be resolved)")) +
         "\n";
  const auto adapted = registry.adaptation_entries();
  if (!adapted.empty()) {
    out += "\ncheckpoint adaptations (applied when a checkpoint directory is read):\n";
    std::vector<std::array<std::string, 4>> rows;
    for (const auto& a : adapted) {
      const std::string arch = printable(a.architecture), plugin = printable(a.plugin->name);
      for (const auto& d : a.dropped) rows.push_back({arch, plugin, "drop", printable(d)});
      for (const auto& r : a.renames)
        rows.push_back({arch, plugin, "rename", printable(r.pattern) + " -> " + printable(r.replacement)});
      for (const auto& f : a.fused_experts) {
        std::string parts;
        for (const auto& part : f.parts) parts += (parts.empty() ? "" : ",") + printable(part);
        if (f.parts.size() > 1) parts = "{" + parts + "}";
        rows.push_back({arch, plugin, "split", printable(f.fused) + " -> " + printable(f.prefix) + ".N." + parts});
      }
    }
    out += aligned(rows, "  ");
  }
  return out;
}

std::string architectures_json(const Registry& registry) {
  const auto entries = registry.architectures();
  const auto default_list = registry.default_mappings();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : architecture_rows(entries, default_list)) {
    nlohmann::json j = registration_json(*r.used);
    j["plugin"] = r.used->plugin->name;
    j["upstream"] = r.upstream ? nlohmann::json(kind_name(r.upstream->kind)) : nlohmann::json("default");
    j["differs_from_upstream"] = r.differs;
    list.push_back(std::move(j));
  }
  nlohmann::json out = {{"format", "awqmap.architectures/v1"},
                        {"architectures", std::move(list)},
                        {"default_mappings", default_list.has_value()}};
  return out.dump(1) + "\n";
}

std::string architectures_text(const Registry& registry) {
  const auto entries = registry.architectures();
  const auto default_list = registry.default_mappings();
  const auto rows = architecture_rows(entries, default_list);
  std::vector<std::array<std::string, 6>> table = {
      {"ARCHITECTURE", "KIND", "PLUGIN", "ORIGIN", "VS UPSTREAM", "SOURCE"}};
  for (const auto& r : rows)
    table.push_back({printable(r.used->architecture), kind_name(r.used->kind), printable(r.used->plugin->name),
                     std::string(to_string(r.used->provenance.origin)),
                     r.differs == "no" ? "same" : r.differs == "yes" ? "differs" : "builder",
                     printable(r.used->provenance.source)});
  return aligned(table) + "\n" + std::to_string(rows.size()) + " architectures; " +
         (default_list ? "any other architecture gets the default mappings (unverified for it)\n"
                       : "no default mappings loaded\n");
}

}  // namespace awqmap::cli
