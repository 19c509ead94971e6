// Breadth: every real transformers module tree here (the corpus's real trees, and the trees
// awqmap.describe wrote of the real models the corpus has none of) resolves in exact mode to at
// least one group, except the architectures listed below, each with the reason no exact group
// exists. The list is checked both ways: an architecture that starts resolving leaves it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>

#include "awqmap/error.hpp"
#include "group_check.hpp"

using namespace awqmap;

namespace {

// Architectures with no exact group in exact mode, and why.
const std::map<std::string, std::string> without_groups = {
    {"GPT2LMHeadModel", "every projection is a Conv1D, not a Linear (the default targets); post-norm blocks"},
    {"OpenAIGPTLMHeadModel", "every projection is a Conv1D, not a Linear; post-norm blocks"},
    {"XLNetLMHeadModel", "post-norm blocks, q/k/v/o are bare parameters, the FFN crosses GELU"},
    {"NanoChatForCausalLM",
     "weightless norms and a squared-ReLU MLP leave only v -> o, skipped under this tree's grouped-query attention"},
};

struct Tree {
  std::string architecture;
  std::filesystem::path file;
};

std::vector<Tree> every_real_tree() {
  std::vector<Tree> out;
  const std::string real = ".real-tree";
  for (const auto& name : test::model_names(test::corpus_dir()))
    if (name.size() > real.size() && name.compare(name.size() - real.size(), real.size(), real) == 0)
      out.push_back({name.substr(0, name.size() - real.size()), test::corpus_dir() / (name + ".model.json")});
  for (const auto& name : test::model_names(test::described_dir()))
    out.push_back({name, test::described_dir() / (name + ".model.json")});
  std::sort(out.begin(), out.end(), [](const Tree& a, const Tree& b) { return a.architecture < b.architecture; });
  return out;
}

}  // namespace

TEST_CASE("Every real transformers tree resolves to groups in exact mode unless listed with its reason") {
  const auto trees = every_real_tree();
  REQUIRE(trees.size() > 200);
  std::size_t with_groups = 0;
  for (const auto& t : trees) {
    INFO(t.architecture << " (" << t.file.string() << ")");
    std::string outcome;
    try {
      ModelView model = load_model_description(t.file.string());
      Resolution r = test::resolve_exact(model);
      outcome = r.resolved.empty() ? "no group" : "";
    } catch (const Error& e) {
      outcome = e.what();
    }
    const bool listed = without_groups.count(t.architecture) > 0;
    INFO("outcome: " << (outcome.empty() ? "groups" : outcome));
    CHECK(outcome.empty() != listed);
    if (outcome.empty()) ++with_groups;
  }
  INFO(with_groups << " of " << trees.size() << " trees resolve to groups");
  CHECK(with_groups + without_groups.size() == trees.size());
}
