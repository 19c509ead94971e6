// Qwen3.5: the Qwen3-Next hybrid attention layout, dense or MoE, text-only or with a vision
// tower (settings then live under text_config, which the toolkit reads first).
#include <awqmap/plugin.hpp>
#include <awqmap/toolkit.hpp>

namespace {

using awqmap::toolkit::HybridAttentionOptions;

// Qwen3_5MoeTextConfig always has MoE fields; the dense configs and the top-level
// Qwen3_5MoeConfig of the vision-language model do not (that one is MoE through its experts'
// class names, ExpertMLPWithGate).
const HybridAttentionOptions moe_text{
    {"num_experts", "num_experts_per_tok", "moe_intermediate_size", "shared_expert_intermediate_size"}, false};
const HybridAttentionOptions no_fields{};
// Exact mode: the MoE router `mlp.gate` reads post_attention_layernorm's output beside the
// experts and the shared expert, so it joins the group (dense models have no `mlp.gate`).
const HybridAttentionOptions moe_text_exact{moe_text.config_class_fields, true};
const HybridAttentionOptions no_fields_exact{{}, true};

awqmap::DynamicBuilder builder(const HybridAttentionOptions& options) {
  return [&options](const awqmap::plugin::Model& model) {
    return awqmap::toolkit::build_hybrid_attention_mappings(model, options);
  };
}

void register_qwen3_5(awqmap::Registrar& r) {
  using awqmap::Origin;
  const awqmap::Provenance upstream{Origin::upstream, "llm-compressor modifiers/awq/mappings.py (dynamic builder)"};
  r.add_dynamic("Qwen3_5ForCausalLM", "hybrid_attention", builder(no_fields), upstream);
  r.add_dynamic("Qwen3_5ForConditionalGeneration", "hybrid_attention", builder(no_fields), upstream);
  r.add_dynamic("Qwen3_5MoeForCausalLM", "hybrid_attention", builder(moe_text), upstream);
  r.add_dynamic("Qwen3_5MoeForConditionalGeneration", "hybrid_attention", builder(no_fields), upstream);
  const awqmap::Provenance dense{Origin::analysis, "transformers models/qwen3_5/modeling_qwen3_5.py"};
  const awqmap::Provenance moe{Origin::analysis, "transformers models/qwen3_5_moe/modeling_qwen3_5_moe.py"};
  r.add_dynamic("Qwen3_5ForCausalLM", "hybrid_attention_exact", builder(no_fields_exact), dense);
  r.add_dynamic("Qwen3_5ForConditionalGeneration", "hybrid_attention_exact", builder(no_fields_exact), dense);
  r.add_dynamic("Qwen3_5MoeForCausalLM", "hybrid_attention_exact", builder(moe_text_exact), moe);
  r.add_dynamic("Qwen3_5MoeForConditionalGeneration", "hybrid_attention_exact", builder(no_fields_exact), moe);
  for (const char* arch : {"Qwen3_5ForCausalLM", "Qwen3_5ForConditionalGeneration", "Qwen3_5MoeForCausalLM",
                           "Qwen3_5MoeForConditionalGeneration"})
    r.drop_checkpoint_tensors(arch, "mtp\\.");  // multi-token prediction, not loaded
  // MoE checkpoints store each layer's experts fused: gate_up_proj [E, 2I, H] (gate rows
  // first) and down_proj [E, H, I]; calibration splits them into one module per expert.
  for (const char* arch : {"Qwen3_5MoeForCausalLM", "Qwen3_5MoeForConditionalGeneration"}) {
    r.split_fused_experts(arch, {"mlp.experts.gate_up_proj", "mlp.experts", {"gate_proj", "up_proj"}});
    r.split_fused_experts(arch, {"mlp.experts.down_proj", "mlp.experts", {"down_proj"}});
  }
}

}  // namespace

AWQMAP_PLUGIN("qwen3_5", "0.1.0", register_qwen3_5)
