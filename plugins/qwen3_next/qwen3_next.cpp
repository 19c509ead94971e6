// Qwen3-Next: hybrid attention (Gated DeltaNet + full attention every few layers), whose
// layer indices depend on the model size, so its mappings are built from the model.
#include <awqmap/plugin.hpp>
#include <awqmap/toolkit.hpp>

namespace {

// Qwen3NextConfig always carries these fields, so upstream always sees a MoE config.
const awqmap::toolkit::HybridAttentionOptions options{
    {"num_experts", "num_experts_per_tok", "moe_intermediate_size", "shared_expert_intermediate_size"}};

void register_qwen3_next(awqmap::Registrar& r) {
  r.add_dynamic("Qwen3NextForCausalLM", "hybrid_attention", [](const awqmap::ModelView& model) {
    return awqmap::toolkit::build_hybrid_attention_mappings(model, options);
  });
  // The multi-token-prediction head is stored in the checkpoint but not loaded by the model.
  r.drop_checkpoint_tensors("Qwen3NextForCausalLM", "mtp\\.");
}

}  // namespace

AWQMAP_PLUGIN("qwen3_next", "0.1.0", register_qwen3_next)
