// The C API (awqmap/awqmap.h) driven from C++: the same answers as the C++ API, errors as values
// with the file or mapping named, and no crash on a caller's mistakes.
#include <awqmap/awqmap.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "awqmap/awqmap.hpp"
#include "awqmap/loader.hpp"
#include "support.hpp"

namespace {

struct Deleter {
  void operator()(awqmap_registry* p) const { awqmap_registry_destroy(p); }
  void operator()(awqmap_model* p) const { awqmap_model_destroy(p); }
  void operator()(awqmap_result* p) const { awqmap_result_destroy(p); }
  void operator()(awqmap_error* p) const { awqmap_error_destroy(p); }
};
using Registry = std::unique_ptr<awqmap_registry, Deleter>;
using Model = std::unique_ptr<awqmap_model, Deleter>;
using Result = std::unique_ptr<awqmap_result, Deleter>;
using Error = std::unique_ptr<awqmap_error, Deleter>;

const std::string example_dir = std::string(AWQMAP_SOURCE_DIR) + "/examples/qwen3-next-tiny";
const std::string defaults_plugin = std::string(AWQMAP_PLUGIN_BUILD_DIR) + "/awqmap-defaults.so";

std::string corpus_model(const std::string& name) {
  return (awqmap::test::corpus_dir() / (name + ".model.json")).string();
}

Registry shipped() {
  awqmap_registry* r = nullptr;
  REQUIRE(awqmap_registry_create(&r, nullptr) == AWQMAP_OK);
  Registry registry(r);
  awqmap_error* e = nullptr;
  const awqmap_status s = awqmap_registry_load_plugins(r, nullptr, 0, 1, &e);
  Error error(e);
  INFO((e ? awqmap_error_message(e) : ""));
  REQUIRE(s == AWQMAP_OK);
  return registry;
}

Model load(const awqmap_registry* registry, const std::string& path, const char* architecture = nullptr) {
  awqmap_model* m = nullptr;
  awqmap_error* e = nullptr;
  const awqmap_status s = awqmap_model_load(registry, path.c_str(), architecture, &m, &e);
  Error error(e);
  INFO((e ? awqmap_error_message(e) : ""));
  REQUIRE(s == AWQMAP_OK);
  return Model(m);
}

struct Outcome {
  awqmap_status status;
  Result result;
  Error error;
};
Outcome resolve(const awqmap_registry* registry, const awqmap_model* model,
                const awqmap_resolve_options* options = nullptr) {
  awqmap_result* r = nullptr;
  awqmap_error* e = nullptr;
  const awqmap_status s = awqmap_resolve(registry, model, options, &r, &e);
  return {s, Result(r), Error(e)};
}

std::vector<std::string> strings(const char* const* list, std::size_t n) {
  return {list, list + n};
}

std::vector<awqmap_group> groups(const awqmap_result* r) {
  std::size_t n = 0;
  REQUIRE(awqmap_result_group_count(r, &n) == AWQMAP_OK);
  std::vector<awqmap_group> out(n);
  for (std::size_t i = 0; i < n; ++i) REQUIRE(awqmap_result_group(r, i, &out[i]) == AWQMAP_OK);
  return out;
}

}  // namespace

TEST_CASE("the C API resolves the bundled example to the groups of the C++ API") {
  Registry registry = shipped();
  Model model = load(registry.get(), example_dir);
  Outcome out = resolve(registry.get(), model.get());
  REQUIRE(out.status == AWQMAP_OK);
  CHECK_FALSE(out.error);

  // The reference: the C++ API on the same checkpoint.
  awqmap::Registry cpp_registry;
  awqmap::PluginLoader(cpp_registry).load_search_path({}, true);
  awqmap::ModelView cpp_model = awqmap::load_model(example_dir, {std::nullopt, &cpp_registry});
  awqmap::Selection selection = cpp_registry.select(cpp_model);
  awqmap::Resolution expected = awqmap::resolve(cpp_model, selection.mappings);

  awqmap_selection_info info;
  REQUIRE(awqmap_result_selection(out.result.get(), &info) == AWQMAP_OK);
  CHECK(std::string(info.architecture) == "Qwen3NextForCausalLM");
  CHECK(std::string(info.kind) == "dynamic");
  CHECK(std::string(info.plugin) == "qwen3_next");
  CHECK(std::string(info.mode) == "exact");
  CHECK(info.plugin == std::string(selection.plugin));
  CHECK(info.builder == std::string(selection.builder));
  CHECK(info.origin == std::string(awqmap::to_string(selection.origin)));
  CHECK(info.mapping_count == selection.mappings.size());
  CHECK(info.repair_count == 0);

  const std::vector<awqmap_group> got = groups(out.result.get());
  REQUIRE(got.size() == expected.resolved.size());
  REQUIRE(!got.empty());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const awqmap::ResolvedMapping& want = expected.resolved[i];
    INFO("group " << i);
    CHECK(got[i].mapping == want.mapping);
    CHECK(got[i].smooth_name == want.smooth_name);
    CHECK(got[i].parent_name == want.parent_name);
    CHECK(strings(got[i].balance_names, got[i].balance_count) ==
          std::vector<std::string>(want.balance_names.begin(), want.balance_names.end()));
    CHECK((got[i].activation_hook_target == nullptr) == !want.activation_hook_target.has_value());
  }
  for (std::size_t i = 0; i < selection.mappings.size(); ++i) {
    awqmap_mapping m;
    REQUIRE(awqmap_result_mapping(out.result.get(), i, &m) == AWQMAP_OK);
    CHECK(m.smooth_layer == selection.mappings[i].smooth_layer);
    CHECK(strings(m.balance_layers, m.balance_count) == selection.mappings[i].balance_layers);
    CHECK(m.repaired_from == static_cast<std::size_t>(-1));
  }
  std::size_t modules = 0;
  REQUIRE(awqmap_model_module_count(model.get(), &modules) == AWQMAP_OK);
  CHECK(modules == cpp_model.size());
}

TEST_CASE("a result stays readable after its model and registry are destroyed") {
  Registry registry = shipped();
  Model model = load(registry.get(), example_dir);
  Outcome out = resolve(registry.get(), model.get());
  REQUIRE(out.status == AWQMAP_OK);
  model.reset();
  registry.reset();
  const std::vector<awqmap_group> got = groups(out.result.get());
  REQUIRE(!got.empty());
  CHECK(std::string(got.front().smooth_name).find("model.layers.") == 0);
  awqmap_selection_info info;
  REQUIRE(awqmap_result_selection(out.result.get(), &info) == AWQMAP_OK);
  CHECK(std::string(info.plugin) == "qwen3_next");
}

TEST_CASE("an upstream failure through the C API is a resolution status with upstream's kind and mapping") {
  const nlohmann::json expected =
      awqmap::test::read_json(awqmap::test::corpus_dir() / "DeepseekV3ForCausalLM.tiny.expected.json");
  Registry registry = shipped();
  Model model = load(registry.get(), corpus_model("DeepseekV3ForCausalLM.tiny"));
  awqmap_resolve_options options;
  REQUIRE(awqmap_resolve_options_init(&options) == AWQMAP_OK);
  options.upstream = 1;

  Outcome out = resolve(registry.get(), model.get(), &options);
  CHECK(out.status == AWQMAP_RESOLUTION_FAILED);
  CHECK_FALSE(out.result);
  REQUIRE(out.error);
  CHECK(awqmap_error_status(out.error.get()) == AWQMAP_RESOLUTION_FAILED);
  CHECK(awqmap_error_kind(out.error.get()) == expected["error"]["kind"].get<std::string>());
  CHECK(std::string(awqmap_error_message(out.error.get())).find("post_attention_layernorm") != std::string::npos);
  // The mapping at fault is the one whose smooth pattern the message quotes.
  const std::size_t index = awqmap_error_mapping_index(out.error.get());
  REQUIRE(index < expected["mappings"].size());
  CHECK(expected["mappings"][index]["smooth_layer"] == "re:.*post_attention_layernorm$");

  SECTION("repair replaces the failing mapping with scoped ones") {
    options.repair = 1;
    Outcome repaired = resolve(registry.get(), model.get(), &options);
    REQUIRE(repaired.status == AWQMAP_OK);
    awqmap_selection_info info;
    REQUIRE(awqmap_result_selection(repaired.result.get(), &info) == AWQMAP_OK);
    CHECK(info.repair_count == 1);
    CHECK(std::string(info.mode) == "upstream");
    std::size_t from_failing = 0;
    for (std::size_t i = 0; i < info.mapping_count; ++i) {
      awqmap_mapping m;
      REQUIRE(awqmap_result_mapping(repaired.result.get(), i, &m) == AWQMAP_OK);
      if (m.repaired_from == index) ++from_failing;
    }
    CHECK(from_failing >= 2);
    CHECK_FALSE(groups(repaired.result.get()).empty());
  }
}

TEST_CASE("targets and ignore given as C string arrays change what is resolved") {
  Registry registry = shipped();
  Model model = load(registry.get(), example_dir);
  Outcome all = resolve(registry.get(), model.get());
  REQUIRE(all.status == AWQMAP_OK);

  // Leaving every attention projection unquantized drops the groups that balance them.
  const char* ignore[] = {"lm_head", "re:.*self_attn\\..*"};
  awqmap_resolve_options options;
  awqmap_resolve_options_init(&options);
  options.ignore = ignore;
  options.ignore_count = 2;
  Outcome fewer = resolve(registry.get(), model.get(), &options);
  REQUIRE(fewer.status == AWQMAP_OK);
  const std::vector<awqmap_group> before = groups(all.result.get()), after = groups(fewer.result.get());
  CHECK(after.size() < before.size());
  for (const awqmap_group& g : after)
    for (const std::string& b : strings(g.balance_names, g.balance_count))
      CHECK(b.find(".self_attn.") == std::string::npos);
  std::size_t skipped = 0;
  REQUIRE(awqmap_result_skipped_count(fewer.result.get(), &skipped) == AWQMAP_OK);
  REQUIRE(skipped > 0);
  awqmap_skipped_group s;
  REQUIRE(awqmap_result_skipped(fewer.result.get(), 0, &s) == AWQMAP_OK);
  CHECK(std::string(s.reason) == "not_targeted");
}

TEST_CASE("bad input through the C API is a status and a message that names the file") {
  Registry registry = shipped();
  awqmap::test::TempDir dir;
  const std::string missing = (dir.path / "no-such-model.json").string();
  awqmap_model* m = nullptr;
  awqmap_error* e = nullptr;
  CHECK(awqmap_model_load(registry.get(), missing.c_str(), nullptr, &m, &e) == AWQMAP_BAD_INPUT);
  CHECK(m == nullptr);
  Error error(e);
  REQUIRE(error);
  CHECK(awqmap_error_status(e) == AWQMAP_BAD_INPUT);
  CHECK(std::string(awqmap_error_kind(e)) == "bad_input");
  CHECK(std::string(awqmap_error_message(e)).find("no-such-model.json") != std::string::npos);
  CHECK(awqmap_error_mapping_index(e) == static_cast<std::size_t>(-1));

  SECTION("a file that is not a plugin") {
    const std::string fake = dir.write("awqmap-fake.so", "not a shared library").string();
    awqmap_error* pe = nullptr;
    CHECK(awqmap_registry_load_plugin_file(registry.get(), fake.c_str(), &pe) == AWQMAP_BAD_INPUT);
    Error plugin_error(pe);
    REQUIRE(plugin_error);
    CHECK(std::string(awqmap_error_message(pe)).find("awqmap-fake.so") != std::string::npos);
  }
  SECTION("a mappings file with a pattern Python rejects") {
    const std::string file =
        dir.write("bad.json", R"([{"smooth_layer": "re:(", "balance_layers": ["re:.*q_proj$"]}])").string();
    Model model = load(registry.get(), example_dir);
    awqmap_resolve_options options;
    awqmap_resolve_options_init(&options);
    options.mappings_file = file.c_str();
    Outcome out = resolve(nullptr, model.get(), &options);
    CHECK(out.status == AWQMAP_BAD_INPUT);
    REQUIRE(out.error);
    CHECK(std::string(awqmap_error_message(out.error.get())).find("bad.json") != std::string::npos);
  }
  SECTION("the error outlives every handle") {
    registry.reset();
    CHECK(std::string(awqmap_error_message(e)).find("no-such-model.json") != std::string::npos);
  }
}

TEST_CASE("user mappings from a file are resolved without a registry") {
  awqmap::test::TempDir dir;
  const std::string file = dir.write("mine.json",
                                     R"([{"smooth_layer": "re:.*input_layernorm$",
                                          "balance_layers": ["re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$",
                                                             "re:.*self_attn.v_proj$"]}])")
                               .string();
  Model model = load(nullptr, corpus_model("LlamaForCausalLM.tiny"));
  awqmap_resolve_options options;
  awqmap_resolve_options_init(&options);
  options.mappings_file = file.c_str();
  Outcome out = resolve(nullptr, model.get(), &options);
  REQUIRE(out.status == AWQMAP_OK);
  awqmap_selection_info info;
  REQUIRE(awqmap_result_selection(out.result.get(), &info) == AWQMAP_OK);
  CHECK(std::string(info.kind) == "user");
  CHECK(std::string(info.plugin).empty());
  const std::vector<awqmap_group> got = groups(out.result.get());
  REQUIRE(!got.empty());
  for (const awqmap_group& g : got) {
    CHECK(std::string(g.smooth_name).find("input_layernorm") != std::string::npos);
    CHECK(g.balance_count == 3);
  }
}

TEST_CASE("a caller's mistakes are invalid-argument statuses and never crash") {
  Registry registry = shipped();
  Model model = load(registry.get(), example_dir);
  Outcome out = resolve(registry.get(), model.get());
  REQUIRE(out.status == AWQMAP_OK);
  std::size_t n = 0;
  awqmap_group g;
  REQUIRE(awqmap_result_group_count(out.result.get(), &n) == AWQMAP_OK);
  CHECK(awqmap_result_group(out.result.get(), n, &g) == AWQMAP_INVALID_ARGUMENT);
  CHECK(awqmap_result_group(nullptr, 0, &g) == AWQMAP_INVALID_ARGUMENT);
  CHECK(awqmap_result_group(out.result.get(), 0, nullptr) == AWQMAP_INVALID_ARGUMENT);
  CHECK(awqmap_result_group_count(nullptr, &n) == AWQMAP_INVALID_ARGUMENT);
  CHECK(awqmap_model_architecture(nullptr, nullptr) == AWQMAP_INVALID_ARGUMENT);
  CHECK(awqmap_registry_plugin(registry.get(), 100000, nullptr, nullptr, nullptr) == AWQMAP_INVALID_ARGUMENT);
  CHECK(awqmap_resolve_options_init(nullptr) == AWQMAP_INVALID_ARGUMENT);
  CHECK(awqmap_registry_create(nullptr, nullptr) == AWQMAP_INVALID_ARGUMENT);

  awqmap_result* r = nullptr;
  awqmap_error* e = nullptr;
  CHECK(awqmap_resolve(registry.get(), nullptr, nullptr, &r, &e) == AWQMAP_INVALID_ARGUMENT);
  Error error(e);
  REQUIRE(error);
  CHECK(std::string(awqmap_error_message(e)).find("awqmap_resolve") != std::string::npos);

  const char* targets[] = {"Linear", nullptr};
  awqmap_resolve_options options;
  awqmap_resolve_options_init(&options);
  options.targets = targets;
  options.target_count = 2;
  CHECK(awqmap_resolve(registry.get(), model.get(), &options, &r, nullptr) == AWQMAP_INVALID_ARGUMENT);
  CHECK(r == nullptr);

  // Destroying nothing is allowed, as free(NULL) is.
  awqmap_result_destroy(nullptr);
  awqmap_model_destroy(nullptr);
  awqmap_registry_destroy(nullptr);
  awqmap_error_destroy(nullptr);
  CHECK(std::string(awqmap_status_name(static_cast<awqmap_status>(99))) == "unknown");
  CHECK(std::string(awqmap_version()) == awqmap::version);
}

TEST_CASE("the registry lists the plugins loaded through the C API") {
  Registry registry = shipped();
  std::size_t n = 0;
  REQUIRE(awqmap_registry_plugin_count(registry.get(), &n) == AWQMAP_OK);
  REQUIRE(n == awqmap::test::shipped_registry().plugins().size());
  bool defaults = false;
  for (std::size_t i = 0; i < n; ++i) {
    const char *name = nullptr, *version = nullptr, *file = nullptr;
    REQUIRE(awqmap_registry_plugin(registry.get(), i, &name, &version, &file) == AWQMAP_OK);
    CHECK(std::string(file).find(std::string("awqmap-") + name + ".so") != std::string::npos);
    CHECK(std::string(version).size() > 0);
    defaults = defaults || std::string(name) == "defaults";
  }
  CHECK(defaults);
}

TEST_CASE("C API resolutions run from 8 threads at once on one registry and model", "[threads]") {
  awqmap_registry* raw = nullptr;
  REQUIRE(awqmap_registry_create(&raw, nullptr) == AWQMAP_OK);
  Registry registry(raw);
  REQUIRE(awqmap_registry_load_plugin_file(raw, defaults_plugin.c_str(), nullptr) == AWQMAP_OK);
  Model model = load(raw, corpus_model("LlamaForCausalLM.tiny"));
  std::size_t expected = 0;
  {
    Outcome first = resolve(raw, model.get());
    REQUIRE(first.status == AWQMAP_OK);
    REQUIRE(awqmap_result_group_count(first.result.get(), &expected) == AWQMAP_OK);
    REQUIRE(expected > 0);
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        awqmap_result* r = nullptr;
        std::size_t n = 0;
        if (awqmap_resolve(raw, model.get(), nullptr, &r, nullptr) == AWQMAP_OK &&
            awqmap_result_group_count(r, &n) == AWQMAP_OK && n == expected)
          ++ok;
        awqmap_result_destroy(r);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 200);
}

TEST_CASE("an architecture given to the C API replaces the model's own") {
  Registry registry = shipped();
  Model own = load(registry.get(), corpus_model("LlamaForCausalLM.tiny"));
  Model renamed = load(registry.get(), corpus_model("LlamaForCausalLM.tiny"), "NoSuchArchitectureForCausalLM");
  const char* name = nullptr;
  REQUIRE(awqmap_model_architecture(own.get(), &name) == AWQMAP_OK);
  CHECK(std::string(name) == "LlamaForCausalLM");
  REQUIRE(awqmap_model_architecture(renamed.get(), &name) == AWQMAP_OK);
  CHECK(std::string(name) == "NoSuchArchitectureForCausalLM");

  Outcome a = resolve(registry.get(), own.get()), b = resolve(registry.get(), renamed.get());
  REQUIRE(a.status == AWQMAP_OK);
  REQUIRE(b.status == AWQMAP_OK);
  awqmap_selection_info ia, ib;
  REQUIRE(awqmap_result_selection(a.result.get(), &ia) == AWQMAP_OK);
  REQUIRE(awqmap_result_selection(b.result.get(), &ib) == AWQMAP_OK);
  CHECK(std::string(ia.kind) == "static");
  // No plugin knows the new name: the default list applies.
  CHECK(std::string(ib.kind) == "default");
  CHECK(std::string(ib.architecture) == "NoSuchArchitectureForCausalLM");
}
