#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "awqmap/checkpoint.hpp"
#include "awqmap/error.hpp"
#include "awqmap/loader.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/resolve.hpp"
#include "checkpoint_writer.hpp"
#include "support.hpp"

using namespace awqmap;
namespace fs = std::filesystem;

namespace {

Registry& shipped() {
  return test::shipped_registry();
}

// A resolution as a set of groups, or the error kind.
std::set<std::string> groups_or_error(const ModelView& model, SelectionMode mode = SelectionMode::exact) {
  Selection s = shipped().select(model, mode);
  try {
    Resolution r = resolve(model, s.mappings);
    std::set<std::string> out;
    for (const auto& g : r.resolved) {
      std::set<std::string> balance(g.balance_names.begin(), g.balance_names.end());
      std::string key = std::string(g.smooth_name) + " -> {";
      for (const auto& b : balance) key += b + ",";
      out.insert(key + "} @ " + std::string(g.parent_name));
    }
    for (const auto& k : r.skipped)
      out.insert("skipped " + std::string(k.smooth_name) + " " + std::string(to_string(k.reason)));
    return out;
  } catch (const ResolutionError& e) {
    return {"error " + std::string(to_string(e.kind()))};
  }
}

std::string load_error(const fs::path& dir) {
  try {
    load_checkpoint(dir.string(), {std::nullopt, &shipped()});
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

nlohmann::json tiny_tensors() {
  return nlohmann::json::array(
      {{{"name", "model.embed_tokens.weight"}, {"shape", {16, 8}}, {"dtype", "BF16"}},
       {{"name", "model.layers.0.self_attn.q_proj.weight"}, {"shape", {8, 8}}, {"dtype", "BF16"}},
       {{"name", "model.layers.0.self_attn.q_proj.bias"}, {"shape", {8}}, {"dtype", "BF16"}},
       {{"name", "model.layers.0.input_layernorm.weight"}, {"shape", {8}}, {"dtype", "F32"}},
       {{"name", "lm_head.weight"}, {"shape", {16, 8}}, {"dtype", "BF16"}}});
}
const nlohmann::json tiny_config = {{"architectures", {"LlamaForCausalLM"}}, {"num_hidden_layers", 1}};

}  // namespace

// Module order differs from torch's inside a tower (numeric-aware names instead of registration
// order), but the towers come in torch's order, so a failing mapping fails with the same kind.
TEST_CASE("every corpus checkpoint gives the same groups or the same error kind as its model description") {
  std::size_t cases = 0, errors = 0;
  for (const auto& name : test::corpus_cases()) cases += fs::exists(test::corpus_dir() / (name + ".checkpoint.json"));
  CHECK(cases >= 10);
  for (const auto& name : test::corpus_cases()) {
    fs::path ckpt = test::corpus_dir() / (name + ".checkpoint.json");
    if (!fs::exists(ckpt)) continue;
    INFO(name);  // a plain loop, not sections: the counter below must see every case
    auto spec = test::read_json(ckpt);
    test::TempDir dir;
    test::write_checkpoint(dir.path, spec["config"], spec["tensors"], 3);
    ModelView from_checkpoint = load_checkpoint(dir.path.string(), {std::nullopt, &shipped()});
    ModelView from_description = load_model_description((test::corpus_dir() / (name + ".model.json")).string());
    CHECK(from_checkpoint.architecture() == from_description.architecture());
    for (SelectionMode mode : {SelectionMode::exact, SelectionMode::upstream}) {
      INFO(to_string(mode));
      auto want = groups_or_error(from_description, mode);
      auto got = groups_or_error(from_checkpoint, mode);
      errors += want.size() == 1 && want.begin()->rfind("error", 0) == 0;
      CHECK(got == want);
    }
  }
  // Under upstream's lists Gemma3's twin fails with multiple_smooth_layers: the kind
  // comparison is exercised.
  CHECK(errors >= 1);
}

TEST_CASE("a checkpoint becomes a module tree: Linear from 2-D weights, embeddings, ModuleLists, numeric order") {
  test::TempDir dir;
  nlohmann::json tensors = tiny_tensors();
  for (int l : {10, 2}) {
    std::string p = "model.layers." + std::to_string(l);
    tensors.push_back({{"name", p + ".self_attn.q_proj.weight"}, {"shape", {8, 8}}, {"dtype", "F8_E4M3"}});
    tensors.push_back({{"name", p + ".self_attn.q_proj.weight_scale_inv"}, {"shape", {1, 1}}, {"dtype", "F32"}});
  }
  test::write_checkpoint(dir.path, {{"architectures", {"LlamaForCausalLM"}}, {"num_hidden_layers", 11}}, tensors);
  CheckpointSummary summary;
  ModelView m = load_checkpoint(dir.path.string(), {}, &summary);
  CHECK(summary.tensors == tensors.size());
  CHECK_FALSE(m.has_torch_class_names());
  const Module& q = m[m.find("model.layers.0.self_attn.q_proj")];
  CHECK(q.type == "Linear");
  CHECK(*q.out_features == 8);
  CHECK(m[m.find("model.embed_tokens")].type == "Embedding");
  CHECK(m[m.find("model.layers")].type == "ModuleList");
  CHECK(m[m.find("model.layers.0.input_layernorm")].type == "Module");
  CHECK(m.find("model.layers.0.self_attn.q_proj.bias") == no_module);  // parameters create no module
  std::vector<std::string> layer_order;
  for (auto c : m.children(m.find("model.layers"))) layer_order.emplace_back(m[c].name);
  CHECK(layer_order == std::vector<std::string>{"model.layers.0", "model.layers.2", "model.layers.10"});
  CHECK(m[0].name.empty());
  CHECK(m[1].name == "lm_head");
}

TEST_CASE("architecture comes from config.json and can be overridden") {
  test::TempDir dir;
  test::write_checkpoint(dir.path, tiny_config, tiny_tensors());
  CHECK(load_checkpoint(dir.path.string()).architecture() == "LlamaForCausalLM");
  CHECK(load_checkpoint(dir.path.string(), {std::string("MistralForCausalLM"), nullptr}).architecture() ==
        "MistralForCausalLM");
  CHECK(load_model(dir.path.string()).size() > 5);
}

TEST_CASE("a tensor name with an empty component is refused wherever the two dots fall") {
  // Names of every length up to three words, with two adjacent dots at every place (an error)
  // and with two dots one byte apart at every place (a valid model).
  for (std::size_t size = 3; size <= 24; ++size)
    for (std::size_t at = 1; at + 2 < size; ++at) {
      test::TempDir dir;
      auto name = [&](std::size_t gap) {
        std::string n(size, 'a');
        n[at] = '.';
        n[at + gap] = '.';
        return n + ".weight";
      };
      nlohmann::json bad = tiny_tensors(), good = tiny_tensors();
      bad.push_back({{"name", name(1)}, {"shape", {8, 8}}, {"dtype", "BF16"}});
      test::write_checkpoint(dir.path / "bad", tiny_config, bad);
      INFO(name(1));
      CHECK(load_error(dir.path / "bad").find("has an empty component") != std::string::npos);
      if (at + 3 < size) {
        good.push_back({{"name", name(2)}, {"shape", {8, 8}}, {"dtype", "BF16"}});
        test::write_checkpoint(dir.path / "good", tiny_config, good);
        INFO(name(2));
        CHECK(load_error(dir.path / "good") == "no error");
      }
    }
}

TEST_CASE("multi-token-prediction layers and mtp tensors are dropped and counted") {
  test::TempDir dir;
  auto spec = test::read_json(test::corpus_dir() / "Qwen3NextForCausalLM.tiny.checkpoint.json");
  test::write_checkpoint(dir.path, spec["config"], spec["tensors"], 2);
  CheckpointSummary summary;
  ModelView m = load_checkpoint(dir.path.string(), {std::nullopt, &shipped()}, &summary);
  REQUIRE(summary.dropped.size() == 1);
  CHECK(summary.dropped[0].reason.find("mtp") != std::string::npos);
  CHECK(summary.dropped[0].count > 0);
  for (const auto& mod : m.modules()) CHECK(mod.name.rfind("mtp", 0) != 0);

  test::TempDir ds;
  auto deepseek = test::read_json(test::corpus_dir() / "DeepseekV3ForCausalLM.tiny.checkpoint.json");
  test::write_checkpoint(ds.path, deepseek["config"], deepseek["tensors"]);
  CheckpointSummary s2;
  ModelView d = load_checkpoint(ds.path.string(), {std::nullopt, &shipped()}, &s2);
  REQUIRE(s2.dropped.size() == 1);
  CHECK(s2.dropped[0].reason.find("num_hidden_layers (3)") != std::string::npos);
  CHECK(d.find("model.layers.3") == no_module);
  CHECK(d.find("model.layers.2") != no_module);
}

TEST_CASE("Qwen3.5-MoE fused experts split into per-expert gate, up and down projections") {
  test::TempDir dir;
  auto spec = test::read_json(test::corpus_dir() / "Qwen3_5MoeForConditionalGeneration.tiny.checkpoint.json");
  test::write_checkpoint(dir.path, spec["config"], spec["tensors"]);
  CheckpointSummary summary;
  ModelView m = load_checkpoint(dir.path.string(), {std::nullopt, &shipped()}, &summary);
  CHECK(summary.fused_split > 0);
  const Module& gate = m[m.find("model.language_model.layers.0.mlp.experts.3.gate_proj")];
  const Module& down = m[m.find("model.language_model.layers.0.mlp.experts.3.down_proj")];
  CHECK(gate.type == "Linear");
  CHECK(*gate.out_features == 32);
  CHECK(*gate.in_features == 64);
  CHECK(*down.out_features == 64);
  CHECK(*down.in_features == 32);
  CHECK(m[m.find("model.language_model.layers.0.mlp.experts")].type == "ModuleList");
}

TEST_CASE("registered key renames rewrite tensor names before modules are derived") {
  Registry registry;
  registry.register_plugin({"inline", "renamer", "1", {}}, [](Registrar& r) {
    r.rename_checkpoint_keys("MixtralForCausalLM", "(.*)\\.block_sparse_moe\\.experts\\.(\\d+)\\.w1",
                             "\\1.mlp.experts.\\2.gate_proj");
  });
  test::TempDir dir;
  test::write_checkpoint(
      dir.path, {{"architectures", {"MixtralForCausalLM"}}},
      nlohmann::json::array(
          {{{"name", "model.layers.0.block_sparse_moe.experts.7.w1.weight"}, {"shape", {4, 2}}, {"dtype", "BF16"}}}));
  CheckpointSummary summary;
  ModelView m = load_checkpoint(dir.path.string(), {std::nullopt, &registry}, &summary);
  CHECK(summary.renamed == 1);
  CHECK(m.find("model.layers.0.mlp.experts.7.gate_proj") != no_module);
}

TEST_CASE("malformed checkpoints are clear errors naming the file") {
  test::TempDir dir;
  auto ckpt = dir.path / "ckpt";
  SECTION("missing config.json") {
    fs::create_directories(ckpt);
    CHECK(load_error(ckpt).find("no config.json") != std::string::npos);
  }
  SECTION("no architectures") {
    test::write_checkpoint(ckpt, {{"num_hidden_layers", 1}}, tiny_tensors());
    CHECK(load_error(ckpt).find("config.json: no \"architectures\"") != std::string::npos);
  }
  SECTION("no safetensors file") {
    fs::create_directories(ckpt);
    std::ofstream(ckpt / "config.json") << tiny_config.dump();
    CHECK(load_error(ckpt).find("no model.safetensors") != std::string::npos);
  }
  SECTION("an index naming an absent shard") {
    test::write_checkpoint(ckpt, tiny_config, tiny_tensors(), 2);
    fs::remove(ckpt / "model-00002-of-00002.safetensors");
    CHECK(load_error(ckpt).find("names shard 'model-00002-of-00002.safetensors'") != std::string::npos);
  }
  SECTION("the same tensor in two shards") {
    nlohmann::json t = tiny_tensors();
    t.push_back(t[0]);
    test::write_checkpoint(ckpt, tiny_config, t, 2);
    CHECK(load_error(ckpt).find("is also in") != std::string::npos);
  }
  auto shard_error = [&](const std::string& header, std::uint64_t data = 64, std::optional<std::uint64_t> length = {}) {
    fs::create_directories(ckpt);
    std::ofstream(ckpt / "config.json") << tiny_config.dump();
    test::write_shard(ckpt / "model.safetensors", header, data);
    if (length) {
      std::fstream f(ckpt / "model.safetensors", std::ios::binary | std::ios::in | std::ios::out);
      for (int i = 0; i < 8; ++i) f.put(static_cast<char>((*length >> (8 * i)) & 0xFF));
    }
    std::string e = load_error(ckpt);
    CHECK(e.find("model.safetensors") != std::string::npos);
    return e;
  };
  SECTION("header length beyond the file") {
    CHECK(shard_error("{}", 0, 4096).find("runs past the end") != std::string::npos);
  }
  SECTION("header length over 100 MiB") {
    const std::string e = shard_error("{}", 0, 200ull << 20);
    CHECK(e.find("InputLimits::max_safetensors_header_bytes") != std::string::npos);
    CHECK(e.find(std::to_string(200ull << 20)) == std::string::npos);  // the field's value is not echoed
  }
  SECTION("header not JSON") {
    CHECK(shard_error("{not json}").find("header") != std::string::npos);
  }
  SECTION("header not an object") {
    CHECK(shard_error("[1, 2]").find("not a JSON object") != std::string::npos);
  }
  SECTION("entry without dtype") {
    CHECK(shard_error(R"({"a.weight": {"shape": [2], "data_offsets": [0, 4]}})").find("no dtype") != std::string::npos);
  }
  SECTION("entry without shape") {
    CHECK(shard_error(R"({"a.weight": {"dtype": "F16", "data_offsets": [0, 4]}})").find("no shape") !=
          std::string::npos);
  }
  SECTION("entry without data_offsets") {
    CHECK(shard_error(R"({"a.weight": {"dtype": "F16", "shape": [2]}})").find("no data_offsets") != std::string::npos);
  }
  SECTION("unknown dtype") {
    CHECK(shard_error(R"({"a.weight": {"dtype": "F12", "shape": [2], "data_offsets": [0, 4]}})")
              .find("unknown dtype 'F12'") != std::string::npos);
  }
  SECTION("offsets outside the file") {
    CHECK(shard_error(R"({"a.weight": {"dtype": "F16", "shape": [64], "data_offsets": [0, 128]}})", 64)
              .find("past the 64 bytes") != std::string::npos);
  }
  SECTION("offsets not matching shape and dtype") {
    CHECK(shard_error(R"({"a.weight": {"dtype": "F16", "shape": [2], "data_offsets": [0, 6]}})").find("need 4") !=
          std::string::npos);
  }
  SECTION("overlapping tensors") {
    CHECK(shard_error(R"({"a.weight": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]},
                          "b.weight": {"dtype": "F16", "shape": [4], "data_offsets": [4, 12]}})")
              .find("overlap") != std::string::npos);
  }
}

TEST_CASE("thousands of truncated and bit-flipped headers give an error or a valid model, never a crash") {
  test::TempDir dir;
  auto ckpt = dir.path / "ckpt";
  fs::create_directories(ckpt);
  std::ofstream(ckpt / "config.json") << tiny_config.dump();
  std::uint64_t data_size;
  const std::string header = test::safetensors_header(tiny_tensors(), data_size);
  std::mt19937 rng(7);
  std::size_t errors = 0, valid = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string h = header;
    if (i % 2)
      h.resize(rng() % h.size());
    else
      for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k)
        h[rng() % h.size()] ^= static_cast<char>(1u << (rng() % 8));
    test::write_shard(ckpt / "model.safetensors", h, i % 3 ? data_size : rng() % (data_size + 1));
    if (i % 5 == 0) {  // a damaged length field
      std::fstream f(ckpt / "model.safetensors", std::ios::binary | std::ios::in | std::ios::out);
      f.seekp(static_cast<std::streamoff>(rng() % 8));
      f.put(static_cast<char>(rng()));
    }
    try {
      ModelView m = load_checkpoint(ckpt.string());
      ++valid;
      CHECK(m.size() >= 1);
    } catch (const InputError& e) {
      ++errors;
      CHECK(std::string(e.what()).find(ckpt.string()) == 0);
    }
  }
  CHECK(errors > 2000);
  CHECK(errors + valid == 3000);
}

namespace {

// A loaded checkpoint as text: each module's name, type and weight shape; or the error.
std::string tree_or_error(const fs::path& dir) {
  try {
    ModelView m = load_checkpoint(dir.string());
    std::string out;
    for (const auto& mod : m.modules()) {
      out += std::string(mod.name) + " " + std::string(mod.type);
      for (auto d : mod.shape) out += " " + std::to_string(d);
      out += "\n";
    }
    return out;
  } catch (const InputError&) {
    return "error";
  }
}

}  // namespace

TEST_CASE("plain headers read as the same headers with escapes whitespace and metadata do") {
  // Headers as the safetensors library writes them take a faster path than headers with escapes;
  // both must give the same modules, and the same verdict on damaged headers.
  test::TempDir dir;
  std::uint64_t data_size;
  const std::string header = test::safetensors_header(tiny_tensors(), data_size);
  REQUIRE(header.rfind("{\"lm_head.weight\"", 0) == 0);
  auto load = [&](const std::string& name, const std::string& h) {
    auto ckpt = dir.path / name;
    fs::create_directories(ckpt);
    std::ofstream(ckpt / "config.json") << tiny_config.dump();
    test::write_shard(ckpt / "model.safetensors", h, data_size);
    return tree_or_error(ckpt);
  };
  const std::string plain = load("plain", header);
  CHECK(plain.find("lm_head Linear 16 8") != std::string::npos);
  CHECK(load("escaped", "{\"\\u006cm_head.weight\"" + header.substr(17)) == plain);
  CHECK(load("spaced", nlohmann::json::parse(header).dump(2) + "   ") == plain);
  CHECK(load("metadata", "{\"__metadata__\": {\"format\": \"pt\"}, " + header.substr(1)) == plain);
  CHECK(load("numeric metadata", "{\"__metadata__\": {\"n\": 1}, " + header.substr(1)) == plain);
  std::mt19937 rng(11);
  std::size_t valid = 0;
  for (int i = 0; i < 600; ++i) {
    std::string h = header;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 2); ++k)
      h[3 + rng() % (h.size() - 3)] ^= static_cast<char>(1u << (rng() % 8));
    const std::string fast = load("mutated", h);
    const std::string general = load("mutated escaped", "{\"\\u006c" + h.substr(3));
    INFO(h);
    CHECK(fast == general);
    valid += fast != "error";
  }
  CHECK(valid > 50);  // some flips keep the header valid (in a name, a digit, a dtype)
}

namespace {

std::vector<std::string> module_names(const ModelView& m) {
  std::vector<std::string> out;
  for (const auto& mod : m.modules()) out.emplace_back(mod.name);
  return out;
}

std::size_t position_of(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

}  // namespace

TEST_CASE("an old-layout Gemma3 checkpoint gives the torch names with the vision tower first") {
  auto spec = test::read_json(test::corpus_dir() / "Gemma3ForConditionalGeneration.tiny.checkpoint.json");
  REQUIRE(spec["tensors"][0]["name"].get<std::string>().rfind("vision_tower.", 0) == 0);  // the old layout
  test::TempDir dir;
  test::write_checkpoint(dir.path, spec["config"], spec["tensors"]);
  CheckpointSummary summary;
  ModelView m = load_checkpoint(dir.path.string(), {std::nullopt, &shipped()}, &summary);
  CHECK(summary.renamed == spec["tensors"].size());
  const auto names = module_names(m);
  CHECK(m.find("model.language_model.layers.0.self_attn.q_proj") != no_module);
  CHECK(m.find("model.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj") != no_module);
  CHECK(m.find("model.multi_modal_projector.mm_soft_emb_norm") != no_module);
  for (const auto& n : names) {
    CHECK(n.rfind("language_model", 0) != 0);
    CHECK(n.rfind("vision_tower", 0) != 0);
  }
  CHECK(position_of(names, "model.vision_tower") < position_of(names, "model.multi_modal_projector"));
  CHECK(position_of(names, "model.multi_modal_projector") < position_of(names, "model.language_model"));
  CHECK(position_of(names, "model.language_model") < names.size());

  // The same checkpoint saved in the new layout passes unchanged and gives the same modules.
  nlohmann::json renamed = spec["tensors"];
  for (auto& t : renamed) {
    std::string n = t["name"];
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"language_model.model", "model.language_model"},
             {"vision_tower", "model.vision_tower"},
             {"multi_modal_projector", "model.multi_modal_projector"},
             {"language_model.lm_head", "lm_head"}})
      if (n.rfind(from, 0) == 0) {
        n = to + n.substr(from.size());
        break;
      }
    t["name"] = n;
  }
  test::TempDir new_layout;
  test::write_checkpoint(new_layout.path, spec["config"], renamed);
  CheckpointSummary unchanged;
  ModelView n = load_checkpoint(new_layout.path.string(), {std::nullopt, &shipped()}, &unchanged);
  CHECK(unchanged.renamed == 0);
  CHECK(module_names(n) == names);
}

TEST_CASE("an old-layout Qwen2.5-VL checkpoint gives model.language_model and model.visual names") {
  auto tensor = [](const std::string& name, std::vector<int> shape) {
    return nlohmann::json{{"name", name}, {"shape", shape}, {"dtype", "BF16"}};
  };
  nlohmann::json old_layout = nlohmann::json::array();
  for (const std::string p : {"visual.blocks.0.attn.qkv", "visual.blocks.0.attn.proj", "visual.merger.mlp.0"})
    old_layout.push_back(tensor(p + ".weight", {8, 8}));
  old_layout.push_back(tensor("model.embed_tokens.weight", {32, 8}));
  for (const std::string p : {"q_proj", "k_proj", "v_proj", "o_proj"})
    old_layout.push_back(tensor("model.layers.0.self_attn." + p + ".weight", {8, 8}));
  old_layout.push_back(tensor("model.layers.0.input_layernorm.weight", {8}));
  old_layout.push_back(tensor("lm_head.weight", {32, 8}));
  const nlohmann::json config = {{"architectures", {"Qwen2_5_VLForConditionalGeneration"}},
                                 {"text_config", {{"num_hidden_layers", 1}}}};
  test::TempDir dir;
  test::write_checkpoint(dir.path, config, old_layout);
  CheckpointSummary summary;
  ModelView m = load_checkpoint(dir.path.string(), {std::nullopt, &shipped()}, &summary);
  CHECK(summary.renamed == old_layout.size() - 1);  // all but lm_head
  CHECK(m.find("model.language_model.layers.0.self_attn.q_proj") != no_module);
  CHECK(m.find("model.language_model.embed_tokens") != no_module);
  CHECK(m.find("model.visual.blocks.0.attn.qkv") != no_module);
  CHECK(m.find("lm_head") != no_module);
  CHECK(m.find("model.layers") == no_module);
  CHECK(m.find("visual") == no_module);
  const auto names = module_names(m);
  CHECK(position_of(names, "model.visual") < position_of(names, "model.language_model"));
  CHECK(position_of(names, "model.language_model") < names.size());

  // Already in the new layout: `^model(?!\.(language_model|visual))` matches nothing.
  nlohmann::json new_layout = nlohmann::json::array();
  for (const auto& n : names)
    if (m[m.find(n)].type == "Linear") new_layout.push_back(tensor(n + ".weight", {8, 8}));
  test::TempDir again;
  test::write_checkpoint(again.path, config, new_layout);
  CheckpointSummary unchanged;
  ModelView n = load_checkpoint(again.path.string(), {std::nullopt, &shipped()}, &unchanged);
  CHECK(unchanged.renamed == 0);
  CHECK(n.find("model.language_model.layers.0.self_attn.q_proj") != no_module);
  CHECK(n.find("model.language_model.language_model") == no_module);
}
