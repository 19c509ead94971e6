#include "awqmap/model.hpp"

#include <algorithm>

#include "awqmap/error.hpp"

namespace awqmap {

bool Module::is_a(std::string_view cls) const {
  return type == cls || std::find(bases.begin(), bases.end(), cls) != bases.end();
}

namespace {
std::string_view parent_name(std::string_view name) {
  auto dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : name.substr(0, dot);
}
std::string where(const ModelParts& parts, std::size_t i) {
  return parts.origin + ": module #" + std::to_string(i) + " '" +
         std::string(parts.modules[i].name) + "'";
}
}  // namespace

ModelView::ModelView(ModelParts parts) : parts_(std::move(parts)) {
  auto& mods = parts_.modules;
  by_name_.reserve(mods.size() * 2);
  std::vector<ModuleIndex> child_count(mods.size() + 1, 0);
  for (std::size_t i = 0; i < mods.size(); ++i) {
    Module& m = mods[i];
    if (!by_name_.emplace(m.name, static_cast<ModuleIndex>(i)).second)
      throw InputError(where(parts_, i) + ": duplicate module name; each name must appear once");
    if (m.name.empty()) {
      m.parent = no_module;
    } else {
      auto it = by_name_.find(parent_name(m.name));
      if (it == by_name_.end())
        throw InputError(where(parts_, i) + ": its parent '" +
                         std::string(parent_name(m.name)) +
                         "' does not appear before it; list modules in named_modules() order");
      m.parent = it->second;
      ++child_count[m.parent];
    }
    if (m.is_linear()) {
      if (!m.in_features || !m.out_features)
        throw InputError(where(parts_, i) +
                         ": a Linear module needs integer in_features and out_features");
      if (*m.in_features < 0 || *m.out_features < 0)
        throw InputError(where(parts_, i) + ": in_features and out_features must not be negative");
    }
  }
  child_offsets_.assign(mods.size() + 1, 0);
  for (std::size_t i = 0; i < mods.size(); ++i) child_offsets_[i + 1] = child_offsets_[i] + child_count[i];
  child_list_.resize(child_offsets_.back());
  std::vector<ModuleIndex> fill(child_offsets_.begin(), child_offsets_.end() - 1);
  for (std::size_t i = 0; i < mods.size(); ++i)
    if (mods[i].parent != no_module) child_list_[fill[mods[i].parent]++] = static_cast<ModuleIndex>(i);
}

const nlohmann::json* ModelView::config_field(std::string_view key) const {
  const auto& cfg = parts_.config;
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
  auto it = by_name_.find(name);
  return it == by_name_.end() ? no_module : it->second;
}

std::vector<ModuleIndex> ModelView::children(ModuleIndex i) const {
  return {child_list_.begin() + child_offsets_[i], child_list_.begin() + child_offsets_[i + 1]};
}

}  // namespace awqmap
