// awqmap._core: the C++ core for Python. Results cross the boundary as JSON text in the
// awqmap.resolved/v1 layout, so that the Python API and `awqmap resolve --format json` cannot
// drift apart; the pure-Python layer (awqmap/__init__.py) turns them into typed objects.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "awqmap/awqmap.hpp"
#include "awqmap/loader.hpp"
#include "awqmap/recipe.hpp"
#include "awqmap/registry.hpp"

namespace py = pybind11;
namespace fs = std::filesystem;
using namespace awqmap;

namespace {

// The Python classes live in awqmap.errors (pure Python, importable without this module).
[[noreturn]] void raise_python(const char* cls, const std::string& message) {
  py::object type = py::module_::import("awqmap.errors").attr(cls);
  PyErr_SetString(type.ptr(), message.c_str());
  throw py::error_already_set();
}

struct PyRegistry {
  std::unique_ptr<Registry> registry = std::make_unique<Registry>();
  std::vector<fs::path> loaded;
};

std::shared_ptr<PyRegistry> make_registry(const std::vector<fs::path>& plugin_dirs, bool default_plugins,
                                          bool allow_override) {
  auto r = std::make_shared<PyRegistry>();
  PluginLoader loader(*r->registry, LoaderOptions{allow_override});
  loader.load_search_path(plugin_dirs, default_plugins);
  r->loaded = loader.loaded();
  return r;
}

Selection select_for(const Registry& r, const ModelView& model, bool upstream) {
  return r.select(model, upstream ? SelectionMode::upstream : SelectionMode::exact);
}

nlohmann::json selection_json(const Selection& s) {
  nlohmann::json j = {{"kind", std::string(to_string(s.kind))}};
  if (!s.builder.empty()) j["builder"] = s.builder;
  if (!s.plugin.empty()) j["plugin"] = s.plugin;
  j["declined"] = s.declined;
  return j;
}

nlohmann::json names_json(const std::vector<std::string_view>& names) {
  nlohmann::json out = nlohmann::json::array();
  for (auto n : names) out.push_back(std::string(n));
  return out;
}

nlohmann::json resolution_json(const ModelView& model, const Selection& selection, const MappingList& mappings,
                               const Resolution& r, const RepairedResolution* repaired, const Coverage& cov) {
  nlohmann::json j;
  j["format"] = "awqmap.resolved/v1";
  j["architecture"] = model.architecture();
  j["selection"] = selection_json(selection);
  j["mappings"] = nlohmann::json::parse(mappings_to_json(mappings));
  if (repaired)
    for (std::size_t i = 0; i < repaired->repaired_from.size() && i < mappings.size(); ++i)
      if (repaired->repaired_from[i]) j["mappings"][i]["repaired_from"] = *repaired->repaired_from[i];
  nlohmann::json resolved = nlohmann::json::array();
  for (const auto& m : r.resolved)
    resolved.push_back({{"mapping", m.mapping},
                        {"smooth_name", std::string(m.smooth_name)},
                        {"balance_names", names_json(m.balance_names)},
                        {"parent_name", std::string(m.parent_name)},
                        {"activation_hook_target", m.activation_hook_target
                                                       ? nlohmann::json(std::string(*m.activation_hook_target))
                                                       : nlohmann::json()}});
  j["resolved"] = std::move(resolved);
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& s : r.skipped)
    skipped.push_back({{"mapping", s.mapping},
                       {"smooth_name", std::string(s.smooth_name)},
                       {"reason", std::string(to_string(s.reason))}});
  j["skipped"] = std::move(skipped);
  if (repaired) {
    nlohmann::json repairs = nlohmann::json::array();
    for (const auto& rep : repaired->repairs)
      repairs.push_back({{"mapping", rep.mapping},
                         {"error", std::string(to_string(rep.error))},
                         {"replaced_by", rep.replaced_by},
                         {"left_out", rep.left_out}});
    j["repairs"] = std::move(repairs);
  }
  nlohmann::json unbalanced = nlohmann::json::array();
  for (const auto& u : cov.unbalanced)
    unbalanced.push_back({{"name", u.name}, {"count", u.count}, {"reason", u.reason}});
  j["coverage"] = {{"targeted", cov.targeted}, {"balanced", cov.balanced}, {"unbalanced", unbalanced}};
  return j;
}

// Returns the awqmap.resolved/v1 JSON text, or an awqmap.error/v1 object (with the explanation)
// when the resolution fails as upstream would: the Python layer raises ResolutionError from it.
std::string resolve_json(const ModelView& model, const PyRegistry* registry,
                         const std::optional<std::string>& mappings_json, const std::vector<std::string>& targets,
                         const std::vector<std::string>& ignore, bool repair, bool upstream) {
  Selection selection;
  if (mappings_json) {
    nlohmann::json list;
    try {
      list = nlohmann::json::parse(*mappings_json);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(std::string("mappings: invalid JSON (") + e.what() + ")");
    }
    selection.kind = SelectionKind::user;
    selection.mappings = mappings_from_json(list.dump(), "mappings");
  } else {
    if (!registry) throw InputError("resolve: no registry and no mappings given");
    selection = select_for(*registry->registry, model, upstream);
  }
  ResolveOptions options;
  options.targets = targets;
  options.ignore = ignore;
  try {
    if (repair) {
      RepairedResolution rr = resolve_with_repair(model, selection.mappings, options);
      Coverage cov = coverage(model, rr.mappings, rr.resolution, options);
      return resolution_json(model, selection, rr.mappings, rr.resolution, &rr, cov).dump();
    }
    Resolution r = resolve(model, selection.mappings, options);
    Coverage cov = coverage(model, selection.mappings, r, options);
    return resolution_json(model, selection, selection.mappings, r, nullptr, cov).dump();
  } catch (const ResolutionError& e) {
    nlohmann::json j = {{"format", "awqmap.error/v1"},
                        {"kind", std::string(to_string(e.kind()))},
                        {"message", e.what()},
                        {"mapping", e.mapping_index()},
                        {"modules", e.modules()},
                        {"targets", e.targets()},
                        {"explanation", explain(model, selection.mappings, e, options)},
                        {"architecture", model.architecture()},
                        {"selection", selection_json(selection)},
                        {"mappings", nlohmann::json::parse(mappings_to_json(selection.mappings))}};
    return j.dump();
  }
}

nlohmann::json module_json(const Module& m) {
  nlohmann::json j = {{"name", std::string(m.name)}, {"type", std::string(m.type)}};
  if (!m.bases.empty()) j["bases"] = names_json(m.bases);
  if (m.in_features) j["in_features"] = *m.in_features;
  if (m.out_features) j["out_features"] = *m.out_features;
  if (!m.shape.empty()) j["shape"] = m.shape;
  return j;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "awqmap's C++ core (use the awqmap package, not this module directly)";
  m.attr("version") = awqmap::version;

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      raise_python("InputError", e.what());
    } catch (const ResolutionError& e) {
      raise_python("ResolutionError", e.what());
    }
  });

  py::class_<ModelView, std::shared_ptr<ModelView>>(m, "ModelView")
      .def_property_readonly("architecture", &ModelView::architecture)
      .def_property_readonly("origin", &ModelView::origin)
      .def_property_readonly("has_torch_class_names", &ModelView::has_torch_class_names)
      .def("config_json", &ModelView::config_json)
      .def("__len__", &ModelView::size)
      .def("names", [](const ModelView& v) {
        std::vector<std::string> out;
        out.reserve(v.size());
        for (const auto& mod : v.modules()) out.emplace_back(mod.name);
        return out;
      })
      .def("module_json", [](const ModelView& v, const std::string& name) -> std::optional<std::string> {
        ModuleIndex i = v.find(name);
        if (i == no_module) return std::nullopt;
        return module_json(v[i]).dump();
      })
      .def("modules_json", [](const ModelView& v) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& mod : v.modules()) out.push_back(module_json(mod));
        return out.dump();
      });

  py::class_<PyRegistry, std::shared_ptr<PyRegistry>>(m, "Registry")
      .def(py::init(&make_registry), py::arg("plugin_dirs") = std::vector<fs::path>{},
           py::arg("default_plugins") = true, py::arg("allow_override") = false)
      .def_property_readonly("loaded_files",
                             [](const PyRegistry& r) {
                               std::vector<std::string> out;
                               for (const auto& f : r.loaded) out.push_back(f.string());
                               return out;
                             })
      .def("plugins_json",
           [](const PyRegistry& r) {
             nlohmann::json out = nlohmann::json::array();
             for (const auto& p : r.registry->plugins())
               out.push_back({{"name", p->name}, {"version", p->version}, {"file", p->file}});
             return out.dump();
           })
      .def("architectures_json",
           [](const PyRegistry& r) {
             nlohmann::json out = nlohmann::json::array();
             for (const auto& e : r.registry->architectures()) {
               nlohmann::json j = {{"architecture", e.architecture},
                                   {"kind", e.kind == EntryKind::dynamic ? "dynamic" : "static"},
                                   {"plugin", e.plugin ? e.plugin->name : std::string()}};
               if (!e.builder.empty()) j["builder"] = e.builder;
               out.push_back(std::move(j));
             }
             return out.dump();
           })
      .def_property_readonly("has_default", [](const PyRegistry& r) { return r.registry->has_default(); })
      .def(
          "select_json",
          [](const PyRegistry& r, const ModelView& model, bool upstream) {
            Selection s = select_for(*r.registry, model, upstream);
            nlohmann::json j = selection_json(s);
            j["mappings"] = nlohmann::json::parse(mappings_to_json(s.mappings));
            return j.dump();
          },
          py::arg("model"), py::arg("upstream") = false);

  m.def("default_plugin_dir", [] { return PluginLoader::default_plugin_dir().string(); });
  m.def("plugin_search_path", [](const std::vector<fs::path>& extra, bool include_default) {
    std::vector<std::string> out;
    for (const auto& d : PluginLoader::search_path(extra, include_default)) out.push_back(d.string());
    return out;
  });

  m.def(
      "load_model",
      [](const std::string& path, const std::optional<std::string>& architecture,
         const std::shared_ptr<PyRegistry>& registry) {
        CheckpointOptions opts{architecture, registry ? registry->registry.get() : nullptr};
        return std::make_shared<ModelView>(load_model(path, opts));
      },
      py::arg("path"), py::arg("architecture") = std::nullopt, py::arg("registry") = nullptr);
  m.def(
      "parse_description",
      [](const std::string& text, const std::string& origin) {
        return std::make_shared<ModelView>(parse_model_description(text, origin));
      },
      py::arg("text"), py::arg("origin"));
  m.def(
      "resolve_json",
      [](const ModelView& model, const std::shared_ptr<PyRegistry>& registry,
         const std::optional<std::string>& mappings_json, const std::vector<std::string>& targets,
         const std::vector<std::string>& ignore, bool repair, bool upstream) {
        return resolve_json(model, registry.get(), mappings_json, targets, ignore, repair, upstream);
      },
      py::arg("model"), py::arg("registry"), py::arg("mappings_json"), py::arg("targets"), py::arg("ignore"),
      py::arg("repair"), py::arg("upstream"));
  m.def(
      "recipe_yaml",
      [](const std::string& mappings_json, const std::vector<std::string>& targets,
         const std::vector<std::string>& ignore, const std::string& scheme, const std::vector<std::string>& comments) {
        nlohmann::json list;
        try {
          list = nlohmann::json::parse(mappings_json);
        } catch (const nlohmann::json::exception& e) {
          throw InputError(std::string("recipe mappings: invalid JSON (") + e.what() + ")");
        }
        RecipeOptions opts;
        opts.targets = targets;
        opts.ignore = ignore;
        opts.scheme = scheme;
        opts.comments = comments;
        return awq_recipe_yaml(mappings_from_json(list.dump(), "recipe mappings"), opts);
      },
      py::arg("mappings_json"), py::arg("targets"), py::arg("ignore"), py::arg("scheme"), py::arg("comments"));
}
