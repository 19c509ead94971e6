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


def _shrunk_for(name, config):
    """config shrunk as build_transformers does for class `name`, without building anything."""
    numeric_check.shrink(config, small_sizes=True)
    numeric_check.apply_overrides(config, numeric_check.OVERRIDES.get(name, {}))
    if name in numeric_check.FINISH:
        numeric_check.FINISH[name](config)
    return config


class ClassFixesTest(unittest.TestCase):
    def test_mistral4_rotary_table_spans_the_mla_rope_part(self):
        c = _shrunk_for("Mistral4ForCausalLM", Cfg(
            hidden_size=4096, num_attention_heads=32, num_key_value_heads=32, num_hidden_layers=36, head_dim=128,
            qk_rope_head_dim=64, qk_nope_head_dim=64, qk_head_dim=128, v_head_dim=128, kv_lora_rank=256,
            q_lora_rank=1024, rope_parameters={"rope_type": "yarn", "partial_rotary_factor": 0.5}))
        factor = c.rope_parameters["partial_rotary_factor"]
        self.assertEqual(int(c.head_dim * factor), c.qk_rope_head_dim)
        self.assertEqual(c.head_dim, c.qk_nope_head_dim + c.qk_rope_head_dim)

    def test_rope_sections_fill_half_the_small_head(self):
        text = Cfg(hidden_size=4096, num_attention_heads=32, num_key_value_heads=2, head_dim=None, num_hidden_layers=32,
                   rope_parameters={"rope_type": "default", "rope_theta": 1e4})
        _shrunk_for("HunYuanVLForConditionalGeneration", Cfg(text_config=text, vision_config=Cfg(hidden_size=1152)))
        self.assertEqual(len(text.rope_parameters["mrope_section"]), 4)
        self.assertEqual(sum(text.rope_parameters["mrope_section"]), text.head_dim // 2)
        compass = Cfg(hidden_size=8192, num_attention_heads=64, num_key_value_heads=64, head_dim=128,
                      num_hidden_layers=40, layer_types=["full_attention"] * 40, rope_parameters={})
        vision = Cfg(hidden_size=1152, num_heads=16, depth=27, rope_parameters=None)
        _shrunk_for("CohereCompassForConditionalGeneration", Cfg(text_config=compass, vision_config=vision))
        self.assertEqual(list(compass.rope_parameters), ["full_attention"])
        self.assertEqual(sum(compass.rope_parameters["full_attention"]["mrope_section"]), compass.head_dim // 2)
        self.assertIsNone(vision.rope_parameters)  # no layer types: left as it was

    def test_pix2struct_heads_split_the_small_width(self):
        text = Cfg(hidden_size=768, num_heads=12, d_kv=64, num_layers=12)
        vision = Cfg(hidden_size=768, num_attention_heads=12, d_kv=64, num_hidden_layers=12)
        _shrunk_for("Pix2StructForConditionalGeneration", Cfg(text_config=text, vision_config=vision))
        self.assertEqual(text.d_kv * text.num_heads, text.hidden_size)
        self.assertEqual(vision.d_kv * vision.num_attention_heads, vision.hidden_size)

    def test_qformer_cross_attends_at_the_shrunk_vision_width(self):
        for name in numeric_check.QUERY_TOKENS:
            c = _shrunk_for(name, Cfg(vision_config=Cfg(hidden_size=1408, num_hidden_layers=39),
                                      qformer_config=Cfg(hidden_size=768, encoder_hidden_size=1408),
                                      text_config=Cfg(hidden_size=2560, vocab_size=50272),
                                      num_query_tokens=32, image_token_index=None, video_token_index=None))
            self.assertEqual(c.qformer_config.encoder_hidden_size, c.vision_config.hidden_size, name)
            field, _ = numeric_check.QUERY_TOKENS[name]
            self.assertLess(getattr(c, field), c.text_config.vocab_size, name)

    def test_the_opt_text_model_embeds_at_the_width_the_qformer_projects_to(self):
        for name in numeric_check.QUERY_TOKENS:
            c = _shrunk_for(name, Cfg(vision_config=Cfg(hidden_size=1408, num_hidden_layers=39),
                                      qformer_config=Cfg(hidden_size=768, encoder_hidden_size=1408),
                                      text_config=Cfg(hidden_size=2560, vocab_size=50272, word_embed_proj_dim=2560),
                                      num_query_tokens=32, image_token_index=None, video_token_index=None))
            self.assertEqual(c.text_config.word_embed_proj_dim, c.text_config.hidden_size, name)
            self.assertLess(c.text_config.hidden_size, 2560, name)

    def test_a_rebuilt_config_drops_only_the_nested_keys_its_class_refuses(self):
        seen = []

        class Strict:
            @classmethod
            def from_dict(cls, d):
                seen.append(d)
                if "_name_or_path" in d["attn_config"] or "_name_or_path" in d["ffn_config"]:
                    raise ValueError("Found unknown kwargs={'_name_or_path': '', 'output_attentions': False}")
                return d

        model = type("DbrxLike", (), {"config_class": Strict})
        d = {"attn_config": {"_name_or_path": "", "output_attentions": False, "clip_qkv": 8.0},
             "ffn_config": {"_name_or_path": "", "moe_top_k": 2}, "_name_or_path": "", "d_model": 64}
        out = numeric_check._config_from_dict(model, d)
        self.assertEqual(out["attn_config"], {"clip_qkv": 8.0})
        self.assertEqual(out["ffn_config"], {"moe_top_k": 2})
        self.assertEqual(out["_name_or_path"], "")  # the top level keeps its own keys
        with self.assertRaises(ValueError):  # any other error is not swallowed
            numeric_check._config_from_dict(type("Bad", (), {"config_class": type("C", (), {
                "from_dict": classmethod(lambda cls, d: (_ for _ in ()).throw(ValueError("other")))})}), d)

    def test_every_assistant_layer_reads_the_shared_keys_and_values(self):
        types = (["sliding_attention"] * 4 + ["full_attention"]) * 7
        text = Cfg(hidden_size=2048, num_hidden_layers=35, num_kv_shared_layers=35, layer_types=list(types))
        _shrunk_for("Gemma4AssistantForCausalLM", Cfg(text_config=text, backbone_hidden_size=1536))
        self.assertEqual(text.num_kv_shared_layers, text.num_hidden_layers)
        self.assertLess(text.num_hidden_layers, 35)


@unittest.skipIf(torch is None, "torch is not installed for this Python: the inputs are tensors")
class ClassInputsTest(unittest.TestCase):
    @staticmethod
    def model_named(name, forward):
        return type(name, (torch.nn.Module,), {"forward": forward})()

    def test_query_outputs_get_one_leading_image_token_each(self):
        def forward(self, pixel_values, input_ids=None, qformer_input_ids=None, use_cache=None, **kwargs):
            pass
        for name, frames in (("Blip2ForConditionalGeneration", 1), ("InstructBlipVideoForConditionalGeneration", 4)):
            field = numeric_check.QUERY_TOKENS[name][0]
            config = Cfg(num_query_tokens=2, text_config=Cfg(vocab_size=512), vision_config=Cfg(image_size=14),
                         **{field: 504})
            inputs = numeric_check.inputs_for(self.model_named(name, forward), config, 12, 0)
            ids = inputs["input_ids"][0].tolist()
            self.assertEqual(ids[:2 * frames], [504] * (2 * frames), name)
            self.assertNotIn(504, ids[2 * frames:], name)
            self.assertEqual(inputs["pixel_values"].dim(), 5 if frames > 1 else 4)

    def test_listed_classes_get_an_image_or_lose_use_cache_and_others_keep_their_inputs(self):
        def forward(self, input_ids=None, pixel_values=None, decoder_input_ids=None, use_cache=None, **kwargs):
            pass
        config = Cfg(vocab_size=512, is_encoder_decoder=True, vision_config=Cfg(image_size=14))
        formula = numeric_check.inputs_for(self.model_named("PPFormulaNetForConditionalGeneration", forward),
                                           config, 4, 0)
        self.assertEqual(tuple(formula["pixel_values"].shape), (1, 3, 14, 14))
        other = numeric_check.inputs_for(self.model_named("SomeOtherForConditionalGeneration", forward), config, 4, 0)
        self.assertNotIn("pixel_values", other)
        self.assertIn("use_cache", other)
        diffusion = numeric_check.inputs_for(self.model_named("DiffusionGemmaForBlockDiffusion", forward), config, 4, 0)
        self.assertNotIn("use_cache", diffusion)


if __name__ == "__main__":
    unittest.main(verbosity=2)
