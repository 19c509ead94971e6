// The Gemma family: Gemma, VaultGemma, Gemma 3n, Gemma 4 and its drafters, PaliGemma,
// T5Gemma 2 and DiffusionGemma. Gemma 2 and Gemma 3 keep llm-compressor's own mappings (plugin defaults).
//
// Two things every list here respects:
//  - From Gemma 2 on, `post_attention_layernorm` (and `post_feedforward_layernorm`) normalise a
//    sub-block's output before the residual add: they feed no projection. The MLP reads
//    `pre_feedforward_layernorm`.
//  - Where the attention normalises q and k per head (Gemma 3 and later), the input norm is not
//    smoothed into q/k/v: the rescaling would be exact, but llm-compressor measured it to lose
//    accuracy against round-to-nearest (its Gemma 3 mapping drops the group for this reason).
// Gemma norms compute x * (1 + w); smoothing them needs an offset-aware quantizer (llm-compressor
// converts them during calibration). That is a property of the norm, not of the grouping.
#include <awqmap/plugin.hpp>

#include <string>

using awqmap::MappingList;

namespace {

// Gemma: Llama's layout and names (AutoAWQ awq/models/gemma.py).
const MappingList gemma_mappings = {
    {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// VaultGemma: Gemma 2 without the post-norms, so the MLP reads `pre_feedforward_layernorm`, and
// the attention has no q/k norm.
const MappingList vaultgemma_mappings = {
    {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
    {"re:.*v_proj$", {"re:.*o_proj$"}},
    {"re:.*pre_feedforward_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// PaliGemma: a Gemma language model beside a SigLIP tower, whose q/k/v have no input_layernorm;
// scoped to the language model.
const MappingList paligemma_mappings = {
    {"re:.*language_model\\.layers\\.\\d+\\.input_layernorm$",
     {"re:.*language_model\\.layers\\.\\d+\\.self_attn\\.q_proj$",
      "re:.*language_model\\.layers\\.\\d+\\.self_attn\\.k_proj$",
      "re:.*language_model\\.layers\\.\\d+\\.self_attn\\.v_proj$"}},
    {"re:.*language_model\\.layers\\.\\d+\\.self_attn\\.v_proj$",
     {"re:.*language_model\\.layers\\.\\d+\\.self_attn\\.o_proj$"}},
    {"re:.*language_model\\.layers\\.\\d+\\.post_attention_layernorm$",
     {"re:.*language_model\\.layers\\.\\d+\\.mlp\\.gate_proj$",
      "re:.*language_model\\.layers\\.\\d+\\.mlp\\.up_proj$"}},
    {"re:.*language_model\\.layers\\.\\d+\\.mlp\\.up_proj$",
     {"re:.*language_model\\.layers\\.\\d+\\.mlp\\.down_proj$"}},
};

// Gemma 3n: no v_proj -> o_proj (a weightless per-head `v_norm` normalises v) and no
// input_layernorm group (q/k norms; it also feeds the LAuReL branch). GPTQModel definitions/gemma3n.py.
const MappingList gemma3n_text_mappings = {
    {"re:.*pre_feedforward_layernorm$", {"re:.*mlp.gate_proj$", "re:.*mlp.up_proj$"}},
    {"re:.*mlp.up_proj$", {"re:.*mlp.down_proj$"}},
};

// Gemma 3n with its audio and vision towers: the same, scoped to the language model.
const MappingList gemma3n_mappings = {
    {"re:.*language_model.*pre_feedforward_layernorm$",
     {"re:.*language_model.*mlp.gate_proj$", "re:.*language_model.*mlp.up_proj$"}},
    {"re:.*language_model.*mlp.up_proj$", {"re:.*language_model.*mlp.down_proj$"}},
};

// Gemma 4: as Gemma 3n; MoE layers (`enable_moe_block`) add experts that read their own
// `pre_feedforward_layernorm_2` (the router reads the raw residual, so it is no consumer).
// GPTQModel definitions/gemma4.py.
const MappingList gemma4_text_mappings = {
    {"re:.*pre_feedforward_layernorm$", {"re:.*mlp.gate_proj$", "re:.*mlp.up_proj$"}},
    {"re:.*pre_feedforward_layernorm_2$", {"re:.*experts.*.gate_proj$", "re:.*experts.*.up_proj$"}},
    {"re:.*up_proj$", {"re:.*down_proj$"}},
};

// Gemma 4 with its towers (which have q/k/v and gate/up/down projections of their own): scoped.
const MappingList gemma4_mappings = {
    {"re:.*language_model.*pre_feedforward_layernorm$",
     {"re:.*language_model.*mlp.gate_proj$", "re:.*language_model.*mlp.up_proj$"}},
    {"re:.*language_model.*pre_feedforward_layernorm_2$",
     {"re:.*language_model.*experts.*.gate_proj$", "re:.*language_model.*experts.*.up_proj$"}},
    {"re:.*language_model.*up_proj$", {"re:.*language_model.*down_proj$"}},
};

// T5Gemma 2 (encoder-decoder, Gemma 3 blocks). The decoder's merged attention projects the
// encoder output through the same k_proj/v_proj, so its pre-attention norm is not their only
// input: no norm -> q/k/v group (the encoder's is left out for the q/k norms, as in Gemma 3).
// v_proj -> o_proj stays exact (self and cross values share v_proj's channels). Scoped to the
// text stacks: the SigLIP tower's v_proj has no o_proj.
const MappingList t5gemma2_mappings = {
    {"re:.*(encoder\\.text_model|decoder)\\.layers\\.\\d+\\.self_attn\\.v_proj$",
     {"re:.*(encoder\\.text_model|decoder)\\.layers\\.\\d+\\.self_attn\\.o_proj$"}},
    {"re:.*(encoder\\.text_model|decoder)\\.layers\\.\\d+\\.pre_feedforward_layernorm$",
     {"re:.*(encoder\\.text_model|decoder)\\.layers\\.\\d+\\.mlp\\.gate_proj$",
      "re:.*(encoder\\.text_model|decoder)\\.layers\\.\\d+\\.mlp\\.up_proj$"}},
    {"re:.*(encoder\\.text_model|decoder)\\.layers\\.\\d+\\.mlp\\.up_proj$",
     {"re:.*(encoder\\.text_model|decoder)\\.layers\\.\\d+\\.mlp\\.down_proj$"}},
};

// DiffusionGemma: Gemma 4's MoE layer in an encoder stack (beside a Gemma 4 vision tower with the
// same projection names) and a decoder stack that reads the encoder's KV cache, plus the decoder's
// self-conditioning gated MLP. As Gemma 4: the MLP reads pre_feedforward_layernorm, the experts
// pre_feedforward_layernorm_2 and the router the raw residual; no q/k/v group (q/k norms), no
// v -> o (weightless v_norm). The self-conditioning pre_norm feeds only its gate/up projections.
// Scoped to the text stacks. transformers models/diffusion_gemma/modular_diffusion_gemma.py.
const MappingList diffusion_gemma_mappings = [] {
  const std::string layer = "re:.*(encoder\\.language_model|decoder)\\.layers\\.\\d+\\.";
  const std::string ffn = "re:.*((encoder\\.language_model|decoder)\\.layers\\.\\d+\\.(mlp|experts\\.\\d+)|"
                          "decoder\\.self_conditioning)\\.";
  return MappingList{
      {layer + "pre_feedforward_layernorm$", {layer + "mlp\\.gate_proj$", layer + "mlp\\.up_proj$"}},
      {layer + "pre_feedforward_layernorm_2$",
       {layer + "experts\\.\\d+\\.gate_proj$", layer + "experts\\.\\d+\\.up_proj$"}},
      {"re:.*decoder\\.self_conditioning\\.pre_norm$",
       {"re:.*decoder\\.self_conditioning\\.gate_proj$", "re:.*decoder\\.self_conditioning\\.up_proj$"}},
      {ffn + "up_proj$", {ffn + "down_proj$"}},
  };
}();

struct Table {
  const char* architecture;
  const MappingList* mappings;
  awqmap::Origin origin;
  const char* source;
};

using awqmap::Origin;

const Table tables[] = {
    {"GemmaForCausalLM", &gemma_mappings, Origin::peer, "AutoAWQ awq/models/gemma.py"},
    {"VaultGemmaForCausalLM", &vaultgemma_mappings, Origin::analysis,
     "transformers models/vaultgemma/modular_vaultgemma.py"},
    {"PaliGemmaForConditionalGeneration", &paligemma_mappings, Origin::analysis,
     "transformers models/paligemma/modeling_paligemma.py"},
    {"Gemma3nForCausalLM", &gemma3n_text_mappings, Origin::peer, "GPTQModel definitions/gemma3n.py"},
    {"Gemma3nForConditionalGeneration", &gemma3n_mappings, Origin::peer, "GPTQModel definitions/gemma3n.py"},
    {"Gemma4ForCausalLM", &gemma4_text_mappings, Origin::peer, "GPTQModel definitions/gemma4.py"},
    {"Gemma4ForConditionalGeneration", &gemma4_mappings, Origin::peer, "GPTQModel definitions/gemma4.py"},
    {"Gemma4UnifiedForCausalLM", &gemma4_text_mappings, Origin::peer, "GPTQModel definitions/gemma4_unified.py"},
    {"Gemma4UnifiedForConditionalGeneration", &gemma4_mappings, Origin::peer,
     "GPTQModel definitions/gemma4_unified.py"},
    // The multi-token-prediction drafters: a Gemma 4 text model (`model.layers`) between a
    // pre_projection and a post_projection that read no norm.
    {"Gemma4AssistantForCausalLM", &gemma4_text_mappings, Origin::analysis,
     "transformers models/gemma4_assistant/modeling_gemma4_assistant.py"},
    {"Gemma4UnifiedAssistantForCausalLM", &gemma4_text_mappings, Origin::analysis,
     "transformers models/gemma4_unified_assistant/modular_gemma4_unified_assistant.py"},
    {"DiffusionGemmaForBlockDiffusion", &diffusion_gemma_mappings, Origin::analysis,
     "transformers models/diffusion_gemma/modular_diffusion_gemma.py"},
    {"T5Gemma2ForConditionalGeneration", &t5gemma2_mappings, Origin::analysis,
     "transformers models/t5gemma2/modular_t5gemma2.py"},
};

void register_gemma(awqmap::Registrar& r) {
  for (const auto& t : tables) r.add_static(t.architecture, *t.mappings, {t.origin, t.source});
}

}  // namespace

AWQMAP_PLUGIN("gemma", "0.1.0", register_gemma)
