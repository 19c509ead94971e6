"""tools/numeric_check.py end to end on toy models: describe pass, the CLI in between, verify
pass; skipped (with a message) only when torch is missing."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "tools", "numeric_check.py")
CLI = os.environ.get("AWQMAP_CLI", "")

try:
    import torch  # noqa: F401
except ImportError:
    torch = None


@unittest.skipIf(torch is None, "torch is not installed for this Python: the numeric check needs it")
class NumericCheckTest(unittest.TestCase):
    def run_tool(self, *args):
        # The device machine has no compiled extension: the tool must not need it.
        env = dict(os.environ, PYTHONPATH="")
        p = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def test_two_passes_give_per_group_verdicts_and_a_summary(self):
        with tempfile.TemporaryDirectory() as d:
            models, resolved, out = (os.path.join(d, x) for x in ("models", "resolved", "out"))
            self.run_tool("describe", "--toy", "--out", models, "--classes", "ToyLlamaForCausalLM",
                          "ToyFusedMoeForCausalLM", "NotAToyModel")
            with open(os.path.join(models, "describe_summary.json")) as f:
                built = json.load(f)
            self.assertTrue(built["ToyLlamaForCausalLM"]["ok"])
            self.assertFalse(built["NotAToyModel"]["ok"])  # recorded, not fatal
            os.makedirs(resolved)
            for name in ("ToyLlamaForCausalLM", "ToyFusedMoeForCausalLM"):
                p = subprocess.run([CLI, "resolve", os.path.join(models, f"{name}.model.json"), "--format", "json"],
                                   capture_output=True, text=True, env=dict(os.environ, AWQMAP_PLUGIN_PATH=""))
                self.assertEqual(p.returncode, 0, p.stderr)
                with open(os.path.join(resolved, f"{name}.resolved.json"), "w") as f:
                    f.write(p.stdout)
            self.run_tool("verify", "--models", models, "--resolved", resolved, "--out", out)
            with open(os.path.join(out, "ToyLlamaForCausalLM.verdicts.json")) as f:
                llama = json.load(f)
            self.assertEqual(llama["status"], "exact")
            self.assertEqual(len(llama["groups"]), 8)
            with open(os.path.join(out, "ToyFusedMoeForCausalLM.verdicts.json")) as f:
                moe = json.load(f)
            # The default list leaves the router out of the experts' group.
            self.assertEqual(moe["status"], "inexact")
            bad = [g for g in moe["groups"] if g["reached"] and not g["exact"]]
            self.assertTrue(all(g["smooth_name"].endswith("post_attention_layernorm") for g in bad), bad)
            with open(os.path.join(out, "summary.md")) as f:
                summary = f.read()
            self.assertIn("| ToyLlamaForCausalLM | exact |", summary)
            self.assertIn("| ToyFusedMoeForCausalLM | inexact |", summary)


if __name__ == "__main__":
    unittest.main(verbosity=2)
