// The default mappings and every static architecture table (docs/semantics.md §3), as llm-compressor keeps
// them. Each list that differs from the default says why.
#include <awqmap/plugin.hpp>

#include "vision_language_checkpoints.hpp"

using awqmap::Mapping;
using awqmap::MappingList;

namespace {

const MappingList default_mappings = {
    {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// MoE blocks: the router (`mlp.gate`) reads the same normed input as the experts, and only
// the experts' projections are balanced (a shared `gate_proj` elsewhere must not join the set).
const MappingList moe_mappings = {
    {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*post_attention_layernorm$",
     {"re:.*mlp.gate$", "re:.*mlp.experts.*.gate_proj$", "re:.*mlp.experts.*.up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// Llama 4 names its MoE block `feed_forward` with a `router`, not `mlp` with a `gate`.
const MappingList llama4_mappings = {
    {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*post_attention_layernorm$",
     {"re:.*feed_forward.router$", "re:.*feed_forward.*.gate_proj$", "re:.*feed_forward.*.up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// Phi-3 fuses q/k/v into `qkv_proj` and gate/up into `gate_up_proj`.
const MappingList phi_mappings = {
    {"re:.*input_layernorm$", {"re:.*qkv_proj$"}},
    {"re:.*qkv_proj$", {"re:.*o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*gate_up_proj$"}},
    {"re:.*gate_up_proj$", {"re:.*down_proj$"}},
};

// Gemma 2 normalises after attention too (`post_attention_layernorm` feeds the residual, not
// the MLP); the MLP reads `pre_feedforward_layernorm`.
const MappingList gemma2_mappings = {
    {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*pre_feedforward_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// Gemma 3 adds q/k norms between input_layernorm and the attention projections, so the input
// norm no longer scales q/k/v directly: its mapping is dropped.
const MappingList gemma3_mappings = {
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*pre_feedforward_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// Cohere runs attention and MLP in parallel from one input norm: it feeds all five
// projections, and there is no post-attention norm.
const MappingList cohere_mappings = {
    {"re:.*input_layernorm$",
     {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$", "re:.*mlp.gate_proj$",
      "re:.*mlp.up_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// DeepSeek's multi-head latent attention: q (or its low-rank q_a) and the joint kv_a
// projection read the input norm; q_b and kv_b read their own low-rank norms. The router
// `mlp.gate` joins the post-attention set.
const MappingList deepseek_mappings = {
    {"re:.*input_layernorm$", {"re:.*(q|q_a)_proj$", "re:.*kv_a_proj_with_mqa$"}},
    {"re:.*q_a_layernorm$", {"re:.*q_b_proj$"}},
    {"re:.*kv_a_layernorm$", {"re:.*kv_b_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*mlp.gate$", "re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// GLM-4 MoE Lite keeps DeepSeek's attention, but its first layers are dense MLPs without a
// router, so `mlp.gate` is left out of the post-attention set.
const MappingList glm4_moe_lite_mappings = {
    {"re:.*input_layernorm$", {"re:.*(q|q_a)_proj$", "re:.*kv_a_proj_with_mqa$"}},
    {"re:.*q_a_layernorm$", {"re:.*q_b_proj$"}},
    {"re:.*kv_a_layernorm$", {"re:.*kv_b_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// BLOOM: fused query_key_value, and the MLP's activation module feeds dense_4h_to_h.
const MappingList bloom_mappings = {
    {"re:.*input_layernorm$", {"re:.*query_key_value$"}},
    {"re:.*post_attention_layernorm$", {"re:.*dense_h_to_4h$"}},
    {"re:.*gelu_impl$", {"re:.*dense_4h_to_h$"}},
};

// EXAONE 4 and OLMo normalise after attention and MLP (post-norm), so no norm feeds the
// projections: only the linear-to-linear mappings remain.
const MappingList exaone4_mappings = {
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// AFMoE gates attention with its own `gate_proj` next to q/k/v, and normalises the MoE input
// with `pre_mlp_layernorm`, which feeds the router and the experts.
const MappingList afmoe_mappings = {
    {"re:.*input_layernorm$",
     {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$", "re:.*self_attn.gate_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*pre_mlp_layernorm$", {"re:.*mlp.router$", "re:.*mlp.*gate_proj$", "re:.*mlp.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

struct Table {
  const char* architecture;
  const MappingList* mappings;
};

const Table tables[] = {
    {"AfmoeForCausalLM", &afmoe_mappings},
    {"BloomForCausalLM", &bloom_mappings},
    {"CohereForCausalLM", &cohere_mappings},
    {"Cohere2ForCausalLM", &cohere_mappings},
    {"Cohere2VisionForConditionalGeneration", &cohere_mappings},
    {"DeepseekV3ForCausalLM", &deepseek_mappings},
    {"Exaone4ForCausalLM", &exaone4_mappings},
    {"OlmoForCausalLM", &exaone4_mappings},
    {"Olmo3ForCausalLM", &exaone4_mappings},
    {"Gemma2ForCausalLM", &gemma2_mappings},
    {"Gemma3ForCausalLM", &gemma3_mappings},
    {"Gemma3ForConditionalGeneration", &gemma3_mappings},
    {"Glm4MoeForCausalLM", &moe_mappings},
    {"Qwen2MoeForCausalLM", &moe_mappings},
    {"Qwen3MoeForCausalLM", &moe_mappings},
    {"Glm4MoeLiteForCausalLM", &glm4_moe_lite_mappings},
    {"GlmMoeDsaForCausalLM", &glm4_moe_lite_mappings},
    {"Llama4ForConditionalGeneration", &llama4_mappings},
    {"Phi3ForCausalLM", &phi_mappings},
    {"Phi3VForCausalLM", &phi_mappings},
    {"GraniteForCausalLM", &default_mappings},
    {"LlamaForCausalLM", &default_mappings},
    {"Mistral3ForConditionalGeneration", &default_mappings},
    {"MistralForCausalLM", &default_mappings},
    {"NanbeigeForCausalLM", &default_mappings},
    {"Qwen2ForCausalLM", &default_mappings},
    {"Qwen2_5OmniModel", &default_mappings},
    {"Qwen2_5OmniThinkerForConditionalGeneration", &default_mappings},
    {"Qwen2_5_VLForConditionalGeneration", &default_mappings},
    {"Qwen3ForCausalLM", &default_mappings},
    {"SeedOssForCausalLM", &default_mappings},
    {"Ernie4_5_MoeForCausalLM", &default_mappings},
};

void register_defaults(awqmap::Registrar& registrar) {
  const awqmap::Provenance upstream{awqmap::Origin::upstream, "llm-compressor modifiers/awq/mappings.py"};
  registrar.set_default(default_mappings, upstream);
  for (const auto& t : tables) registrar.add_static(t.architecture, *t.mappings, upstream);
  // DeepSeek-V3 checkpoints carry a multi-token-prediction layer (model.layers.61) that the
  // model drops on load; the checkpoint reader drops layers >= num_hidden_layers for every
  // architecture, so nothing architecture-specific is needed here.
  register_vision_language_checkpoints(registrar);
}

}  // namespace

AWQMAP_PLUGIN("defaults", "0.1.0", register_defaults)
