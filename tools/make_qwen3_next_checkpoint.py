#!/usr/bin/env python3
"""Writes a Qwen3-Next-style Hugging Face checkpoint directory: config.json, safetensors shards
(real headers; zero-filled data, or sparse files with --sparse) and
model.safetensors.index.json. Hybrid attention (linear Gated DeltaNet layers, full attention
every `full_attention_interval`), MoE MLPs with a shared expert, and the multi-token-prediction
head (`mtp.*`) that the model does not load.

    make_qwen3_next_checkpoint.py OUT_DIR [--layers 8] [--experts 4] [--hidden 32] [--shards 3] [--sparse]

The real Qwen3-Next-80B-A3B layout is --layers 48 --experts 512 --hidden 2048 --shards 41.
Standard library only."""
import argparse
import json
import os
import struct


def tensors(layers, experts, hidden, interval=4):
    heads, kv_heads, head_dim = (16, 2, 256) if hidden >= 1024 else (4, 2, hidden // 4)
    moe, shared = max(hidden // 4, 8), max(hidden // 2, 8)
    lin_k, lin_v = hidden // 8, hidden // 4
    out = []

    def t(name, *shape, dtype="BF16"):
        out.append((name, list(shape), dtype))

    def block(p, full):
        if full:
            t(p + ".self_attn.q_proj.weight", heads * head_dim * 2, hidden)
            t(p + ".self_attn.k_proj.weight", kv_heads * head_dim, hidden)
            t(p + ".self_attn.v_proj.weight", kv_heads * head_dim, hidden)
            t(p + ".self_attn.o_proj.weight", hidden, heads * head_dim)
            t(p + ".self_attn.q_norm.weight", head_dim)
            t(p + ".self_attn.k_norm.weight", head_dim)
        else:
            t(p + ".linear_attn.conv1d.weight", hidden, 1, 4)
            t(p + ".linear_attn.in_proj_qkvz.weight", 2 * lin_k + 2 * lin_v, hidden)
            t(p + ".linear_attn.in_proj_ba.weight", 8, hidden)
            t(p + ".linear_attn.dt_bias", 4)
            t(p + ".linear_attn.A_log", 4, dtype="F32")
            t(p + ".linear_attn.norm.weight", 8)
            t(p + ".linear_attn.out_proj.weight", hidden, lin_v)
        t(p + ".mlp.gate.weight", experts, hidden)
        for e in range(experts):
            q = f"{p}.mlp.experts.{e}"
            t(q + ".up_proj.weight", moe, hidden)
            t(q + ".gate_proj.weight", moe, hidden)
            t(q + ".down_proj.weight", hidden, moe)
        t(p + ".mlp.shared_expert.gate_proj.weight", shared, hidden)
        t(p + ".mlp.shared_expert.up_proj.weight", shared, hidden)
        t(p + ".mlp.shared_expert.down_proj.weight", hidden, shared)
        t(p + ".mlp.shared_expert_gate.weight", 1, hidden)
        t(p + ".input_layernorm.weight", hidden)
        t(p + ".post_attention_layernorm.weight", hidden)

    t("model.embed_tokens.weight", 512, hidden)
    for layer in range(layers):
        block(f"model.layers.{layer}", (layer + 1) % interval == 0)
    t("model.norm.weight", hidden)
    t("lm_head.weight", 512, hidden)
    t("mtp.fc.weight", hidden, 2 * hidden)
    block("mtp.layers.0", True)
    t("mtp.norm.weight", hidden)
    t("mtp.pre_fc_norm_embedding.weight", hidden)
    t("mtp.pre_fc_norm_hidden.weight", hidden)
    config = {
        "architectures": ["Qwen3NextForCausalLM"], "model_type": "qwen3_next", "hidden_size": hidden,
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
        "head_dim": head_dim, "full_attention_interval": interval, "num_experts": experts,
        "num_experts_per_tok": min(experts, 10), "moe_intermediate_size": moe,
        "shared_expert_intermediate_size": shared, "decoder_sparse_step": 1, "mlp_only_layers": [],
        "vocab_size": 512, "torch_dtype": "bfloat16",
    }
    return config, out


SIZES = {"BF16": 2, "F32": 4}


def write(out_dir, layers, experts, hidden, shards, sparse):
    config, ts = tensors(layers, experts, hidden)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    per = (len(ts) + shards - 1) // shards
    weight_map = {}
    total = 0
    for s in range(shards):
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        header, offset = {}, 0
        for tname, shape, dtype in ts[s * per:(s + 1) * per]:
            n = SIZES[dtype]
            for d in shape:
                n *= d
            header[tname] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
            weight_map[tname] = name
            offset += n
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)  # keep the data 8-byte aligned, as safetensors does
        path = os.path.join(out_dir, name)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            if sparse:
                f.truncate(8 + len(raw) + offset)
            else:
                f.write(bytes(offset))
        total += offset
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--experts", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--shards", type=int, default=3)
    ap.add_argument("--sparse", action="store_true", help="do not write tensor data (sparse files)")
    a = ap.parse_args()
    write(a.out_dir, a.layers, a.experts, a.hidden, a.shards, a.sparse)


if __name__ == "__main__":
    main()
