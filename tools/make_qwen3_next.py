#!/usr/bin/env python3
"""Writes a Qwen3-Next-style model description (awqmap.model/v1): hybrid attention (linear
Gated DeltaNet layers, one full-attention layer every `full_attention_interval`), MoE MLPs
with per-expert modules, a shared expert and its gate — the layout calibration sees.

    make_qwen3_next.py OUT.json [--layers 8] [--experts 4] [--hidden 64]

The real Qwen3-Next-80B-A3B layout is --layers 48 --experts 512 --hidden 2048. Standard
library only."""
import argparse
import json


def describe(layers, experts, hidden, interval=4):
    heads, kv_heads, head_dim = 16, 2, 256
    if hidden < 1024:
        heads, kv_heads, head_dim = 4, 2, 16
    moe_inter, shared_inter = max(hidden // 4, 8), max(hidden // 2, 8)
    config = {
        "architectures": ["Qwen3NextForCausalLM"], "model_type": "qwen3_next",
        "hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
        "num_key_value_heads": kv_heads, "head_dim": head_dim, "full_attention_interval": interval,
        "num_experts": experts, "num_experts_per_tok": min(experts, 10), "decoder_sparse_step": 1,
        "mlp_only_layers": [], "moe_intermediate_size": moe_inter,
        "shared_expert_intermediate_size": shared_inter, "vocab_size": 512,
    }
    mods = []

    def add(name, type_, **kw):
        mods.append(dict(name=name, type=type_, **kw))

    def linear(name, i, o):
        add(name, "Linear", in_features=i, out_features=o)

    add("", "Qwen3NextForCausalLM")
    add("model", "Qwen3NextModel")
    add("model.embed_tokens", "Embedding", shape=[512, hidden])
    add("model.layers", "ModuleList")
    for l in range(layers):
        p = f"model.layers.{l}"
        add(p, "Qwen3NextDecoderLayer")
        if (l + 1) % interval != 0:
            add(p + ".linear_attn", "Qwen3NextGatedDeltaNet")
            linear(p + ".linear_attn.in_proj_qkvz", hidden, hidden * 3 // 2)
            linear(p + ".linear_attn.in_proj_ba", hidden, 8)
            add(p + ".linear_attn.norm", "Qwen3NextRMSNormGated", shape=[8])
            linear(p + ".linear_attn.out_proj", hidden // 2, hidden)
        else:
            add(p + ".self_attn", "Qwen3NextAttention")
            linear(p + ".self_attn.q_proj", hidden, heads * head_dim * 2)
            linear(p + ".self_attn.k_proj", hidden, kv_heads * head_dim)
            linear(p + ".self_attn.v_proj", hidden, kv_heads * head_dim)
            linear(p + ".self_attn.o_proj", heads * head_dim, hidden)
            add(p + ".self_attn.q_norm", "Qwen3NextRMSNorm", shape=[head_dim])
            add(p + ".self_attn.k_norm", "Qwen3NextRMSNorm", shape=[head_dim])
        add(p + ".mlp", "Qwen3NextSparseMoeBlock")
        add(p + ".mlp.gate", "Qwen3NextTopKRouter", shape=[experts, hidden])
        add(p + ".mlp.experts", "LinearQwen3NextExperts", bases=["ModuleList"])
        for e in range(experts):
            q = f"{p}.mlp.experts.{e}"
            add(q, "ExpertMLPWithGate")
            linear(q + ".up_proj", hidden, moe_inter)
            linear(q + ".gate_proj", hidden, moe_inter)
            linear(q + ".down_proj", moe_inter, hidden)
        add(p + ".mlp.experts.act_fn", "SiLUActivation")
        add(p + ".mlp.shared_expert", "Qwen3NextMLP")
        linear(p + ".mlp.shared_expert.gate_proj", hidden, shared_inter)
        linear(p + ".mlp.shared_expert.up_proj", hidden, shared_inter)
        linear(p + ".mlp.shared_expert.down_proj", shared_inter, hidden)
        add(p + ".mlp.shared_expert.act_fn", "SiLUActivation")
        linear(p + ".mlp.shared_expert_gate", hidden, 1)
        add(p + ".input_layernorm", "Qwen3NextRMSNorm", shape=[hidden])
        add(p + ".post_attention_layernorm", "Qwen3NextRMSNorm", shape=[hidden])
    add("model.norm", "Qwen3NextRMSNorm", shape=[hidden])
    add("model.rotary_emb", "Qwen3NextRotaryEmbedding")
    linear("lm_head", hidden, 512)
    return {"format": "awqmap.model/v1", "architecture": "Qwen3NextForCausalLM",
            "config": config, "modules": mods}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--experts", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=64)
    a = ap.parse_args()
    d = describe(a.layers, a.experts, a.hidden)
    with open(a.out, "w") as f:
        if a.layers * a.experts > 1000:
            json.dump(d, f, separators=(",", ":"))
        else:
            json.dump(d, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
