// Step3p5 mixes dense MLP layers (`mlp`) and MoE layers (`moe` + `share_expert`); each kind
// needs its own post-attention mapping scoped to its layer indices (docs/semantics.md §4.2).
#include <awqmap/plugin.hpp>
#include <awqmap/toolkit.hpp>

#include <algorithm>
#include <set>

namespace {

// Equivalent to re.search(r"(?:^|\.)layers\.(\d+)\.(mlp|moe|share_expert)(?:\.|$)", name):
// the first `layers.<digits>.<kind>` run of whole name components.
void classify(std::string_view name, std::set<std::size_t>& dense, std::set<std::size_t>& moe) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  for (std::size_t i = 0; i + 2 < parts.size(); ++i) {
    std::string_view index = parts[i + 1], kind = parts[i + 2];
    if (parts[i] != "layers" || index.empty() || index.size() > 9 ||
        !std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    if (kind != "mlp" && kind != "moe" && kind != "share_expert") continue;
    (kind == "mlp" ? dense : moe).insert(std::stoul(std::string(index)));
    return;
  }
}

awqmap::BuildResult build_step3p5(const awqmap::plugin::Model& model) {
  using awqmap::toolkit::index_alternation;
  std::set<std::size_t> dense, moe;
  for (const auto& m : model.modules()) classify(m.name, dense, moe);
  if (dense.empty() && moe.empty())
    return awqmap::BuildResult::decline("no module under layers.<i>.mlp, .moe or .share_expert");
  awqmap::MappingList m;
  m.push_back(
      {"re:.*input_layernorm$",
       {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$", "re:.*self_attn.g_proj$"}});
  m.push_back({"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$"}});
  if (!dense.empty())
    m.push_back({"re:.*layers\\.(" + index_alternation({dense.begin(), dense.end()}) + ")\\.post_attention_layernorm$",
                 {"re:.*mlp.gate_proj$", "re:.*mlp.up_proj$"}});
  if (!moe.empty())
    m.push_back({"re:.*layers\\.(" + index_alternation({moe.begin(), moe.end()}) + ")\\.post_attention_layernorm$",
                 {"re:.*moe.gate$", "re:.*moe.gate_proj$", "re:.*moe.up_proj$", "re:.*share_expert.gate_proj$",
                  "re:.*share_expert.up_proj$"}});
  m.push_back({"re:.*(mlp|share_expert).up_proj$", {"re:.*(mlp|share_expert).down_proj$"}});
  return awqmap::BuildResult::use(std::move(m));
}

void register_step3p5(awqmap::Registrar& r) {
  r.add_dynamic("Step3p5ForCausalLM", "step3p5", build_step3p5,
                {awqmap::Origin::upstream, "llm-compressor modifiers/awq/mappings.py (dynamic builder)"});
}

}  // namespace

AWQMAP_PLUGIN("step3p5", "0.1.0", register_step3p5)
