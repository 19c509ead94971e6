#!/usr/bin/env python3
"""A transcription of upstream's resolution (compressed-tensors' match_modules_set and
llm-compressor's _set_resolved_mappings, docs/semantics.md §5-6) in plain Python over awqmap.model/v1
descriptions, used as a differential reference for the C++ implementation on random models
and mappings.

    upstream_reference.py --random N --cli PATH/awqmap [--seed S]

generates N random models and mapping lists, resolves each with this reference and with
`awqmap resolve --mappings`, and fails on the first difference."""
import argparse
import glob
import json
import os
import random
import re
import subprocess
import sys
import tempfile


class Module:
    def __init__(self, rec):
        self.name = rec["name"]
        self.type = rec["type"]
        self.bases = rec.get("bases", [])
        self.in_features = rec.get("in_features")
        self.out_features = rec.get("out_features")

    def is_a(self, cls):
        return self.type == cls or cls in self.bases


def upstream_skipped(result):
    """The skipped groups with upstream's fields only (awqmap adds the shapes of incompatible ones)."""
    return [{k: s[k] for k in ("mapping", "smooth_name", "reason")} for s in result["skipped"]]


def match_name(name, target):
    if target.startswith("re:"):
        return re.match(target[3:], name) is not None
    return target == name


def match_class(module, target):
    return module.is_a(target) or (target == "Linear" and module.is_a("LinearBase"))


def is_match(name, module, targets, ignore):
    return not any(match_name(name, i) or match_class(module, i) for i in ignore) and any(
        match_name(name, t) or match_class(module, t) for t in targets)


def lca(names):
    names = [n for n in names if n is not None]
    if not names:
        return ""
    a, b = "." + min(names) + ".", "." + max(names) + "."
    p = os.path.commonprefix([a, b])
    return p[1:p.rfind(".")]


class ResolutionError(Exception):
    def __init__(self, kind):
        self.kind = kind


def match_modules_set(modules, targets, ignore):
    matches = {}
    parent_context = None
    unmatched = set(targets)
    for name, module in modules:
        matched_here = set()
        for target in targets:
            if is_match(name, module, [target], ignore):
                new = lca([name, parent_context])
                if not unmatched and new != parent_context:
                    yield [matches.get(t, []) for t in targets]
                    matches = {}
                    new = name
                    unmatched = set(targets)
                matches.setdefault(target, []).append((name, module))
                parent_context = new
                unmatched -= {target}
                matched_here |= {target}
        if len(matched_here) > 1:
            raise ResolutionError("module_rematch")
    if unmatched == set(targets):
        return
    if not unmatched:
        yield [matches.get(t, []) for t in targets]
        return
    raise ResolutionError("incomplete_set")


def resolve(model, mappings, targets=("Linear",), ignore=("lm_head",)):
    modules = [(m["name"], Module(m)) for m in model["modules"]]
    by_name = dict(modules)
    targeted = {n for n, m in modules
                if (m.is_a("Linear") or m.is_a("Embedding")) and is_match(n, m, targets, ignore)}
    resolved, skipped = [], []
    for k, mp in enumerate(mappings):
        # upstream's _set_resolved_mappings groups with no ignore list: `ignore` only decides
        # what is quantized (targeted), never what is matched.
        for smooth, *balance in match_modules_set(modules, [mp["smooth_layer"], *mp["balance_layers"]], ()):
            if len(smooth) > 1:
                raise ResolutionError("multiple_smooth_layers")
            sname, smod = smooth[0]
            bal = [x for lst in balance for x in lst]
            ok = True
            for bname, bmod in bal:
                if (smod.is_a("Linear") and bmod.is_a("Linear") and bname.endswith(".o_proj") and
                        ((sname.endswith(".v_proj") and smod.out_features != bmod.in_features) or
                         (sname.endswith(".qkv_proj") and smod.out_features != 3 * bmod.in_features))):
                    ok = False
            if not ok:
                skipped.append({"mapping": k, "smooth_name": sname, "reason": "incompatible"})
                continue
            if not bal:
                skipped.append({"mapping": k, "smooth_name": sname, "reason": "no_balance_layers"})
                continue
            if sname not in targeted and not any(b in targeted for b, _ in bal):
                skipped.append({"mapping": k, "smooth_name": sname, "reason": "not_targeted"})
                continue
            parent = lca([b for b, _ in bal])
            while parent != "" and by_name[parent].is_a("ModuleList"):
                parent = ".".join(parent.split(".")[:-1])
            hook = None
            if mp.get("activation_hook_target"):
                full = parent + "." + mp["activation_hook_target"] if parent else mp["activation_hook_target"]
                if full not in by_name:
                    raise ResolutionError("hook_target_missing")
                hook = full
            resolved.append({"mapping": k, "smooth_name": sname, "balance_names": [b for b, _ in bal],
                             "parent_name": parent, "activation_hook_target": hook})
    return resolved, skipped


# ---- random models and mappings -------------------------------------------------------
LEAVES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "norm", "input_layernorm",
          "post_attention_layernorm", "gate", "qkv_proj", "w1", "act"]


def random_model(rng):
    mods = [{"name": "", "type": "Root"}]

    def add(parent, depth):
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            if depth < 3 and kind < 0.3:
                lst = f"{parent}.{rng.choice(['layers', 'experts', 'blocks'])}".lstrip(".")
                if any(m["name"] == lst for m in mods):
                    continue
                mods.append({"name": lst, "type": rng.choice(["ModuleList", "Experts"]),
                             **({"bases": ["ModuleList"]} if rng.random() < 0.5 else {})})
                for i in range(rng.choice([1, 2, 3, 4, 12])):
                    item = f"{lst}.{i}"
                    mods.append({"name": item, "type": "Block"})
                    add(item, depth + 1)
            elif depth < 3 and kind < 0.45:
                sub = f"{parent}.{rng.choice(['mlp', 'self_attn', 'attn', 'moe'])}".lstrip(".")
                if any(m["name"] == sub for m in mods):
                    continue
                mods.append({"name": sub, "type": "Sub"})
                add(sub, depth + 1)
            else:
                leaf = f"{parent}.{rng.choice(LEAVES)}".lstrip(".")
                if any(m["name"] == leaf for m in mods):
                    continue
                if rng.random() < 0.7:
                    mods.append({"name": leaf, "type": "Linear", "in_features": rng.choice([4, 8, 12]),
                                 "out_features": rng.choice([4, 8, 12])})
                else:
                    mods.append({"name": leaf, "type": rng.choice(["RMSNorm", "SiLU", "Embedding"])})

    add("", 0)
    if rng.random() < 0.5:
        mods.append({"name": "lm_head", "type": "Linear", "in_features": 8, "out_features": 16})
    return {"format": "awqmap.model/v1", "architecture": "RandomForCausalLM", "config": {}, "modules": mods}


def random_target(rng):
    leaf = rng.choice(LEAVES)
    return rng.choice([f"re:.*{leaf}$", f"re:.*{leaf}", f"re:.*\\.{leaf}$", f"re:.*(mlp|self_attn)\\.{leaf}$",
                       f"re:.*layers\\.(0|2)\\..*{leaf}$", "Linear", "RMSNorm", f"re:(?=.*experts).*{leaf}$"])


def random_quantization_lists(rng):
    """targets / ignore as a user might pass them, including ignore lists that hit balance layers
    and routers (which must change only what is targeted, never the groups)."""
    targets = rng.choice([["Linear"], ["Linear"], ["re:.*proj$"], ["re:.*layers\\.0\\..*"], ["Linear", "RMSNorm"],
                          ["re:.*(q|k|v)_proj$"], ["Embedding"]])
    ignore = rng.choice([["lm_head"], ["lm_head"], ["no_such_module"], ["re:.*gate$"], ["re:.*mlp.gate$", "lm_head"],
                         ["re:.*v_proj$"], ["re:.*layers\\.1\\..*"], ["Linear"], ["re:.*experts.*"],
                         ["re:.*down_proj$", "re:.*o_proj$"]])
    return targets, ignore


def random_mappings(rng):
    out = []
    for _ in range(rng.randint(1, 4)):
        out.append({"smooth_layer": random_target(rng),
                    "balance_layers": [random_target(rng) for _ in range(rng.randint(0, 3))],
                    "activation_hook_target": rng.choice([None, None, None, "act", "q_proj"])})
    return out


def check_corpus_repairs(corpus, cli):
    """For every failing corpus case: `awqmap resolve --repair` gives a mapping list; this
    reference must resolve that list to exactly the groups awqmap printed, with no error."""
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for exp_path in sorted(glob.glob(os.path.join(corpus, "*.expected.json"))):
            expected = json.load(open(exp_path))
            if "error" not in expected:
                continue
            name = os.path.basename(exp_path)[: -len(".expected.json")]
            model_path = os.path.join(corpus, name + ".model.json")
            if not os.path.exists(model_path):
                continue
            lpath = os.path.join(tmp, "l.json")
            json.dump(expected["mappings"], open(lpath, "w"))
            targets = expected.get("targets", ["Linear"])
            ignore = expected.get("ignore", ["lm_head"])
            args = [cli, "resolve", model_path, "--mappings", lpath, "--repair", "--format", "json"]
            args += ["--targets=" + t for t in targets] + ["--ignore=" + i for i in ignore]
            run = subprocess.run(args, capture_output=True, text=True)
            if run.returncode == 4:
                continue  # not repairable: the original error stands (checked by the C++ tests)
            if run.returncode != 0:
                print(f"{name}: awqmap --repair exit {run.returncode}: {run.stderr[:500]}")
                return 1
            got = json.loads(run.stdout)
            model = json.load(open(model_path), parse_constant=float)
            try:
                want = resolve(model, got["mappings"], targets, ignore)
            except ResolutionError as e:
                print(f"{name}: the repaired mappings fail in the reference with {e.kind}")
                return 1
            if [got["resolved"], upstream_skipped(got)] != [want[0], want[1]]:
                print(f"{name}: awqmap's repaired resolution differs from the reference's")
                return 1
            checked += 1
    if checked == 0:
        print("no repaired corpus case was checked")
        return 1
    print(f"{checked} repaired corpus cases agree with the reference")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=0)
    ap.add_argument("--corpus-repair", metavar="CORPUS_DIR")
    ap.add_argument("--cli", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.corpus_repair:
        return check_corpus_repairs(a.corpus_repair, a.cli)
    rng = random.Random(a.seed)
    outcomes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(a.random):
            model, mappings = random_model(rng), random_mappings(rng)
            targets, ignore = random_quantization_lists(rng)
            mpath, lpath = os.path.join(tmp, "m.json"), os.path.join(tmp, "l.json")
            json.dump(model, open(mpath, "w"))
            json.dump(mappings, open(lpath, "w"))
            try:
                want = resolve(model, mappings, targets, ignore)
                want_kind = None
            except ResolutionError as e:
                want, want_kind = None, e.kind
            args = [a.cli, "resolve", mpath, "--mappings", lpath, "--format", "json", "--no-default-plugins"]
            for t in targets:
                args.append("--targets=" + t)
            for i in ignore:
                args.append("--ignore=" + i)
            run = subprocess.run(args, capture_output=True, text=True)
            got = json.loads(run.stdout) if run.stdout else None
            if want_kind:
                ok = run.returncode == 4 and got and got["kind"] == want_kind
            else:
                ok = run.returncode == 0 and [got["resolved"], upstream_skipped(got)] == [want[0], want[1]]
            outcomes[want_kind or "ok"] = outcomes.get(want_kind or "ok", 0) + 1
            if not ok:
                print(f"case {case} differs: reference {want_kind or want}, awqmap exit {run.returncode}: "
                      f"{run.stdout[:500]} {run.stderr[:500]}")
                print(json.dumps({"model": model, "mappings": mappings, "targets": targets, "ignore": ignore}))
                return 1
    print(f"{a.random} random models agree with the reference: {outcomes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
