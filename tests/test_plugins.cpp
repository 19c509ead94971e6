#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "awqmap/error.hpp"
#include "awqmap/loader.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/resolve.hpp"
#include "model_builder.hpp"
#include "support.hpp"

using namespace awqmap;
namespace fs = std::filesystem;

namespace {
fs::path fixture(const std::string& name) {
  return fs::path(AWQMAP_FIXTURE_DIR) / name / ("awqmap-" + name + ".so");
}
fs::path defaults_plugin() {
  return fs::path(AWQMAP_PLUGIN_BUILD_DIR) / "awqmap-defaults.so";
}

std::string load_error(Registry& registry, const fs::path& file) {
  try {
    PluginLoader(registry).load_file(file);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// What a listing shows of the registry, to prove it unchanged.
std::string snapshot(const Registry& r) {
  std::string s;
  for (const auto& p : r.plugins()) s += p->name + "|";
  for (const auto& a : r.architectures()) s += a.architecture + ":" + std::to_string(static_cast<int>(a.kind)) + "|";
  return s + (r.has_default() ? "default" : "");
}

ModelView fixture_model(const std::string& arch, bool use_dynamic) {
  test::ModelBuilder b(arch);
  b.config({{"use_dynamic", use_dynamic}});
  b.add("layer", "Layer").add("layer.norm", "RMSNorm").linear("layer.static_proj", 4, 4);
  b.linear("layer.proj_4", 4, 4);  // index of the last module
  return b.build();
}
}  // namespace

TEST_CASE("the defaults plugin registers the default list and every static architecture") {
  Registry registry;
  PluginLoader(registry).load_file(defaults_plugin());
  CHECK(registry.has_default());
  auto plugins = registry.plugins();
  REQUIRE(plugins.size() == 1);
  CHECK(plugins[0]->name == "defaults");
  CHECK(registry.architectures().size() == 32);
  Selection s = registry.select(test::ModelBuilder("LlamaForCausalLM").build());
  CHECK(s.kind == SelectionKind::static_list);
  CHECK(s.plugin == "defaults");
  CHECK(s.mappings.size() == 4);
  Selection d = registry.select(test::ModelBuilder("UnknownForCausalLM").build());
  CHECK(d.kind == SelectionKind::default_list);
  CHECK(d.mappings[0].smooth_layer == "re:.*input_layernorm$");
}

TEST_CASE("selection precedence is dynamic, then static, then default") {
  Registry registry;
  PluginLoader loader(registry);
  loader.load_file(defaults_plugin());
  loader.load_file(fixture("dynamic_fixture"));
  Selection dyn = registry.select(fixture_model("FixtureForCausalLM", true));
  CHECK(dyn.kind == SelectionKind::dynamic);
  CHECK(dyn.builder == "fixture_builder");
  CHECK(dyn.plugin == "dynamic_fixture");
  CHECK(dyn.mappings[0].balance_layers[0] == "re:.*proj_4$");

  Selection declined = registry.select(fixture_model("FixtureForCausalLM", false));
  CHECK(declined.kind == SelectionKind::default_list);
  REQUIRE(declined.declined.size() == 1);
  CHECK(declined.declined[0].find("config.use_dynamic is not true") != std::string::npos);

  Selection fallthrough = registry.select(fixture_model("FixtureStaticForCausalLM", true));
  CHECK(fallthrough.kind == SelectionKind::static_list);
  CHECK(fallthrough.plugin == "dynamic_fixture");
  CHECK(fallthrough.declined.size() == 1);

  Selection to_default = registry.select(fixture_model("FixtureDeclineForCausalLM", true));
  CHECK(to_default.kind == SelectionKind::default_list);
  CHECK(to_default.plugin == "defaults");
}

TEST_CASE("checkpoint adaptations are stored and exposed per architecture") {
  Registry registry;
  PluginLoader(registry).load_file(fixture("dynamic_fixture"));
  CheckpointAdaptations a = registry.adaptations("FixtureForCausalLM");
  REQUIRE(a.dropped.size() == 1);
  CHECK(a.dropped[0] == "mtp\\.");
  REQUIRE(a.renames.size() == 1);
  CHECK(a.renames[0].replacement == "\\1.gate_proj");
  CHECK(registry.adaptations("Other").dropped.empty());
}

TEST_CASE("the registry lists adaptations per plugin and names the plugin that set the default list") {
  Registry registry;
  CHECK(registry.default_plugin() == nullptr);
  registry.register_plugin({"in-process adapter", "adapter", "1", nullptr}, [](Registrar& r) {
    // An architecture with adaptations and no mappings of its own.
    r.drop_checkpoint_tensors("AdaptedOnlyForCausalLM", "vision\\.");
    r.rename_checkpoint_keys("FixtureForCausalLM", "(.*)\\.w3$", "\\1.up_proj");
  });
  PluginLoader(registry).load_file(fixture("dynamic_fixture"));
  CHECK(registry.default_plugin() == nullptr);
  registry.register_plugin({"in-process defaults", "fallback", "1", nullptr},
                           [](Registrar& r) { r.set_default({{"re:.*norm$", {"re:.*proj$"}}}); });
  REQUIRE(registry.default_plugin() != nullptr);
  CHECK(registry.default_plugin()->name == "fallback");

  const auto entries = registry.adaptation_entries();
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].architecture == "AdaptedOnlyForCausalLM");
  CHECK(entries[0].plugin->name == "adapter");
  CHECK(entries[0].dropped == std::vector<std::string>{"vision\\."});
  CHECK(entries[1].architecture == "FixtureAdaptedOnlyForCausalLM");
  CHECK(entries[1].plugin->name == "dynamic_fixture");
  // One architecture adapted by two plugins: two entries, in load order.
  CHECK(entries[2].architecture == "FixtureForCausalLM");
  CHECK(entries[2].plugin->name == "adapter");
  REQUIRE(entries[2].renames.size() == 1);
  CHECK(entries[2].renames[0].replacement == "\\1.up_proj");
  CHECK(entries[2].dropped.empty());
  CHECK(entries[3].architecture == "FixtureForCausalLM");
  CHECK(entries[3].plugin->name == "dynamic_fixture");
  CHECK(entries[3].dropped == std::vector<std::string>{"mtp\\."});
  // The merged view the checkpoint reader uses holds both plugins' renames.
  CHECK(registry.adaptations("FixtureForCausalLM").renames.size() == 2);
}

TEST_CASE("a plugin stays loaded while what it registered is alive, even after the loader is gone") {
  Registry registry;
  {
    PluginLoader loader(registry);
    loader.load_file(fixture("dynamic_fixture"));
  }  // loader destroyed
  ModelView model = fixture_model("FixtureForCausalLM", true);
  Selection s = registry.select(model);
  CHECK(s.kind == SelectionKind::dynamic);
  Resolution r = resolve(model, s.mappings);
  REQUIRE(r.resolved.size() == 1);
  CHECK(r.resolved[0].balance_names[0] == "layer.proj_4");
}

TEST_CASE("broken plugins are refused by name and leave the registry unchanged") {
  Registry registry;
  PluginLoader(registry).load_file(defaults_plugin());
  const std::string before = snapshot(registry);

  SECTION("no entry symbol") {
    std::string e = load_error(registry, fixture("no_entry"));
    CHECK(e.find("awqmap-no_entry.so") != std::string::npos);
    CHECK(e.find("exports no 'awqmap_plugin' entry symbol") != std::string::npos);
  }
  SECTION("another API version") {
    std::string e = load_error(registry, fixture("wrong_api"));
    CHECK(e.find("awqmap-wrong_api.so: built for plugin API " + std::to_string(plugin_api_version + 98) +
                 ", this awqmap speaks " + std::to_string(plugin_api_version) +
                 ": rebuild the plugin against this awqmap") != std::string::npos);
  }
  SECTION("throws while registering") {
    std::string e = load_error(registry, fixture("throws_while_registering"));
    CHECK(e.find("awqmap-throws_while_registering.so") != std::string::npos);
    CHECK(e.find("the fixture gives up half-way") != std::string::npos);
    CHECK(registry.select(test::ModelBuilder("ThrowingForCausalLM").build()).kind == SelectionKind::default_list);
  }
  SECTION("registers an invalid regex") {
    std::string e = load_error(registry, fixture("invalid_regex"));
    CHECK(e.find("awqmap-invalid_regex.so") != std::string::npos);
    CHECK(e.find("re:.*(q|k_proj$") != std::string::npos);
    CHECK(e.find("InvalidForCausalLM") != std::string::npos);
  }
  SECTION("registers an architecture another plugin already has") {
    std::string e = load_error(registry, fixture("duplicate_llama"));
    CHECK(e.find("awqmap-duplicate_llama.so") != std::string::npos);
    CHECK(e.find("awqmap-defaults.so") != std::string::npos);
    CHECK(e.find("LlamaForCausalLM") != std::string::npos);
  }
  CHECK(snapshot(registry) == before);
}

TEST_CASE("with overrides allowed, the plugin loaded first keeps a contested architecture") {
  Registry registry;
  PluginLoader loader(registry, LoaderOptions{true});
  loader.load_file(defaults_plugin());
  loader.load_file(fixture("duplicate_llama"));
  Selection s = registry.select(test::ModelBuilder("LlamaForCausalLM").build());
  CHECK(s.plugin == "defaults");
  CHECK(registry.select(test::ModelBuilder("OnlyHereForCausalLM").build()).plugin == "duplicate_llama");
}

TEST_CASE("an exact registration takes precedence over upstream's in exact mode only") {
  Registry registry;
  PluginLoader(registry).load_file(defaults_plugin());
  const MappingList exact = {{"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}}};
  registry.register_plugin({"inline", "exact_llama", "1", {}}, [&](Registrar& r) {
    r.add_static("LlamaForCausalLM", exact, {Origin::peer, "a peer's file"});
    r.add_static("PeerOnlyForCausalLM", exact, {Origin::analysis, "a modeling file"});
  });
  ModelView llama = test::ModelBuilder("LlamaForCausalLM").build();
  Selection e = registry.select(llama);
  CHECK(e.plugin == "exact_llama");
  CHECK(e.origin == Origin::peer);
  CHECK(e.source == "a peer's file");
  CHECK(e.mappings == exact);
  Selection u = registry.select(llama, SelectionMode::upstream);
  CHECK(u.plugin == "defaults");
  CHECK(u.origin == Origin::upstream);
  CHECK(u.mappings.size() == 4);
  // An architecture only a non-upstream plugin knows falls to the default list upstream.
  ModelView peer_only = test::ModelBuilder("PeerOnlyForCausalLM").build();
  CHECK(registry.select(peer_only).kind == SelectionKind::static_list);
  CHECK(registry.select(peer_only, SelectionMode::upstream).kind == SelectionKind::default_list);
  // Two exact registrations of one architecture still conflict.
  CHECK_THROWS_WITH(registry.register_plugin({"inline2", "other", "1", {}},
                                             [&](Registrar& r) { r.add_static("LlamaForCausalLM", exact); }),
                    Catch::Contains("static mappings for LlamaForCausalLM"));
}

TEST_CASE("plugin files that are not plugins are clear errors naming the file") {
  Registry registry;
  test::TempDir dir;
  SECTION("empty .so") {
    auto f = dir.write("awqmap-empty.so", "");
    std::string e = load_error(registry, f);
    CHECK(e.find("awqmap-empty.so: cannot load the plugin: file too short;") != std::string::npos);
    CHECK(e.find("Bad file descriptor") == std::string::npos);  // Boost's stale errno text is left out
  }
  SECTION("text file named .so") {
    auto f = dir.write("awqmap-text.so", "this is not an ELF file\n");
    std::string e = load_error(registry, f);
    CHECK(e.find("awqmap-text.so: cannot load the plugin") != std::string::npos);
    // The dynamic loader's own reason, without Boost's wrapping or the path said twice.
    CHECK(e.find("dlerror") == std::string::npos);
    CHECK(e.find("boost::") == std::string::npos);
    CHECK(e.find("awqmap-text.so: cannot load the plugin: file too short;") != std::string::npos);
  }
  SECTION("missing file") {
    CHECK(load_error(registry, dir.path / "nope.so").find("does not exist") != std::string::npos);
  }
  SECTION("unreadable file") {
    auto f = dir.write("awqmap-locked.so", "x");
    fs::permissions(f, fs::perms::none);
    std::string e = load_error(registry, f);
    if (::geteuid() != 0)
      CHECK(e.find("cannot read the plugin file") != std::string::npos);
    else
      CHECK(e.find("awqmap-locked.so") != std::string::npos);  // root reads anything
  }
  CHECK(registry.plugins().empty());
}

TEST_CASE("a plugin directory loads its .so files and skips the rest") {
  test::TempDir dir;
  fs::copy_file(defaults_plugin(), dir.path / "awqmap-defaults.so");
  dir.write("README.txt", "not a plugin");
  dir.write("awqmap-defaults.so.bak", "not a plugin either");
  dir.write("libsomething.so", "a library that shares the directory, not a plugin");
  Registry registry;
  PluginLoader loader(registry);
  loader.load_directory(dir.path);
  CHECK(registry.plugins().size() == 1);
  CHECK_THROWS_WITH(PluginLoader(registry).load_directory(dir.path / "missing"),
                    Catch::Contains("plugin directory does not exist"));
}

TEST_CASE("the search path is --plugin-dir, then AWQMAP_PLUGIN_PATH without empty entries, then the default") {
  ::setenv("AWQMAP_PLUGIN_PATH", "/a::/b:", 1);
  auto dirs = PluginLoader::search_path({"/first"}, true);
  ::setenv("AWQMAP_PLUGIN_PATH", "", 1);
  REQUIRE(dirs.size() == 4);
  CHECK(dirs[0] == "/first");
  CHECK(dirs[1] == "/a");
  CHECK(dirs[2] == "/b");
  CHECK(dirs[3] == PluginLoader::default_plugin_dir());
  CHECK(fs::exists(PluginLoader::default_plugin_dir() / "awqmap-defaults.so"));
}

TEST_CASE("selection and resolution run from 8 threads at once on one registry", "[threads]") {
  Registry registry;
  PluginLoader loader(registry);
  loader.load_file(defaults_plugin());
  loader.load_file(fixture("dynamic_fixture"));
  ModelView dyn = fixture_model("FixtureForCausalLM", true);
  ModelView llama = load_model_description((test::corpus_dir() / "LlamaForCausalLM.tiny.model.json").string());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Selection a = registry.select(dyn);
        Selection b = registry.select(llama);
        if (a.kind == SelectionKind::dynamic && resolve(dyn, a.mappings).resolved.size() == 1 &&
            b.kind == SelectionKind::static_list && resolve(llama, b.mappings).resolved.size() == 12)
          ++ok;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 400);
}

TEST_CASE("in-process registrations are validated like plugins") {
  Registry registry;
  CHECK_THROWS_WITH(registry.register_plugin({"inline", "inline", "1", {}},
                                             [](Registrar& r) {
                                               r.add_static("", {{"re:a", {"re:b"}}});
                                             }),
                    Catch::Contains("architecture is empty"));
  CHECK_THROWS_WITH(registry.register_plugin({"inline", "inline", "1", {}},
                                             [](Registrar& r) {
                                               r.set_default({{"re:a", {"re:(b"}}});
                                             }),
                    Catch::Contains("re:(b"));
  CHECK_FALSE(registry.has_default());
  CHECK_THROWS_WITH(registry.select(test::ModelBuilder("X").build()),
                    Catch::Contains("no mappings for architecture 'X'"));
}

TEST_CASE("the same plugin found twice on the search path is loaded once, with a note") {
  test::TempDir a, b;
  fs::copy_file(defaults_plugin(), a.path / "awqmap-defaults.so");
  fs::copy_file(defaults_plugin(), b.path / "awqmap-defaults.so");
  Registry registry;
  PluginLoader loader(registry);
  loader.load_directory(a.path);
  loader.load_directory(b.path);
  REQUIRE(registry.plugins().size() == 1);
  CHECK(registry.plugins()[0]->file.find(a.path.string()) == 0);
  REQUIRE(registry.skipped_duplicates().size() == 1);
  CHECK(registry.skipped_duplicates()[0].find("same name and version") != std::string::npos);
  CHECK(registry.select(test::ModelBuilder("LlamaForCausalLM").build()).plugin == "defaults");
}

namespace {
// Two layers of norm -> q/k/v, v -> o, under model.layers.
ModelView two_layer_model(const std::string& arch) {
  test::ModelBuilder b(arch);
  b.config({{"num_hidden_layers", 2}, {"norm_parent", "model.layers.1"}});
  b.add("model", "Model").list("model.layers");
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l);
    b.add(p, "Layer").add(p + ".norm", "RMSNorm");
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "." + proj, 4, 4);
  }
  return b.build();
}

std::vector<std::string> names(const std::vector<std::string_view>& views) {
  return {views.begin(), views.end()};
}
}  // namespace

TEST_CASE("plugins built with _GLIBCXX_USE_CXX11_ABI=0 or _GLIBCXX_DEBUG load and resolve like any other") {
  for (const std::string name : {"old_abi", "debug_stl"}) {
    INFO(name);
    Registry registry;
    PluginLoader(registry).load_file(fixture(name));
    REQUIRE(registry.plugins().size() == 1);
    CHECK(registry.plugins()[0]->name == name);
    CHECK(registry.plugins()[0]->version == "1.0.0");

    ModelView fixed = two_layer_model(name + "StaticForCausalLM");
    Selection st = registry.select(fixed);
    CHECK(st.kind == SelectionKind::static_list);
    CHECK(st.origin == Origin::peer);
    CHECK(st.source == "a peer's file");
    Resolution rs = resolve(fixed, st.mappings);
    REQUIRE(rs.resolved.size() == 2);
    CHECK(rs.resolved[1].smooth_name == "model.layers.1.norm");
    CHECK(names(rs.resolved[1].balance_names) ==
          std::vector<std::string>{"model.layers.1.q_proj", "model.layers.1.k_proj"});

    ModelView dynamic = two_layer_model(name + "DynamicForCausalLM");
    Selection dy = registry.select(dynamic);
    CHECK(dy.kind == SelectionKind::dynamic);
    CHECK(dy.builder == name + "_builder");
    REQUIRE(dy.mappings.size() == 2);
    CHECK(dy.mappings[0].smooth_layer == "re:.*layers\\.1\\.norm$");
    CHECK(dy.mappings[0].balance_layers == std::vector<std::string>{"re:.*layers\\.1\\.(q_proj|k_proj|v_proj)$"});
    Resolution rd = resolve(dynamic, dy.mappings);
    REQUIRE(rd.resolved.size() == 3);  // one norm group, then v -> o in both layers
    CHECK(names(rd.resolved[0].balance_names) ==
          std::vector<std::string>{"model.layers.1.q_proj", "model.layers.1.k_proj", "model.layers.1.v_proj"});
    CHECK(rd.resolved[2].smooth_name == "model.layers.1.v_proj");

    CheckpointAdaptations a = registry.adaptations(name + "DynamicForCausalLM");
    REQUIRE(a.renames.size() == 1);
    CHECK(a.renames[0].replacement == "\\1.q_proj");
    REQUIRE(a.fused_experts.size() == 1);
    CHECK(a.fused_experts[0].parts == std::vector<std::string>{"gate_proj", "up_proj"});
  }
}

TEST_CASE("a plugin written in plain C registers a static table and a dynamic builder that work") {
  Registry registry;
  PluginLoader(registry).load_file(fixture("plain_c"));
  REQUIRE(registry.plugins().size() == 1);
  CHECK(registry.plugins()[0]->name == "plain_c");
  PluginLoader(registry).load_file(defaults_plugin());
  CHECK(registry.plugins()[0]->version == "0.1.0");

  ModelView fixed = two_layer_model("PlainCStaticForCausalLM");
  Selection st = registry.select(fixed, SelectionMode::upstream);
  CHECK(st.kind == SelectionKind::static_list);
  CHECK(st.origin == Origin::upstream);
  CHECK(st.source == "llm-compressor");
  REQUIRE(st.mappings.size() == 2);
  CHECK(st.mappings[0].balance_layers.size() == 3);
  CHECK_FALSE(st.mappings[0].activation_hook_target);

  ModelView dynamic = two_layer_model("PlainCDynamicForCausalLM");
  Selection dy = registry.select(dynamic);
  CHECK(dy.kind == SelectionKind::dynamic);
  CHECK(dy.builder == "plain_c_builder");
  REQUIRE(dy.mappings.size() == 1);
  CHECK(dy.mappings[0].smooth_layer == "re:.*norm$");
  // The Linear children of config.norm_parent, in module order (the norm is no Linear).
  CHECK(dy.mappings[0].balance_layers ==
        std::vector<std::string>{"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$", "re:.*o_proj$"});

  test::ModelBuilder without("PlainCDynamicForCausalLM");
  without.linear("q_proj", 4, 4);
  Selection declined = registry.select(without.build());
  CHECK(declined.kind == SelectionKind::default_list);
  REQUIRE(declined.declined_builders.size() == 1);
  CHECK(declined.declined_builders[0].reason == "config.norm_parent is not set");

  test::ModelBuilder wrong("PlainCDynamicForCausalLM");
  wrong.config({{"norm_parent", 7}}).linear("q_proj", 4, 4);
  CHECK_THROWS_WITH(registry.select(wrong.build()),
                    Catch::Contains("dynamic builder 'plain_c_builder' of plugin 'plain_c' (") &&
                        Catch::Contains("awqmap-plain_c.so) failed on test model: config.norm_parent must be a string"));
}

TEST_CASE("plugin information with another ABI fingerprint or struct size is refused by name with the reason") {
  Registry registry;
  PluginLoader(registry).load_file(defaults_plugin());
  const std::string before = snapshot(registry);
  const std::string abi = load_error(registry, fixture("bad_abi"));
  CHECK(abi.find("awqmap-bad_abi.so: built for the ABI 'c1;ptr=4;sizet=4;int=4;le', this awqmap's is '" +
                 std::string(AWQMAP_PLUGIN_ABI) + "'") != std::string::npos);
  CHECK(abi.find("rebuild the plugin for this machine") != std::string::npos);
  const std::string size = load_error(registry, fixture("bad_size"));
  CHECK(size.find("awqmap-bad_size.so: its plugin information is " + std::to_string(sizeof(awqmap_plugin_info) + 8) +
                  " bytes, this awqmap's is " + std::to_string(sizeof(awqmap_plugin_info))) != std::string::npos);
  CHECK(size.find("rebuild the plugin against this awqmap") != std::string::npos);
  CHECK(snapshot(registry) == before);
}

TEST_CASE("a builder that throws becomes an error naming the plugin and the builder and nothing escapes") {
  Registry registry;
  PluginLoader(registry).load_file(fixture("dynamic_fixture"));
  try {
    (void)registry.select(fixture_model("FixtureThrowsForCausalLM", true));
    FAIL("no error");
  } catch (const InputError& e) {
    const std::string m = e.what();
    CHECK(m.find("dynamic builder 'throws_runtime_error' of plugin 'dynamic_fixture' (") != std::string::npos);
    CHECK(m.find("awqmap-dynamic_fixture.so) failed on test model: the builder gives up on 5 modules") !=
          std::string::npos);
  }
  CHECK_THROWS_WITH(registry.select(fixture_model("FixtureThrowsIntForCausalLM", true)),
                    Catch::Contains("dynamic builder 'throws_an_int' of plugin 'dynamic_fixture'") &&
                        Catch::Contains("an exception that is not a std::exception"));
  // The registry still works after both.
  CHECK(registry.select(fixture_model("FixtureForCausalLM", true)).builder == "fixture_builder");
}

TEST_CASE("an in-process registration that throws keeps nothing and frees its builders") {
  Registry registry;
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  CHECK_THROWS_WITH(registry.register_plugin({"inline", "inline", "1", {}},
                                             [&](Registrar& r) {
                                               r.add_dynamic("InlineForCausalLM", "holds_state",
                                                             [held = std::move(alive)](const plugin::Model&) {
                                                               return BuildResult::decline(std::to_string(*held));
                                                             });
                                               throw std::runtime_error("gives up after registering");
                                             }),
                    Catch::Contains("plugin 'inline' (inline) failed while registering: gives up after registering"));
  CHECK(watch.expired());  // the builder's closure was destroyed with the staging area
  CHECK(registry.architectures().empty());
}

TEST_CASE("the shipped plugins and fixtures call no C++ function of the core") {
  // What a plugin takes from libawqmap must be the C contract alone: an undefined awqmap::
  // symbol would tie it to the core's C++ ABI again.
  for (const fs::path& file : {defaults_plugin(), fs::path(AWQMAP_PLUGIN_BUILD_DIR) / "awqmap-moe.so",
                               fs::path(AWQMAP_PLUGIN_BUILD_DIR) / "awqmap-multimodal.so", fixture("old_abi"),
                               fixture("plain_c")}) {
    INFO(file.string());
    std::unique_ptr<FILE, int (*)(FILE*)> nm(::popen(("nm -D --undefined-only " + file.string()).c_str(), "r"),
                                             &::pclose);
    REQUIRE(nm);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, nm.get())) out.append(buf, n);
    CHECK(out.find("awqmap_registrar_") != std::string::npos);
    CHECK(out.find("_ZN6awqmap") == std::string::npos);
    CHECK(out.find("_ZNK6awqmap") == std::string::npos);
  }
}
