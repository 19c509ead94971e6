#include "python_json.hpp"

#include <cmath>
#include <limits>

#include "awqmap/error.hpp"
#include "printable.hpp"

namespace awqmap::detail {
namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '+' || c == '-';
}

// Calls `on_literal(position, length, value)` for every bare literal outside strings.
template <class F>
void scan_literals(std::string_view text, F&& on_literal) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != 'I' && c != 'N' && c != '-') continue;
    if (i > 0 && is_word_char(text[i - 1])) continue;
    double value = 0;
    std::size_t length = 0;
    if (text.compare(i, 8, "Infinity") == 0) {
      value = std::numeric_limits<double>::infinity();
      length = 8;
    } else if (text.compare(i, 9, "-Infinity") == 0) {
      value = -std::numeric_limits<double>::infinity();
      length = 9;
    } else if (text.compare(i, 3, "NaN") == 0) {
      value = std::numeric_limits<double>::quiet_NaN();
      length = 3;
    } else {
      continue;
    }
    if (i + length < text.size() && is_word_char(text[i + length])) continue;
    on_literal(i, length, value);
    i += length - 1;
  }
}

[[noreturn]] void invalid(const std::string& origin, const nlohmann::json::exception& e) {
  // nlohmann's message quotes the text it read last: only the position is reported.
  std::string where;
  if (const auto* p = dynamic_cast<const nlohmann::json::parse_error*>(&e))
    where = " at byte " + std::to_string(p->byte);
  throw InputError(printable(origin) + ": invalid JSON" + where + "; check that the file is complete JSON");
}

}  // namespace

bool has_python_number_literals(std::string_view text) {
  bool found = false;
  scan_literals(text, [&](std::size_t, std::size_t, double) { found = true; });
  return found;
}

nlohmann::json parse_python_json(std::string_view text, const std::string& origin) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    if (!has_python_number_literals(text)) invalid(origin, e);
  }
  // Each literal becomes a string that occurs nowhere in the text (its printable part is
  // searched for, as a JSON string would hold it after a \u0001 escape), turned back into
  // its number as the parser produces it.
  std::string tail = "awqmap-number";
  while (text.find(tail) != std::string_view::npos) tail += '#';
  const std::string marker = "\x01" + tail;
  std::vector<double> values;
  std::string rewritten;
  rewritten.reserve(text.size() + 64);
  std::size_t copied = 0;
  scan_literals(text, [&](std::size_t at, std::size_t length, double value) {
    rewritten.append(text.substr(copied, at - copied));
    rewritten += "\"\\u0001" + tail + std::to_string(values.size()) + '"';
    values.push_back(value);
    copied = at + length;
  });
  rewritten.append(text.substr(copied));
  auto restore = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (!parsed.is_string()) return true;
    const std::string& s = parsed.get_ref<const std::string&>();
    if (event == nlohmann::json::parse_event_t::key && s.compare(0, marker.size(), marker) == 0)
      throw InputError(printable(origin) + ": invalid JSON: a bare Infinity or NaN cannot be an object key");
    if (event != nlohmann::json::parse_event_t::value) return true;
    if (s.size() > marker.size() && s.compare(0, marker.size(), marker) == 0) {
      std::size_t index = 0;
      for (std::size_t i = marker.size(); i < s.size(); ++i) index = index * 10 + static_cast<std::size_t>(s[i] - '0');
      if (index < values.size()) parsed = values[index];
    }
    return true;
  };
  try {
    return nlohmann::json::parse(rewritten, restore);
  } catch (const nlohmann::json::exception& e) {
    invalid(origin, e);
  }
}

}  // namespace awqmap::detail
