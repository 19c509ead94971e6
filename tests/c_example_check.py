"""The C API example (examples/c/plan.c) against the CLI: for each model and mode, the plan the
C program prints must be the CLI's `resolve --format json` rendered the same way (same
selection, mappings, groups in order with their balance layers and parents, skipped groups),
and a failure must fail both with the same exit code.

  c_example_check.py PLAN_EXE CLI_EXE MODEL [MODEL...]
"""
import json
import subprocess
import sys


def expected_plan(doc, mode):
    sel = doc["selection"]
    lines = [f"{doc['architecture']}: {len(doc['resolved'])} smoothing groups "
             f"({sel['kind']} mappings from plugin {sel.get('plugin', '')}, {mode} selection)"]
    for i, m in enumerate(doc["mappings"]):
        lines.append(f"mapping {i}: smooth {m['smooth_layer']}  balance {', '.join(m['balance_layers'])}")
    for g in doc["resolved"]:
        lines.append(f"smooth {g['smooth_name']}  parent {g['parent_name'] or '<root>'}  mapping {g['mapping']}")
        lines += [f"  balance {b}" for b in g["balance_names"]]
        if g["activation_hook_target"] is not None:
            lines.append(f"  hook {g['activation_hook_target']}")
    for s in doc["skipped"]:
        lines.append(f"skip {s['smooth_name']} ({s['reason']})  mapping {s['mapping']}")
    return lines


def main():
    plan, cli, models = sys.argv[1], sys.argv[2], sys.argv[3:]
    checked = lines = 0
    for model in models:
        for flags in ([], ["--upstream"], ["--repair"]):
            mode = "upstream" if "--upstream" in flags else "exact"
            what = f"{model} {' '.join(flags) or '(exact)'}"
            c = subprocess.run([plan, model, *flags], capture_output=True, text=True)
            ref = subprocess.run([cli, "resolve", model, "--format", "json", *flags], capture_output=True, text=True)
            if ref.returncode != 0:
                if c.returncode != ref.returncode:
                    sys.exit(f"FAIL {what}: the CLI exits {ref.returncode} ({ref.stderr.strip()}), "
                             f"the C example {c.returncode} ({c.stderr.strip()})")
                checked += 1
                continue
            if c.returncode != 0:
                sys.exit(f"FAIL {what}: the C example exits {c.returncode}: {c.stderr.strip()}")
            want = expected_plan(json.loads(ref.stdout), mode)
            got = c.stdout.splitlines()
            if got != want:
                for i, (g, w) in enumerate(zip(got + [""] * len(want), want + [""] * len(got))):
                    if g != w:
                        sys.exit(f"FAIL {what}: line {i + 1} differs\n  C API: {g}\n  CLI:   {w}")
            checked += 1
            lines += len(want)
    if lines == 0:
        sys.exit("FAIL: no model resolved to any group; nothing was compared")
    print(f"{checked} runs agree ({lines} lines compared)")


if __name__ == "__main__":
    main()
