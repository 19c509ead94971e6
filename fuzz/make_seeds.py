#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, generated from the test corpus (tests/corpus) and the
regex differential table (tests/data/regex_table.json).

    make_seeds.py OUT_DIR      writes OUT_DIR/<target>/<seed files>, one folder per target
"""
import hashlib
import json
import pathlib
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
TABLE = ROOT / "tests" / "data" / "regex_table.json"
MAX_SEED = 64 * 1024  # larger inputs slow every mutation down
DTYPE_SIZE = {"BF16": 2, "F16": 2, "F32": 4, "F64": 8, "I8": 1, "U8": 1, "I32": 4, "I64": 8, "BOOL": 1,
              "F8_E4M3": 1, "F8_E5M2": 1}


def write(out, target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > MAX_SEED:
        return
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def safetensors(tensors):
    """A safetensors file with the tensors' names and dtypes, every dimension cut to at most 2."""
    header, offset = {}, 0
    for t in tensors:
        shape = [min(d, 2) for d in t["shape"]]
        size = DTYPE_SIZE.get(t["dtype"], 2)
        for d in shape:
            size *= d
        header[t["name"]] = {"dtype": t["dtype"], "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + b"\0" * offset


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    out = pathlib.Path(sys.argv[1])
    checkpoints = sorted(CORPUS.glob("*.checkpoint.json"))
    for path in checkpoints:
        case = json.loads(path.read_text())
        config, tensors = case["config"], case["tensors"]
        write(out, "safetensors", safetensors(tensors))
        write(out, "safetensors", safetensors(tensors[:8]))
        write(out, "config", json.dumps(config, indent=1))
        lines = [json.dumps(config)] + [t["name"] + " " + ",".join(str(min(d, 4)) for d in t["shape"]) for t in tensors]
        write(out, "tree", "\n".join(lines))
    for path in sorted(CORPUS.glob("*.model.json")):
        text = path.read_text()
        write(out, "description", text)
        model = json.loads(text)
        if "config" in model and any(k in model["architecture"] for k in ("Qwen3Next", "Qwen3_5")):
            write(out, "config", json.dumps(model["config"]))
    patterns = set()
    for path in sorted(CORPUS.glob("*.expected.json")):
        mappings = json.loads(path.read_text()).get("mappings")
        if mappings:
            write(out, "mappings", json.dumps(mappings, indent=1))
            for m in mappings:
                patterns.update(p for p in [m["smooth_layer"]] + m["balance_layers"] if p.startswith("re:"))
    for path in sorted(CORPUS.glob("*.mappings.json")):
        write(out, "mappings", path.read_text())
    names = {}
    for pattern, name, _ in json.loads(TABLE.read_text())["rows"]:
        names.setdefault(pattern, []).append(name)
    for pattern, ns in names.items():
        write(out, "regex", pattern + "\0" + "\0".join(ns[i] for i in range(0, len(ns), 7)))
    for p in sorted(patterns):
        write(out, "regex", p[3:] + "\0model.layers.0.self_attn.q_proj\0model.layers.1.mlp.experts.3.up_proj")
    for target in sorted(p.name for p in out.iterdir()):
        print(f"{target}: {len(list((out / target).iterdir()))} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
