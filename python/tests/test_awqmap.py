"""Tests of the awqmap Python package: describe, resolve, verify and recipe on toy torch models,
and the Python API against the CLI on every corpus case.

Run by CTest with PYTHONPATH=<build>/python, AWQMAP_CLI and AWQMAP_CORPUS_DIR set; skipped (with
a message) only when torch is missing."""
import glob
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
DATA = os.path.join(HERE, "data")
CLI = os.environ.get("AWQMAP_CLI", "")
CORPUS = os.environ.get("AWQMAP_CORPUS_DIR", os.path.join(HERE, "..", "..", "tests", "corpus"))

try:
    import torch
except ImportError:  # the only reason to skip: the toy models are torch modules
    torch = None

import awqmap  # noqa: E402

if torch is not None:
    import toy_models as T


def cli(*args, check=True):
    p = subprocess.run([CLI, *args], capture_output=True, text=True, env=dict(os.environ, AWQMAP_PLUGIN_PATH=""))
    if check and p.returncode != 0:
        raise AssertionError(f"awqmap {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


def cli_has_upstream():
    return CLI and "--upstream" in cli("--help").stdout


def user(smooth, balance):
    return {"smooth_layer": smooth, "balance_layers": balance}


@unittest.skipIf(torch is None, "torch is not installed for this Python: the toy-model tests need it")
class DescribeTest(unittest.TestCase):
    def check_against_file(self, model, filename):
        got = awqmap.describe(model)
        with open(os.path.join(DATA, filename), encoding="utf-8") as f:
            want = json.load(f)
        self.assertEqual(got["format"], "awqmap.model/v1")
        self.assertEqual(got["architecture"], want["architecture"])
        self.assertEqual(len(got["modules"]), len(want["modules"]))
        for g, w in zip(got["modules"], want["modules"]):
            self.assertEqual(g, w)

    def test_a_llama_style_model_is_described_module_for_module_as_the_checked_in_file(self):
        self.check_against_file(T.ToyLlamaForCausalLM(layers=1), "toy_llama.model.json")

    def test_fused_experts_are_written_in_llm_compressor_per_expert_convention(self):
        self.check_against_file(T.ToyFusedMoeForCausalLM(layers=1, experts=2), "toy_fused_moe.model.json")

    def test_names_follow_named_modules_order(self):
        m = T.ToyMoeForCausalLM()
        self.assertEqual([r["name"] for r in awqmap.describe(m)["modules"]], [n for n, _ in m.named_modules()])

    def test_config_dicts_and_objects_are_written_as_json(self):
        class Cfg:
            def to_dict(self):
                return {"num_hidden_layers": 2, "dtype": torch.float32, "limit": float("inf")}
        d = awqmap.describe(T.GeluMLP(), config=Cfg())
        self.assertEqual(d["config"]["dtype"], "float32")
        self.assertEqual(d["config"]["limit"], float("inf"))
        self.assertEqual(awqmap.load(json.loads(json.dumps(d).replace("Infinity", "1e308"))).config["dtype"],
                         "float32")

    def test_a_non_module_is_a_type_error(self):
        with self.assertRaises(TypeError):
            awqmap.describe(object())


@unittest.skipIf(torch is None, "torch is not installed for this Python: the toy-model tests need it")
class VerifyTest(unittest.TestCase):
    def verdicts(self, model, mappings=None, **kw):
        r = awqmap.resolve(awqmap.describe(model), mappings=mappings, **kw)
        self.assertTrue(r.resolved, "the mappings resolved to no group")
        v = awqmap.verify(model, r)
        self.assertEqual([(x["smooth_name"], x["balance_names"]) for x in v],
                         [(g.smooth_name, g.balance_names) for g in r.resolved])
        return {x["smooth_name"].split("layers.")[-1]: x for x in v}

    def test_every_default_group_of_a_llama_style_model_is_exact(self):
        m = T.randomize(T.ToyLlamaForCausalLM())
        v = self.verdicts(m)
        self.assertEqual(len(v), 8)  # 4 groups per layer
        for name, x in v.items():
            self.assertTrue(x["exact"], name)
            self.assertLess(x["max_rel_diff"], 1e-12)
            self.assertTrue(x["absorbable"])
            self.assertGreater(x["control_rel_diff"], 1e-3, "scaling without compensation must show")

    def test_a_moe_group_without_the_router_is_caught_and_with_it_is_exact(self):
        m = T.randomize(T.ToyMoeForCausalLM())
        without = self.verdicts(m)  # the default list balances the experts but not mlp.gate
        self.assertFalse(without["0.post_attention_layernorm"]["exact"])
        self.assertGreater(without["0.post_attention_layernorm"]["max_rel_diff"], 1e-4)
        self.assertTrue(without["0.input_layernorm"]["exact"])
        with_router = self.verdicts(m, mappings=[
            user("re:.*post_attention_layernorm$", ["re:.*mlp.gate$", "re:.*experts.*gate_proj$",
                                                    "re:.*experts.*up_proj$"])])
        self.assertTrue(with_router["0.post_attention_layernorm"]["exact"])
        self.assertTrue(with_router["1.post_attention_layernorm"]["exact"])

    def test_fused_experts_are_balanced_through_their_weights(self):
        m = T.randomize(T.ToyFusedMoeForCausalLM())
        before = {k: v.clone() for k, v in m.state_dict().items()}
        experts = ["re:.*experts.*gate_proj$", "re:.*experts.*up_proj$"]
        bad = self.verdicts(m, mappings=[user("re:.*post_attention_layernorm$", experts)])
        good = self.verdicts(m, mappings=[user("re:.*post_attention_layernorm$", ["re:.*mlp.gate$"] + experts)])
        self.assertFalse(bad["0.post_attention_layernorm"]["exact"])
        self.assertTrue(good["0.post_attention_layernorm"]["exact"])
        self.assertTrue(all(torch.equal(before[k], v) for k, v in m.state_dict().items()))

    def test_a_fused_experts_projection_can_be_the_smooth_layer(self):
        m = T.randomize(T.ToyFusedMoeForCausalLM(layers=1, experts=2))
        before = {k: v.clone() for k, v in m.state_dict().items()}
        p = "model.layers.0.mlp.experts"
        v = awqmap.verify(m, [(f"{p}.1.up_proj", [f"{p}.1.down_proj"]),  # SwiGLU: up only multiplies
                              (f"{p}.1.gate_proj", [f"{p}.1.down_proj"]),  # SiLU lies between
                              (f"{p}.0.up_proj", [f"{p}.1.down_proj"])])  # another expert's input
        self.assertTrue(v[0]["exact"], v[0])
        self.assertTrue(v[0]["reached"] and v[0]["absorbable"])
        self.assertGreater(v[0]["control_rel_diff"], 1e-3, "scaling without compensation must show")
        self.assertFalse(v[1]["exact"])
        self.assertIsNone(v[1]["error"])
        self.assertFalse(v[2]["exact"])
        self.assertTrue(all(torch.equal(before[k], x) for k, x in m.state_dict().items()))

    def test_tied_weights_are_rescaled_wherever_they_are_used(self):
        m = T.randomize(T.TiedStacks())
        ids = torch.randint(0, 32, (1, 6), generator=torch.Generator().manual_seed(3))
        experts = [f"moe_a.experts.{e}.{p}" for e in range(4) for p in ("gate_proj", "up_proj")]
        # The fused experts' weights are rescaled in place, so moe_b's experts see the rescaling too:
        # exact only because norm_b, tied to norm_a, is rescaled with it (and moe_b.gate with moe_a.gate).
        v = awqmap.verify(m, [("norm_a", ["moe_a.gate"] + experts),
                              ("norm_a", experts),  # the router left out, in both blocks
                              ("final_norm", ["head"])], ids)  # the head is tied to the embedding
        self.assertTrue(v[0]["exact"], v[0])
        self.assertGreater(v[0]["control_rel_diff"], 1e-3)
        self.assertFalse(v[1]["exact"])
        self.assertIsNone(v[1]["error"])
        self.assertFalse(v[2]["exact"])
        self.assertIn("embed", v[2]["error"])

    def test_a_post_norm_that_also_feeds_the_residual_is_caught(self):
        m = T.randomize(T.PostLNBlock())
        v = self.verdicts(m, mappings=[user("norm1", ["fc1"]), user("attn.v_proj", ["attn.o_proj"])])
        self.assertFalse(v["norm1"]["exact"])
        self.assertTrue(v["attn.v_proj"]["exact"])
        self.assertTrue(v["norm1"]["absorbable"])  # LayerNorm weight and bias are per channel

    def test_an_activation_between_fc1_and_fc2_is_caught(self):
        m = T.randomize(T.GeluMLP())
        v = self.verdicts(m, mappings=[user("norm", ["fc1"]), user("fc1", ["fc2"])])
        self.assertTrue(v["norm"]["exact"])
        self.assertFalse(v["fc1"]["exact"])
        self.assertTrue(v["fc1"]["reached"])

    def test_the_model_is_restored_after_verification(self):
        m = T.randomize(T.ToyLlamaForCausalLM())
        m.train()
        before = {k: v.clone() for k, v in m.state_dict().items()}
        awqmap.verify(m, awqmap.resolve(awqmap.describe(m)))
        self.assertTrue(m.training)
        for k, v in m.state_dict().items():
            self.assertEqual(v.dtype, before[k].dtype, k)
            self.assertTrue(torch.equal(v, before[k]), k)
        for mod in m.modules():
            self.assertFalse(mod._forward_hooks or mod._forward_pre_hooks)

    def test_groups_naming_missing_modules_are_reported_not_fatal(self):
        m = T.GeluMLP()
        v = awqmap.verify(m, [("norm", ["fc1"]), ("nope", ["fc1"]), ("norm", ["fc9"])])
        self.assertTrue(v[0]["exact"])
        self.assertIn("nope", v[1]["error"])
        self.assertIn("fc9", v[2]["error"])
        self.assertFalse(v[1]["exact"] or v[2]["exact"])

    def test_verify_reads_cli_json(self):
        m = T.randomize(T.ToyLlamaForCausalLM(layers=1))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "toy.model.json")
            with open(path, "w") as f:
                json.dump(awqmap.describe(m), f)
            out = json.loads(cli("resolve", path, "--format", "json").stdout)
        v = awqmap.verify(m, out)
        self.assertEqual(len(v), 4)
        self.assertTrue(all(x["exact"] for x in v))


class ImportTest(unittest.TestCase):
    def test_describe_and_verify_import_without_the_extension_and_without_torch(self):
        src = os.path.join(HERE, "..")  # the source package has no compiled _core
        code = ("import sys, awqmap, awqmap.torch_tools\n"
                "assert 'torch' not in sys.modules, 'importing awqmap imported torch'\n"
                "assert 'awqmap._core' not in sys.modules\n"
                "assert callable(awqmap.describe) and callable(awqmap.verify)\n"
                "r = awqmap.Resolution.from_json({'format': 'awqmap.resolved/v1', 'resolved': []})\n"
                "print('ok')")
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=src), cwd=tempfile.gettempdir())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "ok")


class ApiTest(unittest.TestCase):
    def corpus(self, pattern):
        files = sorted(glob.glob(os.path.join(CORPUS, pattern)))
        self.assertTrue(files, f"no corpus files {pattern} in {CORPUS}")
        return files

    def test_resolution_errors_carry_kind_and_explanation(self):
        for expected in self.corpus("*.expected.json"):
            with open(expected) as f:
                exp = json.load(f)
            model = expected.replace(".expected.json", ".model.json")
            if "error" not in exp or not os.path.exists(model) or os.path.exists(
                    expected.replace(".expected.json", ".mappings.json")):
                continue
            with self.assertRaises(awqmap.ResolutionError) as ctx:
                awqmap.resolve(model, targets=exp.get("targets", ["Linear"]), ignore=exp.get("ignore", ["lm_head"]),
                               mappings=exp["mappings"])
            self.assertEqual(ctx.exception.kind, exp["error"]["kind"])
            self.assertTrue(ctx.exception.explanation)
            return
        self.fail("no corpus case with an error")

    def test_bad_input_raises_input_error_naming_the_problem(self):
        with self.assertRaises(awqmap.InputError) as ctx:
            awqmap.load({"format": "awqmap.model/v1", "architecture": "X",
                         "modules": [{"name": "", "type": "X"}, {"name": "a.b", "type": "Linear"}]})
        self.assertIn("a.b", str(ctx.exception))
        with self.assertRaises(awqmap.InputError):
            awqmap.load("/nonexistent/model.json")
        model = {"format": "awqmap.model/v1", "architecture": "X", "modules": [{"name": "", "type": "X"}]}
        with self.assertRaises(awqmap.InputError) as ctx:
            awqmap.resolve(model, mappings=[user("re:(", ["x"])])
        self.assertIn("re:(", str(ctx.exception))

    def test_registry_loads_the_shipped_plugins(self):
        reg = awqmap.Registry()
        self.assertTrue(reg.has_default)
        self.assertTrue(any(p["name"] == "qwen3_next" for p in reg.plugins()))
        self.assertTrue(any(a["architecture"] == "Qwen3NextForCausalLM" for a in reg.architectures()))
        empty = awqmap.Registry(default_plugins=False)
        self.assertEqual(empty.plugins(), [])

    def test_the_api_and_the_cli_agree_on_every_corpus_case(self):
        upstream = cli_has_upstream()
        flags = ["--upstream"] if upstream else []
        checked = 0
        for model in self.corpus("*.model.json"):
            stem = model[: -len(".model.json")]
            targets, ignore = ["Linear"], ["lm_head"]
            if os.path.exists(stem + ".expected.json"):
                with open(stem + ".expected.json") as f:
                    exp = json.load(f)
                targets, ignore = exp.get("targets", targets), exp.get("ignore", ignore)
            args = ["resolve", model, "--format", "json"] + flags
            for t in targets:
                args += ["--targets", t]
            for i in ignore:
                args += ["--ignore", i]
            mappings = stem + ".mappings.json" if os.path.exists(stem + ".mappings.json") else None
            if mappings:
                args += ["--mappings", mappings]
            p = cli(*args, check=False)
            with self.subTest(model=os.path.basename(model)):
                if p.returncode == 3:  # bad input for the CLI is bad input for the API too
                    with self.assertRaises(awqmap.InputError):
                        awqmap.resolve(model, targets=targets, ignore=ignore, mappings=mappings, upstream=upstream)
                    checked += 1
                    continue
                want = json.loads(p.stdout)
                try:
                    got = awqmap.resolve(model, targets=targets, ignore=ignore, mappings=mappings,
                                         upstream=upstream).to_json()
                except awqmap.ResolutionError as e:
                    self.assertEqual(p.returncode, 4, p.stderr)
                    self.assertEqual(want["kind"], e.kind)
                    self.assertEqual(want["message"], str(e).split("\n")[0])
                    checked += 1
                    continue
                self.assertEqual(p.returncode, 0, p.stderr)
                # The CLI adds the shapes of incompatible groups to upstream's skipped fields.
                for s in want["skipped"]:
                    s.pop("shapes", None)
                for key in ("architecture", "selection", "mappings", "resolved", "skipped"):
                    self.assertEqual(got[key], want[key], key)
                checked += 1
        self.assertGreater(checked, 50)

    def test_resolve_json_mappings_are_accepted_by_mappings_as_they_are(self):
        model = os.path.join(CORPUS, "Qwen3NextForCausalLM.tiny.all-moe.model.json")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "resolved.json")
            with open(out, "w") as f:
                f.write(cli("resolve", model, "--format", "json", "--repair").stdout)
            with open(out) as f:
                doc = json.load(f)
            listing = os.path.join(d, "mappings.json")
            with open(listing, "w") as f:
                json.dump(doc["mappings"], f)
            for source in (listing, out):
                again = json.loads(cli("resolve", model, "--format", "json", "--mappings", source).stdout)
                self.assertEqual(again["resolved"], doc["resolved"])
                self.assertEqual(again["selection"]["kind"], "user")

    def test_the_recipe_parses_as_yaml_and_carries_the_mappings(self):
        import yaml
        model = os.path.join(CORPUS, "Qwen3NextForCausalLM.tiny.all-moe.model.json")
        for repair in (False, True):
            r = awqmap.resolve(model, repair=repair)
            text = awqmap.recipe(r)
            awq = yaml.safe_load(text)["default_stage"]["default_modifiers"]["AWQModifier"]
            self.assertEqual(awq["ignore"], ["lm_head"])
            self.assertEqual([(m["smooth_layer"], m["balance_layers"], m.get("activation_hook_target"))
                              for m in awq["mappings"]],
                             [(m.smooth_layer, m.balance_layers, m.activation_hook_target) for m in r.mappings])
            cli_text = cli("recipe", model, *(["--repair"] if repair else [])).stdout
            self.assertEqual(cli_text, text)
            self.assertEqual(yaml.safe_load(cli_text), yaml.safe_load(text))

    def test_recipe_strings_survive_yaml_quoting(self):
        import yaml
        odd = [awqmap.Mapping('re:.*"quoted"\\.x$', ["re:a\\b", "caf\u00e9", "\U0001F600", "tab\there"])]
        awq = yaml.safe_load(awqmap.recipe(odd))["default_stage"]["default_modifiers"]["AWQModifier"]
        self.assertEqual(awq["mappings"][0]["smooth_layer"], odd[0].smooth_layer)
        self.assertEqual(awq["mappings"][0]["balance_layers"], odd[0].balance_layers)


if __name__ == "__main__":
    unittest.main(verbosity=2)
