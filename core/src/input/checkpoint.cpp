// Loading a model from a checkpoint directory (docs/semantics.md §8), and the dispatch between checkpoint
// directories and description files.
#include "awqmap/checkpoint.hpp"

#include <sys/stat.h>

#include "adaptations.hpp"
#include "awqmap/error.hpp"
#include "awqmap/model_description.hpp"
#include "file_access.hpp"
#include "../model_parts.hpp"
#include "module_tree.hpp"
#include "printable.hpp"
#include "python_json.hpp"
#include "safetensors.hpp"

namespace awqmap {
namespace {

namespace od = simdjson::ondemand;

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw InputError(detail::printable(file) + ": " + what);
}

}  // namespace

ModelView load_checkpoint(const std::string& directory, const CheckpointOptions& options,
                          CheckpointSummary* summary_out) {
  const InputLimits& limits = options.limits;
  const detail::CheckpointFiles files(directory);
  const detail::LimitRef json_limit{"max_json_file_bytes", limits.max_json_file_bytes};

  ModelParts parts;
  parts.origin = directory;
  parts.torch_class_names = false;
  const std::string config_display = files.display("config.json");
  {
    auto config_path = files.find("config.json");
    if (!config_path) fail(directory, "no config.json; a checkpoint directory needs one");
    const simdjson::padded_string text = detail::RegularFile(*config_path, config_display).read_all(json_limit);
    parts.config = detail::parse_python_json(std::string_view(text.data(), text.size()), config_display);
  }
  if (!parts.config.is_object()) fail(config_display, "not a JSON object");
  if (options.architecture) {
    parts.architecture = *options.architecture;
  } else {
    auto a = parts.config.find("architectures");
    if (a == parts.config.end() || !a->is_array() || a->empty() || !(*a)[0].is_string())
      fail(config_display, "no \"architectures\" list naming the model class; pass --architecture NAME");
    parts.architecture = (*a)[0].get<std::string>();
  }

  // Shards.
  od::parser parser;
  detail::TensorSet set;
  auto read_shard = [&](const std::string& resolved, const std::string& display) {
    detail::read_shard(detail::RegularFile(resolved, display), parser, limits, set);
  };
  if (auto index = files.find("model.safetensors.index.json")) {
    const std::string index_display = files.display("model.safetensors.index.json");
    // The index and its parser are freed before the shards are read, whose headers and tensors
    // then reuse that memory (already faulted in) rather than grow the heap.
    detail::ShardList list =
        detail::index_shards(detail::RegularFile(*index, index_display).read_all(json_limit), index_display);
    // A guess (the index may be stale), but right for checkpoints that load at all.
    set.tensors.reserve(std::min<std::size_t>(list.tensors, limits.max_modules));
    for (const auto& s : list.shards) {
      auto shard = files.find(s);
      if (!shard)
        fail(index_display, "names shard '" + detail::printable(s) + "', which is not in " + detail::printable(directory));
      read_shard(*shard, files.display(s));
    }
  } else if (auto single = files.find("model.safetensors")) {
    read_shard(*single, files.display("model.safetensors"));
  } else {
    fail(directory, "no model.safetensors and no model.safetensors.index.json");
  }
  std::vector<detail::Tensor>& tensors = set.tensors;

  CheckpointSummary summary;
  summary.shards = set.shard_names.size();
  summary.tensors = tensors.size();
  detail::ModuleTreeBuilder tree(tensors.size(), limits);
  // What the tensor names are stored in, which the module names view: moved out of the set
  // before the tree is laid out (the chunks and strings stay where they are), and alive for the
  // catch below too, whose check reads the tensor names.
  std::shared_ptr<detail::TensorNames> names;
  try {
    detail::CompiledAdaptations adapt;
    if (options.registry)
      adapt = detail::compile_adaptations(options.registry->adaptations(parts.architecture), parts.architecture);
    std::optional<std::uint64_t> layers;
    if (const auto* v = detail::config_field(parts.config, "num_hidden_layers"); v && v->is_number_unsigned())
      layers = v->get<std::uint64_t>();
    detail::add_tensors(set, adapt, layers, parts.architecture, limits, tree, summary);
    // Past the last error about tensors, their records go before the model's are made: with
    // 100k modules that is megabytes of fresh memory fewer.
    tree.check_total(parts.origin);
    std::vector<detail::Tensor>().swap(set.tensors);
    names = std::make_shared<detail::TensorNames>(detail::TensorNames{std::move(set.names), std::move(set.owned)});
    tree.finish(parts, names, names->plain());
    // The views of `parts` point into the names' storage only; the rest of the set can go.
    ModelView view = make_model_view(std::move(parts));
    if (summary_out) *summary_out = std::move(summary);
    return view;
  } catch (...) {
    // A tensor stored twice is reported before whatever else is wrong (add_tensors finds it
    // only where it gets to).
    detail::check_tensors_unique(set);
    throw;
  }
}

ModelView load_model(const std::string& path, const CheckpointOptions& options, CheckpointSummary* summary) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return load_checkpoint(path, options, summary);
  return load_model_description(path, options.architecture, options.limits);
}

}  // namespace awqmap
