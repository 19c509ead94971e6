// Llama-like dense decoders and their variants: pre-norm blocks with an attention and a gated
// MLP, under Llama's names or their own. Each list that differs from the default list
// (`input_layernorm -> q/k/v`, `v_proj -> o_proj`, `post_attention_layernorm -> gate/up`,
// `up_proj -> down_proj`) or from the peer's says why, and names where to check it.
#include <awqmap/plugin.hpp>
#include <awqmap/toolkit.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using awqmap::BuildResult;
using awqmap::MappingList;
using awqmap::plugin::Model;
using awqmap::Origin;

namespace {

// Llama's own names and block: the default list, registered for architectures whose modeling
// code (or remote code, for the peers) builds exactly that block.
const MappingList llama_mappings = {
    {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// Arcee and Jais-2: the MLP is `down(relu2(up(x)))` with no gate, so only up_proj reads the
// post-attention norm, and up -> down would cross the squared ReLU (not scale-equivariant).
const MappingList ungated_mlp_mappings = {
    {"re:.*input_layernorm$", {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*mlp.up_proj$"}},
};

// Apertus names its norms attention_layernorm / feedforward_layernorm, and its MLP is
// `down(xielu(up(x)))` with no gate: no up -> down group.
const MappingList apertus_mappings = {
    {"re:.*\\.attention_layernorm$", {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$"}},
    {"re:.*\\.feedforward_layernorm$", {"re:.*mlp.up_proj$"}},
};

// Doge: the dynamic mask reads the value states through dt_proj, so dt_proj is a consumer of
// v_proj next to o_proj.
const MappingList doge_attention_mappings = {
    {"re:.*input_layernorm$", {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$", "re:.*self_attn.dt_proj$"}},
};

// OLMo-2 is post-norm: post_attention_layernorm normalises the attention output before the
// residual add, and no norm reads the block input, so only the linear-to-linear groups remain.
const MappingList olmo2_mappings = {
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// GLM and GLM-4 fuse gate and up into gate_up_proj ([gate; up], up second), so the last rows
// are the linear branch; GLM-4's extra post_self_attn / post_mlp norms feed the residual only.
const MappingList glm_mappings = {
    {"re:.*input_layernorm$", {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*mlp.gate_up_proj$"}},
    {"re:.*mlp.gate_up_proj$", {"re:.*mlp.down_proj$"}},
};

// Early Yi checkpoints name the norms ln1 / ln2.
const MappingList yi_mappings = {
    {"re:.*ln1$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*ln2$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// EXAONE 3: GPT-style names; c_fc_1 is the linear (up) branch of `c_proj(act(c_fc_0) * c_fc_1)`.
const MappingList exaone_mappings = {
    {"re:.*ln_1$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
    {"re:.*v_proj$", {"re:.*out_proj$"}},
    {"re:.*ln_2$", {"re:.*c_fc_0$", "re:.*c_fc_1$"}},
    {"re:.*c_fc_1$", {"re:.*c_proj$"}},
};

// Baichuan fuses q/k/v into W_pack = [q; k; v] (multi-head, so the last rows are v).
const MappingList baichuan_mappings = {
    {"re:.*input_layernorm$", {"re:.*W_pack$"}},
    {"re:.*W_pack$", {"re:.*o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// InternLM2: wqkv interleaves q/k/v per key-value group (no wqkv -> wo), and w1 is the gated
// branch of `w2(silu(w1(x)) * w3(x))`, so w3 is the one that pairs with w2.
const MappingList internlm2_mappings = {
    {"re:.*attention_norm$", {"re:.*attention.wqkv$"}},
    {"re:.*ffn_norm$", {"re:.*feed_forward.w1$", "re:.*feed_forward.w3$"}},
    {"re:.*feed_forward.w3$", {"re:.*feed_forward.w2$"}},
};

// ChatGLM 2/3 and GLM-4-9B remote code: multi-query query_key_value (no qkv -> dense), and the
// fused SwiGLU dense_h_to_4h = [gate; up] whose last half is the linear branch.
const MappingList chatglm_mappings = {
    {"re:.*input_layernorm$", {"re:.*self_attention.query_key_value$"}},
    {"re:.*post_attention_layernorm$", {"re:.*mlp.dense_h_to_4h$"}},
    {"re:.*mlp.dense_h_to_4h$", {"re:.*mlp.dense_4h_to_h$"}},
};

// Qwen (1): c_attn = [q; k; v] multi-head; `c_proj(w1(x) * silu(w2(x)))`, so w1 is the linear
// branch (GPTQModel's w2 -> c_proj crosses the SiLU; AutoAWQ's w1 is kept).
const MappingList qwen1_mappings = {
    {"re:.*ln_1$", {"re:.*attn.c_attn$"}},
    {"re:.*attn.c_attn$", {"re:.*attn.c_proj$"}},
    {"re:.*ln_2$", {"re:.*mlp.w1$", "re:.*mlp.w2$"}},
    {"re:.*mlp.w1$", {"re:.*mlp.c_proj$"}},
};

// TeleChat 2: query and a fused key_value read the input norm; the key_value layout is
// grouped per head, so no value -> dense group.
const MappingList telechat2_mappings = {
    {"re:.*input_layernorm$", {"re:.*self_attention.query$", "re:.*self_attention.key_value$"}},
    {"re:.*post_attention_layernorm$", {"re:.*mlp.gate_proj$", "re:.*mlp.up_proj$"}},
    {"re:.*mlp.up_proj$", {"re:.*mlp.down_proj$"}},
};

// MiniCPM3's multi-head latent attention: the input norm feeds q_a and kv_a, and q_b / kv_b
// read their own low-rank norms (the union of AutoAWQ's and GPTQModel's groups).
const MappingList minicpm3_mappings = {
    {"re:.*input_layernorm$", {"re:.*q_a_proj$", "re:.*kv_a_proj_with_mqa$"}},
    {"re:.*q_a_layernorm$", {"re:.*q_b_proj$"}},
    {"re:.*kv_a_layernorm$", {"re:.*kv_b_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// Solar Open: every layer is a GLM-4-MoE block; the router (`mlp.gate`) and the shared experts
// read the post-attention norm with the routed experts (the peer leaves the router out).
const MappingList solar_open_mappings = {
    {"re:.*input_layernorm$", {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$"}},
    {"re:.*post_attention_layernorm$",
     {"re:.*mlp.gate$", "re:.*mlp.experts.*.gate_proj$", "re:.*mlp.experts.*.up_proj$",
      "re:.*mlp.shared_experts.gate_proj$", "re:.*mlp.shared_experts.up_proj$"}},
    {"re:.*mlp.*up_proj$", {"re:.*mlp.*down_proj$"}},
};

// Klear (remote code): the post-attention norm feeds the router, routed and shared experts,
// and possibly a shared-expert gate that the peers' trees do not show; that group is left out
// rather than risk missing a consumer.
const MappingList klear_mappings = {
    {"re:.*input_layernorm$", {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$"}},
    {"re:.*mlp.*up_proj$", {"re:.*mlp.*down_proj$"}},
};

// Solar Open 2 (remote code): hybrid full/linear attention under one `self_attn` name, an
// output norm before o_proj, and MoE layers with a router next to leading dense layers: only
// the gated MLPs' up -> down groups are certain.
const MappingList solar_open2_mappings = {
    {"re:.*mlp.*up_proj$", {"re:.*mlp.*down_proj$"}},
};

// StableLM 2 12B sets use_parallel_residual: input_layernorm feeds attention and MLP, and
// there is no post-attention norm (Cohere's block); other StableLM checkpoints are Llama's.
const MappingList stablelm_parallel_mappings = {
    {"re:.*input_layernorm$",
     {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$", "re:.*mlp.gate_proj$",
      "re:.*mlp.up_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$"}},
    {"re:.*mlp.up_proj$", {"re:.*mlp.down_proj$"}},
};

// GPT-NeoX-style blocks under other names (Persimmon, GPT-NeoX-Japanese): query_key_value
// interleaves q/k/v per head (no qkv -> dense), and dense_h_to_4h -> dense_4h_to_h would cross
// the activation (GELU, squared ReLU). Both are sequential: each norm feeds one branch.
const MappingList neox_style_mappings = {
    {R"(re:.*input_layernorm$)", {R"(re:.*(attention|self_attn)\.query_key_value$)"}},
    {R"(re:.*post_attention_layernorm$)", {R"(re:.*mlp\.dense_h_to_4h$)"}},
};

// BitNet: attn_sub_norm normalises the attention output before o_proj and ffn_sub_norm the
// gated product before down_proj, so those norms take the o/down groups; v -> o and up -> down
// would cross an RMS normalisation.
const MappingList bitnet_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.q_proj$)", R"(re:.*self_attn\.k_proj$)", R"(re:.*self_attn\.v_proj$)"}},
    {R"(re:.*self_attn\.attn_sub_norm$)", {R"(re:.*self_attn\.o_proj$)"}},
    {R"(re:.*post_attention_layernorm$)", {R"(re:.*mlp\.gate_proj$)", R"(re:.*mlp\.up_proj$)"}},
    {R"(re:.*mlp\.ffn_sub_norm$)", {R"(re:.*mlp\.down_proj$)"}},
};

// NanoChat: its norms have no weight (nothing to take the scales), q and k are normalised per
// head but v is not, and fc1 -> fc2 would cross the squared ReLU: only v -> o.
const MappingList nanochat_mappings = {
    {R"(re:.*self_attn\.v_proj$)", {R"(re:.*self_attn\.o_proj$)"}},
};

// Multi-head latent attention in a dense Llama block (Youtu): q (or q_a) and kv_a read the
// input norm, q_b and kv_b read the low-rank norms.
const MappingList mla_dense_mappings = {
    {R"(re:.*input_layernorm$)", {R"(re:.*self_attn\.(q|q_a)_proj$)", R"(re:.*self_attn\.kv_a_proj_with_mqa$)"}},
    {R"(re:.*self_attn\.q_a_layernorm$)", {R"(re:.*self_attn\.q_b_proj$)"}},
    {R"(re:.*self_attn\.kv_a_layernorm$)", {R"(re:.*self_attn\.kv_b_proj$)"}},
    {R"(re:.*post_attention_layernorm$)", {R"(re:.*mlp\.gate_proj$)", R"(re:.*mlp\.up_proj$)"}},
    {R"(re:.*mlp\.up_proj$)", {R"(re:.*mlp\.down_proj$)"}},
};

// BLT: three Llama stacks (local encoder, global transformer, local decoder), scoped to their
// self-attention layers so that the cross-attention modules (q/k/v behind their own q_norm and
// k_norm, run only in some configurations) stay out. The patcher, a separate entropy model
// that only picks patch boundaries, is left out too.
MappingList llama_groups_under(const std::string& layer) {
  return {
      {layer + "input_layernorm$",
       {layer + R"(self_attn\.q_proj$)", layer + R"(self_attn\.k_proj$)", layer + R"(self_attn\.v_proj$)"}},
      {layer + R"(self_attn\.v_proj$)", {layer + R"(self_attn\.o_proj$)"}},
      {layer + "post_attention_layernorm$", {layer + R"(mlp\.gate_proj$)", layer + R"(mlp\.up_proj$)"}},
      {layer + R"(mlp\.up_proj$)", {layer + R"(mlp\.down_proj$)"}},
  };
}
const MappingList blt_mappings =
    llama_groups_under(R"(re:.*\.(local_encoder|global_transformer|local_decoder)\.layers\.\d+\.)");

// DeepSeek-V4: every layer is MoE. The input norm feeds q_a, the shared key-value kv_proj and,
// where the layer compresses, the compressor's and its indexer's kv/gate projections and the
// indexer's scoring weights: one balance pattern, so that layers with and without a compressor
// complete the same group. q_a_norm feeds q_b and the indexer's q_b. o_a_proj (block-diagonal,
// one output row per channel) feeds o_b_proj directly. The router reads the post-attention
// norm with the experts. The routed experts clamp gate and up (SwiGLU limit), so their
// up -> down is left out; the shared expert is a plain SwiGLU.
const MappingList deepseek_v4_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.(q_a_proj|kv_proj|compressor\.(kv_proj|gate_proj)|compressor\.indexer\.(kv_proj|gate_proj|weights_proj|scorer\.weights_proj|compressor\.kv_proj|compressor\.gate_proj))$)"}},
    {R"(re:.*self_attn\.q_a_norm$)", {R"(re:.*self_attn\.(q_b_proj|compressor\.indexer\.q_b_proj)$)"}},
    {R"(re:.*self_attn\.o_a_proj$)", {R"(re:.*self_attn\.o_b_proj$)"}},
    {R"(re:.*post_attention_layernorm$)",
     {R"(re:.*mlp\.gate$)", R"(re:.*mlp\.(experts\.\d+|shared_experts)\.gate_proj$)",
      R"(re:.*mlp\.(experts\.\d+|shared_experts)\.up_proj$)"}},
    {R"(re:.*mlp\.shared_experts\.up_proj$)", {R"(re:.*mlp\.shared_experts\.down_proj$)"}},
};

// Moshi's text decoder: the projections are `MoshiLinear` wrappers around `.linear`, and fc1 is
// the fused [gate; up] of `fc2(act(gate) * up)` whose last half is the linear branch.
const MappingList moshi_mappings = {
    {R"(re:.*input_layernorm$)",
     {R"(re:.*self_attn\.q_proj\.linear$)", R"(re:.*self_attn\.k_proj\.linear$)",
      R"(re:.*self_attn\.v_proj\.linear$)"}},
    {R"(re:.*post_attention_layernorm$)", {R"(re:.*mlp\.fc1$)"}},
    {R"(re:.*mlp\.fc1$)", {R"(re:.*mlp\.fc2$)"}},
};

bool config_true(const Model& model, std::string_view key) {
  const auto v = model.config_field(key);
  return v && v->is_boolean() && v->get<bool>();
}

BuildResult build_stablelm(const Model& model) {
  return BuildResult::use(config_true(model, "use_parallel_residual") ? stablelm_parallel_mappings : llama_mappings);
}

// Doge's MoE block (CDMoE) also reads the post-attention norm through its router and the
// expert embeddings (an Embedding used as a matrix), which cannot be balanced: no group then.
BuildResult build_doge(const Model& model) {
  MappingList m = doge_attention_mappings;
  if (config_true(model, "is_moe")) {
    m.push_back({"re:.*mlp.up_proj$", {"re:.*mlp.down_proj$"}});
  } else {
    m.push_back({"re:.*post_attention_layernorm$", {"re:.*mlp.gate_proj$", "re:.*mlp.up_proj$"}});
    m.push_back({"re:.*mlp.up_proj$", {"re:.*mlp.down_proj$"}});
  }
  return BuildResult::use(std::move(m));
}

// Moshi: v -> o only with as many key-value heads as query heads. The names end in `.linear`,
// so resolution's grouped-query width check (which looks for `.o_proj`) would not catch it.
BuildResult build_moshi(const Model& model) {
  MappingList m = moshi_mappings;
  auto heads = awqmap::toolkit::config_integer(model, "num_attention_heads");
  auto kv_heads = awqmap::toolkit::config_integer(model, "num_key_value_heads");
  if (!kv_heads || (heads && *kv_heads == *heads))
    m.push_back({R"(re:.*self_attn\.v_proj\.linear$)", {R"(re:.*self_attn\.o_proj\.linear$)"}});
  return BuildResult::use(std::move(m));
}

// Mistral 4: DeepSeek-V3's block (multi-head latent attention, a dense MLP in the first
// first_k_dense_replace layers, then router + routed experts + shared experts). The
// post-attention group is scoped per layer kind, so that a dense layer, which has no router,
// does not collapse into the next.
BuildResult build_mistral4(const Model& model) {
  auto layers = awqmap::toolkit::config_integer(model, "num_hidden_layers");
  if (!layers) return BuildResult::decline("the config gives no num_hidden_layers");
  if (*layers < 1 || *layers > awqmap::toolkit::max_layers)
    return BuildResult::decline("num_hidden_layers is " + std::to_string(*layers) + ", outside 1.." +
                                std::to_string(awqmap::toolkit::max_layers));
  const std::int64_t first_sparse = awqmap::toolkit::config_integer(model, "first_k_dense_replace").value_or(0);
  std::vector<std::size_t> dense, sparse;
  for (std::int64_t i = 0; i < *layers; ++i) (i < first_sparse ? dense : sparse).push_back(static_cast<std::size_t>(i));

  MappingList m = {
      {R"(re:.*input_layernorm$)", {R"(re:.*self_attn\.(q|q_a)_proj$)", R"(re:.*self_attn\.kv_a_proj_with_mqa$)"}},
      {R"(re:.*self_attn\.q_a_layernorm$)", {R"(re:.*self_attn\.q_b_proj$)"}},
      {R"(re:.*self_attn\.kv_a_layernorm$)", {R"(re:.*self_attn\.kv_b_proj$)"}},
  };
  auto scoped = [&](const std::vector<std::size_t>& which, std::vector<std::string> readers) {
    if (which.empty()) return;
    const std::string prefix = R"(re:.*layers\.()" + awqmap::toolkit::index_alternation(which) + R"()\.)";
    for (auto& r : readers) r = prefix + r;
    m.push_back({prefix + "post_attention_layernorm$", std::move(readers)});
  };
  scoped(dense, {R"(mlp\.gate_proj$)", R"(mlp\.up_proj$)"});
  scoped(sparse, {R"(mlp\.gate$)", R"(mlp\.(experts\.\d+|shared_experts)\.gate_proj$)",
                  R"(mlp\.(experts\.\d+|shared_experts)\.up_proj$)"});
  m.push_back({R"(re:.*mlp\..*up_proj$)", {R"(re:.*mlp\..*down_proj$)"}});
  return BuildResult::use(std::move(m));
}

struct Table {
  const char* architecture;
  const MappingList* mappings;
  Origin origin;
  const char* source;
};

const Table tables[] = {
    // transformers' own classes, from their modeling code.
    {"ArceeForCausalLM", &ungated_mlp_mappings, Origin::analysis, "transformers models/arcee/modeling_arcee.py"},
    {"Jais2ForCausalLM", &ungated_mlp_mappings, Origin::analysis, "transformers models/jais2/modeling_jais2.py"},
    {"CwmForCausalLM", &llama_mappings, Origin::analysis, "transformers models/cwm/modeling_cwm.py"},
    {"HeliumForCausalLM", &llama_mappings, Origin::analysis, "transformers models/helium/modeling_helium.py"},
    {"GraniteSWAForCausalLM", &llama_mappings, Origin::analysis,
     "transformers models/granite_swa/modeling_granite_swa.py"},
    // Peri-LN: post_norm1/post_norm2 normalise the sublayer outputs before the residual add;
    // input_layernorm and post_attention_layernorm still read the block input, as in Llama.
    {"HyperCLOVAXForCausalLM", &llama_mappings, Origin::analysis,
     "transformers models/hyperclovax/modeling_hyperclovax.py"},
    {"ApertusForCausalLM", &apertus_mappings, Origin::peer, "GPTQModel definitions/apertus.py"},
    {"Olmo2ForCausalLM", &olmo2_mappings, Origin::analysis, "transformers models/olmo2/modeling_olmo2.py"},
    {"GlmForCausalLM", &glm_mappings, Origin::analysis, "transformers models/glm/modeling_glm.py"},
    {"Glm4ForCausalLM", &glm_mappings, Origin::analysis, "transformers models/glm4/modeling_glm4.py"},
    {"MiniCPM3ForCausalLM", &minicpm3_mappings, Origin::peer,
     "AutoAWQ awq/models/minicpm3.py, GPTQModel definitions/minicpm3.py"},
    {"SolarOpenForCausalLM", &solar_open_mappings, Origin::analysis,
     "transformers models/solar_open/modular_solar_open.py"},
    // FlexOlmo: OLMo-2's post-norm attention around an OLMoE MoE block; the router and the
    // experts read the raw residual stream, so no norm has a group; the experts' up -> down do.
    {"FlexOlmoForCausalLM", &olmo2_mappings, Origin::analysis, "transformers models/flex_olmo/modular_flex_olmo.py"},
    {"PersimmonForCausalLM", &neox_style_mappings, Origin::analysis,
     "transformers models/persimmon/modeling_persimmon.py"},
    {"GPTNeoXJapaneseForCausalLM", &neox_style_mappings, Origin::analysis,
     "transformers models/gpt_neox_japanese/modeling_gpt_neox_japanese.py"},
    {"NanoChatForCausalLM", &nanochat_mappings, Origin::analysis, "transformers models/nanochat/modular_nanochat.py"},
    {"BitNetForCausalLM", &bitnet_mappings, Origin::analysis, "transformers models/bitnet/modular_bitnet.py"},
    {"YoutuForCausalLM", &mla_dense_mappings, Origin::analysis, "transformers models/youtu/modular_youtu.py"},
    {"BltForCausalLM", &blt_mappings, Origin::analysis, "transformers models/blt/modular_blt.py"},
    {"DeepseekV4ForCausalLM", &deepseek_v4_mappings, Origin::analysis,
     "transformers models/deepseek_v4/modular_deepseek_v4.py"},
    {"MinistralForCausalLM", &llama_mappings, Origin::analysis, "transformers models/ministral/modular_ministral.py"},
    // Nemotron: `down(relu2(up(x)))` with no gate; its LayerNorm1P norms scale by (1 + w).
    {"NemotronForCausalLM", &ungated_mlp_mappings, Origin::analysis,
     "transformers models/nemotron/modeling_nemotron.py"},
    // CohereCompass's text decoder is Cohere 2's parallel block: input_layernorm feeds the
    // attention and the MLP.
    {"CohereCompassForCausalLM", &stablelm_parallel_mappings, Origin::analysis,
     "transformers models/cohere_compass/modular_cohere_compass.py"},
    // Llama's block under Llama's names (peers' lists, equal to the default list).
    {"AquilaForCausalLM", &llama_mappings, Origin::peer, "AutoAWQ awq/models/aquila.py"},
    {"DeciLMForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/decilm.py"},
    {"DreamModel", &llama_mappings, Origin::peer, "GPTQModel definitions/dream.py"},
    {"Ernie4_5ForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/ernie4_5.py"},
    {"HunYuanDenseV1ForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/hunyuan_v1_dense.py"},
    {"InstellaForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/instella.py"},
    {"InternLMForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/internlm.py"},
    {"LongLlamaForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/llama.py"},
    {"MiMoForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/mimo.py"},
    {"MiniCPMForCausalLM", &llama_mappings, Origin::peer, "AutoAWQ awq/models/minicpm.py"},
    {"Ministral3ForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/ministral3.py"},
    {"MobileLLMForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/mobilellm.py"},
    {"SmolLM3ForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/llama.py"},
    {"StableLMEpochForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/llama.py"},
    {"XverseForCausalLM", &llama_mappings, Origin::peer, "GPTQModel definitions/xverse.py"},
    // The peers' lists under other names.
    {"YiForCausalLM", &yi_mappings, Origin::peer, "AutoAWQ awq/models/yi.py"},
    {"ExaoneForCausalLM", &exaone_mappings, Origin::peer, "AutoAWQ awq/models/exaone.py"},
    {"BaichuanForCausalLM", &baichuan_mappings, Origin::peer, "AutoAWQ awq/models/baichuan.py"},
    {"InternLM2ForCausalLM", &internlm2_mappings, Origin::analysis,
     "GPTQModel definitions/internlm2.py (w3 -> w2), AutoAWQ awq/models/internlm2.py"},
    {"ChatGLMModel", &chatglm_mappings, Origin::analysis, "GPTQModel definitions/chatglm.py"},
    {"QWenLMHeadModel", &qwen1_mappings, Origin::analysis, "AutoAWQ awq/models/qwen.py, GPTQModel definitions/qwen.py"},
    {"TeleChat2ForCausalLM", &telechat2_mappings, Origin::peer, "GPTQModel definitions/telechat2.py"},
    {"KlearForCausalLM", &klear_mappings, Origin::analysis, "GPTQModel definitions/klear.py"},
    {"SolarOpen2ForCausalLM", &solar_open2_mappings, Origin::analysis, "GPTQModel definitions/solar_open2.py"},
};

void register_dense(awqmap::Registrar& r) {
  for (const auto& t : tables) r.add_static(t.architecture, *t.mappings, {t.origin, t.source});
  r.add_dynamic("StableLmForCausalLM", "stablelm", build_stablelm,
                {Origin::analysis, "transformers models/stablelm/modeling_stablelm.py"});
  r.add_dynamic("DogeForCausalLM", "doge", build_doge, {Origin::analysis, "transformers models/doge/modeling_doge.py"});
  r.add_dynamic("MoshiForCausalLM", "moshi", build_moshi,
                {Origin::analysis, "transformers models/moshi/modeling_moshi.py"});
  r.add_dynamic("Mistral4ForCausalLM", "mistral4", build_mistral4,
                {Origin::analysis, "transformers models/mistral4/modular_mistral4.py"});
}

}  // namespace

AWQMAP_PLUGIN("dense", "0.1.0", register_dense)
