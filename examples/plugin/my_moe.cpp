// A plugin for your own model, as a static table. "MyMoeForCausalLM" is a Mixtral-style MoE:
// its MoE block is `block_sparse_moe` with a router `gate` and experts whose projections are
// named w1 (gate), w3 (up) and w2 (down). The router reads the same normed input as the
// experts, so it joins their group.
#include <awqmap/plugin.hpp>

namespace {

void register_my_moe(awqmap::Registrar& r) {
  r.add_static("MyMoeForCausalLM", {
                                       {"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
                                       {"re:.*v_proj$", {"re:.*o_proj$"}},
                                       {"re:.*post_attention_layernorm$",
                                        {"re:.*block_sparse_moe.gate$", "re:.*experts.*.w1$", "re:.*experts.*.w3$"}},
                                       {"re:.*w3$", {"re:.*w2$"}},
                                   });
}

}  // namespace

AWQMAP_PLUGIN("my_moe", "1.0.0", register_my_moe)
