#pragma once
// Module names are dot-separated paths (`model.layers.3.mlp`) whose numeric components are
// ModuleList indices. Every part of the core reads them with these, so that "the parent", "an
// index" and "a component" mean the same thing in the reader, the resolver and the reports.
#include <cstddef>
#include <cstdint>
#include <cstring>  // memrchr (GNU)
#include <optional>
#include <string>
#include <string_view>

namespace awqmap::detail {

/// `mlp` of `model.layers.3.mlp`; the whole name when it has no dot.
inline std::string_view last_component(std::string_view name) {
  const auto dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

/// `model.layers.3` of `model.layers.3.mlp`; empty (the root) when the name has no dot.
inline std::string_view parent_of(std::string_view name) {
  // memrchr: a vectorised search from the end, where rfind steps a byte at a time.
  const void* dot = name.empty() ? nullptr : ::memrchr(name.data(), '.', name.size());
  return dot ? name.substr(0, static_cast<std::size_t>(static_cast<const char*>(dot) - name.data())) : std::string_view{};
}

/// A non-empty run of ASCII digits: how a ModuleList item is named.
inline bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

/// The value of an index of at most `max_digits` digits (18 or fewer cannot overflow 64 bits);
/// nothing for anything else, so that a hostile 40-digit "index" is not an index at all.
inline std::optional<std::uint64_t> parse_index(std::string_view s, std::size_t max_digits = 18) {
  if (!all_digits(s) || s.size() > max_digits || s.size() > 18) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : s) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  return value;
}

/// Calls `f(component)` for each dot-separated component of `name`, in order (an empty name
/// has one empty component, as Python's str.split('.') gives).
template <class F>
void for_each_component(std::string_view name, F&& f) {
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    f(name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return;
    start = dot + 1;
  }
}

/// `model.layers.*.mlp.experts.*.up_proj`: the name with every index component folded to `*`,
/// how a report names what repeats across layers and experts.
inline std::string fold_indices(std::string_view name) {
  std::string folded;
  folded.reserve(name.size());
  bool first = true;
  for_each_component(name, [&](std::string_view comp) {
    if (!first) folded += '.';
    first = false;
    if (all_digits(comp))
      folded += '*';
    else
      folded.append(comp.data(), comp.size());
  });
  return folded;
}

}  // namespace awqmap::detail
