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
#include <string>

#include <awqmap/plugin.hpp>
#include <awqmap/toolkit.hpp>

using awqmap::BuildResult;
using awqmap::MappingList;
using awqmap::ModelView;
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
// cross-attention query alone (its k/v read the encoder output), or the ReLU MLP's `wi`;
// wi -> ReLU -> wo is not exact.
const MappingList udop = {
    {"re:.*block\\.\\d+\\.layer\\.\\d+\\.layer_norm$",
     {"re:.*block\\.\\d+\\.layer\\.\\d+\\.(SelfAttention\\.(q|k|v)|EncDecAttention\\.q|DenseReluDense\\.wi)$"}},
    {"re:.*(SelfAttention|EncDecAttention)\\.v$", {"re:.*(SelfAttention|EncDecAttention)\\.o$"}},
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

BuildResult build_opt_language_model(const ModelView& model) {
  const nlohmann::json* pre = awqmap::toolkit::config_field(model, "do_layer_norm_before");
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
BuildResult build_hybrid_language_model(const ModelView& model) {
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
};

void register_multimodal(awqmap::Registrar& r) {
  for (const auto& t : tables) r.add_static(t.architecture, *t.mappings, {t.origin, t.source});
  r.add_dynamic("MiniCPMV4_6ForConditionalGeneration", "hybrid_language_model", build_hybrid_language_model,
                {Origin::analysis, "transformers models/minicpmv4_6/modeling_minicpmv4_6.py"});
  r.add_dynamic("InternS2PreviewForConditionalGeneration", "hybrid_language_model", build_hybrid_language_model,
                {Origin::analysis, "GPTQModel definitions/intern_s2_preview.py"});
  r.add_dynamic("InstructBlipVideoForConditionalGeneration", "opt_language_model", build_opt_language_model,
                {Origin::analysis, "transformers models/opt/modeling_opt.py"});
}

}  // namespace

AWQMAP_PLUGIN("multimodal", "0.1.0", register_multimodal)
