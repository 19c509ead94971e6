// Hostile inputs outside the checkpoint reader: nesting and layer limits, escapes the suffix
// prefilter must read like Python, plugins whose entry symbol is not the entry pointer, and
// names that must not reach the terminal raw.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "awqmap/error.hpp"
#include "awqmap/loader.hpp"
#include "awqmap/python_regex.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/target.hpp"
#include "awqmap/toolkit.hpp"
#include "model_builder.hpp"
#include "support.hpp"

#include <unistd.h>

using namespace awqmap;
using namespace awqmap::test;
namespace fs = std::filesystem;

namespace {

// `(a)` then `depth` conditionals, each nested in the previous one's "yes" branch.
std::string nested_conditionals(int depth) {
  std::string p = "(a)";
  for (int i = 0; i < depth; ++i) p += "(?(1)";
  p += "b";
  for (int i = 0; i < depth; ++i) p += ")";
  return p;
}

// The same, nested in the "no" branch.
std::string nested_conditionals_in_no_branch(int depth) {
  std::string p = "(a)?";
  for (int i = 0; i < depth; ++i) p += "(?(1)x|";
  p += "b";
  for (int i = 0; i < depth; ++i) p += ")";
  return p;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

fs::path fixture(const std::string& name) {
  return fs::path(AWQMAP_FIXTURE_DIR) / name / ("awqmap-" + name + ".so");
}

std::string load_error(const fs::path& file) {
  Registry registry;
  try {
    PluginLoader(registry).load_file(file);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// A Llama model whose layer container name carries an escape sequence and a NUL byte.
ModelBuilder llama_with_control_characters() {
  const std::string p = std::string("model.lay\x1b[2J") + std::string(1, '\0') + "ers.0.";
  ModelBuilder b("LlamaForCausalLM");
  b.add(p + "input_layernorm", "LlamaRMSNorm");
  for (const char* proj : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "self_attn." + proj, 8, 8);
  b.add(p + "post_attention_layernorm", "LlamaRMSNorm");
  for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) b.linear(p + "mlp." + proj, 8, 8);
  return b;
}

}  // namespace

TEST_CASE("conditionals nested 10000 deep are an error naming the pattern, not a stack overflow") {
  for (const std::string& p : {nested_conditionals(10000), nested_conditionals_in_no_branch(10000)}) {
    try {
      Target::compile("re:" + p, "a test mapping");
      FAIL("no error");
    } catch (const InputError& e) {
      const std::string m = e.what();
      CHECK(contains(m, "nested more than " + std::to_string(max_pattern_nesting) + " deep"));
      CHECK(contains(m, "'re:" + p.substr(0, 40)));
      CHECK(contains(m, "a test mapping"));
    }
  }
}

TEST_CASE("conditionals nested within the limit still translate and match like Python") {
  // Python: re.match(r"(a)(?(1)(?(1)...b...))", "ab") matches; "ac" does not.
  Target t = Target::compile("re:" + nested_conditionals(150), "a test");
  CHECK(t.matches_name("ab"));
  CHECK_FALSE(t.matches_name("ac"));
  Target no = Target::compile("re:" + nested_conditionals_in_no_branch(150), "a test");
  CHECK(no.matches_name("b"));
  CHECK(no.matches_name("ax"));
  CHECK_FALSE(no.matches_name("ab"));
}

TEST_CASE("the CLI refuses 10000 nested conditionals in targets, ignore and mappings with exit 3") {
  const std::string p = "re:" + nested_conditionals(10000);
  const std::string model = quote((corpus_dir() / "LlamaForCausalLM.tiny.model.json").string());
  TempDir dir;
  auto mappings = dir.write("m.json", nlohmann::json::array({{{"smooth_layer", p}, {"balance_layers", {"re:.*q$"}}}}).dump());
  for (const std::string& option :
       {"--targets " + quote(p), "--ignore " + quote(p), "--mappings " + quote(mappings.string())}) {
    auto r = run_cli("resolve " + model + " " + option);
    INFO(r.err.substr(0, 300));
    CHECK(r.exit_code == 3);
    CHECK(r.out.empty());
    CHECK(contains(r.err, p.substr(0, 40)));
    CHECK(contains(r.err, "nested more than 200 deep"));
  }
}

TEST_CASE("escapes before the final dollar are read like Python's re by the suffix prefilter") {
  // Each of these is `.*input_layernorm$` to Python's re.
  const std::vector<std::string> spellings = {
      R"(.*input_layernor\x6d$)",         R"(.*input_layernor\155$)",
      R"(.*input_layernor\u006d$)",       R"(.*input_layernor\U0000006d$)",
      R"(.*input_layernor\N{LATIN SMALL LETTER M}$)", R"(.*input_layerno\x72\x6d$)",
      R"(.*input_layernorm\x24?$)",       R"(.*input_layer\x6eorm$)",
  };
  const std::vector<std::string> names = {"model.layers.0.input_layernorm", "model.layers.0.input_layernorm\n",
                                          "model.layers.0.input_layernor6d", "model.layers.0.input_layernor\\x6d",
                                          "model.layers.0.input_layernor155", "model.layers.0.input_layernorM"};
  for (const auto& s : spellings) {
    INFO("pattern " << s);
    Target t = Target::compile("re:" + s, "a test");
    CHECK(t.matches_name(names[0]));
    CHECK(t.matches_name(names[1]));
    for (std::size_t i = 2; i < names.size(); ++i) CHECK_FALSE(t.matches_name(names[i]));
    for (const auto& n : names) CHECK(t.matches_name(n) == t.matches_name_with_regex(n));
  }
}

TEST_CASE("backreferences and categories before the final dollar do not fool the suffix prefilter") {
  // \1 is a backreference (not octal), \12 a two-digit one, \0 the NUL character.
  struct Row {
    std::string pattern, name;
    bool match;
  };
  const std::vector<Row> rows = {
      {R"((m)\1$)", "mm", true},        {R"((m)\1$)", "m1", false},      {R"((m)\1m$)", "mmm", true},
      {R"(.*\d$)", "layers.7", true},   {R"(.*\x2e7$)", "layers.7", true}, {R"(.*\x2e7$)", "layers7", false},
      {R"(.*\0417$)", "a!7", true},     {R"(.*\.\w$)", "a.b", true},     {R"(.*\N{FULL STOP}b$)", "a.b", true},
      {R"(.*\u00e9$)", "caf\xc3\xa9", true}, {R"(.*\u00e9$)", "cafe", false},
  };
  for (const auto& r : rows) {
    INFO("pattern " << r.pattern << " name " << r.name);
    Target t = Target::compile("re:" + r.pattern, "a test");
    CHECK(t.matches_name(r.name) == r.match);
    CHECK(t.matches_name_with_regex(r.name) == r.match);
  }
}

TEST_CASE("a config giving 10^12 layers is refused before anything is allocated") {
  const nlohmann::json huge = 1000000000000LL;
  auto check = [](const ModelView& model, const std::string& field) {
    const auto start = std::chrono::steady_clock::now();
    try {
      toolkit::layer_types(model);
      FAIL("no error");
    } catch (const plugin::Error& e) {
      const std::string m = e.what();
      CHECK(contains(m, field));
      CHECK(contains(m, "layer limit of " + std::to_string(toolkit::max_layers)));
      CHECK(contains(m, "test model"));
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  };
  check(ModelBuilder("Qwen3NextForCausalLM").config({{"num_hidden_layers", huge}}).build(), "num_hidden_layers");
  check(ModelBuilder("Qwen3_5ForConditionalGeneration")
            .config({{"num_hidden_layers", 2}, {"text_config", {{"num_hidden_layers", huge}}}})
            .build(),
        "text_config.num_hidden_layers");
  // Just within the limit still derives every layer.
  auto at_limit = toolkit::layer_types(
      ModelBuilder("Qwen3NextForCausalLM").config({{"num_hidden_layers", toolkit::max_layers}}).build());
  REQUIRE(at_limit);
  CHECK(at_limit->size() == static_cast<std::size_t>(toolkit::max_layers));
}

TEST_CASE("the Qwen3-Next and Qwen3.5 plugins refuse 10^12 layers by name with exit 3") {
  TempDir dir;
  for (const char* arch : {"Qwen3NextForCausalLM", "Qwen3_5MoeForConditionalGeneration"}) {
    for (bool nested : {false, true}) {
      nlohmann::json cfg = {{"num_hidden_layers", 1000000000000LL}};
      if (nested) cfg = {{"text_config", cfg}};
      ModelBuilder b(arch);
      b.config(cfg).add("model.layers.0.input_layernorm", "RMSNorm").linear("model.layers.0.self_attn.q_proj", 8, 8);
      auto file = dir.write(std::string(arch) + (nested ? "-nested" : "") + ".json", b.json());
      const auto start = std::chrono::steady_clock::now();
      auto r = run_cli("resolve " + quote(file.string()), "AWQMAP_PLUGIN_PATH=");
      INFO(arch << " " << r.err);
      CHECK(r.exit_code == 3);
      CHECK(r.out.empty());
      CHECK(contains(r.err, nested ? "text_config.num_hidden_layers" : "config num_hidden_layers"));
      CHECK(contains(r.err, "layer limit"));
      CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    }
  }
}

TEST_CASE("a config value of the wrong type is described by its type, not echoed") {
  const std::string secret(5000, 'S');
  ModelView model = ModelBuilder("Qwen3NextForCausalLM").config({{"num_hidden_layers", secret}}).build();
  try {
    toolkit::layer_types(model);
    FAIL("no error");
  } catch (const plugin::Error& e) {
    const std::string m = e.what();
    CHECK(contains(m, "num_hidden_layers must be an integer, not a string"));
    CHECK_FALSE(contains(m, "SSSS"));
  }
}

TEST_CASE("a plugin whose entry symbol is a function or data is refused by name, not called") {
  SECTION("a plain function") {
    const std::string e = load_error(fixture("entry_is_function"));
    CHECK(contains(e, "awqmap-entry_is_function.so"));
    CHECK(contains(e, "is a function, not the entry pointer"));
    CHECK(contains(e, "AWQMAP_PLUGIN"));
  }
  SECTION("text") {
    const std::string e = load_error(fixture("entry_is_data"));
    CHECK(contains(e, "awqmap-entry_is_data.so"));
    CHECK(contains(e, "does not point to code in the plugin"));
  }
  SECTION("a pointer to data") {
    const std::string e = load_error(fixture("entry_points_to_data"));
    CHECK(contains(e, "awqmap-entry_points_to_data.so"));
    CHECK(contains(e, "does not point to code in the plugin"));
  }
  SECTION("and the well-formed fixture still loads") {
    CHECK(load_error(fixture("dynamic_fixture")) == "no error");
  }
}

TEST_CASE("the CLI exits 3 on a plugin whose entry symbol is a function") {
  for (const char* name : {"entry_is_function", "entry_is_data", "entry_points_to_data"}) {
    auto r = run_cli("plugins --no-default-plugins --plugin-dir " + quote(fixture(name).parent_path().string()));
    INFO(r.err);
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, std::string("awqmap-") + name + ".so"));
  }
}

TEST_CASE("control characters in module names are escaped in the table and in errors") {
  TempDir dir;
  auto file = dir.write("escape.json", llama_with_control_characters().json());
  auto r = run_cli("resolve " + quote(file.string()));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.out.find('\0') == std::string::npos);
  CHECK(contains(r.out, "model.lay\\x1b[2J\\x00ers.0.input_layernorm"));
  // JSON escapes them its own way.
  auto j = run_cli("resolve " + quote(file.string()) + " --format json");
  REQUIRE(j.exit_code == 0);
  CHECK(j.out.find('\x1b') == std::string::npos);

  // An error naming such a module: a duplicate name.
  const std::string evil = std::string("model.\x1b]0;owned\x07") + std::string(1, '\0') + "x";
  auto bad = dir.write("duplicate.json", ModelBuilder("LlamaForCausalLM").linear(evil, 8, 8).json());
  std::string text = test::read_file(bad);
  auto modules_at = text.find("\"modules\":[");
  REQUIRE(modules_at != std::string::npos);
  const std::string record = nlohmann::json{{"name", evil}, {"type", "Linear"}, {"in_features", 8}, {"out_features", 8}}.dump();
  text.insert(text.size() - 2, "," + record);
  auto dup = dir.write("duplicate2.json", text);
  auto e = run_cli("resolve " + quote(dup.string()));
  INFO(e.err);
  CHECK(e.exit_code == 3);
  CHECK(e.err.find('\x1b') == std::string::npos);
  CHECK(e.err.find('\x07') == std::string::npos);
  CHECK(e.err.find('\0') == std::string::npos);
  CHECK(contains(e.err, "\\x1b]0;owned\\x07"));
}

TEST_CASE("an empty target is refused with a message saying what a target is") {
  auto r = run_cli("resolve " + quote((corpus_dir() / "LlamaForCausalLM.tiny.model.json").string()) + " --targets ''");
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "--targets needs a module name"));
  auto inline_form = run_cli("resolve " + quote((corpus_dir() / "LlamaForCausalLM.tiny.model.json").string()) +
                             " --targets=");
  CHECK(inline_form.exit_code == 2);
}


namespace {
// Resident memory of this process, in bytes (Linux).
std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t total = 0, resident = 0;
  statm >> total >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}
}  // namespace

TEST_CASE("resolving hybrid models of many sizes keeps none of their generated patterns") {
  // The Qwen3-Next builder writes one layer-index alternation per model size; a process that
  // resolves many models (an embedder, a fuzzer) must not keep each one compiled, neither in the
  // registry that validated it nor anywhere else.
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer quarantines freed memory instead of reusing it: resident size says nothing.
  SUCCEED("not measured under AddressSanitizer");
  return;
#endif
  awqmap::Registry& registry = test::shipped_registry();
  auto resolve_one = [&](int layers) {
    ModelBuilder b("Qwen3NextForCausalLM");
    b.config({{"num_hidden_layers", layers}, {"full_attention_interval", 4}})
        .add("model", "Module")
        .add("model.layers", "ModuleList")
        .add("model.layers.0", "Block")
        .add("model.layers.0.input_layernorm", "RMSNorm")
        .add("model.layers.0.linear_attn", "GatedDeltaNet")
        .linear("model.layers.0.linear_attn.in_proj_qkvz", 8, 8)
        .linear("model.layers.0.linear_attn.in_proj_ba", 8, 8);
    ModelView model = b.build();
    auto selection = registry.select(model);
    REQUIRE(selection.mappings.size() > 1);
    auto r = awqmap::resolve(model, selection.mappings);
    CHECK(r.resolved.size() == 1);  // layer 0's input_layernorm -> its linear attention
  };
  resolve_one(20000);  // the first one's memory is the allocator's to reuse
  const std::size_t before = resident_bytes();
  std::size_t one = 0;
  for (int k = 1; k <= 8; ++k) {
    resolve_one(20000 + 4 * k);
    if (k == 1) one = resident_bytes() > before ? resident_bytes() - before : 0;
  }
  const std::size_t grown = resident_bytes() > before ? resident_bytes() - before : 0;
  INFO("resident growth: " << grown / 1024 << " kB after 8 models, " << one / 1024 << " kB after the first");
  CHECK(grown < 3 * std::max<std::size_t>(one, 4u << 20));
}

TEST_CASE("long generated patterns are not kept once their targets are gone") {
  // Dynamic builders write one index alternation per model; a process that resolves many models
  // (an embedder, a fuzzer) must not keep every one compiled.
  auto alternation = [](int layers) {
    std::string p = R"(re:.*layers\.()";
    for (int i = 0; i < layers; ++i) p += (i ? "|" : "") + std::to_string(i);
    return p + R"()\.input_layernorm$)";
  };
  auto use = [&](int layers) {
    const auto t = awqmap::Target::compile(alternation(layers), "a test builder");
    REQUIRE(t.matches_name_with_regex("model.layers." + std::to_string(layers - 1) + ".input_layernorm"));
  };
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer quarantines freed memory instead of reusing it: resident size says nothing.
  SUCCEED("not measured under AddressSanitizer");
  return;
#endif
  use(20000);  // the first one's memory is the allocator's to reuse
  const std::size_t before = resident_bytes();
  std::size_t one = 0;
  for (int k = 1; k <= 8; ++k) {
    use(20000 + k);
    if (k == 1) one = resident_bytes() > before ? resident_bytes() - before : 0;
  }
  const std::size_t grown = resident_bytes() > before ? resident_bytes() - before : 0;
  INFO("resident growth: " << grown / 1024 << " kB after 8 patterns, " << one / 1024 << " kB after the first");
  CHECK(grown < 3 * std::max<std::size_t>(one, 4u << 20));
}

TEST_CASE("a hybrid model with thousands of linear-attention projection names is refused at once by name") {
  // Each projection name becomes a pattern that resolution matches against every module, so n
  // such modules cost n x n matches: 2,000 of them in a 140 kB header took 9 s to resolve.
  // Parenthesised names are patterns without a literal suffix or fast path: each match runs the
  // regex engine. Plain ones match themselves, so the model at the limit resolves.
  auto model = [](std::size_t projections, bool parenthesised) {
    ModelBuilder b("Qwen3_5ForCausalLM");
    b.config({{"num_hidden_layers", 4}}).add("model", "Module").list("model.layers");
    b.add("model.layers.0", "DecoderLayer").add("model.layers.0.input_layernorm", "RMSNorm");
    b.add("model.layers.0.linear_attn", "GatedDeltaNet");
    for (std::size_t i = 0; i < projections; ++i)
      b.linear("model.layers.0.linear_attn.in_proj_" + (parenthesised ? "(" + std::to_string(i) + ")" : std::to_string(i)),
               8, 8);
    b.add("model.layers.3", "DecoderLayer").add("model.layers.3.input_layernorm", "RMSNorm");
    for (const char* p : {"q_proj", "k_proj", "v_proj"}) b.linear(std::string("model.layers.3.self_attn.") + p, 8, 8);
    return b.build();
  };
  const Registry& registry = shipped_registry();
  ModelView at_limit = model(toolkit::max_linear_attention_projections, false);
  Selection s = registry.select(at_limit);
  REQUIRE(s.mappings.size() > 1);
  CHECK(s.mappings[1].balance_layers.size() == toolkit::max_linear_attention_projections);
  CHECK(resolve(at_limit, s.mappings).resolved.size() == 2);

  ModelView over = model(3000, true);
  const auto start = std::chrono::steady_clock::now();
  try {
    Selection refused = registry.select(over);
    (void)resolve(over, refused.mappings);
    FAIL("no error");
  } catch (const InputError& e) {
    const std::string m = e.what();
    CHECK(contains(m, "test model"));
    CHECK(contains(m, "linear-attention projections"));
    CHECK(contains(m, "limit"));
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}
