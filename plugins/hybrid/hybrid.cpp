// Hybrid, state-space and linear-attention models: Mamba and Mamba-2 stacks, attention/Mamba
// hybrids, short-convolution and linear-attention hybrids. One norm name feeds a different mixer
// in different layers (attention q/k/v in some, `in_proj` of a Mamba or convolution mixer in
// others, a MoE block in others), so most groups use one alternation target that lets every
// layer close its own group; where a norm must be paired only in some layers, a builder scopes
// it by the layer indices found in the model. A mixer's own projections after a convolution,
// an SSM scan or a gated norm are never balanced: only a norm (or a linear layer) whose output
// reaches nothing but the balanced layers forms a group.
#include <awqmap/plugin.hpp>
#include <awqmap/toolkit.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using awqmap::BuildResult;
using awqmap::MappingList;
using awqmap::plugin::Model;
using awqmap::Origin;

namespace {

// Mamba (and Mamba-2): each block is `norm -> mixer`, and the mixer reads its input only
// through `in_proj`; everything after it passes a convolution, the scan or a gated norm.
const MappingList mamba_mappings = {
    {"re:.*layers\\.\\d+\\.norm$", {"re:.*layers\\.\\d+\\.mixer\\.in_proj$"}},
};

// FalconMamba: the peer's list unchanged (same shape as Mamba; the extra b/c/dt norms sit
// after x_proj, which reads the convolution output).
const MappingList falcon_mamba_mappings = {
    {"re:.*layers.[0-9]+.norm$", {"re:.*mixer.in_proj$"}},
};

// Falcon-H1: attention and Mamba run in parallel from `input_layernorm` (one group with both);
// the MLP reads `pre_ff_layernorm`. The peer's list unchanged.
const MappingList falcon_h1_mappings = {
    {"re:.*input_layernorm$",
     {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$", "re:.*mamba.in_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*pre_ff_layernorm$", {"re:.*feed_forward.gate_proj$", "re:.*feed_forward.up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// Granite 4.0-H: Mamba or attention layers under one `input_layernorm` (one alternation
// target); `post_attention_layernorm` feeds the router, the experts and the shared MLP, so all
// of them are one group (the peer leaves it out); the shared MLP's `input_linear` is fused
// [gate; up], whose last half (the linear part) is what smoothing scales.
const MappingList granite_moe_hybrid_mappings = {
    {"re:.*input_layernorm$", {"re:.*(mamba\\.in_proj|self_attn\\.(q|k|v)_proj)$"}},
    {"re:.*self_attn\\.v_proj$", {"re:.*self_attn\\.o_proj$"}},
    {"re:.*post_attention_layernorm$",
     {"re:.*(block_sparse_moe\\.router|block_sparse_moe\\.experts\\.\\d+\\.(gate|up)_proj|shared_mlp\\.input_linear)"
      "$"}},
    {"re:.*block_sparse_moe\\.experts\\.\\d+\\.up_proj$", {"re:.*block_sparse_moe\\.experts\\.\\d+\\.down_proj$"}},
    {"re:.*shared_mlp\\.input_linear$", {"re:.*shared_mlp\\.output_linear$"}},
};

// Zamba2: Mamba layers and hybrid layers whose `mamba_decoder` has its own input norm; the
// shared transformer block (one module reused at several depths, reading a concatenation
// through per-depth adapters) is left out. The peer's list unchanged.
const MappingList zamba2_mappings = {
    {"re:.*(layers.[0-9]+|mamba_decoder).input_layernorm$", {"re:.*mamba.in_proj$"}},
};

// LFM2: short-convolution and attention layers share `operator_norm` (one alternation target);
// the attention output projection is `out_proj`, the MLP is w1 (gate), w3 (up), w2 (down).
// The peer's list unchanged.
const MappingList lfm2_mappings = {
    {"re:.*operator_norm$", {"re:.*(conv.in_proj|self_attn.q_proj|self_attn.k_proj|self_attn.v_proj)$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.out_proj$"}},
    {"re:.*ffn_norm$", {"re:.*feed_forward.w1$", "re:.*feed_forward.w3$"}},
    {"re:.*feed_forward.w3$", {"re:.*feed_forward.w2$"}},
};

// MiniMax-Text-01: the residual is taken after each norm (`residual = input_layernorm(x)`), so
// neither layer norm can be smoothed. Lightning-attention layers apply SiLU to `qkv_proj`, then
// `self_attn.norm`, whose output is only multiplied channel-wise by sigmoid(output_gate(x))
// before `out_proj`: that pair is exact. Softmax attention keeps v -> o (skipped where GQA
// makes the widths differ) and the experts their gated up -> down.
const MappingList minimax_mappings = {
    {"re:.*self_attn\\.norm$", {"re:.*self_attn\\.out_proj$"}},
    {"re:.*self_attn\\.v_proj$", {"re:.*self_attn\\.o_proj$"}},
    {"re:.*mlp\\.experts\\.\\d+\\.up_proj$", {"re:.*mlp\\.experts\\.\\d+\\.down_proj$"}},
};

// Bamba: Mamba-2 or attention layers under one `input_layernorm` (the mixer reads it only
// through `in_proj`; one alternation target closes either kind), a gated MLP behind
// `pre_ff_layernorm`.
const MappingList bamba_mappings = {
    {"re:.*input_layernorm$", {"re:.*(mamba\\.in_proj|self_attn\\.(q|k|v)_proj)$"}},
    {"re:.*self_attn\\.v_proj$", {"re:.*self_attn\\.o_proj$"}},
    {"re:.*pre_ff_layernorm$", {"re:.*feed_forward\\.(gate_proj|up_proj)$"}},
    {"re:.*feed_forward\\.up_proj$", {"re:.*feed_forward\\.down_proj$"}},
};

// Jamba: Mamba or attention layers under `input_layernorm` (Mamba reads it through `in_proj`
// only); `pre_ff_layernorm` feeds a gated MLP in some layers and the router with the experts in
// the others (expert_layer_period), so one alternation target holds either kind.
const MappingList jamba_mappings = {
    {"re:.*input_layernorm$", {"re:.*(mamba\\.in_proj|self_attn\\.(q|k|v)_proj)$"}},
    {"re:.*self_attn\\.v_proj$", {"re:.*self_attn\\.o_proj$"}},
    {"re:.*pre_ff_layernorm$",
     {"re:.*feed_forward\\.(gate_proj|up_proj|router|experts\\.\\d+\\.gate_proj|experts\\.\\d+\\.up_proj)$"}},
    {"re:.*feed_forward\\.(experts\\.\\d+\\.)?up_proj$", {"re:.*feed_forward\\.(experts\\.\\d+\\.)?down_proj$"}},
};

// Zamba: Mamba layers and hybrid layers whose `mamba_decoder` has its own input norm feeding
// only its mixer's `in_proj`. The shared transformer block is one module reused at several
// depths (its norm reads a concatenation with the embeddings), so smoothing it once per depth
// would compound: it is left out.
const MappingList zamba_mappings = {
    {"re:.*(layers\\.\\d+|mamba_decoder)\\.input_layernorm$", {"re:.*(layers\\.\\d+|mamba_decoder)\\.mamba\\.in_proj$"}},
};

// HRM-Text: the norms have no weight, so nothing but the linear-to-linear groups remain; the
// attention output gate is channel-wise, so v -> o stays exact. The peer's list unchanged.
const MappingList hrm_text_mappings = {
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*mlp.up_proj$", {"re:.*mlp.down_proj$"}},
};

// Brumby (power retention, remote code): the input norm also feeds the gate `g_proj`; v -> o is
// left out (retention state and gating between). The peer's list unchanged.
const MappingList brumby_mappings = {
    {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$", "re:.*self_attn.g_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// RecurrentGemma: `temporal_pre_norm` feeds the recurrent block's two branches (linear_x,
// linear_y) or the attention q/k/v (one alternation target); `channel_pre_norm` feeds the
// gated MLP.
const MappingList recurrent_gemma_mappings = {
    {"re:.*temporal_pre_norm$", {"re:.*temporal_block\\.(linear_x|linear_y|q_proj|k_proj|v_proj)$"}},
    {"re:.*temporal_block\\.v_proj$", {"re:.*temporal_block\\.o_proj$"}},
    {"re:.*channel_pre_norm$", {"re:.*mlp_block\\.gate_proj$", "re:.*mlp_block\\.up_proj$"}},
    {"re:.*mlp_block\\.up_proj$", {"re:.*mlp_block\\.down_proj$"}},
};

// Qwen4-Exp: Gated DeltaNet and sparse (indexer-selected) attention layers, a MoE block in every
// layer, and hyper-connections instead of input/post-attention norms: each mixer and MoE block
// reads a data-dependent mix of every residual stream's `hc_norm` output, so no norm feeds them
// channel-wise and no norm group exists. What stays exact: each expert's and the shared expert's
// up -> down under SwiGLU (routing weights and the shared expert's sigmoid gate scale only
// down's output), and v -> o in sparse-attention layers, whose output is a per-head mix of v
// times a sigmoid gate from q_proj (skipped as incompatible under grouped-query attention). The
// DeltaNet out_proj reads a gated norm whose weight is per head dimension, shared across heads,
// and the hyper-connection mixers cross SiLU and sigmoids: both left out. `scope` is a pattern
// prefix ending at a decoder layer (`...layers.<i>.`), which keeps a vision tower out.
MappingList qwen4_exp_mappings(const std::string& scope) {
  const std::string mlp = scope + "mlp\\.(experts\\.\\d+|shared_expert)\\.";
  return {
      {scope + "self_attn\\.v_proj$", {scope + "self_attn\\.o_proj$"}},
      {mlp + "up_proj$", {mlp + "down_proj$"}},
  };
}

/// Whether some module's dotted name ends with `suffix` (a whole-component suffix).
bool has_module(const Model& model, std::string_view suffix, bool linear_only = false) {
  return std::any_of(model.modules().begin(), model.modules().end(), [&](const awqmap::plugin::Module& m) {
    if (m.name.size() < suffix.size() || m.name.substr(m.name.size() - suffix.size()) != suffix) return false;
    if (m.name.size() > suffix.size() && m.name[m.name.size() - suffix.size() - 1] != '.') return false;
    return !linear_only || m.is_linear();
  });
}

/// Indices i of the modules named `...layers.<i>.<child>...` (whole name components).
std::vector<std::size_t> layers_with(const Model& model, std::string_view child) {
  std::set<std::size_t> found;
  for (const auto& m : model.modules()) {
    std::string_view name = m.name;
    std::size_t pos = 0;
    while ((pos = name.find("layers.", pos)) != std::string_view::npos) {
      bool at_component = pos == 0 || name[pos - 1] == '.';
      std::size_t digits = pos + 7, end = digits;
      while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
      pos = digits;
      if (!at_component || end == digits || end - digits > 9 || end >= name.size() || name[end] != '.') continue;
      std::string_view rest = name.substr(end + 1);
      if (rest.substr(0, child.size()) != child || (rest.size() > child.size() && rest[child.size()] != '.')) continue;
      found.insert(std::stoul(std::string(name.substr(digits, end - digits))));
      break;
    }
  }
  return {found.begin(), found.end()};
}

// NemotronH: one `norm` per block and one mixer (Mamba-2, attention, ReLU² MLP or MoE), so a
// single alternation target covers every kind. The MoE's router `gate` and shared experts read
// the norm beside the experts (the peer leaves the router out); with a latent MoE the experts
// read `fc1_latent_proj` instead, which then smooths them. No up -> down: ReLU² is not
// scale-equivariant.
BuildResult build_nemotron_h(const Model& model) {
  if (layers_with(model, "norm").empty()) return BuildResult::decline("no module named layers.<i>.norm");
  bool latent = has_module(model, "mixer.fc1_latent_proj", true);
  std::string experts = latent ? "fc1_latent_proj" : "experts\\.\\d+\\.up_proj";
  MappingList m = {
      {"re:.*layers\\.\\d+\\.norm$",
       {"re:.*layers\\.\\d+\\.mixer\\.(in_proj|q_proj|k_proj|v_proj|up_proj|gate|shared_experts\\.up_proj|" + experts +
        ")$"}},
      {"re:.*mixer\\.v_proj$", {"re:.*mixer\\.o_proj$"}},
  };
  if (latent) m.push_back({"re:.*mixer\\.fc1_latent_proj$", {"re:.*mixer\\.experts\\.\\d+\\.up_proj$"}});
  return BuildResult::use(std::move(m));
}

// Hymba (remote code): attention and SSM heads both sit inside the `mamba` mixer, reached only
// through `in_proj`; the MLP reads `pre_moe_layernorm` (the peer's `post_attention_layernorm`
// does not exist), with a router only when there is more than one expert. up -> down only when
// the experts are gated (their `gate_proj` exists only with SiLU).
BuildResult build_hymba(const Model& model) {
  if (!has_module(model, "input_layernorm") && !has_module(model, "pre_moe_layernorm"))
    return BuildResult::decline("no input_layernorm or pre_moe_layernorm module");
  MappingList m = {
      {"re:.*input_layernorm$", {"re:.*mamba\\.in_proj$"}},
      {"re:.*pre_moe_layernorm$", {"re:.*moe\\.(router|experts\\.\\d+\\.gate_proj|experts\\.\\d+\\.up_proj)$"}},
  };
  bool gated = std::any_of(model.modules().begin(), model.modules().end(), [](const awqmap::plugin::Module& x) {
    return x.name.find("moe.experts.") != std::string_view::npos && x.name.size() >= 10 &&
           x.name.substr(x.name.size() - 10) == ".gate_proj";
  });
  if (gated) m.push_back({"re:.*moe\\.experts\\.\\d+\\.up_proj$", {"re:.*moe\\.experts\\.\\d+\\.down_proj$"}});
  return BuildResult::use(std::move(m));
}

// Kimi Linear: KDA layers feed q/k/v, the low-rank forget gate (`f_a_proj`), beta (`b_proj`)
// and the low-rank output gate (`g_a_proj`) from `input_layernorm`; MLA layers feed q (or q_a),
// kv_a and an optional output gate. The low-rank pairs (f_a -> f_b, g_a -> g_b) have nothing
// between them. Dense and MoE layers share `post_attention_layernorm`; one alternation target
// holds the dense MLP, or the router, the experts and the shared expert. v -> o is left out in
// both kinds (a convolution on v in KDA, kv_b in MLA). The SiTU activation squashes `up_proj`,
// so up -> down only with a plain gated MLP.
BuildResult build_kimi_linear(const Model& model) {
  if (!has_module(model, "input_layernorm")) return BuildResult::decline("no input_layernorm module");
  MappingList m = {
      {"re:.*input_layernorm$",
       {"re:.*self_attn\\.(q_proj|k_proj|v_proj|forget_gate\\.f_a_proj|b_proj|g_a_proj|g_proj|q_a_proj|"
        "kv_a_proj_with_mqa|o_gate_proj)$"}},
      {"re:.*self_attn\\.forget_gate\\.f_a_proj$", {"re:.*self_attn\\.forget_gate\\.f_b_proj$"}},
      {"re:.*self_attn\\.g_a_proj$", {"re:.*self_attn\\.g_b_proj$"}},
      {"re:.*q_a_layernorm$", {"re:.*q_b_proj$"}},
      {"re:.*kv_a_layernorm$", {"re:.*kv_b_proj$"}},
      {"re:.*post_attention_layernorm$",
       {"re:.*mlp\\.(gate|gate_proj|up_proj|experts\\.\\d+\\.(gate|up)_proj|shared_experts\\.(gate|up)_proj)$"}},
  };
  const auto act = awqmap::toolkit::config_field(model, "hidden_act");
  bool situ = act && act->is_string() && act->get<std::string>() == "situ";
  if (!situ) m.push_back({"re:.*mlp\\..*up_proj$", {"re:.*mlp\\..*down_proj$"}});
  return BuildResult::use(std::move(m));
}

// OLMo Hybrid: Gated DeltaNet layers are pre-norm (`input_layernorm` feeds q/k/v/a/b/g,
// `post_attention_layernorm` the MLP), while attention layers are OLMo-2 post-norm blocks whose
// `post_attention_layernorm` feeds the residual stream. The MLP group is scoped to the linear
// layers (found by their `linear_attn` module); v -> o and up -> down hold in attention layers
// (q/k norms touch only q and k).
BuildResult build_olmo_hybrid(const Model& model) {
  std::vector<std::size_t> linear = layers_with(model, "linear_attn");
  if (linear.empty() && layers_with(model, "self_attn").empty())
    return BuildResult::decline("no module under layers.<i>.linear_attn or layers.<i>.self_attn");
  MappingList m = {
      {"re:.*layers\\.\\d+\\.input_layernorm$", {"re:.*linear_attn\\.(q_proj|k_proj|v_proj|a_proj|b_proj|g_proj)$"}},
      {"re:.*self_attn\\.v_proj$", {"re:.*self_attn\\.o_proj$"}},
  };
  if (!linear.empty()) {
    std::string scope = "re:.*layers\\.(" + awqmap::toolkit::index_alternation(linear) + ")\\.";
    m.push_back({scope + "post_attention_layernorm$", {scope + "mlp\\.gate_proj$", scope + "mlp\\.up_proj$"}});
  }
  m.push_back({"re:.*mlp\\.up_proj$", {"re:.*mlp\\.down_proj$"}});
  return BuildResult::use(std::move(m));
}

void register_hybrid(awqmap::Registrar& r) {
  const char* const gptqmodel = "GPTQModel gptqmodel/models/definitions/";
  auto peer = [&](const char* file) { return awqmap::Provenance{Origin::peer, std::string(gptqmodel) + file}; };
  auto analysis = [](const char* model) {
    return awqmap::Provenance{Origin::analysis, std::string("transformers models/") + model};
  };

  r.add_static("MambaForCausalLM", mamba_mappings, analysis("mamba/modeling_mamba.py"));
  r.add_static("Mamba2ForCausalLM", mamba_mappings, analysis("mamba2/modeling_mamba2.py"));
  r.add_static("FalconMambaForCausalLM", falcon_mamba_mappings, peer("falcon_mamba.py"));
  r.add_static("FalconH1ForCausalLM", falcon_h1_mappings, peer("falcon_h1.py"));
  r.add_static("GraniteMoeHybridForCausalLM", granite_moe_hybrid_mappings,
               analysis("granitemoehybrid/modular_granitemoehybrid.py"));
  r.add_static("Zamba2ForCausalLM", zamba2_mappings, peer("zamba2.py"));
  r.add_static("ZambaForCausalLM", zamba_mappings, analysis("zamba/modeling_zamba.py"));
  r.add_static("BambaForCausalLM", bamba_mappings, analysis("bamba/modular_bamba.py"));
  r.add_static("JambaForCausalLM", jamba_mappings, analysis("jamba/modeling_jamba.py"));
  r.add_static("Lfm2ForCausalLM", lfm2_mappings, peer("lfm2.py"));
  r.add_static("MiniMaxForCausalLM", minimax_mappings, analysis("minimax/modular_minimax.py"));
  r.add_static("HrmTextForCausalLM", hrm_text_mappings, peer("hrm_text.py"));
  r.add_static("BrumbyForCausalLM", brumby_mappings, peer("brumby.py"));
  r.add_static("RecurrentGemmaForCausalLM", recurrent_gemma_mappings,
               analysis("recurrent_gemma/modeling_recurrent_gemma.py"));
  // Qwen4-Exp's vision-language model keeps its decoder under `language_model`.
  const awqmap::Provenance qwen4_exp = analysis("qwen4_exp/modeling_qwen4_exp.py");
  r.add_static("Qwen4ExpForCausalLM", qwen4_exp_mappings("re:.*layers\\.\\d+\\."), qwen4_exp);
  r.add_static("Qwen4ExpForConditionalGeneration", qwen4_exp_mappings("re:.*language_model\\.layers\\.\\d+\\."),
               qwen4_exp);
  r.add_dynamic("NemotronHForCausalLM", "nemotron_h", build_nemotron_h, analysis("nemotron_h/modular_nemotron_h.py"));
  r.add_dynamic("HymbaForCausalLM", "hymba", build_hymba,
                {Origin::analysis, "nvidia/Hymba-1.5B-Base modeling_hymba.py (remote code)"});
  r.add_dynamic("KimiLinearForCausalLM", "kimi_linear", build_kimi_linear,
                analysis("kimi_linear/modular_kimi_linear.py"));
  r.add_dynamic("OlmoHybridForCausalLM", "olmo_hybrid", build_olmo_hybrid,
                analysis("olmo_hybrid/modular_olmo_hybrid.py"));
}

}  // namespace

AWQMAP_PLUGIN("hybrid", "0.1.0", register_hybrid)
