// Qwen3-Next: hybrid attention (Gated DeltaNet + full attention every few layers), whose
// layer indices depend on the model size, so its mappings are built from the model.
#include <awqmap/plugin.hpp>
#include <awqmap/toolkit.hpp>

namespace {

using awqmap::Origin;
using awqmap::toolkit::HybridAttentionOptions;

// Qwen3NextConfig always carries these fields, so upstream always sees a MoE config.
const HybridAttentionOptions upstream_options{
    {"num_experts", "num_experts_per_tok", "moe_intermediate_size", "shared_expert_intermediate_size"}, false};
// The sparse block's router `mlp.gate` reads post_attention_layernorm's output beside the
// experts and the shared expert: exact only with it (numerically checked).
const HybridAttentionOptions exact_options{upstream_options.config_class_fields, true};

awqmap::DynamicBuilder builder(const HybridAttentionOptions& options) {
  return [&options](const awqmap::plugin::Model& model) {
    return awqmap::toolkit::build_hybrid_attention_mappings(model, options);
  };
}

const char* const source = "transformers models/qwen3_next/modeling_qwen3_next.py";

void register_qwen3_next(awqmap::Registrar& r) {
  r.add_dynamic("Qwen3NextForCausalLM", "hybrid_attention", builder(upstream_options),
                {Origin::upstream, "llm-compressor modifiers/awq/mappings.py (dynamic builder)"});
  r.add_dynamic("Qwen3NextForCausalLM", "hybrid_attention_exact", builder(exact_options),
                {Origin::analysis, source});
  // The multi-token-prediction head is stored in the checkpoint but not loaded by the model.
  r.drop_checkpoint_tensors("Qwen3NextForCausalLM", "mtp\\.");
}

}  // namespace

AWQMAP_PLUGIN("qwen3_next", "0.1.0", register_qwen3_next)
