#!/usr/bin/env python3
"""Differential table for awqmap's Python-dialect matching: every (pattern, name) pair below is
run through Python's own `re.match`, and the verdict ("match", "nomatch" or "error" when
Python rejects the pattern) is recorded. The C++ tests assert the same verdict for each row.

    make_regex_table.py OUT.json        write the table
    make_regex_table.py --check FILE    exit 1 unless FILE is what this Python produces now
"""
import json
import re
import sys
import warnings

# Every pattern of docs/semantics.md §3 and §4 (without the "re:" prefix).
SPEC_PATTERNS = [
    r".*input_layernorm$", r".*q_proj$", r".*k_proj$", r".*v_proj$", r".*o_proj$",
    r".*post_attention_layernorm$", r".*gate_proj$", r".*up_proj$", r".*down_proj$",
    r".*mlp.gate$", r".*mlp.experts.*.gate_proj$", r".*mlp.experts.*.up_proj$",
    r".*feed_forward.router$", r".*feed_forward.*.gate_proj$", r".*feed_forward.*.up_proj$",
    r".*qkv_proj$", r".*gate_up_proj$", r".*pre_feedforward_layernorm$",
    r".*self_attn.q_proj$", r".*self_attn.k_proj$", r".*self_attn.v_proj$",
    r".*mlp.gate_proj$", r".*mlp.up_proj$", r".*(q|q_a)_proj$", r".*kv_a_proj_with_mqa$",
    r".*q_a_layernorm$", r".*q_b_proj$", r".*kv_a_layernorm$", r".*kv_b_proj$",
    r".*query_key_value$", r".*dense_h_to_4h$", r".*gelu_impl$", r".*dense_4h_to_h$",
    r".*self_attn.gate_proj$", r".*pre_mlp_layernorm$", r".*mlp.router$", r".*mlp.*gate_proj$",
    r".*mlp.*up_proj$",
    r".*layers\.(3|7)\.input_layernorm$", r".*layers\.(0|1|2|4|5|6)\.input_layernorm$",
    r".*layers\.(3|7|11|15|19|23|27|31|35|39|43|47)\.input_layernorm$",
    r".*linear_attn.in_proj_qkvz$", r".*linear_attn.in_proj_ba$", r".*linear_attn.in_proj_qkv$",
    r".*linear_attn.in_proj_z$", r".*linear_attn.in_proj_b$", r".*linear_attn.in_proj_a$",
    r".*mlp.shared_expert_gate$", r".*mlp.shared_expert.gate_proj$", r".*mlp.shared_expert.up_proj$",
    r".*self_attn.g_proj$", r".*self_attn.o_proj$",
    r".*layers\.(0|1)\.post_attention_layernorm$", r".*layers\.(2|3|4|5)\.post_attention_layernorm$",
    r".*moe.gate$", r".*moe.gate_proj$", r".*moe.up_proj$", r".*share_expert.gate_proj$",
    r".*share_expert.up_proj$", r".*(mlp|share_expert).up_proj$", r".*(mlp|share_expert).down_proj$",
    r"(?:^|\.)layers\.(\d+)\.(mlp|moe|share_expert)(?:\.|$)",
    r"(?=model\.layers\.(?:0|1|2)\.).*post_attention_layernorm$",
]

# Where Python's dialect differs from Boost's, and syntax Python rejects.
DIALECT_PATTERNS = [
    r"(?P<blk>layers)\.\d+\.(?P=blk)", r"(?P<n>\w+)\.(?P=n)$", r"\Amodel", r"model\A",
    r"model\Z", r".*proj\Z", r"model$", r".*proj$", r"^model", r"(?m)^layers", r"(?m)proj$",
    r"(?m).*proj$\n", r"model.layers", r"model.*", r"(?s)model.*x$", r"model.x", r"(?s)model.x",
    r"(?i)MODEL", r"(?i:MODEL)\.layers", r"(?i)model(?-i:\.Layers)", r"MODEL", r"(?x) model \. layers  # c",
    r"[a-z]+\.[0-9]+", r"[^.]+\.layers", r"[]a]", r"[^]a]", r"x{,2}y", r"a{2,1}", r"a{", r"a{1,",
    r"a{}", r"{1}", r"\{", r"a**", r"*a", r"a*?b", r"a*+b", r"(?>a+)b", r"(?=model)m", r"(?!model)m",
    r"(?<=\.)layers", r"(?<!x)model", r"(?<=a|bc)d", r"(?<=ab|cd)e", r"(a)?(?(1)b|c)", r"(?P<x>a)?(?(x)b|c)",
    r"\d+", r"\w+\.\w+", r"\s", r"\bmodel\b", r"\Bodel", r"\1(a)", r"(a)\1", r"(a)\2", r"(?P<1>a)",
    r"(?P<a>x)(?P<a>y)", r"(?P=zz)", r"(?<name>a)", r"\z", r"\Q.\E", r"\p{L}", r"\e", r"\x2e", r"\x2",
    r"\u002e", r"\056", r"\0", r"\8", r"[\d.]+", r"[\b]", r"[\A]", r"[z-a]", r"[a-\d]", r"(", r")",
    r"a)", r"(?", r"(?Q)", r"a(?i)b", r"(?i)(?m)model", r"(?L)a", r"(?au)a", r"(?i-i:a)", r"(?-x:a)",
    r"(?#comment)model", r"a|", r"|a", r"model|lm_head", r"", r"$", r"^", r"\n", r".", r"..",
    r"model\.layers\.\d+\.mlp$", r"lm_head", r"lm_head$", r"(?:model|lm)_?head",
    r".*\.experts\.\d+\.(gate|up)_proj$", r".*experts\.[0-9]{1,3}\.down_proj$", r"[\w.]+$",
    r"(?s:.)*proj", r"a{3}", r"(ab){2}", r".*(?<!shared_expert)\.gate_proj$", r"x*y*z*",
    r".*.*.*proj$", r"\.", r"\-", r"\_", r"\ ", r"[-a]", r"[a-]", r"[\]]", r"[\\]", r"\\",
    r"\N{DIGIT ONE}", r"(?a)\w+", r"(?u)\w+", r".*q_proj$|.*k_proj$", r"(?:.*q|.*k)_proj$",
    r"(?a:\w)+", r"(?i)\u212a", "[\u00e9]", "[^\u00e9]", "(?i)\u00c9", "[a-\u00e9]+$", r"(?a)\bk",
    r"\N{LATIN SMALL LETTER E WITH ACUTE}", r"\N{NO SUCH NAME}", r"\s", r"[\s\d]+$",
    r"\B", r"\B\.", r"a\B", r"(?a)\B", r"\b", r"(?>a|ab)c", r"(a)?(?(1)b|c)\.", r"a{1,3}?b", r"(?x: a b )",
    # Escapes right before the final `$`, where the literal-suffix prefilter must read them as re does.
    r".*input_layernor\x6d$", r".*input_layernor\155$", r".*input_layernor\u006d$", r".*input_layernor\U0000006d$",
    r".*input_layernor\N{LATIN SMALL LETTER M}$", r".*layers\.\x30\.input_layernorm$", r".*\x2eb$", r".*\0$",
    r".*\n$", r".*\u00e9$", r".*\x5c$", r".*\1$", r"(m)\1$", r"(.)\1$", r"(a)?(?(1)(?(1)b|c)|d)",
]

NAMES = [
    "", "model", "model.layers", "model.layers.0", "model.layers.0.input_layernorm",
    "model.layers.3.input_layernorm", "model.layers.13.input_layernorm", "model.layers.0.self_attn.q_proj",
    "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj", "model.layers.0.self_attn.o_proj",
    "model.layers.1.self_attn.q_a_proj", "model.layers.1.self_attn.kv_a_proj_with_mqa",
    "model.layers.0.mlp.gate", "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.experts.7.gate_proj",
    "model.layers.0.mlp.experts.7.up_proj", "model.layers.0.mlp.experts.7.down_proj",
    "model.layers.0.mlp.shared_expert.gate_proj", "model.layers.0.mlp.shared_expert_gate",
    "model.layers.2.linear_attn.in_proj_qkvz", "model.layers.2.moe.gate", "model.layers.2.share_expert.up_proj",
    "model.layers.5.post_attention_layernorm", "model.vision_tower.encoder.layers.0.self_attn.v_proj",
    "lm_head", "MODEL.Layers", "model.Layers", "layers.layers", "mlp.mlp", "model\n", "model.proj\n",
    "model\nx", "modelxx", "model.x\n", "abd", "bcd", "cde", "ab", "c", "b", "aab", "aaa", "ababab",
    "xyz", "{1}", "a{", "a{}", "x{,2}y", ".", "-", "_", " ", "]", "\\", "\n", "1", "1.2", "\u00e9", "model.\u00e9", "k", "K", "\u00c9", "\x1c",
]

def verdict(pattern, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rx = re.compile(pattern)
        except re.error:
            return "error"
    return "match" if rx.match(name) else "nomatch"

def table():
    rows = []
    for p in SPEC_PATTERNS + DIALECT_PATTERNS:
        names = [""] if verdict(p, "") == "error" else NAMES
        for n in names:
            rows.append([p, n, verdict(p, n)])
    return {"python": sys.version.split()[0], "rows": rows}

def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        with open(sys.argv[2]) as f:
            saved = json.load(f)
        now = table()
        if saved["rows"] != now["rows"]:
            diff = [r for r, s in zip(now["rows"], saved["rows"]) if r != s][:5]
            print(f"{sys.argv[2]} differs from Python {now['python']}'s re: {diff}; regenerate it")
            return 1
        print(f"{len(now['rows'])} rows agree with Python {now['python']}")
        return 0
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with open(sys.argv[1], "w") as f:
        json.dump(table(), f, indent=0, ensure_ascii=True)
        f.write("\n")
    return 0

if __name__ == "__main__":
    sys.exit(main())
