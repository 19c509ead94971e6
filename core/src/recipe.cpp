#include "awqmap/recipe.hpp"

#include <cstdint>

#include "awqmap/error.hpp"
#include "awqmap/version.hpp"

namespace awqmap {

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length, 0 when malformed.
std::size_t utf8_sequence(const std::string& s, std::size_t i, std::uint32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n;
  std::uint32_t min;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void append_hex(std::string& out, std::uint32_t value, int digits) {
  static const char* hex = "0123456789abcdef";
  for (int d = digits - 1; d >= 0; --d) out += hex[(value >> (4 * d)) & 0xF];
}

std::string yaml_list(const std::vector<std::string>& items, const std::string& origin) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += yaml_quoted(items[i], origin + "[" + std::to_string(i) + "]");
  }
  return out + "]";
}

}  // namespace

std::string yaml_quoted(const std::string& text, const std::string& origin) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    const std::size_t n = utf8_sequence(text, i, cp);
    if (n == 0)
      throw InputError(origin + ": not valid UTF-8 at byte " + std::to_string(i) +
                       "; a recipe can only carry UTF-8 text, fix the pattern");
    if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp >= 0x20 && cp < 0x7F) {
      out += static_cast<char>(cp);
    } else if (cp < 0x100) {
      // Controls, DEL and the C1/Latin-1 range: YAML forbids some of them raw, so escape all.
      out += "\\x";
      append_hex(out, cp, 2);
    } else if (cp < 0x10000) {
      out += "\\u";
      append_hex(out, cp, 4);
    } else {
      out += "\\U";
      append_hex(out, cp, 8);
    }
    i += n;
  }
  return out + "\"";
}

std::string awq_recipe_yaml(const MappingList& mappings, const RecipeOptions& options) {
  if (options.scheme.empty() || options.scheme.find_first_not_of(
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
                                    std::string::npos)
    throw InputError("recipe scheme '" + options.scheme +
                     "' is not an llm-compressor preset name (letters, digits and '_', e.g. W4A16_ASYM)");
  std::string out = "# llm-compressor recipe written by awqmap " + std::string(version) + "\n";
  for (const auto& c : options.comments) {
    std::string line = c;
    for (char& ch : line)
      if (ch == '\n' || ch == '\r') ch = ' ';
    out += "# " + line + "\n";
  }
  out += "default_stage:\n  default_modifiers:\n    AWQModifier:\n";
  out += "      targets: " + yaml_list(options.targets, "recipe targets") + "\n";
  out += "      ignore: " + yaml_list(options.ignore, "recipe ignore") + "\n";
  out += "      scheme: " + options.scheme + "\n";
  if (mappings.empty()) {
    out += "      mappings: []\n";
    return out;
  }
  out += "      mappings:\n";
  for (std::size_t i = 0; i < mappings.size(); ++i) {
    const Mapping& m = mappings[i];
    const std::string where = "recipe mapping " + std::to_string(i);
    out += "      - smooth_layer: " + yaml_quoted(m.smooth_layer, where + " smooth_layer") + "\n";
    out += "        balance_layers: " + yaml_list(m.balance_layers, where + " balance_layers") + "\n";
    if (m.activation_hook_target)
      out += "        activation_hook_target: " +
             yaml_quoted(*m.activation_hook_target, where + " activation_hook_target") + "\n";
  }
  return out;
}

}  // namespace awqmap
