// Mixtral, as a static table: its MoE block is `block_sparse_moe` with a router `gate` and
// experts whose projections are named w1 (gate), w3 (up) and w2 (down).
#include <awqmap/plugin.hpp>

namespace {

void register_mixtral(awqmap::Registrar& r) {
  r.add_static("MixtralForCausalLM", {
                                         {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
                                         {"re:.*v_proj$", {"re:.*o_proj$"}},
                                         {"re:.*post_attention_layernorm$",
                                          {"re:.*block_sparse_moe.gate$", "re:.*experts.*.w1$", "re:.*experts.*.w3$"}},
                                         {"re:.*w3$", {"re:.*w2$"}},
                                     });
}

}  // namespace

AWQMAP_PLUGIN("mixtral", "1.0.0", register_mixtral)
