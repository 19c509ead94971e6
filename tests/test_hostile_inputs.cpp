// Hostile checkpoints, descriptions and mapping files: deep names, fused tensors that claim
// huge expert counts, links out of the checkpoint, FIFOs and devices, files too large to read,
// overlaps hidden behind empty tensors, and names with control bytes. Each must be an
// InputError naming the file (and the limit), quickly, without echoing file contents.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "awqmap/checkpoint.hpp"
#include "awqmap/error.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/registry.hpp"
#include "checkpoint_writer.hpp"
#include "support.hpp"

using namespace awqmap;
namespace fs = std::filesystem;

namespace {

const nlohmann::json llama_config = {{"architectures", {"LlamaForCausalLM"}}, {"num_hidden_layers", 1}};

nlohmann::json one_tensor(const std::string& name, std::vector<std::uint64_t> shape = {4, 4}) {
  return nlohmann::json::array({{{"name", name}, {"shape", shape}, {"dtype", "BF16"}}});
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

std::string checkpoint_error(const fs::path& dir, const CheckpointOptions& options = {}) {
  return error_of([&] { load_checkpoint(dir.string(), options); });
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a tensor name with 100000 parts is refused by the name depth limit without recursion") {
  std::string name = "m";
  for (int i = 0; i < 100000; ++i) name += ".x";
  name += ".weight";
  test::TempDir dir;
  test::write_checkpoint(dir.path, llama_config, one_tensor(name));
  const std::string e = checkpoint_error(dir.path);
  CHECK(contains(e, "InputLimits::max_name_depth"));
  CHECK(contains(e, "model.safetensors"));

  // The limit is an option: raised, the same checkpoint loads.
  CheckpointOptions raised;
  raised.limits.max_name_depth = 200000;
  raised.limits.max_total_name_bytes = 1ull << 40;
  raised.limits.max_name_bytes = 1u << 30;
  std::string shallow = "m";
  for (int i = 0; i < 3000; ++i) shallow += ".x";
  test::TempDir ok;
  test::write_checkpoint(ok.path, llama_config, one_tensor(shallow + ".weight"));
  ModelView m = load_checkpoint(ok.path.string(), raised);
  CHECK(m.size() == 3002);
  CHECK(contains(checkpoint_error(ok.path), "InputLimits::max_name_depth"));
}

TEST_CASE("a zero-size fused expert tensor claiming 10^12 experts is refused before anything is made") {
  test::TempDir dir;
  const nlohmann::json config = {{"architectures", {"Qwen3_5MoeForConditionalGeneration"}}};
  test::write_checkpoint(dir.path, config,
                         one_tensor("model.language_model.layers.0.mlp.experts.gate_up_proj", {1000000000000ull, 0, 0}));
  const std::string e = checkpoint_error(dir.path, {std::nullopt, &test::shipped_registry()});
  CHECK(contains(e, "InputLimits::max_fused_experts"));
  CHECK(contains(e, "gate_up_proj"));
  CHECK(contains(e, "model.safetensors"));

  // Under the expert limit but over the module limit: refused by max_modules, also up front.
  CheckpointOptions small{std::nullopt, &test::shipped_registry()};
  small.limits.max_modules = 1000;
  test::TempDir many;
  test::write_checkpoint(many.path, config, one_tensor("model.language_model.layers.0.mlp.experts.gate_up_proj", {4096, 2, 1}));
  CHECK(contains(checkpoint_error(many.path, small), "InputLimits::max_modules"));
}

TEST_CASE("a checkpoint of more than 200000 modules loads under the default limits") {
  test::TempDir dir;
  const nlohmann::json config = {{"architectures", {"Qwen3_5MoeForConditionalGeneration"}}};
  nlohmann::json tensors = nlohmann::json::array();
  tensors.push_back({{"name", "model.language_model.layers.0.mlp.experts.gate_up_proj"},
                     {"shape", {65536, 2, 1}},
                     {"dtype", "BF16"}});
  tensors.push_back(
      {{"name", "model.language_model.layers.0.mlp.experts.down_proj"}, {"shape", {65536, 1, 1}}, {"dtype", "BF16"}});
  test::write_checkpoint(dir.path, config, tensors);
  ModelView m = load_checkpoint(dir.path.string(), {std::nullopt, &test::shipped_registry()});
  CHECK(m.size() > 200000);
  CHECK(m.find("model.language_model.layers.0.mlp.experts.65535.down_proj") != no_module);
}

TEST_CASE("links out of the checkpoint are refused without printing a byte of their target") {
  test::TempDir outside;
  const std::string secret = "root:x:0:0:SECRET-LINE\n";
  const fs::path secret_file = outside.write("passwd", secret);
  test::TempDir dir;
  auto ckpt = dir.path / "ckpt";
  test::write_checkpoint(ckpt, llama_config, one_tensor("a.weight"));

  SECTION("a shard linked to a file elsewhere") {
    fs::remove(ckpt / "model.safetensors");
    fs::create_symlink(secret_file, ckpt / "model.safetensors");
    const std::string e = checkpoint_error(ckpt);
    CHECK(contains(e, "outside the checkpoint directory"));
    CHECK(contains(e, "model.safetensors"));
    CHECK_FALSE(contains(e, "root"));
    CHECK_FALSE(contains(e, "3475222254926655346"));  // "root:x:0" read as a header length
  }
  SECTION("config.json linked to a file elsewhere") {
    fs::remove(ckpt / "config.json");
    fs::create_symlink(secret_file, ckpt / "config.json");
    const std::string e = checkpoint_error(ckpt);
    CHECK(contains(e, "config.json"));
    CHECK_FALSE(contains(e, "SECRET"));
  }
  SECTION("config.json linked to /dev/zero") {
    fs::remove(ckpt / "config.json");
    fs::create_symlink("/dev/zero", ckpt / "config.json");
    CHECK(contains(checkpoint_error(ckpt), "config.json"));
  }
  SECTION("an index entry under a directory linked to /") {
    test::write_checkpoint(ckpt, llama_config, one_tensor("a.weight"), 2);
    fs::create_directory_symlink("/", ckpt / "sub");
    std::ofstream(ckpt / "model.safetensors.index.json")
        << nlohmann::json{{"weight_map", {{"a.weight", "sub/etc/passwd"}}}}.dump();
    const std::string e = checkpoint_error(ckpt);
    CHECK(contains(e, "sub/etc/passwd"));
    CHECK(contains(e, "outside the checkpoint directory"));
    CHECK_FALSE(contains(e, "root:"));
  }
  SECTION("a link inside the checkpoint is followed") {
    fs::rename(ckpt / "model.safetensors", ckpt / "real.safetensors");
    fs::create_symlink("real.safetensors", ckpt / "model.safetensors");
    CHECK(load_checkpoint(ckpt.string()).find("a") != no_module);
  }
}

TEST_CASE("a Hugging Face cache snapshot whose files link into blobs loads") {
  test::TempDir cache;
  const fs::path repo = cache.path / "models--org--tiny";
  const fs::path snapshot = repo / "snapshots" / "0123abcd";
  test::TempDir staging;
  test::write_checkpoint(staging.path, llama_config, one_tensor("model.layers.0.self_attn.q_proj.weight"), 2);
  fs::create_directories(repo / "blobs");
  fs::create_directories(snapshot);
  int n = 0;
  for (const auto& entry : fs::directory_iterator(staging.path)) {
    const std::string blob = "blob" + std::to_string(n++);
    fs::copy_file(entry.path(), repo / "blobs" / blob);
    fs::create_symlink(fs::path("../../blobs") / blob, snapshot / entry.path().filename());
  }
  ModelView m = load_checkpoint(snapshot.string());
  CHECK(m.find("model.layers.0.self_attn.q_proj") != no_module);

  // A checkpoint in a folder of the snapshot links two levels further up.
  const fs::path nested = snapshot / "text_encoder";
  fs::create_directories(nested);
  for (const auto& entry : fs::directory_iterator(snapshot))
    if (fs::is_symlink(entry.path()))
      fs::create_symlink(fs::path("..") / fs::read_symlink(entry.path()), nested / entry.path().filename());
  CHECK(load_checkpoint(nested.string()).find("model.layers.0.self_attn.q_proj") != no_module);

  // The blobs of another repository are outside.
  const fs::path other = cache.path / "models--other--repo" / "blobs";
  fs::create_directories(other);
  fs::rename(repo / "blobs" / "blob0", other / "stolen");
  fs::remove(snapshot / "config.json");
  fs::create_symlink(other / "stolen", snapshot / "config.json");
  CHECK(contains(checkpoint_error(snapshot), "outside the checkpoint directory"));
}

TEST_CASE("FIFOs and directories are refused by name without blocking") {
  test::TempDir dir;
  const fs::path fifo = dir.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const fs::path folder = dir.path / "folder";
  fs::create_directories(folder);

  SECTION("as a model description") {
    const std::string e = error_of([&] { load_model_description(fifo.string()); });
    CHECK(contains(e, fifo.string()));
    CHECK(contains(e, "FIFO"));
    CHECK(contains(error_of([&] { load_model_description(folder.string()); }), "a directory"));
  }
  SECTION("as a mappings file") {
    const std::string e = error_of([&] { load_mappings_file(fifo.string()); });
    CHECK(contains(e, fifo.string()));
    CHECK(contains(e, "FIFO"));
    const std::string d = error_of([&] { load_mappings_file(folder.string()); });
    CHECK(contains(d, folder.string()));
    CHECK(contains(d, "a directory"));
  }
  SECTION("as config.json and as the index") {
    auto ckpt = dir.path / "ckpt";
    test::write_checkpoint(ckpt, llama_config, one_tensor("a.weight"));
    fs::remove(ckpt / "config.json");
    REQUIRE(::mkfifo((ckpt / "config.json").c_str(), 0600) == 0);
    const std::string e = checkpoint_error(ckpt);
    CHECK(contains(e, "config.json"));
    CHECK(contains(e, "FIFO"));
    fs::remove(ckpt / "config.json");
    fs::create_directories(ckpt / "config.json");
    const std::string d = checkpoint_error(ckpt);
    CHECK(contains(d, "config.json: is a directory"));
    fs::remove(ckpt / "config.json");
    std::ofstream(ckpt / "config.json") << llama_config.dump();
    REQUIRE(::mkfifo((ckpt / "model.safetensors.index.json").c_str(), 0600) == 0);
    CHECK(contains(checkpoint_error(ckpt), "model.safetensors.index.json"));
  }
}

TEST_CASE("files over the size limits are refused before they are read") {
  test::TempDir dir;
  auto ckpt = dir.path / "ckpt";
  test::write_checkpoint(ckpt, llama_config, one_tensor("a.weight"));
  fs::resize_file(ckpt / "config.json", 300ull << 20);  // sparse: nothing is written
  const std::string e = checkpoint_error(ckpt);
  CHECK(contains(e, "config.json"));
  CHECK(contains(e, "InputLimits::max_json_file_bytes"));

  const fs::path description = dir.write("model.json", R"({"format": "awqmap.model/v1"})");
  InputLimits tiny;
  tiny.max_description_bytes = 10;
  const std::string d = error_of([&] { load_model_description(description.string(), std::nullopt, tiny); });
  CHECK(contains(d, "InputLimits::max_description_bytes"));
  CHECK(contains(d, "model.json"));
}

TEST_CASE("a header length made of other bytes is reported without its value") {
  test::TempDir dir;
  auto ckpt = dir.path / "ckpt";
  fs::create_directories(ckpt);
  std::ofstream(ckpt / "config.json") << llama_config.dump();
  std::ofstream(ckpt / "model.safetensors", std::ios::binary) << "root:x:0:0:root:/root:/bin/bash\n";
  const std::string e = checkpoint_error(ckpt);
  CHECK(contains(e, "model.safetensors"));
  CHECK_FALSE(contains(e, "3475222254926655346"));
  CHECK_FALSE(contains(e, "root:"));
}

TEST_CASE("an overlap hidden behind a zero-length tensor is found") {
  test::TempDir dir;
  auto ckpt = dir.path / "ckpt";
  fs::create_directories(ckpt);
  std::ofstream(ckpt / "config.json") << llama_config.dump();
  // Sorted by start: a [0, 8), z [4, 4), b [6, 14): only a and b overlap, and they are not
  // neighbours.
  test::write_shard(ckpt / "model.safetensors",
                    R"({"a.weight": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]},
                        "z.weight": {"dtype": "F16", "shape": [0], "data_offsets": [4, 4]},
                        "b.weight": {"dtype": "F16", "shape": [4], "data_offsets": [6, 14]}})",
                    16);
  const std::string e = checkpoint_error(ckpt);
  CHECK(contains(e, "'a.weight' and 'b.weight' overlap"));

  // Nested spans are found too: c [0, 16) holds d [2, 4) after e [1, 1).
  test::write_shard(ckpt / "model.safetensors",
                    R"({"c.weight": {"dtype": "F16", "shape": [8], "data_offsets": [0, 16]},
                        "e.weight": {"dtype": "F16", "shape": [0], "data_offsets": [1, 1]},
                        "d.weight": {"dtype": "F16", "shape": [1], "data_offsets": [2, 4]}})",
                    16);
  CHECK(contains(checkpoint_error(ckpt), "overlap"));
}

TEST_CASE("a NUL in a shard name is escaped and does not cut the message") {
  test::TempDir dir;
  auto ckpt = dir.path / "ckpt";
  test::write_checkpoint(ckpt, llama_config, one_tensor("a.weight"), 2);
  std::ofstream(ckpt / "model.safetensors.index.json")
      << nlohmann::json{{"weight_map", {{"a.weight", std::string("model\0.safetensors", 18)}}}}.dump();
  const std::string e = checkpoint_error(ckpt);
  CHECK(e.find('\0') == std::string::npos);
  CHECK(contains(e, "model\\x00.safetensors"));
  CHECK(contains(e, "must be a file name inside the checkpoint directory"));
}

TEST_CASE("tensor names with control bytes reach messages escaped") {
  test::TempDir dir;
  auto ckpt = dir.path / "ckpt";
  fs::create_directories(ckpt);
  std::ofstream(ckpt / "config.json") << llama_config.dump();
  test::write_shard(ckpt / "model.safetensors", R"({"a\u001b[31m.weight": {"dtype": "F12", "shape": [1], "data_offsets": [0, 2]}})",
                    2);
  const std::string e = checkpoint_error(ckpt);
  CHECK(e.find('\x1b') == std::string::npos);
  CHECK(contains(e, "a\\x1b[31m.weight"));
}
