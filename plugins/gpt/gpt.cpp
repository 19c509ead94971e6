// GPT-style decoders (GPT-J/Neo/NeoX, BigCode, CodeGen, Falcon, MPT, OPT, Phi, StarCoder2,
// CTRL) and the encoder-style stacks that transformers also builds as causal LMs (BERT and
// RoBERTa variants, BART/Pegasus-style decoders, ModernBERT, MusicGen). Their MLPs are mostly
// `fc2(gelu(fc1(x)))`: fc1 -> fc2 would cross the activation, so only a norm feeding fc1 (and,
// where the activation is a plain ReLU, fc1 -> fc2) is paired. Activation modules are never
// smooth layers: they have no weight to take the scales. Cross-attention is left out: a causal
// LM runs without encoder states, so calibration never reaches it.
#include <awqmap/plugin.hpp>

#include <string>
#include <string_view>

using awqmap::BuildResult;
using awqmap::MappingList;
using awqmap::plugin::Model;
using awqmap::Origin;

namespace {

// GPT-J: a parallel block (ln_1 feeds attention and MLP); fc_in -> fc_out would cross GELU.
const MappingList gptj_mappings = {
    {"re:.*ln_1$", {"re:.*attn.q_proj$", "re:.*attn.k_proj$", "re:.*attn.v_proj$", "re:.*mlp.fc_in$"}},
    {"re:.*attn.v_proj$", {"re:.*attn.out_proj$"}},
};

// GPT-NeoX: query_key_value interleaves q/k/v per head (no qkv -> dense); with or without
// use_parallel_residual each norm feeds one branch.
const MappingList gpt_neox_mappings = {
    {"re:.*input_layernorm$", {"re:.*attention.query_key_value$"}},
    {"re:.*post_attention_layernorm$", {"re:.*mlp.dense_h_to_4h$"}},
};

// GPT-Neo: GPT-2 names with separate q/k/v Linear layers; c_fc -> c_proj would cross GELU.
const MappingList gpt_neo_mappings = {
    {"re:.*ln_1$", {"re:.*attn.attention.q_proj$", "re:.*attn.attention.k_proj$", "re:.*attn.attention.v_proj$"}},
    {"re:.*attn.attention.v_proj$", {"re:.*attn.attention.out_proj$"}},
    {"re:.*ln_2$", {"re:.*mlp.c_fc$"}},
};

// GPTBigCode (StarCoder, SantaCoder): c_attn packs q with one shared k/v head (multi-query),
// so no c_attn -> c_proj; c_fc -> c_proj would cross GELU.
const MappingList gpt_bigcode_mappings = {
    {"re:.*ln_1$", {"re:.*attn.c_attn$"}},
    {"re:.*ln_2$", {"re:.*mlp.c_fc$"}},
};

// CodeGen and MOSS: a parallel block; qkv_proj is interleaved across model-parallel shards
// (no qkv -> out_proj) and fc_in -> fc_out would cross GELU.
const MappingList codegen_mappings = {
    {"re:.*ln_1$", {"re:.*attn.qkv_proj$", "re:.*mlp.fc_in$"}},
};

// MPT: Wqkv's output may be clamped (attn_config.clip_qkv), which no per-channel scale passes
// through, so no Wqkv -> out_proj; up_proj -> down_proj would cross GELU.
const MappingList mpt_mappings = {
    {"re:.*norm_1$", {"re:.*attn.Wqkv$"}},
    {"re:.*norm_2$", {"re:.*ffn.up_proj$"}},
};

// Phi (1, 1.5, 2): a parallel block, one input_layernorm for attention and MLP; the attention
// output projection is `dense`; fc1 -> fc2 would cross GELU.
const MappingList phi_mappings = {
    {"re:.*input_layernorm$",
     {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$", "re:.*mlp.fc1$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.dense$"}},
};

// StarCoder 2: Llama's attention, an ungated MLP c_fc -> GELU -> c_proj.
const MappingList starcoder2_mappings = {
    {"re:.*input_layernorm$", {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*mlp.c_fc$"}},
};

// PanGu-alpha (remote code): GPT-2 names with separate q/k/v.
const MappingList pangu_mappings = {
    {"re:.*ln_1$", {"re:.*attn.q_proj$", "re:.*attn.k_proj$", "re:.*attn.v_proj$"}},
    {"re:.*attn.v_proj$", {"re:.*attn.c_proj$"}},
    {"re:.*ln_2$", {"re:.*mlp.c_fc$"}},
};

// CTRL: pre-norm layers with Wq/Wk/Wv/dense; the FFN is Linear -> ReLU -> Linear, and ReLU
// commutes with positive per-channel scales, so ffn.0 -> ffn.2 is exact.
const MappingList ctrl_mappings = {
    {"re:.*layernorm1$",
     {"re:.*multi_head_attention.Wq$", "re:.*multi_head_attention.Wk$", "re:.*multi_head_attention.Wv$"}},
    {"re:.*multi_head_attention.Wv$", {"re:.*multi_head_attention.dense$"}},
    {"re:.*layernorm2$", {"re:.*ffn.0$"}},
    {"re:.*ffn.0$", {"re:.*ffn.2$"}},
};

// BERT-style post-norm layers: every LayerNorm output is also the residual stream, so no norm
// is a smooth layer; value -> attention.output.dense is the only exact group.
const MappingList bert_mappings = {
    {"re:.*\\.attention\\.self\\.value$", {"re:.*\\.attention\\.output\\.dense$"}},
};

// RoBERTa-PreLayerNorm: attention.LayerNorm feeds q/k/v and intermediate.LayerNorm feeds
// intermediate.dense (pre-norm); intermediate -> output would cross GELU.
const MappingList roberta_prelayernorm_mappings = {
    {"re:.*\\.attention\\.LayerNorm$",
     {"re:.*\\.attention\\.self\\.query$", "re:.*\\.attention\\.self\\.key$", "re:.*\\.attention\\.self\\.value$"}},
    {"re:.*\\.attention\\.self\\.value$", {"re:.*\\.attention\\.output\\.dense$"}},
    {"re:.*\\.intermediate\\.LayerNorm$", {"re:.*\\.intermediate\\.dense$"}},
};

// XLM-RoBERTa-XL: pre-norm; attention.self_attn_layer_norm feeds q/k/v and the layer's own
// LayerNorm feeds intermediate.dense.
const MappingList xlm_roberta_xl_mappings = {
    {"re:.*\\.attention\\.self_attn_layer_norm$",
     {"re:.*\\.attention\\.self\\.query$", "re:.*\\.attention\\.self\\.key$", "re:.*\\.attention\\.self\\.value$"}},
    {"re:.*\\.attention\\.self\\.value$", {"re:.*\\.attention\\.output\\.dense$"}},
    {"re:.*layer\\.\\d+\\.LayerNorm$", {"re:.*\\.intermediate\\.dense$"}},
};

// BART-style post-norm decoders (Marian, PLBart, MVP): norms feed the residual stream, so only
// v_proj -> out_proj of the self-attention remains.
const MappingList bart_decoder_mappings = {
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.out_proj$"}},
};

// Pegasus-style pre-norm decoders (BigBird-Pegasus, MusicGen): self_attn_layer_norm feeds
// q/k/v and final_layer_norm feeds fc1; fc1 -> fc2 would cross GELU.
const MappingList pre_norm_decoder_mappings = {
    {"re:.*layers\\.\\d+\\.self_attn_layer_norm$",
     {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.out_proj$"}},
    {"re:.*layers\\.\\d+\\.final_layer_norm$", {"re:.*layers\\.\\d+\\.fc1$"}},
};

// ModernBERT decoder: pre-norm, but layer 0's attn_norm is an Identity (no weight to scale);
// Wi = [input; gate] and `Wo(act(input) * gate)`, so Wi's last half is the linear branch.
const MappingList modernbert_decoder_mappings = {
    {"re:.*layers\\.[1-9]\\d*\\.attn_norm$",
     {"re:.*layers\\.[1-9]\\d*\\.attn\\.q_proj$", "re:.*layers\\.[1-9]\\d*\\.attn\\.k_proj$",
      "re:.*layers\\.[1-9]\\d*\\.attn\\.v_proj$"}},
    {"re:.*attn.v_proj$", {"re:.*attn.Wo$"}},
    {"re:.*mlp_norm$", {"re:.*mlp.Wi$"}},
    {"re:.*mlp.Wi$", {"re:.*mlp.Wo$"}},
};

// ProphetNet's n-gram self-attention mixes the main and predicting streams' value rows per
// head (a linear mix only) before out_proj; its norms follow the residual add (post-norm) and
// its FFN crosses GELU, so value_proj -> out_proj is the only exact group.
const MappingList prophetnet_mappings = {
    {"re:.*self_attn\\.value_proj$", {"re:.*self_attn\\.out_proj$"}},
};

// PP-FormulaNet: an MBart (pre-norm) decoder that cross-attends to its vision encoder, so the
// cross-attention runs in calibration: its norm feeds encoder_attn.q_proj alone (k/v read the
// encoder states) and its v_proj -> out_proj is a per-head mix. Scoped to the decoder layers:
// the vision encoder has layers too.
const std::string ppf_layer = "re:.*decoder\\.layers\\.\\d+\\.";
const MappingList pp_formulanet_mappings = {
    {ppf_layer + "self_attn_layer_norm$",
     {ppf_layer + "self_attn\\.q_proj$", ppf_layer + "self_attn\\.k_proj$", ppf_layer + "self_attn\\.v_proj$"}},
    {ppf_layer + "self_attn\\.v_proj$", {ppf_layer + "self_attn\\.out_proj$"}},
    {ppf_layer + "encoder_attn_layer_norm$", {ppf_layer + "encoder_attn\\.q_proj$"}},
    {ppf_layer + "encoder_attn\\.v_proj$", {ppf_layer + "encoder_attn\\.out_proj$"}},
    {ppf_layer + "final_layer_norm$", {ppf_layer + "fc1$"}},
};

// Megatron-BERT normalises before each sub-block (attention.ln feeds q/k/v, the layer's ln
// feeds intermediate.dense); intermediate -> output would cross GELU.
const MappingList megatron_bert_mappings = {
    {"re:.*\\.attention\\.ln$",
     {"re:.*\\.attention\\.self\\.query$", "re:.*\\.attention\\.self\\.key$", "re:.*\\.attention\\.self\\.value$"}},
    {"re:.*\\.attention\\.self\\.value$", {"re:.*\\.attention\\.output\\.dense$"}},
    {"re:.*layer\\.\\d+\\.ln$", {"re:.*layer\\.\\d+\\.intermediate\\.dense$"}},
};

// CPM-Ant: pre-norm blocks; the FFN is gated (`act(w_0(x)) * w_1(x)`), so w_1 -> w_out is exact.
const MappingList cpmant_mappings = {
    {"re:.*self_att\\.layernorm_before_attention$",
     {"re:.*self_attention\\.project_q$", "re:.*self_attention\\.project_k$", "re:.*self_attention\\.project_v$"}},
    {"re:.*self_attention\\.project_v$", {"re:.*self_attention\\.attention_out$"}},
    {"re:.*ffn\\.layernorm_before_ffn$", {"re:.*ffn\\.w_in\\.w_0$", "re:.*ffn\\.w_in\\.w_1$"}},
    {"re:.*ffn\\.w_in\\.w_1$", {"re:.*ffn\\.w_out$"}},
};

// RWKV (4): ln1 and ln2 reach their projections through the token shift, a per-channel mix of
// the norm's output at two positions; the WKV recurrence is linear in each value channel and
// the receptance gate multiplies channel-wise, so attention.value -> attention.output is exact.
// feed_forward.key -> value crosses relu(x)^2, which no per-channel scale passes through.
const MappingList rwkv_mappings = {
    {"re:.*blocks\\.\\d+\\.ln1$",
     {"re:.*blocks\\.\\d+\\.attention\\.key$", "re:.*blocks\\.\\d+\\.attention\\.value$",
      "re:.*blocks\\.\\d+\\.attention\\.receptance$"}},
    {"re:.*attention\\.value$", {"re:.*attention\\.output$"}},
    {"re:.*blocks\\.\\d+\\.ln2$", {"re:.*feed_forward\\.key$", "re:.*feed_forward\\.receptance$"}},
};

bool has_module_ending(const Model& model, std::string_view suffix) {
  for (const auto& m : model.modules()) {
    std::string_view n = m.name;
    if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
  }
  return false;
}

// Falcon has three blocks, told apart by their norms: two parallel norms (ln_attn, ln_mlp:
// Falcon-40B/180B), one shared norm (parallel_attn: Falcon-7B, Falcon 2), or a sequential block
// (input_layernorm, post_attention_layernorm: Falcon-RW). query_key_value is multi-query or
// grouped, so never query_key_value -> dense; dense_h_to_4h -> dense_4h_to_h would cross GELU.
BuildResult build_falcon(const Model& model) {
  if (has_module_ending(model, ".ln_attn") || has_module_ending(model, ".ln_mlp"))
    return BuildResult::use(
        {{"re:.*ln_attn$", {"re:.*self_attention.query_key_value$"}}, {"re:.*ln_mlp$", {"re:.*mlp.dense_h_to_4h$"}}});
  if (has_module_ending(model, ".post_attention_layernorm"))
    return BuildResult::use({{"re:.*input_layernorm$", {"re:.*self_attention.query_key_value$"}},
                             {"re:.*post_attention_layernorm$", {"re:.*mlp.dense_h_to_4h$"}}});
  if (has_module_ending(model, ".input_layernorm"))
    return BuildResult::use(
        {{"re:.*input_layernorm$", {"re:.*self_attention.query_key_value$", "re:.*mlp.dense_h_to_4h$"}}});
  return BuildResult::decline("no ln_attn, ln_mlp, input_layernorm or post_attention_layernorm module");
}

// OPT: pre-norm by default (self_attn_layer_norm feeds q/k/v, the layer's final_layer_norm
// feeds fc1; anchored on `layers.N.` because the decoder has a final_layer_norm too). OPT-350m
// sets do_layer_norm_before=false (post-norm): then only v -> out_proj. fc1 -> fc2 is exact
// only through a ReLU.
BuildResult build_opt(const Model& model) {
  const auto before = model.config_field("do_layer_norm_before");
  bool pre_norm = !before || !before->is_boolean() || before->get<bool>();
  const auto act = model.config_field("activation_function");
  bool relu = !act || (act->is_string() && act->get<std::string>() == "relu");
  MappingList m;
  if (pre_norm)
    m.push_back({"re:.*layers\\.\\d+\\.self_attn_layer_norm$",
                 {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}});
  m.push_back({"re:.*self_attn.v_proj$", {"re:.*self_attn.out_proj$"}});
  if (pre_norm) m.push_back({"re:.*layers\\.\\d+\\.final_layer_norm$", {"re:.*layers\\.\\d+\\.fc1$"}});
  if (relu) m.push_back({"re:.*layers\\.\\d+\\.fc1$", {"re:.*layers\\.\\d+\\.fc2$"}});
  return BuildResult::use(std::move(m));
}

// MVP with use_prompt concatenates learned prompt keys and values to the attention's own, so
// v_proj's output is no longer all that attention mixes: no group then.
BuildResult build_mvp(const Model& model) {
  const auto prompt = model.config_field("use_prompt");
  if (prompt && prompt->is_boolean() && prompt->get<bool>())
    return BuildResult::decline("use_prompt mixes prompt values into the attention");
  return BuildResult::use(bart_decoder_mappings);
}

// `config.<key>` (or `config.text_config.<key>`) as a string; `fallback` when absent or not a string.
std::string config_string(const Model& model, std::string_view key, const std::string& fallback) {
  const auto v = model.config_field(key);
  return v && v->is_string() ? v->get<std::string>() : fallback;
}

// `config.<key>` as a boolean; `fallback` when absent or not a boolean.
bool config_bool(const Model& model, std::string_view key, bool fallback) {
  const auto v = model.config_field(key);
  return v && v->is_boolean() ? v->get<bool>() : fallback;
}

// RoFormer: post-norm BERT layers; with rotary_value the rotary embedding also turns pairs of
// value channels by position-dependent angles, which no per-channel scale passes through.
BuildResult build_roformer(const Model& model) {
  if (config_bool(model, "rotary_value", false))
    return BuildResult::decline("rotary_value rotates value channel pairs before the attention output");
  return BuildResult::use(bert_mappings);
}

// Kosmos-2: a pre-norm text decoder (self_attn_layer_norm feeds q/k/v, final_layer_norm feeds
// ffn.fc1), scoped to its layers: the image-to-text projection has an attention of its own.
// With the inner attention norm (`inner_attn_ln`, a LayerNorm over all heads before out_proj)
// v_proj -> out_proj is not exact; fc1 -> GELU -> ffn_layernorm -> fc2 never is.
BuildResult build_kosmos2(const Model& model) {
  const std::string layer = "re:.*text_model\\.model\\.layers\\.\\d+\\.";
  MappingList m = {
      {layer + "self_attn_layer_norm$",
       {layer + "self_attn\\.q_proj$", layer + "self_attn\\.k_proj$", layer + "self_attn\\.v_proj$"}},
      {layer + "final_layer_norm$", {layer + "ffn\\.fc1$"}},
  };
  if (!has_module_ending(model, ".self_attn.inner_attn_ln"))
    m.push_back({layer + "self_attn\\.v_proj$", {layer + "self_attn\\.out_proj$"}});
  return BuildResult::use(std::move(m));
}

// BLIP-2 and InstructBLIP: the language model is OPT by default (text_config) or T5 (the
// flan-t5 checkpoints); the vision tower and the Q-Former are left out by scoping every pattern
// to `language_model`. OPT as in build_opt. T5 blocks are pre-norm: each sub-layer's
// layer_norm feeds self-attention q/k/v, the cross-attention's q alone (k/v read the encoder
// output) or the MLP's input projections; v -> o is a per-head mix in both attentions; the
// MLP's wi -> wo is exact through ReLU, wi_1 -> wo through the gated activation, else none.
BuildResult build_blip2_language_model(const Model& model) {
  const std::string lm = "re:.*language_model\\.";
  if (has_module_ending(model, ".self_attn_layer_norm")) {
    const std::string layer = lm + ".*layers\\.\\d+\\.";
    bool pre_norm = config_bool(model, "do_layer_norm_before", true);
    MappingList m;
    if (pre_norm)
      m.push_back({layer + "self_attn_layer_norm$",
                   {layer + "self_attn\\.q_proj$", layer + "self_attn\\.k_proj$", layer + "self_attn\\.v_proj$"}});
    m.push_back({layer + "self_attn\\.v_proj$", {layer + "self_attn\\.out_proj$"}});
    if (pre_norm) m.push_back({layer + "final_layer_norm$", {layer + "fc1$"}});
    if (config_string(model, "activation_function", "relu") == "relu") m.push_back({layer + "fc1$", {layer + "fc2$"}});
    return BuildResult::use(std::move(m));
  }
  if (has_module_ending(model, ".SelfAttention.q")) {
    const std::string sub = lm + ".*block\\.\\d+\\.layer\\.\\d+\\.";
    MappingList m = {
        {sub + "layer_norm$", {sub + "(SelfAttention\\.(q|k|v)|EncDecAttention\\.q|DenseReluDense\\.(wi|wi_0|wi_1))$"}},
        {lm + ".*(SelfAttention|EncDecAttention)\\.v$", {lm + ".*(SelfAttention|EncDecAttention)\\.o$"}},
    };
    std::string ff = config_string(model, "feed_forward_proj", "relu");
    if (ff == "relu") m.push_back({lm + ".*DenseReluDense\\.wi$", {lm + ".*DenseReluDense\\.wo$"}});
    if (ff.rfind("gated-", 0) == 0) m.push_back({lm + ".*DenseReluDense\\.wi_1$", {lm + ".*DenseReluDense\\.wo$"}});
    return BuildResult::use(std::move(m));
  }
  return BuildResult::decline("no OPT (self_attn_layer_norm) or T5 (SelfAttention.q) language model");
}

// XLM: post-norm (layer_norm1/2 follow the residual add), its per-layer modules in parallel
// ModuleLists; v_lin -> out_lin is a per-head mix; lin1 -> lin2 is exact only through ReLU
// (gelu_activation false).
BuildResult build_xlm(const Model& model) {
  MappingList m = {{"re:.*attentions\\.\\d+\\.v_lin$", {"re:.*attentions\\.\\d+\\.out_lin$"}}};
  if (!config_bool(model, "gelu_activation", true))
    m.push_back({"re:.*ffns\\.\\d+\\.lin1$", {"re:.*ffns\\.\\d+\\.lin2$"}});
  return BuildResult::use(std::move(m));
}

// Reformer: each half of the reversible layer normalises first. attention.layer_norm feeds
// the LSH layers' shared query_key and value, or the local layers' query, key and value (one
// alternation, as attn_layers mixes them); LSH and local attention both mix value rows per
// head. feed_forward.layer_norm feeds dense.dense, and dense.dense -> output.dense is exact
// only through ReLU (hidden_act, "relu" by default).
BuildResult build_reformer(const Model& model) {
  MappingList m = {
      {"re:.*attention\\.layer_norm$", {"re:.*attention\\.self_attention\\.(query_key|query|key|value)$"}},
      {"re:.*attention\\.self_attention\\.value$", {"re:.*attention\\.output\\.dense$"}},
      {"re:.*feed_forward\\.layer_norm$", {"re:.*feed_forward\\.dense\\.dense$"}},
  };
  if (config_string(model, "hidden_act", "relu") == "relu")
    m.push_back({"re:.*feed_forward\\.dense\\.dense$", {"re:.*feed_forward\\.output\\.dense$"}});
  return BuildResult::use(std::move(m));
}

// xLSTM: norm_mlstm feeds every mLSTM projection (q, k, v and the three gate pre-activations,
// or the fused qkv_opreact and ifgate_preact); the cell's output goes through a per-head norm
// before out_proj (no v -> out_proj). norm_ffn feeds the gated FFN (`silu(proj_up_gate(x)) *
// proj_up(x)`), so proj_up -> proj_down is exact; the fused proj_up_gate_z packs both halves.
BuildResult build_xlstm(const Model& model) {
  if (has_module_ending(model, ".mlstm_layer.qkv_opreact"))
    return BuildResult::use({
        {"re:.*norm_mlstm$", {"re:.*mlstm_layer\\.qkv_opreact$", "re:.*mlstm_layer\\.ifgate_preact$"}},
        {"re:.*norm_ffn$", {"re:.*ffn\\.proj_up_gate_z$"}},
    });
  if (has_module_ending(model, ".mlstm_layer.q"))
    return BuildResult::use({
        {"re:.*norm_mlstm$",
         {"re:.*mlstm_layer\\.q$", "re:.*mlstm_layer\\.k$", "re:.*mlstm_layer\\.v$", "re:.*mlstm_layer\\.ogate_preact$",
          "re:.*mlstm_layer\\.igate_preact$", "re:.*mlstm_layer\\.fgate_preact$"}},
        {"re:.*norm_ffn$", {"re:.*ffn\\.proj_up_gate$", "re:.*ffn\\.proj_up$"}},
        {"re:.*ffn\\.proj_up$", {"re:.*ffn\\.proj_down$"}},
    });
  return BuildResult::decline("no mlstm_layer.q or mlstm_layer.qkv_opreact module");
}

struct Table {
  const char* architecture;
  const MappingList* mappings;
  Origin origin;
  const char* source;
};

const Table tables[] = {
    {"GPTJForCausalLM", &gptj_mappings, Origin::analysis, "transformers models/gptj/modeling_gptj.py"},
    {"GPTNeoXForCausalLM", &gpt_neox_mappings, Origin::analysis, "transformers models/gpt_neox/modeling_gpt_neox.py"},
    {"GPTNeoForCausalLM", &gpt_neo_mappings, Origin::analysis, "transformers models/gpt_neo/modeling_gpt_neo.py"},
    {"GPTBigCodeForCausalLM", &gpt_bigcode_mappings, Origin::analysis,
     "transformers models/gpt_bigcode/modeling_gpt_bigcode.py"},
    {"CodeGenForCausalLM", &codegen_mappings, Origin::peer, "GPTQModel definitions/codegen.py"},
    {"MossForCausalLM", &codegen_mappings, Origin::peer, "GPTQModel definitions/moss.py"},
    {"MptForCausalLM", &mpt_mappings, Origin::analysis, "transformers models/mpt/modeling_mpt.py"},
    {"PhiForCausalLM", &phi_mappings, Origin::analysis, "transformers models/phi/modeling_phi.py"},
    {"Starcoder2ForCausalLM", &starcoder2_mappings, Origin::analysis,
     "transformers models/starcoder2/modeling_starcoder2.py"},
    {"GPTPanguForCausalLM", &pangu_mappings, Origin::analysis, "GPTQModel definitions/pangu_alpha.py"},
    {"CTRLLMHeadModel", &ctrl_mappings, Origin::analysis, "transformers models/ctrl/modeling_ctrl.py"},
    {"BertLMHeadModel", &bert_mappings, Origin::analysis, "transformers models/bert/modeling_bert.py"},
    {"CamembertForCausalLM", &bert_mappings, Origin::analysis, "transformers models/camembert/modeling_camembert.py"},
    {"Data2VecTextForCausalLM", &bert_mappings, Origin::analysis,
     "transformers models/data2vec/modeling_data2vec_text.py"},
    {"ErnieForCausalLM", &bert_mappings, Origin::analysis, "transformers models/ernie/modeling_ernie.py"},
    {"RemBertForCausalLM", &bert_mappings, Origin::analysis, "transformers models/rembert/modeling_rembert.py"},
    {"XmodForCausalLM", &bert_mappings, Origin::analysis, "transformers models/xmod/modeling_xmod.py"},
    {"RobertaPreLayerNormForCausalLM", &roberta_prelayernorm_mappings, Origin::analysis,
     "transformers models/roberta_prelayernorm/modeling_roberta_prelayernorm.py"},
    {"XLMRobertaXLForCausalLM", &xlm_roberta_xl_mappings, Origin::analysis,
     "transformers models/xlm_roberta_xl/modeling_xlm_roberta_xl.py"},
    {"MarianForCausalLM", &bart_decoder_mappings, Origin::analysis, "transformers models/marian/modeling_marian.py"},
    {"PLBartForCausalLM", &bart_decoder_mappings, Origin::analysis, "transformers models/plbart/modeling_plbart.py"},
    {"BigBirdPegasusForCausalLM", &pre_norm_decoder_mappings, Origin::analysis,
     "transformers models/bigbird_pegasus/modeling_bigbird_pegasus.py"},
    {"MusicgenForCausalLM", &pre_norm_decoder_mappings, Origin::analysis,
     "transformers models/musicgen/modeling_musicgen.py"},
    {"MusicgenMelodyForCausalLM", &pre_norm_decoder_mappings, Origin::analysis,
     "transformers models/musicgen_melody/modeling_musicgen_melody.py"},
    {"ModernBertDecoderForCausalLM", &modernbert_decoder_mappings, Origin::analysis,
     "transformers models/modernbert_decoder/modeling_modernbert_decoder.py"},
    // BART-family decoders whose norms follow the residual add (post-norm).
    {"BartForCausalLM", &bart_decoder_mappings, Origin::analysis, "transformers models/bart/modeling_bart.py"},
    {"BlenderbotSmallForCausalLM", &bart_decoder_mappings, Origin::analysis,
     "transformers models/blenderbot_small/modeling_blenderbot_small.py"},
    {"TrOCRForCausalLM", &bart_decoder_mappings, Origin::analysis, "transformers models/trocr/modeling_trocr.py"},
    {"ProphetNetForCausalLM", &prophetnet_mappings, Origin::analysis,
     "transformers models/prophetnet/modeling_prophetnet.py"},
    // BART-family decoders that normalise before each sub-block (pre-norm).
    {"BlenderbotForCausalLM", &pre_norm_decoder_mappings, Origin::analysis,
     "transformers models/blenderbot/modeling_blenderbot.py"},
    {"MBartForCausalLM", &pre_norm_decoder_mappings, Origin::analysis, "transformers models/mbart/modeling_mbart.py"},
    {"PegasusForCausalLM", &pre_norm_decoder_mappings, Origin::analysis,
     "transformers models/pegasus/modeling_pegasus.py"},
    {"BioGptForCausalLM", &pre_norm_decoder_mappings, Origin::analysis,
     "transformers models/biogpt/modeling_biogpt.py"},
    {"XGLMForCausalLM", &pre_norm_decoder_mappings, Origin::analysis, "transformers models/xglm/modeling_xglm.py"},
    {"WhisperForCausalLM", &pre_norm_decoder_mappings, Origin::analysis,
     "transformers models/whisper/modeling_whisper.py"},
    {"PPFormulaNetForConditionalGeneration", &pp_formulanet_mappings, Origin::analysis,
     "transformers models/pp_formulanet/modeling_pp_formulanet.py"},
    // BERT-style post-norm stacks built as causal LMs; GIT's text layers are BERT layers (its
    // CLIP vision tower names its attention self_attn.*, which these patterns do not reach).
    {"BertGenerationDecoder", &bert_mappings, Origin::analysis,
     "transformers models/bert_generation/modeling_bert_generation.py"},
    {"BigBirdForCausalLM", &bert_mappings, Origin::analysis, "transformers models/big_bird/modeling_big_bird.py"},
    {"ElectraForCausalLM", &bert_mappings, Origin::analysis, "transformers models/electra/modeling_electra.py"},
    {"RoCBertForCausalLM", &bert_mappings, Origin::analysis, "transformers models/roc_bert/modeling_roc_bert.py"},
    {"RobertaForCausalLM", &bert_mappings, Origin::analysis, "transformers models/roberta/modeling_roberta.py"},
    {"XLMRobertaForCausalLM", &bert_mappings, Origin::analysis,
     "transformers models/xlm_roberta/modeling_xlm_roberta.py"},
    {"GitForCausalLM", &bert_mappings, Origin::analysis, "transformers models/git/modeling_git.py"},
    {"MegatronBertForCausalLM", &megatron_bert_mappings, Origin::analysis,
     "transformers models/megatron_bert/modeling_megatron_bert.py"},
    {"CpmAntForCausalLM", &cpmant_mappings, Origin::analysis, "transformers models/cpmant/modeling_cpmant.py"},
    {"RwkvForCausalLM", &rwkv_mappings, Origin::analysis, "transformers models/rwkv/modeling_rwkv.py"},
};

// Not registered: GPT2LMHeadModel and OpenAIGPTLMHeadModel (their projections are transformers
// Conv1D, weight [in, out]: not Linear, and scaling their weights as Linear ones would scale
// the wrong dimension; OpenAI GPT is post-norm besides), and
// XLNetLMHeadModel (post-norm, q/k/v/o are bare parameters, and its FFN crosses GELU: no
// exact group).
void register_gpt(awqmap::Registrar& r) {
  for (const auto& t : tables) r.add_static(t.architecture, *t.mappings, {t.origin, t.source});
  const awqmap::Provenance falcon{Origin::analysis, "transformers models/falcon/modeling_falcon.py"};
  r.add_dynamic("FalconForCausalLM", "falcon", build_falcon, falcon);
  r.add_dynamic("RWForCausalLM", "falcon", build_falcon, {Origin::peer, "AutoAWQ awq/models/falcon.py"});
  r.add_dynamic("OPTForCausalLM", "opt", build_opt, {Origin::analysis, "transformers models/opt/modeling_opt.py"});
  r.add_dynamic("MvpForCausalLM", "mvp", build_mvp, {Origin::analysis, "transformers models/mvp/modeling_mvp.py"});
  r.add_dynamic("RoFormerForCausalLM", "roformer", build_roformer,
                {Origin::analysis, "transformers models/roformer/modeling_roformer.py"});
  r.add_dynamic("Kosmos2ForConditionalGeneration", "kosmos2", build_kosmos2,
                {Origin::analysis, "transformers models/kosmos2/modeling_kosmos2.py"});
  r.add_dynamic(
      "Blip2ForConditionalGeneration", "blip2_language_model", build_blip2_language_model,
      {Origin::analysis, "transformers models/blip_2/modeling_blip_2.py, opt/modeling_opt.py, t5/modeling_t5.py"});
  r.add_dynamic("InstructBlipForConditionalGeneration", "blip2_language_model", build_blip2_language_model,
                {Origin::analysis,
                 "transformers models/instructblip/modeling_instructblip.py, opt/modeling_opt.py, t5/modeling_t5.py"});
  r.add_dynamic("XLMWithLMHeadModel", "xlm", build_xlm, {Origin::analysis, "transformers models/xlm/modeling_xlm.py"});
  r.add_dynamic("ReformerModelWithLMHead", "reformer", build_reformer,
                {Origin::analysis, "transformers models/reformer/modeling_reformer.py"});
  r.add_dynamic("xLSTMForCausalLM", "xlstm", build_xlstm,
                {Origin::analysis, "transformers models/xlstm/modeling_xlstm.py"});
}

}  // namespace

AWQMAP_PLUGIN("gpt", "0.1.0", register_gpt)
