#pragma once
// What the shortcut tests compare: the modules resolution finds for a pattern, against what
// the regex engine (or, for exact names and classes, Target::matches) finds module by module.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "awqmap/resolve.hpp"
#include "awqmap/target.hpp"
#include "model_builder.hpp"

namespace awqmap::test {

// A model holding `names` and their ancestors (sorted: an ancestor is a prefix, so it comes first).
inline ModelView model_of(const std::set<std::string>& names) {
  std::set<std::string> all;
  for (const std::string& name : names)
    for (std::size_t dot = name.find('.');; dot = name.find('.', dot + 1)) {
      all.insert(name.substr(0, dot));
      if (dot == std::string::npos) break;
    }
  all.erase("");
  ModelBuilder b;
  for (const std::string& name : all) b.linear(name);
  return b.build();
}

// The modules that resolution finds for `text`, in model order: the balance names of a mapping
// whose smooth layer is the root (every match's ancestor, so that all of them form one group).
inline std::vector<std::string_view> found_by_resolution(const ModelView& model, const std::string& text) {
  const Resolution r = resolve(model, {Mapping("", {text})}, ResolveOptions{});
  REQUIRE(r.resolved.size() + r.skipped.size() == 1);
  return r.resolved.empty() ? r.skipped[0].balance_names : r.resolved[0].balance_names;
}

// The same by the regex engine (exact names and classes by Target::matches), module by module.
inline std::vector<std::string_view> found_by_engine(const ModelView& model, const std::string& text) {
  const Target t = Target::compile(text, "test");
  std::vector<std::string_view> out;
  for (const Module& m : model.modules())
    if (t.is_regex() ? t.matches_name_with_regex(m.name) : t.matches(m)) out.push_back(m.name);
  return out;
}

}  // namespace awqmap::test
