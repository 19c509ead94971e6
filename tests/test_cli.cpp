#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "support.hpp"

using namespace awqmap::test;

namespace {
std::string corpus(const std::string& f) {
  return quote((corpus_dir() / f).string());
}
const std::string kNoPlugins = "--no-default-plugins";
}  // namespace

TEST_CASE("resolve in json format prints awqmap.resolved/v1 matching the corpus") {
  auto r = run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json") + " --format json");
  REQUIRE(r.exit_code == 0);
  auto out = nlohmann::json::parse(r.out);
  auto expected = read_json(corpus_dir() / "LlamaForCausalLM.tiny.expected.json");
  CHECK(out["format"] == "awqmap.resolved/v1");
  CHECK(out["architecture"] == "LlamaForCausalLM");
  CHECK(out["selection"]["kind"] == "static");
  CHECK(out["selection"]["plugin"] == "defaults");
  CHECK(out["mappings"] == expected["mappings"]);
  CHECK(out["resolved"] == expected["resolved"]);
  // Skipped groups carry upstream's fields, and awqmap's shapes for incompatible ones.
  REQUIRE(out["skipped"].size() == expected["skipped"].size());
  for (std::size_t i = 0; i < out["skipped"].size(); ++i) {
    auto entry = out["skipped"][i];
    CHECK(entry.contains("shapes") == (entry["reason"] == "incompatible"));
    entry.erase("shapes");
    CHECK(entry == expected["skipped"][i]);
  }
}

TEST_CASE("resolve prints a table with a line per group, skipped counts and a summary") {
  auto r = run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json") + " --full");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\n[0] model.layers.0.input_layernorm -> ...self_attn.q_proj, ...self_attn.k_proj, "
                   "...self_attn.v_proj\n") != std::string::npos);
  CHECK(r.out.find("\n[0] model.layers.3.input_layernorm -> ") != std::string::npos);
  CHECK(r.out.find("skipped: incompatible 4") != std::string::npos);
  CHECK(r.out.find("12 resolved, 4 skipped, from 4 mappings") != std::string::npos);
  // Without --full, the four layers share a line.
  auto folded = run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json"));
  REQUIRE(folded.exit_code == 0);
  CHECK(folded.out.find("\n[0] model.layers.{0-3}.input_layernorm -> ...self_attn.q_proj, ...self_attn.k_proj, "
                        "...self_attn.v_proj  (4 groups)\n") != std::string::npos);
  CHECK(folded.out.find("12 resolved, 4 skipped, from 4 mappings") != std::string::npos);
}

TEST_CASE("resolve with a mappings file uses the user's list with selection kind user") {
  auto r = run_cli("resolve " + corpus("Qwen3_5MoeForCausalLM.tiny.default-mappings.model.json") + " --mappings " +
                   corpus("Qwen3_5MoeForCausalLM.tiny.default-mappings.mappings.json") + " --format json");
  CHECK(r.exit_code == 4);
  auto out = nlohmann::json::parse(r.out);
  CHECK(out["format"] == "awqmap.error/v1");
  CHECK(out["kind"] == "multiple_smooth_layers");
  CHECK(out["message"].get<std::string>().find("model.layers.3.input_layernorm") != std::string::npos);
  CHECK(r.err.find("multiple_smooth_layers") != std::string::npos);
}

TEST_CASE("a resolution error prints nothing on stdout in table format") {
  auto r = run_cli("resolve " + corpus("DeepseekV3ForCausalLM.tiny.model.json") + " --upstream");
  CHECK(r.exit_code == 4);
  CHECK(r.out.empty());
  CHECK(r.err.find("AWQ needs to match a single smoothlayer") != std::string::npos);
}

TEST_CASE("the targets and ignore options repeat, one target each, and may contain commas") {
  TempDir dir;
  auto r = run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json") +
                   " --format json --targets 're:.*(self_attn|mlp)\\.(q|up)_proj$' --targets lm_head --ignore "
                   "'re:.*layers\\.[0-2]\\..*'");
  REQUIRE(r.exit_code == 0);
  auto out = nlohmann::json::parse(r.out);
  // Layers 0-2 are ignored (match no target); layer 3 remains.
  for (const auto& g : out["resolved"]) CHECK(g["smooth_name"].get<std::string>().find("model.layers.3.") == 0);
  CHECK(!out["resolved"].empty());
}

TEST_CASE("bad input is a one-line error, exit code 3, nothing on stdout") {
  TempDir dir;
  auto check = [](const CliResult& r, const std::string& needle) {
    INFO(r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.out.empty());
    CHECK(r.err.find(needle) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  };
  check(run_cli("resolve /nonexistent.json"), "/nonexistent.json");
  check(run_cli("resolve " + quote(dir.write("bad.json", "{not json").string())), "bad.json: invalid JSON");
  check(run_cli("resolve " +
                quote(dir.write("fmt.json", R"({"format": "x", "architecture": "A", "modules": []})").string())),
        "format is 'x'");
  auto mappings = dir.write("m.json", R"([{"smooth_layer": "re:.*(norm", "balance_layers": ["re:.*q$"]}])");
  check(run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json") + " --mappings " + quote(mappings.string())),
        "re:.*(norm");
  check(run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json") + " --plugin-dir /nonexistent-dir"),
        "/nonexistent-dir: plugin directory does not exist");
}

TEST_CASE("usage errors exit with code 2") {
  CHECK(run_cli("").exit_code == 2);
  CHECK(run_cli("resolve --bogus").exit_code == 2);
  CHECK(run_cli("frobnicate").exit_code == 2);
  CHECK(run_cli("resolve --format xml").exit_code == 2);
  CHECK(run_cli("resolve --targets").exit_code == 2);
  auto h = run_cli("--help");
  CHECK(h.exit_code == 0);
  CHECK(h.out.find("Exit codes") != std::string::npos);
  CHECK(run_cli("--version").out.find("awqmap ") == 0);
}

TEST_CASE("resolve without MODEL uses the bundled example") {
  auto r = run_cli("resolve --format json");
  REQUIRE(r.exit_code == 0);
  auto out = nlohmann::json::parse(r.out);
  CHECK(out["architecture"] == "Qwen3NextForCausalLM");
  CHECK(!out["resolved"].empty());
}

TEST_CASE("plugins, architectures and mappings list what the plugins registered") {
  auto p = run_cli("plugins");
  REQUIRE(p.exit_code == 0);
  CHECK(p.out.find("defaults 0.1.0") != std::string::npos);
  CHECK(p.out.find("static  LlamaForCausalLM") != std::string::npos);
  auto a = run_cli("architectures");
  CHECK(a.out.find("LlamaForCausalLM") != std::string::npos);
  CHECK(a.out.find("upstream") != std::string::npos);
  auto m = run_cli("mappings " + corpus("CohereForCausalLM.tiny.model.json"));
  CHECK(m.out.find("CohereForCausalLM: static (plugin defaults)") != std::string::npos);
  CHECK(m.out.find("[0] re:.*input_layernorm$ -> [re:.*self_attn.q_proj$") != std::string::npos);
  auto none = run_cli("architectures " + kNoPlugins);
  CHECK(none.out.find("no default mappings loaded") != std::string::npos);
  auto nothing = run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json") + " " + kNoPlugins);
  CHECK(nothing.exit_code == 3);
  CHECK(nothing.err.find("no mappings for architecture 'LlamaForCausalLM'") != std::string::npos);
}

TEST_CASE("plugins --format json lists each plugin's registrations with their origin") {
  auto p = run_cli("plugins --format json");
  REQUIRE(p.exit_code == 0);
  auto out = nlohmann::json::parse(p.out);
  CHECK(out["format"] == "awqmap.plugins/v1");
  CHECK(out["default_mappings"] == true);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& plugin : out["plugins"]) by_name[plugin["name"].get<std::string>()] = plugin;
  REQUIRE(by_name.count("defaults") == 1);
  REQUIRE(by_name.count("qwen3_next") == 1);
  bool llama = false, builder = false;
  for (const auto& r : by_name["defaults"]["registrations"])
    if (r["architecture"] == "LlamaForCausalLM") llama = r["kind"] == "static" && r["origin"] == "upstream";
  for (const auto& r : by_name["qwen3_next"]["registrations"])
    if (r["kind"] == "dynamic") builder = builder || r.contains("builder");
  CHECK(llama);
  CHECK(builder);
  auto none = run_cli("plugins --format json " + kNoPlugins);
  REQUIRE(none.exit_code == 0);
  CHECK(nlohmann::json::parse(none.out)["plugins"].empty());
  CHECK(nlohmann::json::parse(none.out)["default_mappings_plugin"].is_null());
  CHECK(nlohmann::json::parse(none.out)["adaptations"].empty());
  CHECK(run_cli("plugins --format yaml").exit_code == 2);
}

TEST_CASE("plugins lists an architecture that has checkpoint adaptations but no mappings") {
  const std::string dir = std::string(AWQMAP_FIXTURE_DIR) + "/dynamic_fixture";
  auto p = run_cli("plugins --format json", "AWQMAP_PLUGIN_PATH=" + quote(dir));
  REQUIRE(p.exit_code == 0);
  const auto out = nlohmann::json::parse(p.out);
  bool listed = false;
  for (const auto& a : out["adaptations"])
    if (a["architecture"] == "FixtureAdaptedOnlyForCausalLM") {
      listed = true;
      CHECK(a["plugin"] == "dynamic_fixture");
      CHECK(a["dropped"] == std::vector<std::string>{"vision_tower\\."});
    }
  CHECK(listed);
  for (const auto& plugin : out["plugins"])
    for (const auto& r : plugin["registrations"]) CHECK(r["architecture"] != "FixtureAdaptedOnlyForCausalLM");
  auto text = run_cli("plugins", "AWQMAP_PLUGIN_PATH=" + quote(dir));
  const auto at = text.out.find("\n  FixtureAdaptedOnlyForCausalLM ");
  REQUIRE(at != std::string::npos);
  const std::string line = text.out.substr(at + 1, text.out.find('\n', at + 1) - at - 1);
  CHECK(line.find(" dynamic_fixture ") != std::string::npos);
  CHECK(line.find(" drop ") != std::string::npos);
  CHECK(line.find(" vision_tower\\.") != std::string::npos);
}

TEST_CASE("AWQMAP_PLUGIN_PATH adds plugins and a conflicting one is refused with both files named") {
  std::string dir = std::string(AWQMAP_FIXTURE_DIR) + "/duplicate_llama";
  auto r = run_cli("plugins", "AWQMAP_PLUGIN_PATH=" + quote(dir));
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("awqmap-duplicate_llama.so") != std::string::npos);
  CHECK(r.err.find("awqmap-defaults.so") != std::string::npos);
  auto o = run_cli("plugins --allow-override", "AWQMAP_PLUGIN_PATH=" + quote(dir));
  CHECK(o.exit_code == 0);
  CHECK(o.out.find("duplicate_llama") != std::string::npos);
}

TEST_CASE("resolve reads a checkpoint directory and reports what it dropped") {
  std::string example = quote(std::string(AWQMAP_SOURCE_DIR) + "/examples/qwen3-next-tiny");
  auto r = run_cli("resolve " + example + " --format json");
  REQUIRE(r.exit_code == 0);
  auto out = nlohmann::json::parse(r.out);
  CHECK(out["selection"]["kind"] == "dynamic");
  CHECK(out["checkpoint"]["shards"] == 3);
  REQUIRE(out["checkpoint"]["dropped"].size() == 1);
  CHECK(out["checkpoint"]["dropped"][0]["count"].get<int>() > 0);
  CHECK(r.err.find("dropped") != std::string::npos);
  auto table = run_cli("resolve " + example);
  CHECK(table.out.find("checkpoint: 3 shard(s)") != std::string::npos);
}

TEST_CASE("the architecture option overrides the model's own") {
  auto r = run_cli("mappings " + corpus("LlamaForCausalLM.tiny.model.json") + " --architecture Phi3ForCausalLM");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Phi3ForCausalLM: static (plugin defaults)") != std::string::npos);
  CHECK(run_cli("plugins --architecture X").exit_code == 2);
}

TEST_CASE("a checkpoint directory without config.json is bad input naming it") {
  TempDir dir;
  auto r = run_cli("resolve " + quote(dir.path.string()));
  CHECK(r.exit_code == 3);
  CHECK(r.out.empty());
  CHECK(r.err.find("no config.json") != std::string::npos);
}

TEST_CASE("repair in json: repaired_from on scoped mappings and a repairs list") {
  auto r = run_cli("resolve " + corpus("DeepseekV3ForCausalLM.tiny.model.json") + " --upstream --repair --format json");
  REQUIRE(r.exit_code == 0);
  auto out = nlohmann::json::parse(r.out);
  REQUIRE(out["repairs"].size() == 1);
  CHECK(out["repairs"][0]["mapping"] == 3);
  CHECK(out["repairs"][0]["error"] == "multiple_smooth_layers");
  for (auto i : out["repairs"][0]["replaced_by"]) CHECK(out["mappings"][i.get<std::size_t>()]["repaired_from"] == 3);
  CHECK_FALSE(out["mappings"][0].contains("repaired_from"));
  auto plain = run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json") + " --format json");
  auto with_repair = run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json") + " --repair --format json");
  auto a = nlohmann::json::parse(plain.out), b = nlohmann::json::parse(with_repair.out);
  CHECK(b["repairs"].empty());
  b.erase("repairs");
  CHECK(a == b);
}

TEST_CASE("a resolution error in json carries the explanation") {
  auto r = run_cli("resolve " + corpus("DeepseekV3ForCausalLM.tiny.model.json") + " --upstream --format json");
  CHECK(r.exit_code == 4);
  auto out = nlohmann::json::parse(r.out);
  CHECK(out["explanation"].get<std::string>().find("model.layers 0: no match for re:.*mlp.gate$") != std::string::npos);
  CHECK(r.err.find("awqmap: explanation:") != std::string::npos);
}

TEST_CASE("coverage lists what AWQ will not smooth, and the table always shows the counts") {
  auto r = run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json") + " --coverage --format json");
  REQUIRE(r.exit_code == 0);
  auto out = nlohmann::json::parse(r.out);
  CHECK(out["coverage"]["targeted"] == 28);
  CHECK(out["coverage"]["unbalanced"][0]["name"] == "model.layers.*.self_attn.o_proj");
  auto table = run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json"));
  CHECK(table.out.find("coverage: 24 of 28 targeted Linear modules are balanced") != std::string::npos);
  auto detailed = run_cli("resolve " + corpus("LlamaForCausalLM.tiny.model.json") + " --coverage");
  CHECK(detailed.out.find("model.layers.*.self_attn.o_proj: 4 - v_proj->o_proj skipped, incompatible shapes") !=
        std::string::npos);
}

TEST_CASE("plugins lists the checkpoint adaptations the registry holds and the plugin that sets the default list") {
  auto p = run_cli("plugins --format json");
  REQUIRE(p.exit_code == 0);
  auto out = nlohmann::json::parse(p.out);
  CHECK(out["default_mappings_plugin"] == "defaults");
  const awqmap::Registry& registry = shipped_registry();
  const auto expected = registry.adaptation_entries();
  REQUIRE(out["adaptations"].size() == expected.size());
  std::size_t renames = 0, dropped = 0, fused = 0;
  for (std::size_t e = 0; e < expected.size(); ++e) {
    const auto& a = out["adaptations"][e];
    CHECK(a["architecture"] == expected[e].architecture);
    CHECK(a["plugin"] == expected[e].plugin->name);
    CHECK(a["dropped"] == expected[e].dropped);
    REQUIRE(a["renames"].size() == expected[e].renames.size());
    for (std::size_t i = 0; i < expected[e].renames.size(); ++i) {
      CHECK(a["renames"][i]["pattern"] == expected[e].renames[i].pattern);
      CHECK(a["renames"][i]["replacement"] == expected[e].renames[i].replacement);
    }
    REQUIRE(a["fused_experts"].size() == expected[e].fused_experts.size());
    for (std::size_t i = 0; i < expected[e].fused_experts.size(); ++i) {
      CHECK(a["fused_experts"][i]["fused"] == expected[e].fused_experts[i].fused);
      CHECK(a["fused_experts"][i]["parts"] == expected[e].fused_experts[i].parts);
    }
    renames += expected[e].renames.size();
    dropped += expected[e].dropped.size();
    fused += expected[e].fused_experts.size();
  }
  CHECK(renames > 0);
  CHECK(dropped > 0);
  CHECK(fused > 0);
  auto text = run_cli("plugins");
  CHECK(text.out.find("\ndefault mappings: set by plugin defaults\n") != std::string::npos);
  CHECK(text.out.find("\ncheckpoint adaptations") != std::string::npos);
  CHECK(text.out.find(" rename ") != std::string::npos);
}
