// Vision-language and audio-language models (other than the Gemma family): a language model
// beside vision/audio towers, projectors and resamplers whose modules often reuse the decoder's
// names (q/k/v_proj without input_layernorm, gated MLPs without post_attention_layernorm). Every
// list here is scoped to the language model, so that the towers neither break the grouping nor
// get smoothed: AWQ calibrates on text, which never reaches them.
//
// MoE language models: the router (`mlp.gate`) reads the post-attention norm's output beside the
// experts and the shared experts, so it is a balance layer of that group. The balance targets of
// that group are one alternation, so that a layer closes its group whatever it holds (dense MLP,
// routed experts, shared experts): models that mix dense and MoE layers do not collapse.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>


#include <awqmap/plugin.hpp>
#include <awqmap/toolkit.hpp>

using awqmap::BuildResult;
using awqmap::MappingList;
using awqmap::plugin::Model;
using awqmap::Origin;

namespace {

// Scopes, as the peers spell them. `(thinker\.)?model\.layers` is anchored at the start: the
// Qwen Omni thinker's decoder (top level of the thinker class, `thinker.` in the full model),
// not its talker (`talker.model.layers`).
const std::string lm = "re:.*language_model.*";
const std::string llm = "re:.*llm.*";
const std::string text_model = "re:.*text_model.*";
const std::string thinker = "re:(thinker\\.)?model\\.layers\\.\\d+\\..*";

// Every consumer of the post-attention norm in a dense or MoE layer: the dense MLP (split or
// fused), the router, the routed experts and the shared expert(s) with their gate.
const std::string moe_consumers =
    "mlp\\.(gate|gate_proj|up_proj|gate_up_proj|experts\\.\\d+\\.(gate|up)_proj|shared_experts?\\.(gate|up|gate_up)_"
    "proj|"
    "shared_expert_gate)$";

// A Llama-style decoder (Llama, Mistral, Qwen2/3, InternLM3...) inside a multimodal model.
MappingList llama_under(const std::string& scope) {
  return {
      {scope + "input_layernorm$", {scope + "q_proj$", scope + "k_proj$", scope + "v_proj$"}},
      {scope + "v_proj$", {scope + "o_proj$"}},
      {scope + "post_attention_layernorm$", {scope + "gate_proj$", scope + "up_proj$"}},
      {scope + "up_proj$", {scope + "down_proj$"}},
  };
}

const MappingList lm_llama = llama_under(lm);
const MappingList llm_llama = llama_under(llm);
const MappingList thinker_llama = llama_under(thinker);
// Idefics2 names its Mistral decoder `text_model`; the perceiver resampler reuses every name.
const MappingList text_model_llama = llama_under(text_model);

// Towers whose names never collide with the decoder's (Qwen2-VL/Qwen3-VL: attn.qkv, mlp.fc1;
// FastVLM: a convolutional tower): the default list as it is.
const MappingList plain_llama = llama_under("re:.*");

// A Llama-style attention with an MoE (or mixed dense/MoE) MLP: the router joins the group.
MappingList moe_under(const std::string& scope) {
  return {
      {scope + "input_layernorm$", {scope + "q_proj$", scope + "k_proj$", scope + "v_proj$"}},
      {scope + "v_proj$", {scope + "o_proj$"}},
      {scope + "post_attention_layernorm$", {scope + moe_consumers}},
      {scope + "up_proj$", {scope + "down_proj$"}},
  };
}

// GLM-4.5V/4.6V, DeepSeek-OCR 2: dense first layers, then router + routed + shared experts.
const MappingList lm_moe = moe_under(lm);
// Qwen3-Omni-MoE thinker: the peer leaves the router out.
const MappingList thinker_moe = moe_under(thinker);
// Ovis 2.5 (Qwen3) and 2.6-MoE (Qwen3-MoE): the peer's list misses the router of the MoE one.
const MappingList llm_moe = moe_under(llm);

// DeepSeek multi-head latent attention (q or its low-rank q_a, and kv_a read the input norm;
// q_b and kv_b read their own low-rank norms) with a DeepSeek MoE.
MappingList mla_moe_under(const std::string& scope) {
  return {
      {scope + "input_layernorm$", {scope + "(q|q_a)_proj$", scope + "kv_a_proj_with_mqa$"}},
      {scope + "q_a_layernorm$", {scope + "q_b_proj$"}},
      {scope + "kv_a_layernorm$", {scope + "kv_b_proj$"}},
      {scope + "post_attention_layernorm$", {scope + moe_consumers}},
      {scope + "up_proj$", {scope + "down_proj$"}},
  };
}

// Kimi K2.5: a DeepSeek-V3 language model; the peer leaves the router out.
const MappingList kimi_k25 = mla_moe_under(lm);
// DeepSeek-VL2: a DeepSeek-V2 language model under `language`; the peer leaves the router out.
const MappingList deepseek_vl_v2 = mla_moe_under("re:.*language.*");

// GLM-4.1V and GLM-OCR: fused gate_up_proj (its last half is the linear half, so smoothing its
// last rows against down_proj is exact). The GLM post-norms (post_self_attn_layernorm,
// post_mlp_layernorm) feed the residual; `post_attention_layernorm` is the pre-MLP norm.
const MappingList glm4v = {
    {lm + "input_layernorm$", {lm + "q_proj$", lm + "k_proj$", lm + "v_proj$"}},
    {lm + "v_proj$", {lm + "o_proj$"}},
    {lm + "post_attention_layernorm$", {lm + "gate_up_proj$"}},
    {lm + "gate_up_proj$", {lm + "down_proj$"}},
};

// ERNIE 4.5-VL MoE: the post-attention norm feeds a dense MLP (first layers) or the text experts,
// the vision experts (each set with its own router) and the shared experts.
const MappingList ernie4_5_vl_moe = {
    {lm + "input_layernorm$", {lm + "q_proj$", lm + "k_proj$", lm + "v_proj$"}},
    {lm + "v_proj$", {lm + "o_proj$"}},
    {lm + "post_attention_layernorm$",
     {lm + "mlp\\.(gate_proj|up_proj|(text|vision)_moe\\.gate|(text|vision)_moe\\.experts\\.\\d+\\.(gate|up)_proj|"
           "shared_experts\\.(gate|up)_proj)$"}},
    {lm + "up_proj$", {lm + "down_proj$"}},
};

// MiniMax-M3-VL: sparse-attention layers add an indexer whose q/k read the input norm too; the
// shared experts are a fused gate_up_proj. The peer leaves the router out. Every MLP uses the
// clamped SwiGLU-OAI, (clamp(up) + 1) * glu, so no up -> down group is exact.
const MappingList minimax_m3_vl = {
    {lm + "input_layernorm$", {lm + "self_attn\\.(q_proj|k_proj|v_proj|indexer\\.q_proj|indexer\\.k_proj)$"}},
    {lm + "self_attn\\.v_proj$", {lm + "self_attn\\.o_proj$"}},
    {lm + "post_attention_layernorm$", {lm + moe_consumers}},
};

// GLM-5 Next: hyper-connections mix the residual streams around each sub-block, but the
// post-attention norm's output feeds the MLP alone (dense, or router + experts + shared experts).
// The SwiGLU inputs are clamped (swiglu_limit), so up_proj -> down_proj is not exact, and the
// linear-attention and sparse latent-attention mixers, whose consumers of the input norm are
// many, are left out.
const MappingList glm5_next = {
    {lm + "post_attention_layernorm$", {lm + moe_consumers}},
};

// Llama 3.2 Vision. Cross-attention layers have an input_layernorm too, but their k/v read the
// vision states: there it feeds cross_attn.q_proj alone. One alternation lets each kind of layer
// close its own group. v_proj -> o_proj only for self-attention, as the peer.
const MappingList mllama_text = {
    {"re:.*input_layernorm$", {"re:.*(self_attn\\.(q|k|v)_proj|cross_attn\\.q_proj)$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*mlp.gate_proj$", "re:.*mlp.up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};
// With the vision tower, whose layers reuse input_layernorm/post_attention_layernorm with fc1/fc2.
const MappingList mllama = {
    {lm + "input_layernorm$", {lm + "(self_attn\\.(q|k|v)_proj|cross_attn\\.q_proj)$"}},
    {lm + "self_attn.v_proj$", {lm + "self_attn.o_proj$"}},
    {lm + "post_attention_layernorm$", {lm + "mlp.gate_proj$", lm + "mlp.up_proj$"}},
    {lm + "up_proj$", {lm + "down_proj$"}},
};

// Cohere-style parallel block (one input norm feeds attention and MLP) under a vision tower.
const MappingList cohere_parallel = {
    {lm + "input_layernorm$",
     {lm + "self_attn.q_proj$", lm + "self_attn.k_proj$", lm + "self_attn.v_proj$", lm + "mlp.gate_proj$",
      lm + "mlp.up_proj$"}},
    {lm + "v_proj$", {lm + "o_proj$"}},
    {lm + "up_proj$", {lm + "down_proj$"}},
};

// Gemma 3's decoder under a SigLIP tower (whose v_proj has out_proj, not o_proj, beside it):
// llm-compressor's gemma3 list (no input-norm group: q/k norms sit between), scoped.
const MappingList gemma3_language_model = {
    {lm + "v_proj$", {lm + "o_proj$"}},
    {lm + "pre_feedforward_layernorm$", {lm + "gate_proj$", lm + "up_proj$"}},
    {lm + "up_proj$", {lm + "down_proj$"}},
};

// LFM2-VL: conv and attention layers share `operator_norm`; one alternation closes either.
const MappingList lfm2_vl = {
    {lm + "operator_norm$", {lm + "(conv.in_proj|self_attn.q_proj|self_attn.k_proj|self_attn.v_proj)$"}},
    {lm + "self_attn.v_proj$", {lm + "self_attn.out_proj$"}},
    {lm + "ffn_norm$", {lm + "feed_forward.w1$", lm + "feed_forward.w3$"}},
    {lm + "feed_forward.w3$", {lm + "feed_forward.w2$"}},
};

// Phi-4-multimodal: PEFT-wrapped projections. The speech/vision LoRA A matrices read the same
// input as `base_layer`, so they are balance layers too; a fused projection's LoRA B adds to its
// output unscaled, so nothing is smoothed into qkv_proj or gate_up_proj (no qkv->o, no gate_up->down).
const MappingList phi4mm = {
    {"re:.*input_layernorm$", {"re:.*qkv_proj\\.(base_layer|lora_A\\.\\w+)$"}},
    {"re:.*post_attention_layernorm$", {"re:.*gate_up_proj\\.(base_layer|lora_A\\.\\w+)$"}},
};

// EXAONE 4.5: the EXAONE 4 decoder (post-norms only, as OLMo 2), scoped.
const MappingList exaone4_5 = {
    {lm + "v_proj$", {lm + "o_proj$"}},
    {lm + "up_proj$", {lm + "down_proj$"}},
};

// Muse Glimmer: Gemma-style sandwich norms (post-norms feed the residual; the MLP reads
// pre_feedforward_layernorm). The attention's own `gate_proj` reads the input norm and gates the
// attention output channel-wise before o_proj, so it balances with q/k/v and v -> o stays exact.
const MappingList muse_glimmer = {
    {lm + "input_layernorm$",
     {lm + "self_attn.q_proj$", lm + "self_attn.k_proj$", lm + "self_attn.v_proj$", lm + "self_attn.gate_proj$"}},
    {lm + "self_attn.v_proj$", {lm + "self_attn.o_proj$"}},
    {lm + "pre_feedforward_layernorm$", {lm + "mlp.gate_proj$", lm + "mlp.up_proj$"}},
    {lm + "mlp.up_proj$", {lm + "mlp.down_proj$"}},
};

// PI0: a PaliGemma language model and a Gemma action expert attend jointly (the expert's queries
// read the language model's keys and values), so no v_proj -> o_proj is exact; each tower's norms
// feed only that tower's projections. The expert's norms may be timestep-adaptive (pi0.5), so
// only the language model is smoothed.
const std::string pi0_layer = "re:.*vlm\\.language_model\\.layers\\.\\d+\\.";
const MappingList pi0 = {
    {pi0_layer + "input_layernorm$",
     {pi0_layer + "self_attn\\.q_proj$", pi0_layer + "self_attn\\.k_proj$", pi0_layer + "self_attn\\.v_proj$"}},
    {pi0_layer + "post_attention_layernorm$", {pi0_layer + "mlp\\.gate_proj$", pi0_layer + "mlp\\.up_proj$"}},
    {pi0_layer + "mlp\\.up_proj$", {pi0_layer + "mlp\\.down_proj$"}},
};

// Florence-2: a BART encoder-decoder, post-norm (every norm also feeds the residual) with
// fc1 -> GELU -> fc2: only value -> output projection is exact, in self- and cross-attention.
const MappingList florence2 = {
    {lm + "v_proj$", {lm + "out_proj$"}},
};

// BLIP: a BERT-style (post-norm) text decoder: value -> attention output projection only.
const MappingList blip = {
    {"re:.*text_decoder.*attention\\.self\\.value$", {"re:.*text_decoder.*attention\\.output\\.dense$"}},
};

// Kosmos-2.5: a pre-norm text decoder without the inner attention norm, so v_proj -> out_proj
// is exact; its MLP is fc1 -> GELU -> ffn_layernorm -> fc2 (not exact). Scoped to the decoder
// layers: the image-to-text projection has a cross-attention of its own.
const std::string kosmos_layer = "re:.*text_model\\.model\\.layers\\.\\d+\\.";
const MappingList kosmos2_5 = {
    {kosmos_layer + "self_attn_layer_norm$",
     {kosmos_layer + "self_attn\\.q_proj$", kosmos_layer + "self_attn\\.k_proj$",
      kosmos_layer + "self_attn\\.v_proj$"}},
    {kosmos_layer + "self_attn\\.v_proj$", {kosmos_layer + "self_attn\\.out_proj$"}},
    {kosmos_layer + "final_layer_norm$", {kosmos_layer + "ffn\\.fc1$"}},
};

// UDOP: T5 blocks (pre-norm). Each sub-layer's layer_norm feeds self-attention q/k/v, or the
// cross-attention query alone (its k/v read the encoder output), or the ReLU MLP's `wi` (both
// `wi_0` and `wi_1` of a gated-activation MLP); wi -> ReLU -> wo is not exact.
const MappingList udop = {
    {"re:.*block\\.\\d+\\.layer\\.\\d+\\.layer_norm$",
     {"re:.*block\\.\\d+\\.layer\\.\\d+\\.(SelfAttention\\.(q|k|v)|EncDecAttention\\.q|DenseReluDense\\.(wi|wi_0|wi_1))"
      "$"}},
    {"re:.*(SelfAttention|EncDecAttention)\\.v$", {"re:.*(SelfAttention|EncDecAttention)\\.o$"}},
};

// Pix2Struct: a T5-style pre-norm text decoder beside the vision encoder (a tower, left out).
// Each sub-layer's layer_norm feeds only its own block: self-attention query/key/value, the
// cross-attention query (its key/value read the encoder output), or the gated MLP's wi_0/wi_1;
// act(wi_0(x)) * wi_1(x) makes wi_1 -> wo exact, and value -> output holds per head.
const std::string p2s_layer = "re:.*decoder\\.layer\\.\\d+\\.";
const MappingList pix2struct = {
    {p2s_layer + "self_attention\\.layer_norm$", {p2s_layer + "self_attention\\.attention\\.(query|key|value)$"}},
    {p2s_layer + "self_attention\\.attention\\.value$", {p2s_layer + "self_attention\\.attention\\.output$"}},
    {p2s_layer + "encoder_decoder_attention\\.layer_norm$",
     {p2s_layer + "encoder_decoder_attention\\.attention\\.query$"}},
    {p2s_layer + "encoder_decoder_attention\\.attention\\.value$",
     {p2s_layer + "encoder_decoder_attention\\.attention\\.output$"}},
    {p2s_layer + "mlp\\.layer_norm$", {p2s_layer + "mlp\\.DenseReluDense\\.wi_(0|1)$"}},
    {p2s_layer + "mlp\\.DenseReluDense\\.wi_1$", {p2s_layer + "mlp\\.DenseReluDense\\.wo$"}},
};

// InstructBLIP-Video with an OPT language model. OPT normalises before each sub-block unless
// `do_layer_norm_before` is false (OPT-350m), where the norms follow the residual add and only
// v_proj -> out_proj is exact; fc1 -> ReLU -> fc2 never is.
// The decoder-level `final_layer_norm` (after the last layer) is no smooth layer: anchored on layers.
const std::string opt_layer = "re:.*language_model.*layers\\.\\d+\\.";
const MappingList opt_pre_norm = {
    {opt_layer + "self_attn_layer_norm$",
     {opt_layer + "self_attn\\.q_proj$", opt_layer + "self_attn\\.k_proj$", opt_layer + "self_attn\\.v_proj$"}},
    {opt_layer + "self_attn\\.v_proj$", {opt_layer + "self_attn\\.out_proj$"}},
    {opt_layer + "final_layer_norm$", {opt_layer + "fc1$"}},
};
const MappingList opt_post_norm = {
    {opt_layer + "self_attn\\.v_proj$", {opt_layer + "self_attn\\.out_proj$"}},
};

BuildResult build_opt_language_model(const Model& model) {
  // The Vicuna checkpoints carry a Llama language model (text_config.model_type "llama"); without
  // a text model type of its own the config falls back to the top-level one, and the default
  // text model is OPT.
  const auto type = awqmap::toolkit::config_field(model, "model_type");
  if (type && type->is_string() && *type == "llama") return BuildResult::use(lm_llama);
  if (type && !(type->is_string() && (*type == "opt" || *type == "instructblipvideo")))
    return BuildResult::decline("text_config.model_type " + type->dump() +
                                " is neither opt nor llama, the language models mapped here");
  const auto pre = awqmap::toolkit::config_field(model, "do_layer_norm_before");
  if (pre && !pre->is_boolean()) return BuildResult::decline("config do_layer_norm_before is not a boolean");
  // OPTConfig's default is true.
  return BuildResult::use(!pre || pre->get<bool>() ? opt_pre_norm : opt_post_norm);
}

// MiniCPM-V 4.6 and Intern-S2-Preview: a Qwen3.5 hybrid language model (linear- and
// full-attention layers, from text_config.layer_types; dense, or MoE with a shared expert)
// beside a vision tower that shares its attention names. The Qwen3.5 builder gives the
// attention groups, scoped here to the language model; the post-attention group is this
// plugin's one alternation of every MLP consumer, which needs no MoE detection (a missed one
// would drop the router) and lets dense and MoE layers close their own groups.
BuildResult build_hybrid_language_model(const Model& model) {
  static const awqmap::toolkit::HybridAttentionOptions exact{{}, true};
  BuildResult built = awqmap::toolkit::build_hybrid_attention_mappings(model, exact);
  if (!built.mappings) return built;
  const std::string any = "re:.*";
  auto scope = [&](std::string& pattern) {
    if (pattern.compare(0, any.size(), any) != 0) return false;
    pattern.insert(any.size(), "language_model.*");
    return true;
  };
  const std::string post = "post_attention_layernorm$";
  MappingList out;
  bool mlp_added = false;
  for (auto& m : *built.mappings) {
    bool is_post = m.smooth_layer.size() >= post.size() &&
                   m.smooth_layer.compare(m.smooth_layer.size() - post.size(), post.size(), post) == 0;
    if (is_post) {
      if (!mlp_added) out.push_back({lm + post, {lm + moe_consumers}});
      mlp_added = true;
      continue;
    }
    bool ok = scope(m.smooth_layer);
    for (auto& b : m.balance_layers) ok = scope(b) && ok;
    if (!ok)
      return BuildResult::decline("the hybrid attention builder gave a pattern not starting with re:.* (" +
                                  m.smooth_layer + "), which cannot be scoped to the language model");
    out.push_back(std::move(m));
  }
  if (!mlp_added) return BuildResult::decline("the hybrid attention builder gave no post_attention_layernorm mapping");
  return BuildResult::use(std::move(out));
}

// Cosmos3 Edge: a Llama decoder whose MLP is fc1 -> ReLU-squared -> fc2; an activation lies
// between them, so only the post-attention norm -> fc1 is exact on that side.
const MappingList cosmos3_edge = {
    {lm + "input_layernorm$", {lm + "self_attn.q_proj$", lm + "self_attn.k_proj$", lm + "self_attn.v_proj$"}},
    {lm + "self_attn.v_proj$", {lm + "self_attn.o_proj$"}},
    {lm + "post_attention_layernorm$", {lm + "mlp.fc1$"}},
};

// Aria: routed experts are grouped GEMMs (`experts.fc1`, no Linear) that read the post-attention
// norm beside the router and the shared experts, so that group is left out; the shared
// experts' gated up -> down stays.
const MappingList aria = {
    {lm + "input_layernorm$", {lm + "self_attn.q_proj$", lm + "self_attn.k_proj$", lm + "self_attn.v_proj$"}},
    {lm + "self_attn.v_proj$", {lm + "self_attn.o_proj$"}},
    {lm + "shared_experts.up_proj$", {lm + "shared_experts.down_proj$"}},
};

// Fuyu's Persimmon decoder: the fused query_key_value is interleaved per head (v rows are not
// last), so no qkv -> dense; dense_h_to_4h -> ReLU-squared -> dense_4h_to_h is not exact.
const MappingList fuyu = {
    {lm + "input_layernorm$", {lm + "self_attn.query_key_value$"}},
    {lm + "post_attention_layernorm$", {lm + "mlp.dense_h_to_4h$"}},
};

// Phi-4-multimodal (transformers' own class): Phi-3 layers at `model.layers` (q, k, v fused with
// v last; gate, up fused with up last) beside audio and vision towers under
// `model.embed_tokens_extend` that reuse o_proj, gate_up_proj and down_proj: anchored.
const std::string phi4_layer = "re:model\\.layers\\.\\d+\\.";
const MappingList phi4_multimodal = {
    {phi4_layer + "input_layernorm$", {phi4_layer + "self_attn\\.qkv_proj$"}},
    {phi4_layer + "self_attn\\.qkv_proj$", {phi4_layer + "self_attn\\.o_proj$"}},
    {phi4_layer + "post_attention_layernorm$", {phi4_layer + "mlp\\.gate_up_proj$"}},
    {phi4_layer + "mlp\\.gate_up_proj$", {phi4_layer + "mlp\\.down_proj$"}},
};

// IDEFICS (1): Llama layers plus gated cross-attention layers whose input_layernorm feeds only
// cross_attn.q_proj (k/v read the image states); one alternation lets either kind close its
// group. The cross-attention's v -> o is left out: its values come from images, which text
// calibration does not feed. Anchored: the CLIP tower and the perceiver reuse q/k/v_proj.
const std::string idefics_layer = "re:model\\.(layers|gated_cross_attn_layers)\\.\\d+\\.";
const MappingList idefics = {
    {idefics_layer + "input_layernorm$", {idefics_layer + "(self_attn\\.(q|k|v)_proj|cross_attn\\.q_proj)$"}},
    {"re:model\\.layers\\.\\d+\\.self_attn\\.v_proj$", {"re:model\\.layers\\.\\d+\\.self_attn\\.o_proj$"}},
    {idefics_layer + "post_attention_layernorm$",
     {idefics_layer + "mlp\\.gate_proj$", idefics_layer + "mlp\\.up_proj$"}},
    {idefics_layer + "mlp\\.up_proj$", {idefics_layer + "mlp\\.down_proj$"}},
};

// MiniMax-M3-VL's text model alone (no towers): the same groups as the VLM.
const MappingList minimax_m3_text = {
    {"re:.*input_layernorm$", {"re:.*self_attn\\.(q_proj|k_proj|v_proj|indexer\\.q_proj|indexer\\.k_proj)$"}},
    {"re:.*self_attn\\.v_proj$", {"re:.*self_attn\\.o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*" + moe_consumers}},
};

// The clamp bound of each layer from a per-layer list (`swiglu_limits`): a number, or null or 0
// for none. Empty when the config has no list; nullopt (with `why`) when it is malformed.
std::optional<std::vector<bool>> clamped_layers(const Model& model, const char* key, std::int64_t layers,
                                                std::string& why) {
  std::vector<bool> out(static_cast<std::size_t>(layers), false);
  const auto list = awqmap::toolkit::config_field(model, key);
  if (!list) return out;
  if (!list->is_array()) {
    why = std::string("config ") + key + " is not a list";
    return std::nullopt;
  }
  if (list->size() < out.size()) {
    why = std::string("config ") + key + " has fewer entries than num_hidden_layers";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& v = (*list)[i];
    if (!v.is_null() && !v.is_number()) {
      why = std::string("config ") + key + " holds something other than a number or null";
      return std::nullopt;
    }
    out[i] = v.is_number() && v.get<double>() != 0.0;
  }
  return out;
}

// Step 3.7: the attention's per-head gate g_proj reads the input norm (it scales each head's
// output, which leaves v -> o exact); dense and MoE layers (router, experts, shared expert) mix.
// Layers whose SwiGLU is clamped (`swiglu_limits` for the routed experts, `swiglu_limits_shared`
// for the shared expert and the dense MLP) get no up -> down group there.
BuildResult build_step3p7(const Model& model) {
  std::optional<std::int64_t> layers = awqmap::toolkit::config_integer(model, "num_hidden_layers");
  if (!layers || *layers < 1 || *layers > awqmap::toolkit::max_layers)
    return BuildResult::decline("config num_hidden_layers is missing or out of range");
  std::string why;
  auto routed = clamped_layers(model, "swiglu_limits", *layers, why);
  if (!routed) return BuildResult::decline(why);
  auto shared = clamped_layers(model, "swiglu_limits_shared", *layers, why);
  if (!shared) return BuildResult::decline(why);
  MappingList out = {
      {lm + "input_layernorm$", {lm + "self_attn\\.(q|k|v|g)_proj$"}},
      {lm + "self_attn\\.v_proj$", {lm + "self_attn\\.o_proj$"}},
      {lm + "post_attention_layernorm$", {lm + moe_consumers}},
  };
  // Up -> down where the layers of one kind are not clamped: unscoped when none is.
  auto up_down = [&](const std::vector<bool>& clamped, const std::string& up, const std::string& down) {
    std::vector<std::size_t> free;
    for (std::size_t i = 0; i < clamped.size(); ++i)
      if (!clamped[i]) free.push_back(i);
    if (free.empty()) return;
    std::string layer = free.size() == clamped.size()
                            ? lm + "\\.layers\\.\\d+\\."
                            : lm + "\\.layers\\.(" + awqmap::toolkit::index_alternation(free) + ")\\.";
    out.push_back({layer + up, {layer + down}});
  };
  up_down(*routed, "mlp\\.experts\\.\\d+\\.up_proj$", "mlp\\.experts\\.\\d+\\.down_proj$");
  up_down(*shared, "mlp\\.(shared_experts\\.)?up_proj$", "mlp\\.(shared_experts\\.)?down_proj$");
  return BuildResult::use(std::move(out));
}

// Inkling: the attention's r_proj (relative-position states) reads the input norm beside q/k/v;
// v passes a depthwise short convolution (no bias, plus its input), a per-channel linear map,
// so v -> o stays exact. A dense layer's MLP is gated (down(act(gate) * up) * global_scale). In
// a sparse layer the post-attention norm feeds the router, the routed experts and the shared
// experts, whose fused gate/up tensors [shared, inter, hidden] are no modules: that group is
// left out. Routed and shared experts are gated, so their up -> down stays.
BuildResult build_inkling(const Model& model) {
  std::optional<std::int64_t> layers = awqmap::toolkit::config_integer(model, "num_hidden_layers");
  if (!layers || *layers < 1 || *layers > awqmap::toolkit::max_layers)
    return BuildResult::decline("config num_hidden_layers is missing or out of range");
  std::vector<std::size_t> dense;
  if (const auto types = awqmap::toolkit::config_field(model, "mlp_layer_types")) {
    if (!types->is_array() || types->size() < static_cast<std::size_t>(*layers))
      return BuildResult::decline("config mlp_layer_types is not a list of num_hidden_layers entries");
    for (std::size_t i = 0; i < static_cast<std::size_t>(*layers); ++i) {
      const auto& t = (*types)[i];
      if (!t.is_string() || (t != "dense" && t != "sparse"))
        return BuildResult::decline("config mlp_layer_types holds something other than \"dense\" or \"sparse\"");
      if (t == "dense") dense.push_back(i);
    }
  } else {
    // transformers: the first dense_mlp_idx layers are dense (default none).
    std::optional<std::int64_t> first = awqmap::toolkit::config_integer(model, "dense_mlp_idx");
    for (std::int64_t i = 0; first && i < std::min(*first, *layers); ++i) dense.push_back(static_cast<std::size_t>(i));
  }
  MappingList out = {
      {lm + "input_layernorm$", {lm + "self_attn\\.(q|k|v|r)_proj$"}},
      {lm + "self_attn\\.v_proj$", {lm + "self_attn\\.o_proj$"}},
  };
  if (!dense.empty()) {
    const std::string layer = lm + "\\.layers\\.(" + awqmap::toolkit::index_alternation(dense) + ")\\.";
    out.push_back({layer + "post_attention_layernorm$", {layer + "mlp\\.gate_proj$", layer + "mlp\\.up_proj$"}});
  }
  out.push_back(
      {lm + "mlp\\.((shared_)?experts\\.\\d+\\.)?up_proj$", {lm + "mlp\\.((shared_)?experts\\.\\d+\\.)?down_proj$"}});
  return BuildResult::use(std::move(out));
}

// HunYuanVL: a HunYuan dense decoder (q/k norms after the projections) at `model.layers` or, in
// other revisions, `model.language_model.layers`, beside a vision tower (`vit` or `model.vit`)
// whose blocks reuse input_layernorm, q/k/v/o_proj and post_attention_layernorm: anchored.
const MappingList hunyuan_vl = llama_under("re:model\\.(language_model\\.)?layers\\.\\d+\\..*");

// Chameleon: Llama-style layers at `model.layers` (q/k norms on q and k only) beside a VQ-VAE.
// With `swin_norm` the norms follow attention and MLP (post-norm on the branch), so each
// sub-block reads the residual stream itself: only v -> o and up -> down are exact.
const std::string chameleon_layer = "re:model\\.layers\\.\\d+\\..*";
const MappingList chameleon_pre_norm = llama_under(chameleon_layer);
const MappingList chameleon_swin_norm = {
    {chameleon_layer + "self_attn\\.v_proj$", {chameleon_layer + "self_attn\\.o_proj$"}},
    {chameleon_layer + "mlp\\.up_proj$", {chameleon_layer + "mlp\\.down_proj$"}},
};

BuildResult build_chameleon(const Model& model) {
  const auto swin = awqmap::toolkit::config_field(model, "swin_norm");
  if (swin && !swin->is_boolean()) return BuildResult::decline("config swin_norm is not a boolean");
  // ChameleonConfig's default is false.
  return BuildResult::use(swin && swin->get<bool>() ? chameleon_swin_norm : chameleon_pre_norm);
}

struct Table {
  const char* architecture;
  const MappingList* mappings;
  Origin origin;
  const char* source;
};

const Table tables[] = {
    // Llama-style language models beside towers that reuse the decoder's names.
    {"LlavaForConditionalGeneration", &lm_llama, Origin::peer, "AutoAWQ awq/models/llava.py"},
    {"LlavaNextForConditionalGeneration", &lm_llama, Origin::peer, "AutoAWQ awq/models/llava_next.py"},
    {"LlavaOnevisionForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/llava_onevision/modeling_llava_onevision.py"},
    {"VipLlavaForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/vipllava/modeling_vipllava.py"},
    {"LightOnOcrForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/lighton_ocr/modeling_lighton_ocr.py"},
    {"Qwen2AudioForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/qwen2_audio/modeling_qwen2_audio.py"},
    {"GlmAsrForConditionalGeneration", &lm_llama, Origin::peer, "GPTQModel definitions/glmasr.py"},
    {"VoxtralForConditionalGeneration", &lm_llama, Origin::peer, "GPTQModel definitions/voxtral.py"},
    // The delay conditioning multiplies the post-attention norm's output channel-wise.
    {"VoxtralRealtimeForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/voxtral_realtime/modeling_voxtral_realtime.py"},
    {"DeepseekVLForConditionalGeneration", &lm_llama, Origin::peer, "GPTQModel definitions/deepseek_vl.py"},
    {"DeepseekVLHybridForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/deepseek_vl_hybrid/modeling_deepseek_vl_hybrid.py"},
    {"JanusForConditionalGeneration", &lm_llama, Origin::analysis, "transformers models/janus/modeling_janus.py"},
    {"InternVLForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/internvl/modeling_internvl.py"},
    {"InternVLChatModel", &lm_llama, Origin::peer, "GPTQModel definitions/internvl_chat.py"},
    {"InternS1ForConditionalGeneration", &lm_llama, Origin::peer, "GPTQModel definitions/interns1.py"},
    {"Ovis2ForConditionalGeneration", &lm_llama, Origin::peer, "GPTQModel definitions/ovis2.py"},
    {"MageVLForConditionalGeneration", &lm_llama, Origin::peer, "GPTQModel definitions/mage_vl.py"},
    {"QianfanOCRForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/qianfan_ocr/modeling_qianfan_ocr.py"},
    {"Cosmos3OmniForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/cosmos3_omni/modeling_cosmos3_omni.py"},
    // The audio projector holds encoder layers with input_layernorm and q/k/v of its own.
    {"FunAsrNanoForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/fun_asr_nano/modeling_fun_asr_nano.py"},
    {"Idefics2ForConditionalGeneration", &text_model_llama, Origin::analysis,
     "transformers models/idefics2/modeling_idefics2.py"},
    {"MiniCPMV", &llm_llama, Origin::peer, "GPTQModel definitions/minicpmv.py"},
    {"MiniCPMO", &llm_llama, Origin::peer, "GPTQModel definitions/minicpm_o.py"},
    {"Ovis", &llm_llama, Origin::peer, "GPTQModel definitions/ovis.py"},
    {"Qwen2VLForConditionalGeneration", &plain_llama, Origin::peer, "AutoAWQ awq/models/qwen2vl.py"},
    {"Qwen3VLForConditionalGeneration", &plain_llama, Origin::peer, "GPTQModel definitions/qwen3_vl.py"},
    {"LlavaQwen2ForCausalLM", &plain_llama, Origin::peer, "GPTQModel definitions/llava_qwen2.py"},
    // Qwen Omni: the thinker's decoder only (the talker is not run by text calibration).
    {"Qwen2_5OmniForConditionalGeneration", &thinker_llama, Origin::peer, "AutoAWQ awq/models/qwen2_5_omni.py"},
    {"Qwen3OmniMoeForConditionalGeneration", &thinker_moe, Origin::analysis,
     "transformers models/qwen3_omni_moe/modeling_qwen3_omni_moe.py"},
    {"Qwen3OmniMoeThinkerForConditionalGeneration", &thinker_moe, Origin::analysis,
     "transformers models/qwen3_omni_moe/modeling_qwen3_omni_moe.py"},
    // MoE language models.
    {"Glm4vMoeForConditionalGeneration", &lm_moe, Origin::analysis,
     "transformers models/glm4v_moe/modeling_glm4v_moe.py"},
    {"DeepseekOcr2ForConditionalGeneration", &lm_moe, Origin::analysis, "GPTQModel definitions/deepseek_ocr2.py"},
    {"Ovis2_5", &llm_moe, Origin::analysis, "GPTQModel definitions/ovis2_5.py"},
    {"Kimi_K25ForConditionalGeneration", &kimi_k25, Origin::analysis, "GPTQModel definitions/kimi_k25.py"},
    {"DeepseekVLV2ForCausalLM", &deepseek_vl_v2, Origin::analysis, "GPTQModel definitions/deepseek_vl_v2.py"},
    {"Ernie4_5_VLMoeForConditionalGeneration", &ernie4_5_vl_moe, Origin::analysis,
     "transformers models/ernie4_5_vl_moe/modeling_ernie4_5_vl_moe.py"},
    {"MiniMaxM3VLForConditionalGeneration", &minimax_m3_vl, Origin::analysis,
     "transformers models/minimax_m3_vl/modeling_minimax_m3_vl.py"},
    {"MiniMaxM3SparseForConditionalGeneration", &minimax_m3_vl, Origin::analysis,
     "transformers models/minimax_m3_vl/modeling_minimax_m3_vl.py"},
    // Other decoders.
    {"Glm5NextForConditionalGeneration", &glm5_next, Origin::analysis,
     "transformers models/glm5_next/modular_glm5_next.py"},
    {"Glm4vForConditionalGeneration", &glm4v, Origin::peer, "GPTQModel definitions/glm4v.py"},
    {"GlmOcrForConditionalGeneration", &glm4v, Origin::peer, "GPTQModel definitions/glm_ocr.py"},
    {"MllamaForCausalLM", &mllama_text, Origin::analysis, "transformers models/mllama/modeling_mllama.py"},
    {"MllamaForConditionalGeneration", &mllama, Origin::analysis, "transformers models/mllama/modeling_mllama.py"},
    {"CohereCompassForConditionalGeneration", &cohere_parallel, Origin::peer,
     "GPTQModel definitions/cohere_compass.py"},
    {"Lfm2VlForConditionalGeneration", &lfm2_vl, Origin::peer, "GPTQModel definitions/lfm2_vl.py"},
    {"Phi4MMForCausalLM", &phi4mm, Origin::analysis, "GPTQModel definitions/phi4.py"},
    {"Exaone4_5_ForConditionalGeneration", &exaone4_5, Origin::analysis,
     "transformers models/exaone4_5/modeling_exaone4_5.py"},
    {"MuseGlimmerForConditionalGeneration", &muse_glimmer, Origin::analysis,
     "transformers models/muse_glimmer/modular_muse_glimmer.py"},
    {"PI0ForConditionalGeneration", &pi0, Origin::analysis, "transformers models/pi0/modeling_pi0.py"},
    {"Florence2ForConditionalGeneration", &florence2, Origin::analysis,
     "transformers models/florence2/modeling_florence2.py"},
    {"BlipForConditionalGeneration", &blip, Origin::analysis, "transformers models/blip/modeling_blip_text.py"},
    {"Kosmos2_5ForConditionalGeneration", &kosmos2_5, Origin::analysis,
     "transformers models/kosmos2_5/modeling_kosmos2_5.py"},
    {"UdopForConditionalGeneration", &udop, Origin::analysis, "transformers models/udop/modeling_udop.py"},
    {"Pix2StructForConditionalGeneration", &pix2struct, Origin::analysis,
     "transformers models/pix2struct/modeling_pix2struct.py"},
    // llm-compressor registers these with unscoped lists whose patterns also match the vision
    // or audio tower (q/k/v without input_layernorm, gated vision MLPs), so real models fail;
    // the same groups, scoped to the language model, resolve.
    {"Qwen2_5_VLForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/qwen2_5_vl/modeling_qwen2_5_vl.py"},
    {"Mistral3ForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/mistral3/modeling_mistral3.py"},
    {"Qwen2_5OmniThinkerForConditionalGeneration", &thinker_llama, Origin::analysis,
     "transformers models/qwen2_5_omni/modeling_qwen2_5_omni.py"},
    {"Qwen2_5OmniModel", &thinker_llama, Origin::analysis, "transformers models/qwen2_5_omni/modeling_qwen2_5_omni.py"},
    {"Cohere2VisionForConditionalGeneration", &cohere_parallel, Origin::analysis,
     "transformers models/cohere2_vision/modeling_cohere2_vision.py"},
    {"Gemma3ForConditionalGeneration", &gemma3_language_model, Origin::analysis,
     "transformers models/gemma3/modeling_gemma3.py"},
    // Vision/video-language models whose towers reuse the decoder's names.
    {"LlavaNextVideoForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/llava_next_video/modeling_llava_next_video.py"},
    {"VideoLlavaForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/video_llava/modeling_video_llava.py"},
    {"VideoLlama3ForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/video_llama_3/modeling_video_llama_3.py"},
    {"PaddleOCRVLForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/paddleocr_vl/modeling_paddleocr_vl.py"},
    {"Idefics3ForConditionalGeneration", &text_model_llama, Origin::analysis,
     "transformers models/idefics3/modeling_idefics3.py"},
    {"SmolVLMForConditionalGeneration", &text_model_llama, Origin::analysis,
     "transformers models/smolvlm/modeling_smolvlm.py"},
    {"AyaVisionForConditionalGeneration", &cohere_parallel, Origin::analysis,
     "transformers models/aya_vision/modeling_aya_vision.py"},
    {"Cosmos3EdgeForConditionalGeneration", &cosmos3_edge, Origin::analysis,
     "transformers models/cosmos3_edge/modular_cosmos3_edge.py"},
    {"AriaForConditionalGeneration", &aria, Origin::analysis, "transformers models/aria/modeling_aria.py"},
    {"FuyuForCausalLM", &fuyu, Origin::analysis, "transformers models/persimmon/modeling_persimmon.py"},
    {"Phi4MultimodalForCausalLM", &phi4_multimodal, Origin::analysis,
     "transformers models/phi4_multimodal/modeling_phi4_multimodal.py"},
    {"IdeficsForVisionText2Text", &idefics, Origin::analysis, "transformers models/idefics/modeling_idefics.py"},
    // GLM-4.6V's language model is GLM-4.1V's (dense, fused gate_up_proj) or GLM-4.5V's (MoE).
    {"Glm46VForConditionalGeneration", &lm_moe, Origin::analysis, "transformers models/glm46v/modeling_glm46v.py"},
    {"Qwen3VLMoeForConditionalGeneration", &lm_moe, Origin::analysis,
     "transformers models/qwen3_vl_moe/modeling_qwen3_vl_moe.py"},
    {"MiniMaxM3VLForCausalLM", &minimax_m3_text, Origin::analysis,
     "transformers models/minimax_m3_vl/modeling_minimax_m3_vl.py"},
    // Llama-style language models beside towers (no tree: names from the modeling code).
    {"PerceptionLMForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/perception_lm/modeling_perception_lm.py"},
    {"Granite4VisionForConditionalGeneration", &lm_llama, Origin::analysis,
     "transformers models/granite4_vision/modeling_granite4_vision.py"},
    {"Emu3ForConditionalGeneration", &text_model_llama, Origin::analysis, "transformers models/emu3/modeling_emu3.py"},
    {"HunYuanVLForConditionalGeneration", &hunyuan_vl, Origin::analysis,
     "transformers models/hunyuan_vl/modular_hunyuan_vl.py"},
};

void register_multimodal(awqmap::Registrar& r) {
  for (const auto& t : tables) r.add_static(t.architecture, *t.mappings, {t.origin, t.source});
  r.add_dynamic("MiniCPMV4_6ForConditionalGeneration", "hybrid_language_model", build_hybrid_language_model,
                {Origin::analysis, "transformers models/minicpmv4_6/modeling_minicpmv4_6.py"});
  r.add_dynamic("InternS2PreviewForConditionalGeneration", "hybrid_language_model", build_hybrid_language_model,
                {Origin::analysis, "GPTQModel definitions/intern_s2_preview.py"});
  r.add_dynamic("Step3p7ForConditionalGeneration", "step3p7_language_model", build_step3p7,
                {Origin::analysis, "transformers models/step3p7/modular_step3p7.py"});
  r.add_dynamic("InklingForConditionalGeneration", "inkling_language_model", build_inkling,
                {Origin::analysis, "transformers models/inkling/modular_inkling.py"});
  r.add_dynamic("ChameleonForConditionalGeneration", "chameleon_norm_placement", build_chameleon,
                {Origin::analysis, "transformers models/chameleon/modeling_chameleon.py"});
  r.add_dynamic("InstructBlipVideoForConditionalGeneration", "opt_language_model", build_opt_language_model,
                {Origin::analysis, "transformers models/opt/modeling_opt.py"});
}

}  // namespace

AWQMAP_PLUGIN("multimodal", "0.1.0", register_multimodal)
