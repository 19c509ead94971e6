#include "awqmap/model.hpp"

#include <algorithm>
#include <cstring>

#include "awqmap/error.hpp"
#include "name_table.hpp"
#include "names.hpp"

namespace awqmap {

bool Module::is_a(std::string_view cls) const {
  return type == cls || std::find(bases.begin(), bases.end(), cls) != bases.end();
}

namespace {
std::string where(const ModelParts& parts, std::size_t i) {
  return parts.origin + ": module #" + std::to_string(i) + " '" + std::string(parts.modules[i].name) + "'";
}
}  // namespace

ModelView::ModelView(ModelParts parts) : parts_(std::move(parts)) {
  auto& mods = parts_.modules;
  auto table = std::make_shared<detail::NameTable>(mods.size());
  auto name_of = [&mods](std::uint32_t id) { return mods[id].name; };
  std::vector<ModuleIndex> child_count(mods.size() + 1, 0);
  // In named_modules() order the parent is on the current root-to-module path; the name table
  // is the fallback for descriptions in any other parent-first order.
  std::vector<ModuleIndex> path;
  // Hashes first, in one pass over the names, so that each insert can prefetch the slot of
  // the name a few places ahead.
  constexpr std::size_t kAhead = 16;
  std::vector<std::uint64_t> hashes(mods.size());
  for (std::size_t i = 0; i < mods.size(); ++i) hashes[i] = detail::name_hash(mods[i].name);
  for (std::size_t i = 0; i < mods.size(); ++i) {
    Module& m = mods[i];
    if (i + kAhead < mods.size()) table->prefetch(hashes[i + kAhead]);
    if (table->insert_hashed(static_cast<std::uint32_t>(i), m.name, hashes[i], name_of) != detail::no_entry)
      throw InputError(where(parts_, i) + ": duplicate module name; each name must appear once");
    if (m.name.empty()) {
      m.parent = no_module;
    } else {
      const std::string_view wanted = detail::parent_of(m.name);
      while (!path.empty() && mods[path.back()].name.size() > wanted.size()) path.pop_back();
      m.parent = !path.empty() && mods[path.back()].name == wanted ? path.back() : table->find(wanted, name_of);
      if (m.parent == no_module)
        throw InputError(where(parts_, i) + ": its parent '" + std::string(detail::parent_of(m.name)) +
                         "' does not appear before it; list modules in named_modules() order");
      ++child_count[m.parent];
    }
    if (m.parent != no_module && (path.empty() || path.back() != m.parent)) {
      path.clear();  // out-of-order description: rebuild the path from the parent links
      for (ModuleIndex a = m.parent; a != no_module; a = mods[a].parent) path.push_back(a);
      std::reverse(path.begin(), path.end());
    }
    path.push_back(static_cast<ModuleIndex>(i));
    if (m.is_linear()) {
      if (!m.in_features || !m.out_features)
        throw InputError(where(parts_, i) + ": a Linear module needs integer in_features and out_features");
      if (*m.in_features < 0 || *m.out_features < 0)
        throw InputError(where(parts_, i) + ": in_features and out_features must not be negative");
    }
  }
  name_table_ = std::move(table);
  child_offsets_.assign(mods.size() + 1, 0);
  for (std::size_t i = 0; i < mods.size(); ++i) child_offsets_[i + 1] = child_offsets_[i] + child_count[i];
  child_list_.resize(child_offsets_.back());
  std::vector<ModuleIndex> fill(child_offsets_.begin(), child_offsets_.end() - 1);
  for (std::size_t i = 0; i < mods.size(); ++i)
    if (mods[i].parent != no_module) child_list_[fill[mods[i].parent]++] = static_cast<ModuleIndex>(i);
}

const nlohmann::json* ModelView::config_field(std::string_view key) const {
  return awqmap::config_field(parts_.config, key);
}

const nlohmann::json* config_field(const nlohmann::json& cfg, std::string_view key) {
  if (!cfg.is_object()) return nullptr;
  const std::string k(key);
  auto tc = cfg.find("text_config");
  if (tc != cfg.end() && tc->is_object()) {
    auto v = tc->find(k);
    if (v != tc->end() && !v->is_null()) return &*v;
  }
  auto v = cfg.find(k);
  return v == cfg.end() ? nullptr : &*v;
}

ModuleIndex ModelView::find(std::string_view name) const {
  const auto& mods = parts_.modules;
  return static_cast<const detail::NameTable*>(name_table_.get())->find(name, [&mods](std::uint32_t id) {
    return mods[id].name;
  });
}

std::vector<ModuleIndex> ModelView::children(ModuleIndex i) const {
  return {child_list_.begin() + child_offsets_[i], child_list_.begin() + child_offsets_[i + 1]};
}

}  // namespace awqmap
