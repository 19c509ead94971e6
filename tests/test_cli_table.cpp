#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <tuple>

#include "awqmap/resolve.hpp"
#include "support.hpp"

using namespace awqmap::test;

// The resolve table reads back into the groups it stands for: each folded line expands, by its
// index sets, into lines of the --full listing, and each --full line into the JSON's group.
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Group lines (before "skipped:") and skipped-group lines (after it) of a resolve table.
struct TableLines {
  std::vector<std::string> groups, skipped;
};
TableLines table_lines(const std::string& text) {
  TableLines t;
  bool in_skipped = false;
  for (const auto& line : lines_of(text)) {
    if (line.rfind("skipped:", 0) == 0) in_skipped = true;
    if (line.rfind("[", 0) == 0) (in_skipped ? t.skipped : t.groups).push_back(line);
  }
  return t;
}

// `{0-2,5}` -> 0 1 2 5.
std::vector<std::string> index_values(const std::string& set) {
  std::vector<std::string> out;
  std::istringstream in(set.substr(1, set.size() - 2));
  for (std::string part; std::getline(in, part, ',');) {
    const auto dash = part.find('-');
    REQUIRE(!part.empty());
    if (dash == std::string::npos) {
      out.push_back(part);
      continue;
    }
    const std::uint64_t first = std::stoull(part.substr(0, dash)), last = std::stoull(part.substr(dash + 1));
    REQUIRE(first < last);
    for (auto v = first; v <= last; ++v) out.push_back(std::to_string(v));
  }
  return out;
}

// Every name `pattern` stands for: the product of its index sets, in order.
std::vector<std::string> expand(const std::string& pattern) {
  const auto open = pattern.find('{');
  if (open == std::string::npos) return {pattern};
  const auto close = pattern.find('}', open);
  REQUIRE(close != std::string::npos);
  std::vector<std::string> out;
  for (const auto& v : index_values(pattern.substr(open, close - open + 1)))
    for (const auto& rest : expand(pattern.substr(close + 1))) out.push_back(pattern.substr(0, open) + v + rest);
  return out;
}

// "[3] model.layers.{0-1}.up_proj -> ...down_proj  (2 groups)" -> the two lines of --full. A
// name elsewhere in the line that starts like the smooth layer shares its indices.
std::vector<std::string> unfold(std::string line) {
  std::size_t count = 1;
  if (line.size() > 8 && line.compare(line.size() - 8, 8, " groups)") == 0) {
    const auto open = line.rfind("  (");
    count = std::stoul(line.substr(open + 3));
    line.erase(open);
  }
  const auto start = line.find("] ") + 2, arrow = line.find(" -> ");
  REQUIRE(arrow != std::string::npos);
  const std::string smooth = line.substr(start, arrow - start);
  std::vector<std::string> prefixes;  // the smooth layer's name up to each of its index sets
  for (auto close = smooth.find('}'); close != std::string::npos; close = smooth.find('}', close + 1))
    prefixes.push_back(smooth.substr(0, close + 1));
  std::vector<std::string> out;
  for (const auto& concrete : expand(smooth)) {
    std::string text = line;
    // Longest prefix first: a name that shares all of the smooth layer's indices also starts
    // with each shorter prefix.
    for (auto p = prefixes.rbegin(); p != prefixes.rend(); ++p) {
      const auto components = std::count(p->begin(), p->end(), '.') + 1;
      std::size_t end = 0;
      for (long i = 0; i < components; ++i) end = concrete.find('.', end + (i ? 1 : 0));
      const std::string concrete_prefix = concrete.substr(0, end);
      for (auto at = text.find(*p); at != std::string::npos; at = text.find(*p, at + concrete_prefix.size()))
        text.replace(at, p->size(), concrete_prefix);
    }
    out.push_back(text);
  }
  CHECK(out.size() == count);
  return out;
}

std::string parent_of(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? "" : name.substr(0, dot);
}

// A name as a line of --full writes it: "..." is the smooth layer's parent.
std::vector<std::string> names_in_line(const std::string& written, const std::string& smooth) {
  if (written == "<root>") return {""};
  if (written.rfind("...", 0) == 0) return expand(parent_of(smooth) + "." + written.substr(3));
  return expand(written);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t pos = 0;;) {
    const auto comma = text.find(", ", pos);
    out.push_back(text.substr(pos, comma - pos));
    if (comma == std::string::npos) return out;
    pos = comma + 2;
  }
}

struct Group {
  std::size_t mapping;
  std::string smooth;
  std::vector<std::string> balances;  // sorted
  std::string parent;
  std::string hook;  // "" when none
  bool operator<(const Group& o) const {
    return std::tie(mapping, smooth, balances, parent, hook) < std::tie(o.mapping, o.smooth, o.balances, o.parent, o.hook);
  }
  bool operator==(const Group& o) const {
    return std::tie(mapping, smooth, balances, parent, hook) == std::tie(o.mapping, o.smooth, o.balances, o.parent, o.hook);
  }
};

// A line of --full as the group it names; `skipped` lines end in ": reason ...", and their
// parent is left empty.
Group group_of(const std::string& line, bool skipped) {
  Group g;
  g.mapping = std::stoul(line.substr(1));
  const auto start = line.find("] ") + 2, arrow = line.find(" -> ");
  g.smooth = line.substr(start, arrow - start);
  std::string rest = line.substr(arrow + 4);
  std::string parent;
  if (skipped) {
    rest.erase(rest.find(": "));
  } else {
    if (auto hook = rest.find("  hook "); hook != std::string::npos) {
      g.hook = rest.substr(hook + 7);
      rest.erase(hook);
    }
    if (auto p = rest.find("  (parent "); p != std::string::npos) {
      parent = rest.substr(p + 10, rest.size() - p - 11);
      rest.erase(p);
    }
  }
  if (rest != "(none)")
    for (const auto& b : split_list(rest))
      for (const auto& name : names_in_line(b, g.smooth)) g.balances.push_back(name);
  if (!skipped) {
    std::vector<std::string_view> views(g.balances.begin(), g.balances.end());
    g.parent = parent.empty() ? std::string(awqmap::lowest_common_ancestor(views)) : names_in_line(parent, g.smooth).at(0);
    if (!g.hook.empty()) g.hook = names_in_line(g.hook, g.smooth).at(0);
  }
  std::sort(g.balances.begin(), g.balances.end());
  return g;
}

std::multiset<std::string> unfolded(const std::vector<std::string>& lines) {
  std::multiset<std::string> out;
  for (const auto& line : lines)
    for (auto& l : unfold(line)) out.insert(std::move(l));
  return out;
}

// Checks that the folded table, the --full table and the JSON of `model` say the same; returns
// how many lines the folded table has.
std::size_t check_table_against_json(const std::string& model, const std::string& flags = "") {
  INFO(model << " " << flags);
  const auto folded = run_cli("resolve " + model + " " + flags);
  const auto full = run_cli("resolve " + model + " --full " + flags);
  const auto json = run_cli("resolve " + model + " --format json " + flags);
  REQUIRE(folded.exit_code == json.exit_code);
  if (json.exit_code != 0) return 0;
  REQUIRE(full.exit_code == 0);
  const auto j = nlohmann::json::parse(json.out);
  const TableLines f = table_lines(folded.out), g = table_lines(full.out);
  CHECK(g.groups.size() == j["resolved"].size());
  CHECK(g.skipped.size() == j["skipped"].size());
  CHECK(unfolded(f.groups) == std::multiset<std::string>(g.groups.begin(), g.groups.end()));
  CHECK(unfolded(f.skipped) == std::multiset<std::string>(g.skipped.begin(), g.skipped.end()));

  // Compare resolved groups exactly and skipped groups by mapping and smooth layer.
  std::multiset<Group> table_resolved, json_resolved;
  for (const auto& line : g.groups) table_resolved.insert(group_of(line, false));
  for (const auto& r : j["resolved"]) {
    Group e{r["mapping"].get<std::size_t>(), r["smooth_name"].get<std::string>(),
            r["balance_names"].get<std::vector<std::string>>(), r["parent_name"].get<std::string>(),
            r["activation_hook_target"].is_null() ? "" : r["activation_hook_target"].get<std::string>()};
    std::sort(e.balances.begin(), e.balances.end());
    json_resolved.insert(e);
  }
  CHECK(table_resolved == json_resolved);
  std::multiset<std::pair<std::size_t, std::string>> table_skipped, json_skipped;
  for (const auto& line : g.skipped) {
    Group e = group_of(line, true);
    table_skipped.insert({e.mapping, e.smooth});
  }
  for (const auto& s : j["skipped"]) json_skipped.insert({s["mapping"].get<std::size_t>(), s["smooth_name"].get<std::string>()});
  CHECK(table_skipped == json_skipped);
  return lines_of(folded.out).size();
}

}  // namespace

TEST_CASE("the folded table of an 80B-shaped Qwen3-Next fits on a screen and expands to every group") {
  TempDir dir;
  const auto model = dir.path / "qwen3-next-80b.model.json";
  const std::string make = std::string(AWQMAP_PYTHON) + " " + quote(std::string(AWQMAP_SOURCE_DIR) + "/tools/make_qwen3_next.py") +
                           " " + quote(model.string()) + " --layers 48 --experts 512 --hidden 2048";
  REQUIRE(std::system(make.c_str()) == 0);
  const auto table = run_cli("resolve " + quote(model.string()));
  REQUIRE(table.exit_code == 0);
  const auto lines = lines_of(table.out);
  INFO(table.out);
  CHECK(lines.size() < 60);
  // 48 layers of 512 experts: one line for all their up_proj -> down_proj groups.
  CHECK(std::count(lines.begin(), lines.end(),
                   "[3] model.layers.{0-47}.mlp.experts.{0-511}.up_proj -> ...down_proj  (24576 groups)") == 1);
  CHECK(check_table_against_json(quote(model.string())) == lines.size());
}

TEST_CASE("every corpus model's folded table and full table hold exactly the groups of its JSON") {
  std::size_t checked = 0, folded_lines = 0, groups = 0;
  for (const auto& name : corpus_cases()) {
    const std::string model = quote((corpus_dir() / (name + ".model.json")).string());
    const std::size_t n = check_table_against_json(model);
    checked += n > 0;
    folded_lines += n;
    if (n) groups += nlohmann::json::parse(run_cli("resolve " + model + " --format json").out)["resolved"].size();
  }
  CHECK(checked > 50);
  CHECK(folded_lines < groups);  // folding shortens the corpus as a whole
  // Repaired mappings fold like any other.
  CHECK(check_table_against_json(quote((corpus_dir() / "DeepseekV3ForCausalLM.tiny.model.json").string()),
                                 "--upstream --repair") > 0);
}

TEST_CASE("the table names the parent only when it is not the common ancestor of the balance layers") {
  TempDir dir;
  const auto model = dir.path / "qwen3-next.model.json";
  const std::string make = std::string(AWQMAP_PYTHON) + " " +
                           quote(std::string(AWQMAP_SOURCE_DIR) + "/tools/make_qwen3_next.py") + " " + quote(model.string());
  REQUIRE(std::system(make.c_str()) == 0);
  // Experts alone: their common ancestor is the experts ModuleList, so upstream's parent is the
  // mlp above it. A shared-expert group balances the shared_expert_gate, outside the smooth
  // layer's parent: it is written in full and shares the smooth layer's layer index.
  const auto mappings = dir.write("mappings.json", R"([
    {"smooth_layer": "re:.*post_attention_layernorm$",
     "balance_layers": ["re:.*mlp.experts.*.gate_proj$", "re:.*mlp.experts.*.up_proj$"], "activation_hook_target": "gate"},
    {"smooth_layer": "re:.*shared_expert.up_proj$",
     "balance_layers": ["re:.*shared_expert.down_proj$", "re:.*shared_expert_gate$"]}])");
  const std::string args = quote(model.string()) + " --mappings " + quote(mappings.string());
  const auto table = run_cli("resolve " + args);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("[0] model.layers.{0-7}.post_attention_layernorm -> ...mlp.experts.{0-3}.gate_proj, "
                       "...mlp.experts.{0-3}.up_proj  (parent ...mlp)  hook ...mlp.gate  (8 groups)\n") != std::string::npos);
  CHECK(table.out.find("[1] model.layers.{0-7}.mlp.shared_expert.up_proj -> ...down_proj, "
                       "model.layers.{0-7}.mlp.shared_expert_gate  (8 groups)\n") != std::string::npos);
  check_table_against_json(args);
}

TEST_CASE("skipped groups fold with their reason and the shapes that disagree, in the table and the JSON") {
  const std::string model = quote((corpus_dir() / "LlamaForCausalLM.tiny.model.json").string());
  const auto table = run_cli("resolve " + model);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("skipped: incompatible 4") != std::string::npos);
  const auto json = nlohmann::json::parse(run_cli("resolve " + model + " --format json").out);
  REQUIRE(json["skipped"].size() == 4);
  const auto& s = json["skipped"][0];
  const auto& shapes = s["shapes"];
  CHECK(shapes["smooth_layer"]["name"] == s["smooth_name"]);
  const auto out = shapes["smooth_layer"]["out_features"].get<std::int64_t>();
  REQUIRE(shapes["balance_layers"].size() == 1);
  const auto in = shapes["balance_layers"][0]["in_features"].get<std::int64_t>();
  CHECK(out != in);
  CHECK(shapes["rule"] == "out_features == in_features");
  // The same widths, read from the description itself.
  const auto description = read_json(corpus_dir() / "LlamaForCausalLM.tiny.model.json");
  for (const auto& m : description["modules"]) {
    if (m["name"] == s["smooth_name"]) CHECK(m["out_features"] == out);
    if (m["name"] == shapes["balance_layers"][0]["name"]) CHECK(m["in_features"] == in);
  }
  const std::string line = "[1] model.layers.{0-3}.self_attn.v_proj -> ...o_proj: incompatible (out_features " +
                           std::to_string(out) + " != in_features " + std::to_string(in) + " of ...o_proj)  (4 groups)";
  CHECK(table.out.find(line) != std::string::npos);
}

TEST_CASE("full belongs to the resolve table") {
  const std::string model = quote((corpus_dir() / "LlamaForCausalLM.tiny.model.json").string());
  CHECK(run_cli("resolve " + model + " --full --format json").exit_code == 2);
  CHECK(run_cli("mappings " + model + " --full").exit_code == 2);
  CHECK(run_cli("--help").out.find("--full") != std::string::npos);
}
