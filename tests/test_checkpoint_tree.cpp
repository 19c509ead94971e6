// The checkpoint reader's short cuts against the general paths they stand for: the tree it hands
// to ModelAccess::make (against make's own checks), sibling order without a sort, tensors named
// twice without a table over every name, literal drop patterns, and names_are_plain.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/src/input/adaptations.hpp"
#include "../core/src/input/module_tree.hpp"
#include "awqmap/checkpoint.hpp"
#include "awqmap/error.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/registry.hpp"
#include "awqmap/target.hpp"
#include "checkpoint_writer.hpp"
#include "support.hpp"

using namespace awqmap;
namespace fs = std::filesystem;

namespace {

// One shard's tensors in the order given (the test writer's headers sort them by name).
struct Shard {
  std::string file;
  std::vector<std::string> names;
};

void write_shards(const fs::path& dir, const nlohmann::json& config, const std::vector<Shard>& shards) {
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << config.dump();
  // In shard order (the reader takes the shards in order of first appearance), each tensor
  // under the first shard that has it.
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  for (const Shard& s : shards) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    std::uint64_t at = 0;
    for (const std::string& n : s.names) {
      // Two-dimensional weights make Linear modules; everything else one-dimensional.
      // Fused experts three-dimensional (two experts of two parts).
      auto ends_with = [&n](const std::string& tail) {
        return n.size() >= tail.size() && n.compare(n.size() - tail.size(), tail.size(), tail) == 0;
      };
      const bool linear = ends_with(".weight") && n.find("norm") == std::string::npos,
                 fused = ends_with("gate_up_proj");
      const std::vector<std::uint64_t> shape = fused    ? std::vector<std::uint64_t>{2, 4, 2}
                                               : linear ? std::vector<std::uint64_t>{4, 2}
                                                        : std::vector<std::uint64_t>{4};
      const std::uint64_t bytes = fused ? 32 : linear ? 16 : 8;
      header[n] = {{"dtype", "BF16"}, {"shape", shape}, {"data_offsets", {at, at + bytes}}};
      at += bytes;
      if (!weight_map.contains(n)) weight_map[n] = s.file;
    }
    test::write_shard(dir / s.file, header.dump(), at);
  }
  std::ofstream(dir / "model.safetensors.index.json") << nlohmann::ordered_json{{"weight_map", weight_map}}.dump();
}

const nlohmann::json config = {{"architectures", {"TreeTestForCausalLM"}}, {"num_hidden_layers", 2}};

Registry& adaptations() {
  static Registry registry;
  static const bool registered = [] {
    registry.register_plugin({"inline", "tree-test", "1", {}}, [](Registrar& reg) {
      reg.drop_checkpoint_tensors("TreeTestForCausalLM", "mtp\\.");
      reg.drop_checkpoint_tensors("TreeTestForCausalLM", "model\\.dropped_");
      reg.rename_checkpoint_keys("TreeTestForCausalLM", "old\\.", "model.");
      reg.split_fused_experts("TreeTestForCausalLM", {"experts.gate_up_proj", "experts", {"gate_proj", "up_proj"}});
    });
    return true;
  }();
  (void)registered;
  return registry;
}

ModelView load(const fs::path& dir) {
  return load_checkpoint(dir.string(), {std::nullopt, &adaptations()});
}

std::string load_error(const fs::path& dir) {
  try {
    load(dir);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// The same records through make()'s general path (a description's): it checks names and
// parents itself and builds its own name table and children lists, which the reader's must equal.
void check_against_general_path(const ModelView& m) {
  nlohmann::json modules = nlohmann::json::array();
  for (const Module& mod : m.modules()) {
    nlohmann::json rec = {{"name", std::string(mod.name)}, {"type", std::string(mod.type)}};
    if (mod.in_features) rec["in_features"] = *mod.in_features;
    if (mod.out_features) rec["out_features"] = *mod.out_features;
    if (!mod.shape.empty()) rec["shape"] = mod.shape;
    modules.push_back(rec);
  }
  const std::string text = nlohmann::json{
      {"format", "awqmap.model/v1"},
      {"architecture", m.architecture()},
      {"config", nlohmann::json::object()},
      {"modules", modules}}.dump();
  ModelView g = parse_model_description(text, "general");
  REQUIRE(g.size() == m.size());
  for (ModuleIndex i = 0; i < m.size(); ++i) {
    const std::string name(m[i].name);
    INFO(name);
    CHECK(g[i].name == m[i].name);
    CHECK(m[i].parent == g[i].parent);
    CHECK(m.find(name) == i);
    CHECK(g.find(name) == i);
    CHECK(m.children(i) == g.children(i));
    // Names that are not there, near ones that are.
    for (const std::string& absent : {name + "x", name + ".", "x" + name, name.substr(0, name.size() / 2) + "?"})
      CHECK(m.find(absent) == g.find(absent));
  }
}

}  // namespace

TEST_CASE("the tree a checkpoint hands to the model equals what make() builds from the same records") {
  test::TempDir dir;
  std::vector<std::string> names = {"model.embed_tokens.weight", "lm_head.weight", "model.norm.weight", "bias"};
  for (int l : {1, 0})
    for (int e : {12, 3, 0, 1, 10, 2})
      for (const char* p : {"up_proj", "gate_proj", "down_proj"})
        names.push_back("model.layers." + std::to_string(l) + ".mlp.experts." + std::to_string(e) + "." + p +
                        ".weight");
  names.push_back("model.layers.1.self_attn.q_proj.bias");
  names.push_back("model.layers.1.self_attn.q_proj.weight");
  names.push_back("model.layers.0.linear_attn.A_log");
  write_shards(
      dir.path, config,
      {{"a.safetensors", {names.begin(), names.begin() + 20}}, {"b.safetensors", {names.begin() + 20, names.end()}}});
  ModelView m = load(dir.path);
  check_against_general_path(m);
  CHECK(m[m.find("model.layers.0.mlp.experts")].type == "ModuleList");
  CHECK(m[m.find("model.layers.1.self_attn.q_proj")].type == "Linear");
}

TEST_CASE("siblings come out in one order whether they arrive sorted, reversed or shuffled") {
  // Arrivals in the final order and in its reverse skip the sort; shuffled ones take it: all
  // must agree, on numbered items (leading zeros, values past 32 bits, too long to be
  // numbers), on ranked names and on names with digits inside.
  std::vector<std::string> kids = {"0",
                                   "1",
                                   "01",
                                   "001",
                                   "2",
                                   "9",
                                   "10",
                                   "010",
                                   "11",
                                   "99",
                                   "100",
                                   "4294967296",
                                   "18446744073709551615",
                                   "123456789012345678",
                                   "1234567890123456789"};
  std::vector<std::string> words = {"visual",
                                    "multi_modal_projector",
                                    "vision_tower",
                                    "layer2",
                                    "layer10",
                                    "layer02",
                                    "a",
                                    "b",
                                    "a1b",
                                    "a01b",
                                    "a1c",
                                    "z",
                                    "Z",
                                    "_",
                                    "lm_head",
                                    "model",
                                    "7"};
  std::mt19937 rng(7);
  auto load_in = [&](const std::vector<std::string>& order) {
    test::TempDir dir;
    std::vector<std::string> names;
    for (const std::string& k : order) names.push_back("m.list." + k + ".proj.weight");
    write_shards(dir.path, config, {{"a.safetensors", names}});
    ModelView m = load(dir.path);
    check_against_general_path(m);
    std::vector<std::string> out;
    for (ModuleIndex c : m.children(m.find("m.list"))) out.emplace_back(m[c].name.substr(7));
    return out;
  };
  for (const auto* set : {&kids, &words}) {
    for (std::size_t count : {std::size_t{2}, std::size_t{3}, std::size_t{5}, set->size()}) {
      std::vector<std::string> sub(set->begin(), set->begin() + static_cast<std::ptrdiff_t>(count));
      std::shuffle(sub.begin(), sub.end(), rng);
      const std::vector<std::string> sorted = load_in(sub);
      REQUIRE(sorted.size() == count);
      std::vector<std::string> reversed(sorted.rbegin(), sorted.rend());
      CHECK(load_in(sorted) == sorted);
      CHECK(load_in(reversed) == sorted);
      for (int k = 0; k < 3; ++k) {
        std::shuffle(sub.begin(), sub.end(), rng);
        CHECK(load_in(sub) == sorted);
      }
    }
  }
  // The order itself, where it is known.
  std::vector<std::string> some = {"10", "01", "2", "1", "001", "0"};
  CHECK(load_in(some) == std::vector<std::string>{"0", "001", "01", "1", "2", "10"});
  some = {"b", "vision_tower", "layer10", "multi_modal_projector", "layer2"};
  CHECK(load_in(some) == std::vector<std::string>{"vision_tower", "multi_modal_projector", "b", "layer2", "layer10"});
}

TEST_CASE("a tensor stored twice is refused with both shards named, whatever becomes of it") {
  const std::vector<std::string> base = {"model.embed_tokens.weight",
                                         "model.layers.0.self_attn.q_proj.weight",
                                         "model.layers.0.self_attn.q_proj.bias",
                                         "model.layers.0.linear_attn.A_log",
                                         "lm_head.weight",
                                         "bias",
                                         "weight"};
  // Each kind of name: weight, bias, another last part, dropped by a pattern, dropped as an
  // extra decoder layer, renamed, split, with no dot at all.
  const std::vector<std::string> twice = {"model.layers.1.mlp.down_proj.weight",
                                          "model.layers.1.mlp.down_proj.bias",
                                          "model.layers.1.linear_attn.dt_bias",
                                          "mtp.layers.0.mlp.down_proj.weight",
                                          "model.dropped_thing.weight",
                                          "model.layers.7.mlp.down_proj.weight",
                                          "old.layers.1.mlp.up_proj.weight",
                                          "model.layers.1.mlp.experts.gate_up_proj",
                                          "bias",
                                          "weight"};
  for (const std::string& name : twice) {
    INFO(name);
    test::TempDir dir;
    std::vector<std::string> first = base, second = {"model.layers.1.mlp.gate_proj.weight"};
    if (std::find(first.begin(), first.end(), name) == first.end()) first.push_back(name);
    second.push_back(name);
    second.push_back("model.layers.1.mlp.up_proj.weight");
    write_shards(dir.path, config, {{"a.safetensors", first}, {"b.safetensors", second}});
    const std::string error = load_error(dir.path);
    INFO(error);
    CHECK(error.find("tensor '" + name + "' is also in ") != std::string::npos);
    CHECK(error.find("a.safetensors; each tensor must be stored once") != std::string::npos);
    CHECK(error.find("b.safetensors: tensor") != std::string::npos);

    // Reported before an error that comes earlier in the tensors, and before one that comes later.
    test::TempDir early, late;
    write_shards(early.path, config,
                 {{"a.safetensors", {"model..bad.weight", name}}, {"b.safetensors", {name, "model.extra.weight"}}});
    const std::string early_error = load_error(early.path);
    INFO(early_error);
    CHECK(early_error.find("tensor '" + name + "' is also in ") != std::string::npos);
    write_shards(late.path, config, {{"a.safetensors", {name}}, {"b.safetensors", {name, "model.bad..weight"}}});
    const std::string late_error = load_error(late.path);
    INFO(late_error);
    CHECK(late_error.find("tensor '" + name + "' is also in ") != std::string::npos);
  }
}

TEST_CASE("names that meet only once they become modules are not tensors stored twice") {
  test::TempDir dir;
  // A renamed tensor lands on the name of another; split experts on a module that a tensor
  // names too; a module and a parameter of the same spelling.
  write_shards(dir.path, config,
               {{"a.safetensors",
                 {"old.layers.0.mlp.down_proj.weight", "model.layers.0.mlp.experts.gate_up_proj",
                  "model.layers.0.weight.weight", "model.layers.0.mlp.experts.1.up_proj.weight"}},
                {"b.safetensors",
                 {"model.layers.0.mlp.down_proj.weight", "model.layers.0.weight",
                  "model.layers.0.mlp.experts.0.gate_proj.weight"}}});
  ModelView m = load(dir.path);
  CHECK(m.find("model.layers.0.mlp.down_proj") != no_module);
  CHECK(m.find("model.layers.0.mlp.experts.1.gate_proj") != no_module);
  check_against_general_path(m);
}

TEST_CASE("a literal drop pattern decides as its regex does") {
  for (const std::string pattern :
       {"mtp\\.", "model\\.layers\\.3\\.", "a", "a_b9", "x\\-\\/\\(\\)\\[\\]\\{\\}\\*\\+\\?\\|\\^\\$\\\\"}) {
    const auto literal = detail::literal_pattern(pattern);
    REQUIRE(literal);
    const Target target = Target::compile("re:" + pattern, "test");
    CHECK(target.matches_name(*literal));
    const detail::CompiledDrop drop{pattern, target, literal};
    const detail::CompiledDrop general{pattern, target, std::nullopt};
    // Names around the literal: shorter, equal, longer, a byte changed at each position (to its
    // neighbours, a newline, a byte past ASCII), prefixed.
    std::vector<std::string> names = {
        "", *literal, *literal + "x", *literal + "\n", "x" + *literal, *literal + "\xc3\xa9"};
    for (std::size_t n = 0; n < literal->size(); ++n) names.push_back(literal->substr(0, n));
    for (std::size_t i = 0; i < literal->size(); ++i)
      for (char c :
           {static_cast<char>((*literal)[i] + 1), static_cast<char>((*literal)[i] - 1), '\n', '\xc3', 'A', 'a'}) {
        std::string n = *literal + ".rest";
        n[i] = c;
        names.push_back(n);
      }
    // 1 or 0, or 2 where the regex refuses the name (a byte that is not UTF-8).
    auto outcome = [](const auto& f) {
      try {
        return f() ? 1 : 0;
      } catch (const Error&) {
        return 2;
      }
    };
    for (const std::string& name : names) {
      INFO(pattern << " on " << name);
      const int expected = outcome([&] { return target.matches_name(name); });
      const bool plain = detail::scan_tensor_name(name).plain;
      CHECK(outcome([&] { return detail::drop_matches(drop, name, plain); }) == expected);
      CHECK(outcome([&] { return detail::drop_matches(general, name, plain); }) == expected);
    }
  }
  // Patterns that are not one fixed string take the regex.
  for (const std::string pattern :
       {"mtp.", "a*",  "a+",    "a?",   "(a)", "[a]", "a|b", "^a",       "a$", "\\d", "\\w",
        "\\1",  "\\n", "(?i)a", "a{2}", "\\",  " ",   "a b", "\xc3\xa9", "-",  "\\Z", "\\A"})
    CHECK_FALSE(detail::literal_pattern(pattern));
  CHECK(detail::literal_pattern("") == std::string());
}

TEST_CASE("a checkpoint says its names are plain only when every name is") {
  auto plain_byte = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
  };
  // A bad byte at each position of names long and short, so that it falls in the sixteen-byte
  // steps and in the bytes after them.
  const std::string stem = "model.layers.0.mlp.experts.12.gate_proj";
  std::size_t said_plain = 0, said_not = 0;
  for (const std::string bad : {"\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xc3\xa9", "a"}) {
    for (std::size_t at = 0; at < stem.size(); at += 3) {
      std::string name = stem;
      if (name[at] == '.') continue;
      name.replace(at, 1, bad);
      test::TempDir dir;
      write_shards(dir.path, config, {{"a.safetensors", {"lm_head.weight", name + ".weight"}}});
      ModelView m = [&] {
        try {
          return load(dir.path);
        } catch (const Error&) {
          // A name the header readers refuse: a plain model instead.
          test::TempDir other;
          write_shards(other.path, config, {{"a.safetensors", {"lm_head.weight"}}});
          return load(other.path);
        }
      }();
      const bool plain = std::all_of(m.modules().begin(), m.modules().end(), [&](const Module& mod) {
        return std::all_of(mod.name.begin(), mod.name.end(), plain_byte);
      });
      INFO(name);
      CHECK(m.names_are_plain() == plain);
      (m.names_are_plain() ? said_plain : said_not) += 1;
    }
  }
  CHECK(said_plain >= 20);  // DEL and letters
  CHECK(said_not >= 30);    // quotes, backslashes and letters past ASCII at least
}

TEST_CASE("one pass over a tensor name finds adjacent dots and bytes that are not plain as the byte tests do") {
  // Every length up to past three sixteen-byte steps, two dots or a bad byte at every position
  // (so across each step's boundary and in the re-read last step), single dots everywhere.
  for (std::size_t length = 0; length <= 50; ++length) {
    const std::string base(length, 'a');
    std::vector<std::string> names = {base};
    for (std::size_t i = 0; i < length; ++i) {
      for (const char c : {'.', '\n', '\x80', '\xff', '\x7f', '\x00'}) {
        std::string n = base;
        n[i] = c;
        names.push_back(n);
        if (i + 1 < length) {
          n[i + 1] = '.';
          names.push_back(n);
        }
      }
      std::string n = base;
      for (std::size_t k = i % 2; k < length; k += 2) n[k] = '.';
      names.push_back(n);
    }
    for (const std::string& name : names) {
      std::string shown;
      for (char c : name)
        shown += c == 'a'   ? std::string("a")
                 : c == '.' ? std::string(".")
                            : "<" + std::to_string(static_cast<unsigned char>(c)) + ">";
      INFO(shown);
      const detail::TensorNameFlags flags = detail::scan_tensor_name(name);
      CHECK(flags.double_dot == (name.find("..") != std::string::npos));
      CHECK(flags.plain == Target::is_plain_name(name));
    }
  }
}

TEST_CASE("the byte look before is_embedding_name never turns an embedding away") {
  std::vector<std::string> lasts = {
      "",        "b",         "wte",       "wpe",     "abc",          "embed",         "embeddings", "word_embeddings",
      "up_proj", "gate_proj", "down_proj", "lm_head", "embed_tokens", "tok_embeddings"};
  // "embed" and a lone 'b' at every position of parts of every length up to past two words.
  for (std::size_t length = 0; length <= 20; ++length)
    for (std::size_t at = 0; at < length; ++at) {
      std::string last(length, 'x');
      last[at] = 'b';
      lasts.push_back(last);
      if (at + 5 <= length) lasts.push_back(std::string(length, 'x').replace(at, 5, "embed"));
    }
  for (const std::string& last : lasts) {
    INFO(last);
    // is_embedding_name's test (naming_heuristics.cpp).
    if (last.find("embed") != std::string::npos || last == "wte" || last == "wpe")
      CHECK(detail::may_be_embedding_name(last));
    CHECK(detail::may_be_embedding_name(last) == (last.size() == 3 || last.find('b') != std::string::npos));
  }
}

TEST_CASE("a module's parent found among the previous module's ancestors is the one the names give") {
  // The tree builder compares a new module's ancestors with the previous module's before it
  // hashes them: names in random orders over look-alike parts (ancestors of one length that
  // differ, one name the prefix of another without a dot, jumps up, down and back to an earlier
  // branch, names at the top) must give the parents and children that make() finds itself.
  const std::vector<std::string> parts = {"a", "b", "ab", "ba", "a1", "1", "2", "10"};
  std::mt19937 rng(11);
  auto load_names = [](const std::vector<std::string>& modules) {
    test::TempDir dir;
    std::vector<std::string> names;
    for (const std::string& m : modules) names.push_back(m + ".weight");
    write_shards(dir.path, config, {{"a.safetensors", names}});
    ModelView m = load(dir.path);
    check_against_general_path(m);
    for (const std::string& name : modules) {
      INFO(name);
      const ModuleIndex i = m.find(name);
      REQUIRE(i != no_module);
      // Its parent is the name up to its last dot (the root for a name without one).
      const std::size_t dot = name.rfind('.');
      const ModuleIndex parent = m[i].parent;
      REQUIRE(parent != no_module);
      CHECK(m[parent].name == (dot == std::string::npos ? std::string() : name.substr(0, dot)));
    }
  };
  // Sequences built to hit each edge in turn.
  load_names({"x.a.p", "x.b.p", "x.a.q", "x.b.q"});             // the same length, another parent, then back
  load_names({"x.ab.p", "x.a", "x.a.p", "x.ab.q"});             // a prefix without a dot is no ancestor
  load_names({"e.0.up", "e.0.gate", "e.1.up", "e.10.up"});      // a new parent under the grandparent
  load_names({"a.b.c.d", "a", "a.b.c.e", "a.x.y.z", "a.b.f"});  // up to the top and down again
  load_names({"p", "q", "p.r", "q.r", "r"});                    // at the top, under the root
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> modules;
    const int count = 2 + static_cast<int>(rng() % 12);
    for (int k = 0; k < count; ++k) {
      std::string name;
      const int depth = 1 + static_cast<int>(rng() % 4);
      for (int d = 0; d < depth; ++d) name += (d ? "." : "") + parts[rng() % parts.size()];
      if (std::find(modules.begin(), modules.end(), name) == modules.end()) modules.push_back(name);
    }
    load_names(modules);
  }
}
