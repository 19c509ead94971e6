#include "awqmap/model.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "awqmap/error.hpp"
#include "model_parts.hpp"
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

ModelView detail::ModelAccess::assemble(ModelParts parts, std::shared_ptr<ModelData> data) {
  data->config = std::move(parts.config);
  data->storage = std::move(parts.storage);
  ModelView view;
  view.architecture_ = std::move(parts.architecture);
  view.origin_ = std::move(parts.origin);
  view.torch_class_names_ = parts.torch_class_names;
  view.plain_names_ = parts.plain_names;
  view.modules_ = std::move(parts.modules);
  view.data_ = std::move(data);
  return view;
}

ModelView detail::ModelAccess::make(ModelParts parts) {
  auto data = std::make_shared<ModelData>();
  auto& mods = parts.modules;
  data->names = NameTable(mods.size());
  NameTable* table = &data->names;
  auto name_of = [&mods](std::uint32_t id) { return mods[id].name; };
  std::vector<ModuleIndex> child_count(mods.size() + 1, 0);
  // In named_modules() order the parent is on the current root-to-module path; the name table
  // is the fallback for descriptions in any other parent-first order.
  std::vector<ModuleIndex> path;
  // Hashes first, in one pass over the names, so that each insert can prefetch the slot of
  // the name a few places ahead.
  constexpr std::size_t kAhead = 16;
  std::vector<std::uint64_t> hashes(mods.size());
  for (std::size_t i = 0; i < mods.size(); ++i) hashes[i] = name_hash(mods[i].name);
  for (std::size_t i = 0; i < mods.size(); ++i) {
    Module& m = mods[i];
    if (i + kAhead < mods.size()) table->prefetch(hashes[i + kAhead]);
    if (table->insert_hashed(static_cast<std::uint32_t>(i), m.name, hashes[i], name_of) != no_entry)
      throw InputError(where(parts, i) + ": duplicate module name; each name must appear once");
    if (m.name.empty()) {
      m.parent = no_module;
    } else {
      const std::string_view wanted = parent_of(m.name);
      while (!path.empty() && mods[path.back()].name.size() > wanted.size()) path.pop_back();
      m.parent = !path.empty() && mods[path.back()].name == wanted ? path.back() : table->find(wanted, name_of);
      if (m.parent == no_module)
        throw InputError(where(parts, i) + ": its parent '" + std::string(parent_of(m.name)) +
                         "' does not appear before it; list modules in named_modules() order");
      ++child_count[m.parent];
    }
    if (m.parent != no_module && (path.empty() || path.back() != m.parent)) {
      path.clear();  // out-of-order description: rebuild the path from the parent links
      for (ModuleIndex a = m.parent; a != no_module; a = mods[a].parent) path.push_back(a);
      std::reverse(path.begin(), path.end());
    }
    path.push_back(static_cast<ModuleIndex>(i));
    // Most records are not Linear and have no bases: settled without a call.
    if (m.type == "Linear" || (!m.bases.empty() && m.is_linear())) {
      if (!m.in_features || !m.out_features)
        throw InputError(where(parts, i) + ": a Linear module needs integer in_features and out_features");
      if (*m.in_features < 0 || *m.out_features < 0)
        throw InputError(where(parts, i) + ": in_features and out_features must not be negative");
    }
  }
  auto& offsets = data->child_offsets;
  offsets.assign(mods.size() + 1, 0);
  for (std::size_t i = 0; i < mods.size(); ++i) offsets[i + 1] = offsets[i] + child_count[i];
  data->child_list.resize(offsets.back());
  std::vector<ModuleIndex> fill(offsets.begin(), offsets.end() - 1);
  for (std::size_t i = 0; i < mods.size(); ++i)
    if (mods[i].parent != no_module) data->child_list[fill[mods[i].parent]++] = static_cast<ModuleIndex>(i);

  return assemble(std::move(parts), std::move(data));
}

ModelView detail::ModelAccess::make_from_tree(ModelParts parts) {
  // Names, parents, children and records come from the reader's tree, valid by construction.
  auto data = std::make_shared<ModelData>();
  data->names = std::move(parts.tree->names);
  data->child_offsets = std::move(parts.tree->child_offsets);
  data->child_list = std::move(parts.tree->child_list);
  return assemble(std::move(parts), std::move(data));
}

ConfigValue ModelView::config() const {
  return detail::ModelAccess::value(&data_->config);
}

std::string ModelView::config_json() const {
  return data_->config.dump();
}

ConfigValue ModelView::config_field(std::string_view key) const {
  return detail::ModelAccess::value(detail::config_field(data_->config, key));
}

const nlohmann::json* detail::config_field(const nlohmann::json& cfg, std::string_view key) {
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
  const auto& mods = modules_;
  return data_->names.find(name, [&mods](std::uint32_t id) { return mods[id].name; });
}

std::vector<ModuleIndex> ModelView::children(ModuleIndex i) const {
  const auto& off = data_->child_offsets;
  return {data_->child_list.begin() + off[i], data_->child_list.begin() + off[i + 1]};
}

namespace {
const nlohmann::json* json_of(const ConfigValue& v) {
  return detail::ModelAccess::node(v);
}

const char* type_name(const nlohmann::json* j) {
  if (!j) return "absent";
  switch (j->type()) {
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a number with a fraction";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::object: return "an object";
    default: return "null";
  }
}

[[noreturn]] void mismatch(const nlohmann::json* j, const char* wanted) {
  throw InputError(std::string("config value is ") + type_name(j) + ", not " + wanted +
                   "; check the model's config.json");
}
}  // namespace

bool ConfigValue::is_null() const {
  return !json_of(*this) || json_of(*this)->is_null();
}
bool ConfigValue::is_bool() const {
  return json_of(*this) && json_of(*this)->is_boolean();
}
bool ConfigValue::is_integer() const {
  return json_of(*this) && json_of(*this)->is_number_integer();
}
bool ConfigValue::is_number() const {
  return json_of(*this) && json_of(*this)->is_number();
}
bool ConfigValue::is_string() const {
  return json_of(*this) && json_of(*this)->is_string();
}
bool ConfigValue::is_array() const {
  return json_of(*this) && json_of(*this)->is_array();
}
bool ConfigValue::is_object() const {
  return json_of(*this) && json_of(*this)->is_object();
}

std::int64_t ConfigValue::as_int64() const {
  const nlohmann::json* j = json_of(*this);
  if (!j || !j->is_number_integer()) mismatch(j, "an integer");
  if (j->is_number_unsigned()) {
    const auto v = j->get<nlohmann::json::number_unsigned_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw InputError("config value " + j->dump() + " is beyond 64 signed bits; check the model's config.json");
    return static_cast<std::int64_t>(v);
  }
  return j->get<nlohmann::json::number_integer_t>();
}

double ConfigValue::as_double() const {
  const nlohmann::json* j = json_of(*this);
  if (!j || !j->is_number()) mismatch(j, "a number");
  return j->get<double>();
}

bool ConfigValue::as_bool() const {
  const nlohmann::json* j = json_of(*this);
  if (!j || !j->is_boolean()) mismatch(j, "a boolean");
  return j->get<bool>();
}

std::string ConfigValue::as_string() const {
  const nlohmann::json* j = json_of(*this);
  if (!j || !j->is_string()) mismatch(j, "a string");
  return j->get<std::string>();
}

std::size_t ConfigValue::size() const {
  const nlohmann::json* j = json_of(*this);
  return j && (j->is_array() || j->is_object()) ? j->size() : 0;
}

ConfigValue ConfigValue::at(std::size_t i) const {
  const nlohmann::json* j = json_of(*this);
  if (!j || !j->is_array() || i >= j->size()) return {};
  return detail::ModelAccess::value(&(*j)[i]);
}

ConfigValue ConfigValue::get(std::string_view key) const {
  const nlohmann::json* j = json_of(*this);
  if (!j || !j->is_object()) return {};
  const auto& object = j->get_ref<const nlohmann::json::object_t&>();
  auto it = object.find(std::string(key));
  return it == object.end() ? ConfigValue() : detail::ModelAccess::value(&it->second);
}

std::vector<std::string> ConfigValue::keys() const {
  std::vector<std::string> out;
  const nlohmann::json* j = json_of(*this);
  if (j && j->is_object())
    for (auto it = j->begin(); it != j->end(); ++it) out.push_back(it.key());
  return out;
}

std::string ConfigValue::dump() const {
  const nlohmann::json* j = json_of(*this);
  // Names from a description may hold any bytes: invalid UTF-8 is replaced, not an exception.
  return j ? j->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "null";
}

}  // namespace awqmap
