"""Small torch.nn models with the shapes AWQ mappings meet in real architectures."""
import torch
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.o_proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads

        def split(y):
            return y.view(b, t, h, d // h).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / (d // h) ** 0.5, dim=-1)
        return self.o_proj((att @ v).transpose(1, 2).reshape(b, t, d))


class GatedMLP(nn.Module):
    def __init__(self, dim, inter):
        super().__init__()
        self.gate_proj = nn.Linear(dim, inter, bias=False)
        self.up_proj = nn.Linear(dim, inter, bias=False)
        self.down_proj = nn.Linear(inter, dim, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class SparseMoeBlock(nn.Module):
    """A router (`gate`) and one GatedMLP per expert: the router reads the same input."""

    def __init__(self, dim, inter, experts, top_k=2):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(dim, experts, bias=False)
        self.experts = nn.ModuleList(GatedMLP(dim, inter) for _ in range(experts))

    def forward(self, x):
        weights = torch.softmax(self.gate(x), dim=-1)
        top, idx = weights.topk(self.top_k, dim=-1)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            w = (top * (idx == e)).sum(-1, keepdim=True)
            out = out + w * expert(x)
        return out


class FusedExperts(nn.Module):
    """transformers' fused layout: gate_up_proj [E, 2I, H] (gate rows first), down_proj [E, H, I]."""

    def __init__(self, dim, inter, experts):
        super().__init__()
        self.num_experts = experts
        self.gate_up_proj = nn.Parameter(torch.randn(experts, 2 * inter, dim) * 0.2)
        self.down_proj = nn.Parameter(torch.randn(experts, dim, inter) * 0.2)
        self.act_fn = nn.SiLU()

    def forward(self, x, top_k_index, top_k_weights):
        out = torch.zeros_like(x)
        for e in range(self.num_experts):
            gate, up = nn.functional.linear(x, self.gate_up_proj[e]).chunk(2, dim=-1)
            y = nn.functional.linear(self.act_fn(gate) * up, self.down_proj[e])
            w = (top_k_weights * (top_k_index == e)).sum(-1, keepdim=True)
            out = out + w * y
        return out


class FusedMoeBlock(nn.Module):
    def __init__(self, dim, inter, experts, top_k=2):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(dim, experts, bias=False)
        self.experts = FusedExperts(dim, inter, experts)

    def forward(self, x):
        top, idx = torch.softmax(self.gate(x), dim=-1).topk(self.top_k, dim=-1)
        return self.experts(x, idx, top)


class DecoderLayer(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.mlp = mlp
        self.input_layernorm = RMSNorm(dim)
        self.post_attention_layernorm = RMSNorm(dim)

    def forward(self, x):
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class Model(nn.Module):
    def __init__(self, layers, dim, vocab):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(layers)
        self.norm = RMSNorm(dim)

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class ForCausalLM(nn.Module):
    def __init__(self, layers, dim=16, vocab=32):
        super().__init__()
        self.model = Model(layers, dim, vocab)
        self.lm_head = nn.Linear(dim, vocab, bias=False)

    def forward(self, ids):
        return self.lm_head(self.model(ids))


class ToyLlamaForCausalLM(ForCausalLM):
    def __init__(self, layers=2, dim=16, heads=2, inter=24, vocab=32):
        super().__init__([DecoderLayer(dim, heads, GatedMLP(dim, inter)) for _ in range(layers)], dim, vocab)


class ToyMoeForCausalLM(ForCausalLM):
    def __init__(self, layers=2, dim=16, heads=2, inter=8, experts=4, vocab=32):
        super().__init__([DecoderLayer(dim, heads, SparseMoeBlock(dim, inter, experts)) for _ in range(layers)],
                         dim, vocab)


class ToyFusedMoeForCausalLM(ForCausalLM):
    def __init__(self, layers=1, dim=16, heads=2, inter=8, experts=4, vocab=32):
        super().__init__([DecoderLayer(dim, heads, FusedMoeBlock(dim, inter, experts)) for _ in range(layers)],
                         dim, vocab)


class PostLNBlock(nn.Module):
    """BERT-style: the norm's output is both the MLP's input and the residual stream."""

    def __init__(self, dim=16, heads=2, inter=32):
        super().__init__()
        self.attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, inter)
        self.fc2 = nn.Linear(inter, dim)
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x):
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.fc2(torch.relu(self.fc1(x))))


class GeluMLP(nn.Module):
    """Pre-norm fc1 -> GELU -> fc2 with a residual."""

    def __init__(self, dim=16, inter=32):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, inter)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(inter, dim)

    def forward(self, x):
        return x + self.fc2(self.act(self.fc1(self.norm(x))))


class TiedStacks(nn.Module):
    """Two pre-norm blocks of a router and fused experts that share every weight (as an encoder and
    a decoder that tie their layers), and a head tied to the embedding."""

    def __init__(self, dim=16, inter=8, experts=4, vocab=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.norm_a, self.moe_a = RMSNorm(dim), FusedMoeBlock(dim, inter, experts)
        self.norm_b, self.moe_b = RMSNorm(dim), FusedMoeBlock(dim, inter, experts)
        self.norm_b.weight = self.norm_a.weight
        self.moe_b.gate.weight = self.moe_a.gate.weight
        self.moe_b.experts.gate_up_proj = self.moe_a.experts.gate_up_proj
        self.moe_b.experts.down_proj = self.moe_a.experts.down_proj
        self.final_norm = RMSNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, ids):
        x = self.embed(ids)
        x = x + self.moe_a(self.norm_a(x))
        x = x + self.moe_b(self.norm_b(x))
        return self.head(self.final_norm(x))


def randomize(module, seed=0):
    """Redraws every parameter so that no all-ones norm or zero bias hides a mistake."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3 + (1.0 if p.dim() == 1 else 0.0))
    return module
