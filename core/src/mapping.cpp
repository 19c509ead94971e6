#include "awqmap/mapping.hpp"

#include <nlohmann/json.hpp>

#include "mapping_json.hpp"

#include "awqmap/error.hpp"
#include "awqmap/limits.hpp"
#include "input/file_access.hpp"
#include "input/python_json.hpp"
#include "target_cache.hpp"

namespace awqmap {

std::string python_repr(const std::string& text) {
  bool has_single = text.find('\'') != std::string::npos;
  bool has_double = text.find('"') != std::string::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == static_cast<unsigned char>(quote))
      (out += '\\') += static_cast<char>(c);
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    } else
      out += static_cast<char>(c);
  }
  out += quote;
  return out;
}

std::string python_repr(const Mapping& m) {
  std::string out = "AWQMapping(smooth_layer=" + python_repr(m.smooth_layer) + ", balance_layers=[";
  for (std::size_t i = 0; i < m.balance_layers.size(); ++i) {
    if (i) out += ", ";
    out += python_repr(m.balance_layers[i]);
  }
  out += "], activation_hook_target=";
  out += m.activation_hook_target ? python_repr(*m.activation_hook_target) : "None";
  return out + ")";
}

namespace {
// `origin()` and `where` in `check(text, where)` are callables that make the texts: they are
// needed only for a message, and registries validate thousands of pattern references.
template <class Origin, class Check>
void validate_each(const MappingList& mappings, const Origin& origin, Check&& check) {
  for (std::size_t i = 0; i < mappings.size(); ++i) {
    const Mapping& m = mappings[i];
    auto where = [&] { return origin() + " mapping " + std::to_string(i); };
    if (m.smooth_layer.empty()) throw InputError(where() + ": smooth_layer is empty");
    check(m.smooth_layer, [&] { return where() + " smooth_layer"; });
    for (std::size_t b = 0; b < m.balance_layers.size(); ++b) {
      auto which = [&] { return where() + " balance_layers[" + std::to_string(b) + "]"; };
      if (m.balance_layers[b].empty()) throw InputError(where() + ": balance_layers[" + std::to_string(b) + "] is empty");
      check(m.balance_layers[b], which);
    }
  }
}
}  // namespace

void validate_mappings(const MappingList& mappings, const std::string& origin) {
  validate_each(mappings, [&] { return origin; },
                [](const std::string& t, const auto& w) { detail::check_target(t, w()); });
}

void detail::validate_mappings(const MappingList& mappings, const std::function<std::string()>& origin,
                               CheckedTexts& checked) {
  validate_each(mappings, origin, [&](const std::string& t, const auto& w) {
    if (may_refuse(t)) checked.check_once(t, [&] { check_target(t, w()); });
  });
}

MappingList detail::mappings_from_json_value(const nlohmann::json& input, const std::string& origin) {
  // `awqmap resolve --format json` output is accepted whole: its `mappings` list is the input.
  const nlohmann::json* list = &input;
  if (input.is_object() && input.contains("mappings") && input.value("format", "") == "awqmap.resolved/v1")
    list = &input["mappings"];
  if (!list->is_array())
    throw InputError(origin +
                     ": expected a JSON list of mappings "
                     "[{\"smooth_layer\": ..., \"balance_layers\": [...]}, ...] "
                     "or an awqmap.resolved/v1 document");
  MappingList out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto& item = (*list)[i];
    std::string where = origin + ": mapping " + std::to_string(i);
    if (!item.is_object()) throw InputError(where + " is not an object");
    for (auto it = item.begin(); it != item.end(); ++it)
      if (it.key() != "smooth_layer" && it.key() != "balance_layers" && it.key() != "activation_hook_target" &&
          it.key() != "repaired_from")
        throw InputError(where + ": unknown field '" + it.key() +
                         "' (expected smooth_layer, balance_layers, activation_hook_target, repaired_from)");
    Mapping m;
    auto s = item.find("smooth_layer");
    if (s == item.end() || !s->is_string()) throw InputError(where + ": smooth_layer must be a string");
    m.smooth_layer = s->get<std::string>();
    auto b = item.find("balance_layers");
    if (b == item.end() || !b->is_array()) throw InputError(where + ": balance_layers must be a list of strings");
    for (const auto& t : *b) {
      if (!t.is_string()) throw InputError(where + ": balance_layers must be a list of strings");
      m.balance_layers.push_back(t.get<std::string>());
    }
    auto h = item.find("activation_hook_target");
    if (h != item.end() && !h->is_null()) {
      if (!h->is_string()) throw InputError(where + ": activation_hook_target must be a string or null");
      m.activation_hook_target = h->get<std::string>();
    }
    // Informational only (which mapping a repaired one replaced); checked so that a typo is caught.
    auto r = item.find("repaired_from");
    if (r != item.end() && !r->is_null() && !r->is_number_unsigned())
      throw InputError(where + ": repaired_from must be a mapping index (a non-negative integer) or null");
    out.push_back(std::move(m));
  }
  validate_mappings(out, origin + ":");
  return out;
}

MappingList load_mappings_file(const std::string& path) {
  // A regular file only, read with a limit: a FIFO or a device named here must not hang or
  // grow memory, and errors give the position, never the bytes.
  const InputLimits limits;
  const simdjson::padded_string text =
      detail::read_regular_file(path, {"max_json_file_bytes", limits.max_json_file_bytes});
  return detail::mappings_from_json_value(detail::parse_python_json(std::string_view(text.data(), text.size()), path),
                                         path);
}

MappingList mappings_from_json(std::string_view json_text, const std::string& origin) {
  return detail::mappings_from_json_value(detail::parse_python_json(json_text, origin), origin);
}

nlohmann::json detail::mappings_to_json_value(const MappingList& mappings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : mappings) {
    nlohmann::json j;
    j["smooth_layer"] = m.smooth_layer;
    j["balance_layers"] = m.balance_layers;
    j["activation_hook_target"] =
        m.activation_hook_target ? nlohmann::json(*m.activation_hook_target) : nlohmann::json();
    out.push_back(std::move(j));
  }
  return out;
}

std::string mappings_to_json(const MappingList& mappings) {
  return detail::mappings_to_json_value(mappings).dump();
}

}  // namespace awqmap
