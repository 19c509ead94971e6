#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace awqmap::test;

namespace {
std::string corpus(const std::string& name) {
  return quote((corpus_dir() / (name + ".model.json")).string());
}
}  // namespace

TEST_CASE("the upstream flag selects upstream's hybrid builder and the default mode the exact one with the router") {
  const std::string model = corpus("Qwen3NextForCausalLM.tiny.all-moe");
  CliResult exact = run_cli("resolve " + model + " --format json");
  CliResult upstream = run_cli("resolve " + model + " --format json --upstream");
  REQUIRE(exact.exit_code == 0);
  REQUIRE(upstream.exit_code == 0);
  auto e = nlohmann::json::parse(exact.out), u = nlohmann::json::parse(upstream.out);
  CHECK(e["selection"]["builder"] == "hybrid_attention_exact");
  CHECK(u["selection"]["builder"] == "hybrid_attention");
  // The upstream run is the corpus's expectation; the exact run adds the router to the MoE group.
  auto expected = read_json(corpus_dir() / "Qwen3NextForCausalLM.tiny.all-moe.expected.json");
  CHECK(u["resolved"] == expected["resolved"]);
  auto has_router = [](const nlohmann::json& result) {
    for (const auto& g : result["resolved"])
      for (const auto& b : g["balance_names"]) {
        const std::string name = b;
        if (name.size() >= 9 && name.compare(name.size() - 9, 9, ".mlp.gate") == 0) return true;
      }
    return false;
  };
  CHECK(has_router(e));
  CHECK_FALSE(has_router(u));
  CHECK(run_cli("plugins --upstream").exit_code == 2);
}

TEST_CASE("a Qwen3-Next with a dense layer collapses upstream and resolves exactly in the default mode") {
  const std::string model = corpus("Qwen3NextForCausalLM.tiny");
  auto expected = read_json(corpus_dir() / "Qwen3NextForCausalLM.tiny.expected.json");
  REQUIRE(expected.contains("error"));
  CliResult upstream = run_cli("resolve " + model + " --format json --upstream");
  CHECK(upstream.exit_code == 4);
  CHECK(nlohmann::json::parse(upstream.out)["kind"] == expected["error"]["kind"]);
  CliResult exact = run_cli("resolve " + model + " --format json");
  REQUIRE(exact.exit_code == 0);
  auto e = nlohmann::json::parse(exact.out);
  // The dense layer (5) gets its own scoped mapping; every MoE layer's group holds its router.
  std::size_t moe_groups = 0, dense_groups = 0;
  for (const auto& g : e["resolved"]) {
    const std::string smooth = g["smooth_name"];
    if (smooth.find("post_attention_layernorm") == std::string::npos) continue;
    std::vector<std::string> balance = g["balance_names"];
    if (smooth == "model.layers.5.post_attention_layernorm") {
      ++dense_groups;
      CHECK(balance == std::vector<std::string>{"model.layers.5.mlp.gate_proj", "model.layers.5.mlp.up_proj"});
    } else {
      ++moe_groups;
      CHECK(balance.front() == smooth.substr(0, smooth.size() - 24) + "mlp.gate");
    }
  }
  CHECK(dense_groups == 1);
  CHECK(moe_groups == 7);
}

TEST_CASE("architectures lists each architecture once with its origin and how it compares with upstream") {
  CliResult r = run_cli("architectures --format json");
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["format"] == "awqmap.architectures/v1");
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& a : j["architectures"]) {
    CHECK(by_name.count(a["architecture"]) == 0);
    by_name[a["architecture"]] = a;
  }
  REQUIRE(by_name.count("LlamaForCausalLM"));
  CHECK(by_name["LlamaForCausalLM"]["origin"] == "upstream");
  CHECK(by_name["LlamaForCausalLM"]["differs_from_upstream"] == "no");
  REQUIRE(by_name.count("Qwen3NextForCausalLM"));
  CHECK(by_name["Qwen3NextForCausalLM"]["origin"] == "analysis");
  CHECK(by_name["Qwen3NextForCausalLM"]["builder"] == "hybrid_attention_exact");
  CHECK(by_name["Qwen3NextForCausalLM"]["differs_from_upstream"] == "builder");
  CliResult table = run_cli("architectures");
  CHECK(table.out.rfind("ARCHITECTURE", 0) == 0);
  CHECK(table.out.find("any other architecture gets the default mappings") != std::string::npos);
}

TEST_CASE("an architecture no plugin knows is warned about when it resolves and explained when it fails") {
  TempDir tmp;
  // A Llama-shaped tree under a name nobody registers: the default list fits, with a warning.
  auto llama = read_json(corpus_dir() / "LlamaForCausalLM.tiny.model.json");
  llama["architecture"] = "NobodyKnowsForCausalLM";
  auto path = tmp.write("unknown.json", llama.dump());
  CliResult ok = run_cli("resolve " + quote(path.string()) + " --format json");
  CHECK(ok.exit_code == 0);
  CHECK(ok.err.find("warning: no loaded plugin registers NobodyKnowsForCausalLM") != std::string::npos);
  CHECK(ok.err.find("unverified for this architecture") != std::string::npos);
  // The same with --upstream stays as quiet as upstream.
  CHECK(run_cli("resolve " + quote(path.string()) + " --format json --upstream").err.find("warning") ==
        std::string::npos);
  // A tree the default list does not fit: the explanation says the architecture is unknown.
  auto opt = read_json(corpus_dir() / "OPTForCausalLM.real-tree.model.json");
  opt["architecture"] = "NobodyKnowsEitherForCausalLM";
  auto bad = tmp.write("bad.json", opt.dump());
  CliResult fail = run_cli("resolve " + quote(bad.string()) + " --format json");
  CHECK(fail.exit_code == 4);
  auto err = nlohmann::json::parse(fail.out);
  CHECK(err["explanation"].get<std::string>().find(
            "NobodyKnowsEitherForCausalLM is unknown to every loaded plugin") != std::string::npos);
}

TEST_CASE("output that cannot be written is exit code 6 and never a silent success") {
  if (!std::filesystem::exists("/dev/full")) return;
  int status = std::system(("'" + std::string(AWQMAP_CLI) + "' resolve " +
                            quote((corpus_dir() / "LlamaForCausalLM.tiny.model.json").string()) +
                            " --format json >/dev/full 2>/dev/null")
                               .c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 6);
  CliResult help = run_cli("--help");
  CHECK(help.out.find("5  internal failure") != std::string::npos);
  CHECK(help.out.find("6  the output could not be written") != std::string::npos);
}

TEST_CASE("a misspelt command or option gets a suggestion") {
  CliResult c = run_cli("resolv");
  CHECK(c.exit_code == 2);
  CHECK(c.err.find("did you mean 'resolve'?") != std::string::npos);
  CliResult o = run_cli("resolve --frmat json");
  CHECK(o.exit_code == 2);
  CHECK(o.err.find("did you mean '--format'?") != std::string::npos);
  CHECK(run_cli("zzzzzzzz").err.find("did you mean") == std::string::npos);
}

TEST_CASE("a dash reads the model or the mappings from standard input and quiet drops the info lines") {
  const std::string model = quote((corpus_dir() / "LlamaForCausalLM.tiny.model.json").string());
  CliResult from_file = run_cli("resolve " + model + " --format json");
  CliResult from_stdin = run_cli("resolve - --format json < " + model);
  REQUIRE(from_stdin.exit_code == 0);
  auto a = nlohmann::json::parse(from_file.out), b = nlohmann::json::parse(from_stdin.out);
  CHECK(a["resolved"] == b["resolved"]);
  CHECK(a["skipped"] == b["skipped"]);
  // The resolved JSON's mappings list goes back in as it is, through standard input too.
  TempDir tmp;
  auto resolved = tmp.write("resolved.json", from_file.out);
  CliResult user = run_cli("resolve " + model + " --format json --mappings - < " + quote(resolved.string()));
  REQUIRE(user.exit_code == 0);
  CHECK(nlohmann::json::parse(user.out)["resolved"] == a["resolved"]);
  CHECK(run_cli("resolve - --mappings - < " + model).exit_code == 2);
  // An unknown architecture says so at info level; --quiet keeps warnings and drops info lines.
  auto unknown = read_json(corpus_dir() / "LlamaForCausalLM.tiny.model.json");
  unknown["architecture"] = "QuietForCausalLM";
  auto path = quote(tmp.write("quiet.json", unknown.dump()).string());
  CHECK(run_cli("resolve " + path).err.find("awqmap: info:") != std::string::npos);
  CliResult quiet = run_cli("resolve " + path + " --quiet");
  CHECK(quiet.err.find("awqmap: info:") == std::string::npos);
  CHECK(quiet.err.find("awqmap: warning:") != std::string::npos);
}

TEST_CASE("mappings with repair lists the scoped mappings that resolve with repair would use") {
  const std::string model = quote((corpus_dir() / "DeepseekV3ForCausalLM.tiny.model.json").string());
  auto expected = read_json(corpus_dir() / "DeepseekV3ForCausalLM.tiny.expected.json");
  REQUIRE(expected.contains("error"));
  CliResult m = run_cli("mappings " + model + " --upstream --repair --format json");
  REQUIRE(m.exit_code == 0);
  auto j = nlohmann::json::parse(m.out);
  CHECK(j["format"] == "awqmap.mappings/v1");
  CHECK(j["selection"]["mode"] == "upstream");
  CliResult r = run_cli("resolve " + model + " --upstream --repair --format json");
  REQUIRE(r.exit_code == 0);
  auto rj = nlohmann::json::parse(r.out);
  REQUIRE(j["mappings"].size() == rj["mappings"].size());
  for (std::size_t i = 0; i < j["mappings"].size(); ++i) {
    CHECK(j["mappings"][i]["smooth_layer"] == rj["mappings"][i]["smooth_layer"]);
    CHECK(j["mappings"][i].value("repaired_from", -1) == rj["mappings"][i].value("repaired_from", -1));
  }
}

TEST_CASE("limit lowers or raises an input bound by name, and names it when it is hit") {
  const std::string model = quote((corpus_dir() / "LlamaForCausalLM.tiny.model.json").string());
  CliResult low = run_cli("resolve " + model + " --limit max_description_bytes=100");
  CHECK(low.exit_code == 3);
  CHECK(low.err.find("max_description_bytes") != std::string::npos);
  CHECK(low.err.find("--limit max_description_bytes=N") != std::string::npos);
  CHECK(run_cli("resolve " + model + " --limit max_description_bytes=100000000").exit_code == 0);
  CliResult typo = run_cli("resolve " + model + " --limit max_modles=5");
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("did you mean 'max_modules'?") != std::string::npos);
  CHECK(run_cli("resolve " + model + " --limit max_modules=lots").exit_code == 2);
}
