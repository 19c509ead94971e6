#!/usr/bin/env python3
"""Whole-process speed of `awqmap resolve` against the parse floor and the upstream algorithm.

    compare.py --awqmap BUILD/bin/awqmap --floor BUILD/bench/awqmap_floor [--runs 15] [--no-reference]

Generates Qwen3-Next models with tools/make_qwen3_next.py (the 80B-A3B layout: 48 layers, 512
experts, 99k modules) and its 41-shard checkpoint with tools/make_qwen3_next_checkpoint.py
--sparse, then prints, each figure the minimum over --runs runs interleaved with what it is
compared to (so that a busy machine slows both alike):

  - `awqmap resolve --format json` on the 80B description vs the floor program (target <= 1.5x)
  - the same vs tests/reference/upstream_reference.py resolving the same mappings (target >= 100x)
  - the checkpoint directory vs the description (target <= 1.5x)
  - ms per 1k modules at 12k, 25k, 50k, 100k and 200k modules (200k <= 2.2x the 100k figure)
  - peak RSS of the description path vs the file's size (target <= 4x)

Times are CPU seconds (user + system) of the child process, the figure least disturbed by other
processes on a shared machine; wall times are printed beside them. Output goes to /dev/null."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
REFERENCE = os.path.join(ROOT, "tests", "reference")


def run_once(cmd, env=None):
    """(cpu seconds, wall seconds, peak RSS bytes) of one whole process. The RSS is an upper
    bound: a child started from Python inherits Python's peak before its exec (see peak_rss)."""
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=null, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err = proc.stderr.read()
        proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed with exit {proc.returncode}: {err.decode(errors='replace')[:2000]}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss * 1024


def best_of(commands, runs):
    """Runs the commands round-robin `runs` times; per command the minimum CPU and wall time and
    the largest peak RSS."""
    best = [[float("inf"), float("inf"), 0] for _ in commands]
    for _ in range(runs):
        for b, cmd in zip(best, commands):
            cpu, wall, rss = run_once(cmd)
            b[0], b[1], b[2] = min(b[0], cpu), min(b[1], wall), max(b[2], rss)
    return best


def peak_rss(cmd):
    """Peak RSS in bytes of `cmd`, started by GNU time so that it is the process's own (a child
    of this Python process would report Python's peak when that is larger)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as f, open(os.devnull, "wb") as null:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name] + cmd, stdout=null, stderr=subprocess.DEVNULL,
                       check=True)
        return int(f.read().split()[-1]) * 1024


def count_modules(path):
    """Module records in a generated description (each opens with its "name" key), counted
    without building the JSON tree."""
    with open(path, "rb") as f:
        return f.read().count(b'{"name":')


def generate(out, layers, experts=512, hidden=2048):
    if not os.path.exists(out):
        subprocess.run([sys.executable, os.path.join(TOOLS, "make_qwen3_next.py"), out, "--layers", str(layers),
                        "--experts", str(experts), "--hidden", str(hidden)], check=True)
    return count_modules(out)


def generate_checkpoint(out_dir, layers, experts=512, hidden=2048, shards=41):
    if not os.path.exists(os.path.join(out_dir, "config.json")):
        subprocess.run([sys.executable, os.path.join(TOOLS, "make_qwen3_next_checkpoint.py"), out_dir, "--layers",
                        str(layers), "--experts", str(experts), "--hidden", str(hidden), "--shards", str(shards),
                        "--sparse"], check=True)


def ms(seconds):
    return f"{seconds * 1000:8.1f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--awqmap", required=True, help="the awqmap executable")
    ap.add_argument("--floor", required=True, help="the awqmap_floor executable (bench/floor.cpp)")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--reference-runs", type=int, default=2)
    ap.add_argument("--no-reference", action="store_true", help="skip the upstream reference (it takes seconds)")
    ap.add_argument("--workdir", help="where generated models are kept between runs (default: a temporary folder)")
    a = ap.parse_args()
    work = a.workdir or tempfile.mkdtemp(prefix="awqmap-bench-")
    os.makedirs(work, exist_ok=True)
    awqmap = [a.awqmap, "resolve", "--format", "json", "--quiet"]
    verdicts = []

    def verdict(name, value, limit, lower_is_better=True):
        ok = value <= limit if lower_is_better else value >= limit
        verdicts.append(ok)
        sign = "<=" if lower_is_better else ">="
        print(f"  {name}: {value:.2f}x (target {sign} {limit}x) {'ok' if ok else 'MISSED'}")

    # 1. The 80B description against the floor.
    model = os.path.join(work, "qwen3-next-80b-a3b.model.json")
    modules = generate(model, 48)
    size = os.path.getsize(model)
    print(f"Qwen3-Next-80B-A3B description: {modules} modules, {size / 1e6:.1f} MB; min of {a.runs} runs (CPU, wall)")
    (f_cpu, f_wall, _), (r_cpu, r_wall, r_rss) = best_of([[a.floor, model], awqmap + [model]], a.runs)
    print(f"  floor            {ms(f_cpu)} {ms(f_wall)}")
    print(f"  awqmap resolve   {ms(r_cpu)} {ms(r_wall)}")
    verdict("resolve / floor (CPU)", r_cpu / f_cpu, 1.5)
    print(f"  resolve / floor (wall): {r_wall / f_wall:.2f}x")

    # 2. The upstream algorithm in Python on the same file and the mappings awqmap selects.
    if not a.no_reference:
        mappings = os.path.join(work, "qwen3-next-80b-a3b.mappings.json")
        with open(mappings, "wb") as f:
            subprocess.run([a.awqmap, "mappings", model, "--format", "json", "--quiet"], stdout=f, check=True)
        script = ("import json, sys; sys.path.insert(0, sys.argv[1]); import upstream_reference as u; "
                  "m = json.load(open(sys.argv[2])); l = json.load(open(sys.argv[3]))['mappings']; "
                  "r, s = u.resolve(m, l); print(len(r), len(s))")
        ref_cmd = [sys.executable, "-c", script, REFERENCE, model, mappings]
        (p_cpu, p_wall, _), (q_cpu, q_wall, _) = best_of([ref_cmd, awqmap + [model]], a.reference_runs)
        print(f"  upstream_reference.py {ms(p_cpu)} {ms(p_wall)}")
        verdict("reference / resolve (CPU)", p_cpu / min(q_cpu, r_cpu), 100, lower_is_better=False)
        print(f"  reference / resolve (wall): {p_wall / min(q_wall, r_wall):.2f}x")

    # 3. The same model as a 41-shard checkpoint.
    ckpt = os.path.join(work, "qwen3-next-80b-a3b-checkpoint")
    generate_checkpoint(ckpt, 48)
    (c_cpu, c_wall, _), (d_cpu, d_wall, _) = best_of([awqmap + [ckpt], awqmap + [model]], a.runs)
    print(f"Checkpoint (41 shards) {ms(c_cpu)} {ms(c_wall)}; description {ms(d_cpu)} {ms(d_wall)}")
    verdict("checkpoint / description (CPU)", c_cpu / d_cpu, 1.5)
    print(f"  checkpoint / description (wall): {c_wall / d_wall:.2f}x")

    # 4. Growth: the same layout with 6 to 96 layers.
    print(f"Growth (min of {a.runs} runs each, CPU):")
    per_k = {}
    sizes = [(6, "12k"), (12, "25k"), (24, "50k"), (48, "100k"), (96, "200k")]
    paths = []
    for layers, label in sizes:
        path = os.path.join(work, f"qwen3-next-{layers}-layers.model.json")
        paths.append((label, path, generate(path, layers)))
    best = best_of([awqmap + [p] for _, p, _ in paths], a.runs)
    for (label, path, n), (cpu, wall, _) in zip(paths, best):
        per_k[label] = cpu * 1000 / (n / 1000)
        rss = peak_rss(awqmap + [path]) if os.path.exists("/usr/bin/time") else 0
        print(f"  {label:>5}: {n:7d} modules {ms(cpu)} CPU {ms(wall)} wall  {per_k[label]:.3f} ms per 1k modules"
              f"  peak RSS {rss / 1e6:.0f} MB")
    verdict("200k per 1k modules / 100k per 1k modules", per_k["200k"] / per_k["100k"], 2.2)

    # 5. Memory.
    if os.path.exists("/usr/bin/time"):
        r_rss = peak_rss(awqmap + [model])
    print(f"Peak RSS on the 80B description: {r_rss / 1e6:.1f} MB for a {size / 1e6:.1f} MB file")
    verdict("peak RSS / file size", r_rss / size, 4.0)
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
