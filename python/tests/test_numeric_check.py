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


sys.path.insert(0, os.path.dirname(TOOL))
import numeric_check  # noqa: E402  (the tool's config rules; they need neither torch nor transformers)


class Cfg:
    """A config-like object: attributes plus to_dict, as transformers' configs have."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def to_dict(self):
        return dict(vars(self))


class ShrinkRulesTest(unittest.TestCase):
    def test_multi_head_latent_attention_keeps_one_key_head_per_query_head(self):
        c = Cfg(hidden_size=7168, num_attention_heads=128, num_key_value_heads=128, head_dim=64, qk_rope_head_dim=64,
                qk_nope_head_dim=128, kv_lora_rank=512, num_hidden_layers=61)
        numeric_check.shrink(c, small_sizes=True)
        self.assertEqual(c.num_attention_heads, 4)
        self.assertEqual(c.num_key_value_heads, 4)
        self.assertEqual(c.head_dim, c.qk_rope_head_dim)
        self.assertEqual(c.num_hidden_layers, 4)

    def test_grouped_query_attention_stays_grouped(self):
        c = Cfg(hidden_size=4096, num_attention_heads=32, num_key_value_heads=8, num_hidden_layers=32)
        numeric_check.shrink(c, small_sizes=True)
        self.assertEqual((c.num_attention_heads, c.num_key_value_heads), (4, 2))

    def test_a_missing_rope_base_is_given_per_layer_type_where_the_model_reads_it_so(self):
        c = Cfg(rope_parameters=None, layer_types=["full_attention", "sliding_attention", "full_attention"])
        numeric_check.patch_rope(c, per_layer_type=True)
        self.assertEqual(sorted(c.rope_parameters), ["full_attention", "sliding_attention"])
        self.assertEqual(c.rope_parameters["sliding_attention"]["rope_theta"], 10000.0)
        flat = Cfg(rope_parameters=None, layer_types=["full_attention"])
        numeric_check.patch_rope(flat)
        self.assertEqual(flat.rope_parameters["rope_type"], "default")

    def test_rope_tables_that_have_a_base_are_left_alone(self):
        tables = {"full_attention": {"rope_type": "default", "rope_theta": 1e6},
                  "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}}
        c = Cfg(rope_parameters=dict(tables), layer_types=["full_attention"])
        self.assertEqual(numeric_check.patch_rope(c, per_layer_type=True), {})
        self.assertEqual(c.rope_parameters, tables)

    def test_multimodal_rope_sections_are_rescaled_from_the_rotary_error(self):
        error = ("split_with_sizes expects split_sizes to sum exactly to 8 (input tensor's size at dimension -1), "
                 "but got split_sizes=[16, 24, 24]")
        sections = numeric_check.mrope_from_error(error)
        self.assertEqual(sum(sections), 8)
        self.assertEqual(len(sections), 3)
        self.assertIsNone(numeric_check.mrope_from_error("shape '[-1, 4, 8]' is invalid for input of size 8"))
        c = Cfg(text_config=Cfg(rope_parameters={"rope_type": "default", "rope_theta": 1e6}))
        numeric_check.set_mrope_section(c, sections)
        self.assertEqual(c.text_config.rope_parameters["mrope_section"], sections)

    def test_class_overrides_reach_the_nested_config_that_has_the_field(self):
        c = Cfg(vision_config=Cfg(hidden_size=64),
                text_config=Cfg(num_hidden_layers=4, mlp_layer_types=None, num_experts_per_tok=None))
        changed = numeric_check.apply_overrides(c, numeric_check.OVERRIDES["DeepseekOcr2ForConditionalGeneration"])
        self.assertEqual(c.text_config.mlp_layer_types, ["dense", "sparse", "sparse", "sparse"])
        self.assertEqual(c.text_config.num_experts_per_tok, 2)
        self.assertFalse(hasattr(c.vision_config, "mlp_layer_types"))
        self.assertEqual(len(changed), 2)

    def test_mamba2_heads_times_head_width_stay_the_inner_width(self):
        c = Cfg(hidden_size=4096, mamba_expand=2, mamba_n_heads=128, mamba_d_head=8, mamba_d_ssm=1024,
                mamba_n_groups=1, mamba_d_state=256, mamba_chunk_size=256, num_hidden_layers=32)
        numeric_check.shrink(c, small_sizes=True)
        self.assertEqual(c.mamba_n_heads * c.mamba_d_head, c.mamba_expand * c.hidden_size)
        self.assertEqual(c.mamba_d_ssm, c.mamba_expand * c.hidden_size)
        self.assertLessEqual(c.mamba_chunk_size, 16)
        m = Cfg(hidden_size=2048, expand=2, num_heads=64, head_dim=64, n_groups=8, state_size=128, num_hidden_layers=48)
        numeric_check.shrink(m, small_sizes=True)
        self.assertEqual(m.num_heads * m.head_dim, m.expand * m.hidden_size)
        self.assertEqual(m.num_heads % m.n_groups, 0)

    def test_fields_that_repeat_the_width_or_depth_follow_them(self):
        c = Cfg(hidden_size=4096, embedding_dim=4096, num_hidden_layers=32, num_blocks=32, num_heads=8)
        numeric_check.shrink(c, small_sizes=True)
        self.assertEqual((c.embedding_dim, c.num_blocks), (c.hidden_size, c.num_hidden_layers))
        bamba = Cfg(hidden_size=4096, num_hidden_layers=32, attn_layer_indices=[9, 18, 27])
        numeric_check.shrink(bamba, small_sizes=True)
        self.assertEqual(bamba.attn_layer_indices, [3])

    def test_kv_sharing_layers_keep_an_unshared_layer_of_their_type(self):
        types = (["sliding_attention"] * 4 + ["full_attention"]) * 7
        c = Cfg(hidden_size=2048, num_hidden_layers=35, num_kv_shared_layers=15, layer_types=list(types))
        numeric_check.shrink(c, small_sizes=True)
        first_shared = c.num_hidden_layers - c.num_kv_shared_layers
        self.assertGreater(first_shared, 0)
        self.assertTrue(all(t in c.layer_types[:first_shared] for t in c.layer_types[first_shared:]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
