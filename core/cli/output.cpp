// The JSON of a resolution (awqmap.resolved/v1) and of a resolution error, and the text helpers.
#include "output.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iostream>

#include <nlohmann/json.hpp>

#include "json_writer.hpp"

namespace awqmap::cli {

std::string printable(std::string_view text, bool keep_newlines) {
  static const char* hex = "0123456789abcdef";
  auto needs_escape = [&](std::size_t i, std::size_t& length) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    length = 1;
    if (c < 0x20) return !(keep_newlines && c == '\n');
    if (c < 0x7F) return false;
    if (c == 0x7F) return true;
    // Valid UTF-8 passes unless it encodes a C1 control (U+0080..U+009F: C2 80..C2 9F).
    const std::size_t n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > text.size()) return true;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return true;
    length = n;
    return c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length;
    if (!needs_escape(i, length)) {
      out.append(text.data() + i, length);
      i += length;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (length == 2) {  // a C1 control, written as its code point
      c = static_cast<unsigned char>(text[i + 1]);
      out += "\\u00";
    } else {
      out += "\\x";
    }
    out += hex[c >> 4];
    out += hex[c & 0xF];
    i += length;
  }
  return out;
}

namespace {
void append_selection(std::string& out, const Selection& s) {
  out += "{\"kind\": ";
  append_json_string(out, to_string(s.kind));
  if (!s.builder.empty()) {
    out += ", \"builder\": ";
    append_json_string(out, s.builder);
  }
  if (!s.plugin.empty()) {
    out += ", \"plugin\": ";
    append_json_string(out, s.plugin);
  }
  out += "}";
}

// The entries of "resolved", written straight into the bytes of `out` from `at` on (all of
// `out` is writable room): each entry makes room for its worst case (every byte escaped) once,
// then copies its pieces without a size check each (tens of thousands of entries). With a sink,
// the text goes there whenever the room runs out, so that the buffer stays as large as it was.
// Returns the end.
std::size_t put_resolved(std::string& out, std::size_t at, const std::vector<ResolvedMapping>& resolved,
                         bool plain_names, std::FILE* sink) {
  static constexpr std::string_view kFirst = "\n  {\"mapping\": ", kNext = ",\n  {\"mapping\": ",
                                    kSmooth = ", \"smooth_name\": ", kBalance = ", \"balance_names\": [",
                                    kParent = "], \"parent_name\": ", kHook = ", \"activation_hook_target\": ";
  constexpr std::size_t kFixed = kNext.size() + 20 + kSmooth.size() + kBalance.size() + kParent.size() +
                                 kHook.size() + json_string_room(0) + 4 + 1;
  char* p = &out[at];
  auto put = [&p](std::string_view t) {
    std::memcpy(p, t.data(), t.size());
    p += t.size();
  };
  // Smooth, balance and parent names are module names (or parts of them): when the reader
  // found every name plain, they are copied without a scan.
  auto put_name = [&](std::string_view name) {
    if (!plain_names) {
      p = put_json_string(p, name);
      return;
    }
    *p++ = '"';
    if (!name.empty()) put(name);
    *p++ = '"';
  };
  for (std::size_t i = 0; i < resolved.size(); ++i) {
    const ResolvedMapping& rm = resolved[i];
    const auto& hook = rm.activation_hook_target;
    std::size_t need = kFixed + json_string_room(rm.smooth_name.size()) + json_string_room(rm.parent_name.size()) +
                       (hook ? json_string_room(hook->size()) : 0);
    for (std::string_view b : rm.balance_names) need += json_string_room(b.size()) + 2;
    at = static_cast<std::size_t>(p - out.data());
    if (out.size() - at < need) {
      if (sink) {
        std::fwrite(out.data(), 1, at, sink);
        at = 0;
      }
      if (out.size() - at < need) out.resize(std::max(at + need, 2 * out.size()));
      p = &out[at];
    }
    put(i ? kNext : kFirst);
    p = std::to_chars(p, p + 20, rm.mapping).ptr;
    put(kSmooth);
    put_name(rm.smooth_name);
    put(kBalance);
    const char* first_balance = p;
    for (std::size_t b = 0; b < rm.balance_names.size(); ++b) {
      if (b) put(", ");
      put_name(rm.balance_names[b]);
    }
    put(kParent);
    // A single balance module is its own parent (an expert's down_proj): the same bytes,
    // written already, need no second scan.
    if (rm.balance_names.size() == 1 && rm.parent_name.data() == rm.balance_names[0].data() &&
        rm.parent_name.size() == rm.balance_names[0].size()) {
      const std::size_t written = static_cast<std::size_t>(p - first_balance) - kParent.size();
      std::memcpy(p, first_balance, written);
      p += written;
    } else {
      put_name(rm.parent_name);
    }
    put(kHook);
    if (hook)
      p = put_json_string(p, *hook);
    else
      put("null");
    *p++ = '}';
  }
  return static_cast<std::size_t>(p - out.data());
}
}  // namespace

std::string resolution_json(const ModelView& model, const Selection& selection, const MappingList& mappings,
                            const Resolution& r, const Extras& extras, std::FILE* sink) {
  static const CheckpointSummary no_checkpoint;
  const CheckpointSummary& checkpoint = extras.checkpoint ? *extras.checkpoint : no_checkpoint;
  // Enough for a pipe or a file to take large writes, small enough not to add to peak memory.
  constexpr std::size_t kChunk = 128 << 10;
  std::string out;
  if (sink) {
    out.reserve(kChunk);
  } else {
    std::size_t estimate = 4096;
    for (const auto& rm : r.resolved) {
      estimate += 160 + rm.smooth_name.size() + rm.parent_name.size();
      for (auto n : rm.balance_names) estimate += n.size() + 4;
    }
    out.reserve(estimate);
  }
  out += "{\"format\": \"awqmap.resolved/v1\",\n \"architecture\": ";
  append_json_string(out, model.architecture());
  out += ",\n \"selection\": ";
  append_selection(out, selection);
  if (checkpoint.shards) {
    out += ",\n \"checkpoint\": {\"shards\": " + std::to_string(checkpoint.shards) +
           ", \"tensors\": " + std::to_string(checkpoint.tensors) +
           ", \"renamed\": " + std::to_string(checkpoint.renamed) +
           ", \"fused_split\": " + std::to_string(checkpoint.fused_split) + ", \"dropped\": [";
    for (std::size_t i = 0; i < checkpoint.dropped.size(); ++i) {
      out += i ? ", " : "";
      out += "{\"reason\": ";
      append_json_string(out, checkpoint.dropped[i].reason);
      out += ", \"count\": " + std::to_string(checkpoint.dropped[i].count) + "}";
    }
    out += "]}";
  }
  out += ",\n \"mappings\": [";
  for (std::size_t i = 0; i < mappings.size(); ++i) {
    const Mapping& m = mappings[i];
    out += i ? ",\n  " : "\n  ";
    out += "{\"smooth_layer\": ";
    append_json_string(out, m.smooth_layer);
    out += ", \"balance_layers\": [";
    for (std::size_t b = 0; b < m.balance_layers.size(); ++b) {
      if (b) out += ", ";
      append_json_string(out, m.balance_layers[b]);
    }
    out += "], \"activation_hook_target\": ";
    if (m.activation_hook_target)
      append_json_string(out, *m.activation_hook_target);
    else
      out += "null";
    if (extras.repair && i < extras.repair->repaired_from.size() && extras.repair->repaired_from[i])
      out += ", \"repaired_from\": " + std::to_string(*extras.repair->repaired_from[i]);
    out += "}";
  }
  out += "],\n \"resolved\": [";
  const std::size_t at = out.size();
  out.resize(out.capacity());
  out.resize(put_resolved(out, at, r.resolved, model.names_are_plain(), sink));
  out += "],\n \"skipped\": [";
  for (std::size_t i = 0; i < r.skipped.size(); ++i) {
    const SkippedGroup& s = r.skipped[i];
    out += i ? ",\n  " : "\n  ";
    out += "{\"mapping\": " + std::to_string(s.mapping) + ", \"smooth_name\": ";
    append_json_string(out, s.smooth_name);
    out += ", \"reason\": ";
    append_json_string(out, to_string(s.reason));
    if (auto shapes = incompatible_shapes(model, s)) {
      out += ", \"shapes\": {\"smooth_layer\": {\"name\": ";
      append_json_string(out, shapes->smooth);
      out += ", \"out_features\": " + std::to_string(shapes->out_features) + "}, \"balance_layers\": [";
      for (std::size_t b = 0; b < shapes->balances.size(); ++b) {
        out += b ? ", {\"name\": " : "{\"name\": ";
        append_json_string(out, shapes->balances[b].first);
        out += ", \"in_features\": " + std::to_string(shapes->balances[b].second) + "}";
      }
      out += std::string("], \"rule\": \"") +
               (shapes->factor == 1 ? "out_features == in_features" : "out_features == 3 * in_features") + "\"}";
    }
    out += "}";
  }
  out += "]";
  if (extras.repair) {
    nlohmann::json repairs = nlohmann::json::array();
    for (const auto& rep : extras.repair->repairs)
      repairs.push_back({{"mapping", rep.mapping},
                         {"error", std::string(to_string(rep.error))},
                         {"replaced_by", rep.replaced_by},
                         {"left_out", rep.left_out},
                         {"left_out_layers", rep.left_out_layers}});
    out += ",\n \"repairs\": " + repairs.dump();
  }
  if (extras.coverage) {
    nlohmann::json unbalanced = nlohmann::json::array();
    for (const auto& u : extras.coverage->unbalanced)
      unbalanced.push_back({{"name", u.name}, {"count", u.count}, {"reason", u.reason}});
    out += ",\n \"coverage\": " + nlohmann::json{{"targeted", extras.coverage->targeted},
                                                 {"balanced", extras.coverage->balanced},
                                                 {"unbalanced", unbalanced}}
                                      .dump();
  }
  out += "}\n";
  if (sink) {
    std::fwrite(out.data(), 1, out.size(), sink);
    return {};
  }
  return out;
}

void print_resolution_error(const ResolutionError& error, const std::string& explanation) {
  std::cerr << "awqmap: resolution error (" << to_string(error.kind()) << "): " << printable(error.what()) << "\n";
  std::cerr << "awqmap: explanation: " << printable(explanation, true) << "\n";
}

std::string error_json(const ResolutionError& error, const std::string& explanation) {
  nlohmann::json j;
  j["format"] = "awqmap.error/v1";
  j["kind"] = std::string(to_string(error.kind()));
  j["message"] = error.what();
  j["mapping"] = error.mapping_index();
  j["explanation"] = explanation;
  return j.dump(1) + "\n";
}

std::string selection_text(const Selection& s) {
  std::string out = std::string(to_string(s.kind));
  if (!s.builder.empty())
    out += " (builder " + s.builder + ", plugin " + s.plugin + ")";
  else if (!s.plugin.empty())
    out += " (plugin " + s.plugin + ")";
  return out;
}

std::optional<IncompatibleShapes> incompatible_shapes(const ModelView& model, const SkippedGroup& s) {
  if (s.reason != SkipReason::incompatible) return std::nullopt;
  // docs/semantics.md §6 step 3: which o_proj a v_proj or qkv_proj cannot be scaled into.
  auto ends_with = [](std::string_view name, std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  const ModuleIndex smooth = model.find(s.smooth_name);
  if (smooth == no_module || !model[smooth].out_features) return std::nullopt;
  IncompatibleShapes shapes{s.smooth_name, *model[smooth].out_features, ends_with(s.smooth_name, ".qkv_proj") ? 3 : 1, {}};
  for (auto b : s.balance_names) {
    const ModuleIndex i = model.find(b);
    if (i == no_module || !ends_with(b, ".o_proj") || !model[i].in_features) continue;
    if (shapes.out_features != shapes.factor * *model[i].in_features) shapes.balances.emplace_back(b, *model[i].in_features);
  }
  if (shapes.balances.empty()) return std::nullopt;
  return shapes;
}

}  // namespace awqmap::cli
