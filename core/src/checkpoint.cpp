#include "awqmap/checkpoint.hpp"

#include <simdjson.h>
#include <boost/regex.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "awqmap/error.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/python_regex.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/target.hpp"
#include "name_table.hpp"

namespace awqmap {
namespace {

namespace fs = std::filesystem;
namespace od = simdjson::ondemand;

constexpr std::uint64_t kMaxHeader = 100ull * 1024 * 1024;

// Bits per element of every safetensors dtype.
int dtype_bits(std::string_view d) {
  static const std::pair<std::string_view, int> table[] = {
      {"BOOL", 8}, {"U8", 8},   {"I8", 8},    {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
      {"U16", 16}, {"F16", 16}, {"BF16", 16}, {"I32", 32},    {"U32", 32},    {"F32", 32},    {"I64", 64},
      {"U64", 64}, {"F64", 64}, {"F4", 4},    {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"C64", 64},
  };
  for (const auto& [name, bits] : table)
    if (name == d) return bits;
  return 0;
}

// Tensor names view the shard headers (kept alive while loading) or `owned` (escaped names,
// renames); shapes live in one shared array.
struct Tensor {
  std::string_view name;
  std::uint32_t shape_begin, shape_size;
  std::uint32_t shard;
};

struct TensorSet {
  std::vector<Tensor> tensors;
  std::vector<std::int64_t> dims;
  std::vector<simdjson::padded_string> headers;
  std::deque<std::string> owned;
  std::string_view own(std::string s) { return owned.emplace_back(std::move(s)); }
  std::vector<std::int64_t> shape(const Tensor& t) const {
    return {dims.begin() + t.shape_begin, dims.begin() + t.shape_begin + t.shape_size};
  }
};

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw InputError(file + ": " + what);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(p.string(), "cannot open the file");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s;
}

// Reads one shard's header; validates every entry against the file's size.
void read_shard(const std::string& path, std::uint32_t shard_index, od::parser& parser, TensorSet& set) {
  std::error_code ec;
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) fail(path, "cannot read the shard (" + ec.message() + ")");
  if (size < 8) fail(path, "file is too short for a safetensors header (" + std::to_string(size) + " bytes)");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the shard");
  unsigned char len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  if (n > kMaxHeader)
    fail(path, "header length " + std::to_string(n) + " exceeds the 100 MiB limit; not a safetensors file?");
  if (n + 8 > size)
    fail(path,
         "header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) + " bytes)");
  simdjson::padded_string& header = set.headers.emplace_back(static_cast<std::size_t>(n));
  in.read(header.data(), static_cast<std::streamsize>(n));
  if (!in) fail(path, "cannot read the header");
  const std::uint64_t data_size = size - 8 - n;

  auto bad_json = [&](simdjson::error_code e, const std::string& where) {
    fail(path, "header " + where + " (" + simdjson::error_message(e) + ")");
  };
  od::document doc;
  if (auto e = parser.iterate(header).get(doc)) bad_json(e, "is not valid JSON");
  od::object root;
  if (auto e = doc.get_object().get(root)) bad_json(e, "is not a JSON object");
  struct Span {
    std::uint64_t begin, end;
    std::size_t tensor;
  };
  std::vector<Span> spans;
  auto& out = set.tensors;
  for (auto field_result : root) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) bad_json(e, "is not valid JSON");
    // The name in place in the header when it has no escapes; unescaped into `owned` otherwise.
    std::string_view name;
    {
      const char* p = field.key().raw();
      std::size_t len = 0;
      while (p[len] != '"' && p[len] != '\\' && static_cast<unsigned char>(p[len]) >= 0x20) ++len;
      if (p[len] == '"') {
        name = std::string_view(p, len);
      } else {
        std::string_view unescaped;
        if (auto e = field.unescaped_key().get(unescaped)) bad_json(e, "has an invalid key");
        name = set.own(std::string(unescaped));
      }
    }
    if (name == "__metadata__") continue;
    auto entry_error = [&](const std::string& what) { fail(path, "tensor '" + std::string(name) + "': " + what); };
    od::object entry;
    if (field.value().get_object().get(entry)) entry_error("entry is not an object");
    std::string_view dtype;
    bool has_dtype = false, has_shape = false, has_offsets = false;
    const std::size_t shape_begin = set.dims.size();
    std::uint64_t offsets[2] = {0, 0};
    for (auto member_result : entry) {
      od::field member;
      if (auto e = std::move(member_result).get(member)) bad_json(e, "is not valid JSON");
      std::string_view k;
      if (member.unescaped_key().get(k)) entry_error("invalid key");
      if (k == "dtype") {
        if (member.value().get_string().get(dtype)) entry_error("dtype must be a string");
        has_dtype = true;
      } else if (k == "shape") {
        od::array arr;
        if (member.value().get_array().get(arr)) entry_error("shape must be a list of integers");
        for (auto d : arr) {
          std::uint64_t v;
          if (d.get_uint64().get(v) || v > static_cast<std::uint64_t>(INT64_MAX))
            entry_error("shape must be a list of non-negative integers");
          set.dims.push_back(static_cast<std::int64_t>(v));
        }
        has_shape = true;
      } else if (k == "data_offsets") {
        od::array arr;
        if (member.value().get_array().get(arr)) entry_error("data_offsets must be [begin, end]");
        std::size_t count = 0;
        for (auto d : arr) {
          std::uint64_t v;
          if (d.get_uint64().get(v)) entry_error("data_offsets must be [begin, end] with non-negative integers");
          if (count < 2) offsets[count] = v;
          ++count;
        }
        if (count != 2) entry_error("data_offsets must have exactly two entries");
        has_offsets = true;
      }
    }
    if (!has_dtype) entry_error("no dtype");
    if (!has_shape) entry_error("no shape");
    if (!has_offsets) entry_error("no data_offsets");
    const int bits = dtype_bits(dtype);
    if (!bits) entry_error("unknown dtype '" + std::string(dtype) + "'");
    std::uint64_t numel = 1;
    for (std::size_t d = shape_begin; d < set.dims.size(); ++d)
      if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(set.dims[d]), &numel))
        entry_error("shape is too large");
    std::uint64_t total_bits;
    if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(bits), &total_bits) || total_bits % 8)
      entry_error("shape does not fill a whole number of bytes");
    if (offsets[1] < offsets[0]) entry_error("data_offsets end before they begin");
    if (offsets[1] - offsets[0] != total_bits / 8)
      entry_error("data_offsets cover " + std::to_string(offsets[1] - offsets[0]) +
                  " bytes, but shape and dtype need " + std::to_string(total_bits / 8));
    if (offsets[1] > data_size)
      entry_error("data_offsets end at " + std::to_string(offsets[1]) + ", past the " + std::to_string(data_size) +
                  " bytes of data in the file");
    if (name.empty()) entry_error("empty tensor name");
    spans.push_back({offsets[0], offsets[1], out.size()});
    out.push_back({name, static_cast<std::uint32_t>(shape_begin),
                   static_cast<std::uint32_t>(set.dims.size() - shape_begin), shard_index});
  }
  if (!doc.current_location().error()) fail(path, "header has trailing content after the JSON object");
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < spans.size(); ++i)
    if (spans[i].begin < spans[i - 1].end && spans[i].end > spans[i].begin && spans[i - 1].end > spans[i - 1].begin)
      fail(path, "tensors '" + std::string(out[spans[i - 1].tensor].name) + "' and '" +
                     std::string(out[spans[i].tensor].name) + "' overlap in the data section");
}

// Shards named by the index, in order of first appearance.
std::vector<std::string> index_shards(const fs::path& index, od::parser& parser) {
  simdjson::padded_string text;
  auto loaded = simdjson::padded_string::load(index.string());
  if (loaded.error()) fail(index.string(), "cannot read the index");
  text = std::move(loaded).value_unsafe();
  od::document doc;
  auto bad = [&](const std::string& what) { fail(index.string(), what); };
  if (parser.iterate(text).get(doc)) bad("invalid JSON");
  od::object root;
  if (doc.get_object().get(root)) bad("not a JSON object");
  std::vector<std::string> shards;
  std::unordered_set<std::string> seen;
  bool has_map = false;
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field)) bad("invalid JSON");
    std::string_view key;
    if (field.unescaped_key().get(key)) bad("invalid JSON");
    if (key != "weight_map") continue;
    has_map = true;
    od::object map;
    if (field.value().get_object().get(map)) bad("weight_map must be an object of tensor name -> shard file");
    for (auto entry_result : map) {
      od::field entry;
      if (std::move(entry_result).get(entry)) bad("invalid JSON in weight_map");
      std::string_view shard;
      if (entry.value().get_string().get(shard)) bad("weight_map values must be shard file names");
      if (seen.insert(std::string(shard)).second) shards.emplace_back(shard);
    }
  }
  if (!has_map) bad("no weight_map");
  if (!doc.current_location().error()) bad("trailing content after the JSON object");
  for (const auto& s : shards) {
    fs::path p(s);
    if (s.empty() || p.is_absolute() || std::any_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; }))
      bad("shard name '" + s + "' must be a file name inside the checkpoint directory");
  }
  return shards;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Numeric-aware order of sibling names: digit runs compare as numbers.
bool natural_less(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = a[i] >= '0' && a[i] <= '9', db = b[j] >= '0' && b[j] <= '9';
    if (da && db) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && a[ie] >= '0' && a[ie] <= '9') ++ie;
      while (je < b.size() && b[je] >= '0' && b[je] <= '9') ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return a.size() - i < b.size() - j;
  return a < b;
}

std::string_view last_component(std::string_view name) {
  auto dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}
std::string_view parent_of(std::string_view name) {
  auto dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : name.substr(0, dot);
}

// The index of a decoder layer (`<...>.layers.<i>.` outside vision and audio towers).
std::optional<std::uint64_t> decoder_layer_index(std::string_view name) {
  std::size_t start = 0;
  bool tower = false;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    std::string_view comp = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (comp.find("vision") != std::string_view::npos || comp.find("visual") != std::string_view::npos ||
        comp.find("audio") != std::string_view::npos)
      tower = true;
    if (dot == std::string_view::npos) break;
    if (comp == "layers" && !tower) {
      std::size_t next = name.find('.', dot + 1);
      if (next == std::string_view::npos) return std::nullopt;  // `layers.<i>` with no member
      std::string_view index = name.substr(dot + 1, next - dot - 1);
      if (all_digits(index) && index.size() < 19) return std::stoull(std::string(index));
      return std::nullopt;
    }
    start = dot + 1;
  }
  return std::nullopt;
}

// Python re.match + a \1 / \g<1> / \g<name> replacement of the matched prefix.
struct Rename {
  std::string pattern, replacement;
  boost::regex engine;
  std::optional<std::string> apply(const std::string& name) const {
    boost::smatch m;
    if (!boost::regex_search(name, m, engine, boost::match_continuous)) return std::nullopt;
    std::string out;
    const std::string& r = replacement;
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (r[i] != '\\' || i + 1 == r.size()) {
        out += r[i];
        continue;
      }
      char c = r[++i];
      if (c >= '0' && c <= '9') {
        out += m[c - '0'].str();
      } else if (c == 'g' && i + 1 < r.size() && r[i + 1] == '<') {
        std::size_t close = r.find('>', i);
        std::string group = r.substr(i + 2, close - i - 2);
        out += all_digits(group) ? m[std::stoi(group)].str() : m[group].str();
        i = close;
      } else {
        out += c == 'n' ? '\n' : c;
      }
    }
    return out + name.substr(static_cast<std::size_t>(m.length(0)));
  }
};

// A module of the tree being built. Names view tensor names (a module name is a prefix of
// its tensors' names) or the storage for synthesised ones.
struct Node {
  std::string_view name;
  std::string_view last;  // last name component, the sort key among siblings
  std::uint32_t parent;
  std::uint32_t first_child = detail::no_entry, next_sibling = detail::no_entry;
  std::vector<std::int64_t> weight_shape;
  bool has_weight = false;
};

struct CheckpointStorage {
  std::string ordered;  // every module name, in module order: what the views point into
};

void count(std::vector<DroppedTensors>& dropped, const std::string& reason) {
  for (auto& d : dropped)
    if (d.reason == reason) {
      ++d.count;
      return;
    }
  dropped.push_back({reason, 1});
}

}  // namespace

ModelView load_checkpoint(const std::string& directory, const CheckpointOptions& options,
                          CheckpointSummary* summary_out) {
  const fs::path dir(directory);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(directory, "not a checkpoint directory");
  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path, ec)) fail(directory, "no config.json; a checkpoint directory needs one");
  ModelParts parts;
  parts.origin = directory;
  parts.torch_class_names = false;
  try {
    parts.config = nlohmann::json::parse(read_text(config_path));
  } catch (const nlohmann::json::exception& e) {
    fail(config_path.string(), std::string("invalid JSON (") + e.what() + ")");
  }
  if (!parts.config.is_object()) fail(config_path.string(), "not a JSON object");
  if (options.architecture) {
    parts.architecture = *options.architecture;
  } else {
    auto a = parts.config.find("architectures");
    if (a == parts.config.end() || !a->is_array() || a->empty() || !(*a)[0].is_string())
      fail(config_path.string(), "no \"architectures\" list naming the model class; pass --architecture NAME");
    parts.architecture = (*a)[0].get<std::string>();
  }

  // Shards.
  od::parser parser;
  std::vector<std::string> shard_files;
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index, ec)) {
    for (const auto& s : index_shards(index, parser)) {
      fs::path p = dir / s;
      if (!fs::exists(p, ec)) fail(index.string(), "names shard '" + s + "', which is not in " + directory);
      shard_files.push_back(p.string());
    }
  } else if (fs::exists(dir / "model.safetensors", ec)) {
    shard_files.push_back((dir / "model.safetensors").string());
  } else {
    fail(directory, "no model.safetensors and no model.safetensors.index.json");
  }
  TensorSet set;
  for (std::size_t i = 0; i < shard_files.size(); ++i)
    read_shard(shard_files[i], static_cast<std::uint32_t>(i), parser, set);
  std::vector<Tensor>& tensors = set.tensors;

  CheckpointSummary summary;
  summary.shards = shard_files.size();
  summary.tensors = tensors.size();
  {
    detail::NameTable seen(tensors.size());
    auto name_of = [&tensors](std::uint32_t id) { return tensors[id].name; };
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      std::uint32_t other = seen.insert(static_cast<std::uint32_t>(i), tensors[i].name, name_of);
      if (other != detail::no_entry)
        fail(shard_files[tensors[i].shard], "tensor '" + std::string(tensors[i].name) + "' is also in " +
                                                shard_files[tensors[other].shard] +
                                                "; each tensor must be stored once");
    }
  }

  // Adaptations the architecture's plugin declared.
  CheckpointAdaptations adapt;
  if (options.registry) adapt = options.registry->adaptations(parts.architecture);
  std::vector<Rename> renames;
  for (const auto& r : adapt.renames) {
    Rename rn;
    rn.pattern = r.pattern;
    rn.replacement = r.replacement;
    rn.engine.assign(translate_python_regex(r.pattern).boost_syntax, boost::regex::perl);
    renames.push_back(std::move(rn));
  }
  std::vector<std::pair<std::string, Target>> drops;
  for (const auto& d : adapt.dropped)
    drops.emplace_back(d, Target::compile("re:" + d, "checkpoint adaptation for " + parts.architecture));
  std::optional<std::uint64_t> layers;
  if (const auto* v = config_field(parts.config, "num_hidden_layers"); v && v->is_number_unsigned())
    layers = v->get<std::uint64_t>();

  auto storage = std::make_shared<CheckpointStorage>();
  std::vector<Node> nodes;
  nodes.reserve(tensors.size());
  std::deque<std::string> synthesised;  // names of split experts, owned while building
  auto node_name = [&nodes](std::uint32_t id) { return nodes[id].name; };
  detail::NameTable by_name(tensors.size());
  // Creates the module and its missing ancestors; returns its node. Children are linked in
  // creation order and sorted when the tree is laid out.
  auto ensure = [&](std::string_view name, auto& self) -> std::uint32_t {
    if (std::uint32_t id = by_name.find(name, node_name); id != detail::no_entry) return id;
    std::uint32_t parent = name.empty() ? detail::no_entry : self(parent_of(name), self);
    auto id = static_cast<std::uint32_t>(nodes.size());
    nodes.push_back({name, last_component(name), parent, detail::no_entry, detail::no_entry, {}, false});
    by_name.insert(id, name, node_name);
    if (parent != detail::no_entry) {
      nodes[id].next_sibling = nodes[parent].first_child;
      nodes[parent].first_child = id;
    }
    return id;
  };
  ensure("", ensure);

  for (auto& t : tensors) {
    for (const auto& r : renames)
      if (auto renamed = r.apply(std::string(t.name))) {
        t.name = set.own(std::move(*renamed));
        ++summary.renamed;
        break;
      }
    bool dropped = false;
    for (const auto& [pattern, target] : drops)
      if (target.matches_name(t.name)) {
        count(summary.dropped, "matches '" + pattern + "', which " + parts.architecture + " does not load");
        dropped = true;
        break;
      }
    if (dropped) continue;
    if (layers) {
      auto index_of = decoder_layer_index(t.name);
      if (index_of && *index_of >= *layers) {
        count(summary.dropped, "decoder layer index >= num_hidden_layers (" + std::to_string(*layers) +
                                   "): a multi-token-prediction layer the model does not load");
        continue;
      }
    }
    const std::string_view name = t.name;
    bool split = false;
    for (const auto& f : adapt.fused_experts) {
      if (!(name == f.fused || (name.size() > f.fused.size() && name.substr(name.size() - f.fused.size()) == f.fused &&
                                name[name.size() - f.fused.size() - 1] == '.')))
        continue;
      const auto shape = set.shape(t);
      const auto parts_count = static_cast<std::int64_t>(f.parts.size());
      if (shape.size() != 3 || shape[1] % parts_count != 0)
        fail(shard_files[t.shard], "fused expert tensor '" + std::string(name) + "' must have shape [experts, " +
                                       std::to_string(parts_count) + " x rows, columns]");
      const std::string base(name.substr(0, name.size() - f.fused.size()));
      for (std::int64_t e = 0; e < shape[0]; ++e)
        for (const auto& part : f.parts) {
          std::string_view module = synthesised.emplace_back(base + f.prefix + "." + std::to_string(e) + "." + part);
          std::uint32_t id = ensure(module, ensure);
          nodes[id].weight_shape = {shape[1] / parts_count, shape[2]};
          nodes[id].has_weight = true;
        }
      ++summary.fused_split;
      split = true;
      break;
    }
    if (split) continue;
    if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos)
      fail(shard_files[t.shard], "tensor name '" + std::string(name) + "' has an empty component");
    std::uint32_t id = ensure(parent_of(name), ensure);
    if (last_component(name) == "weight") {
      nodes[id].weight_shape = set.shape(t);
      nodes[id].has_weight = true;
    }
  }

  // Depth-first, children in numeric-aware order.
  std::vector<std::uint32_t> order;
  order.reserve(nodes.size());
  std::vector<std::uint32_t> stack{0}, kids;
  std::size_t name_bytes = 0;
  while (!stack.empty()) {
    std::uint32_t id = stack.back();
    stack.pop_back();
    order.push_back(id);
    name_bytes += nodes[id].name.size();
    kids.clear();
    for (std::uint32_t c = nodes[id].first_child; c != detail::no_entry; c = nodes[c].next_sibling) kids.push_back(c);
    std::sort(kids.begin(), kids.end(),
              [&](std::uint32_t a, std::uint32_t b) { return natural_less(nodes[a].last, nodes[b].last); });
    stack.insert(stack.end(), kids.rbegin(), kids.rend());
  }
  // Names laid out contiguously in module order: resolution walks them in that order.
  storage->ordered.reserve(name_bytes);
  for (std::uint32_t id : order) storage->ordered += nodes[id].name;
  std::size_t at = 0;
  parts.modules.reserve(order.size());
  for (std::uint32_t id : order) {
    Node& node = nodes[id];
    Module m;
    m.name = std::string_view(storage->ordered).substr(at, node.name.size());
    at += node.name.size();
    const bool has_children = node.first_child != detail::no_entry;
    bool all_numeric = has_children;
    for (std::uint32_t c = node.first_child; c != detail::no_entry && all_numeric; c = nodes[c].next_sibling)
      all_numeric = all_digits(nodes[c].last);
    if (node.has_weight && node.weight_shape.size() == 2) {
      if (node.last.find("embed") != std::string_view::npos || node.last == "wte" || node.last == "wpe") {
        m.type = "Embedding";
      } else {
        m.type = "Linear";
        m.out_features = node.weight_shape[0];
        m.in_features = node.weight_shape[1];
      }
    } else if (all_numeric) {
      m.type = "ModuleList";
    } else {
      m.type = "Module";
    }
    if (node.has_weight) m.shape = std::move(node.weight_shape);
    parts.modules.push_back(std::move(m));
  }
  parts.storage = storage;
  if (summary_out) *summary_out = std::move(summary);
  return ModelView(std::move(parts));
}

ModelView load_model(const std::string& path, const CheckpointOptions& options, CheckpointSummary* summary) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return load_checkpoint(path, options, summary);
  return load_model_description(path, options.architecture);
}

}  // namespace awqmap
