#!/usr/bin/env python3
"""Numeric check of AWQ mappings on real transformers models (random weights, small configs).

Runs where transformers and torch are installed but awqmap's compiled extension is not (it
needs only awqmap's pure-Python part, found next to this script in ../python). Two passes, with
the CLI in between on a machine where awqmap is built:

  1. describe: for each class, build the model from its config class's defaults shrunk to at
     most 4 layers / 8 experts and small hidden sizes, float64, eager attention and experts,
     every parameter redrawn at random; write <Class>.model.json (awqmap.model/v1) and
     <Class>.config.json (the shrunk config and seed, so that pass 2 rebuilds the same model).
     General rules keep the shrunk config consistent (heads, MLA, Mamba-2, RoPE sections, per-layer
     lists); where none applies, OVERRIDES, PREPARE, FINISH and CONFIG_FACTORIES hold per-class fixes,
     and inputs_for supplies the inputs some forwards require (images, patches, boxes, actions;
     per class: QUERY_TOKENS, IMAGE_ENCODER_CLASSES, NO_USE_CACHE_CLASSES).
        numeric_check.py describe --out models/ [--classes LlamaForCausalLM ...]
  (then, where awqmap is built:  awqmap resolve models/X.model.json --format json > resolved/X.resolved.json)
  2. verify: rebuild each model and check every resolved group numerically (awqmap.verify);
     write <Class>.verdicts.json and summary.md.
        numeric_check.py verify --models models/ --resolved resolved/ --out verdicts/

Each class runs in its own subprocess with a time limit: a class that fails to build, runs out
of memory or hangs is recorded and the run goes on. `--toy` uses the toy torch models of
python/tests/toy_models.py instead of transformers (for testing this script without it).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
TOY_DIR = os.path.join(HERE, "..", "python", "tests")

LIMITS = {"layers": 4, "experts": 8}
# A build attempt whose model would hold more parameters than this (counted on the meta device,
# before any memory is taken) is refused: at full widths such attempts ran out of time, 21
# classes in one run (2026-12-03).
MAX_PARAMS = 40_000_000
# Config fields set to small values (when present and larger), per nested config.
SMALL = {
    "hidden_size": 64, "intermediate_size": 128, "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 32, "ffn_hidden_size": 128, "d_model": 64, "n_embd": 64,
    "num_attention_heads": 4, "num_heads": 4, "n_head": 4, "head_dim": 16,
    "kv_lora_rank": 32, "q_lora_rank": 48, "qk_rope_head_dim": 8, "qk_nope_head_dim": 8, "v_head_dim": 16,
    "linear_num_key_heads": 2, "linear_num_value_heads": 4, "linear_key_head_dim": 16, "linear_value_head_dim": 16,
    "vocab_size": 512, "num_key_value_heads": 2, "embed_dim": 64, "projection_dim": 64,
    "vision_hidden_size": 64, "text_hidden_size": 64,
    # Per-layer input embeddings (Gemma 3n, Gemma 4) are vocabulary x layers x width: gigabytes at
    # their defaults.
    "vocab_size_per_layer_input": 512, "hidden_size_per_layer_input": 16,
    # Audio and vision encoders keep their own head counts; the width must divide by them.
    "encoder_attention_heads": 4, "decoder_attention_heads": 4, "encoder_ffn_dim": 128, "decoder_ffn_dim": 128,
    "d_head": 16,
    # DBRX keeps its key/value head count in its attention config, apart from n_heads.
    "kv_n_heads": 2,
}
# Required sizes some configs leave as None (filled only when None, before shrinking).
NONE_DEFAULTS = {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 2,
                 "head_dim": None, "vocab_size": 512, "num_hidden_layers": 4, "max_position_embeddings": 512}
# Fields that repeat another one (xLSTM's embedding_dim and num_blocks) follow it when it shrinks.
MIRRORS = (("embedding_dim", "hidden_size"), ("num_blocks", "num_hidden_layers"))
LAYER_FIELDS = ("num_hidden_layers", "num_layers", "n_layer", "n_layers", "depth", "encoder_layers",
                "decoder_layers", "num_decoder_layers")
EXPERT_FIELDS = ("num_experts", "n_routed_experts", "num_local_experts", "moe_num_experts", "n_experts")
TOPK_FIELDS = ("num_experts_per_tok", "moe_topk", "top_k", "moe_k")


# ------------------------------------------------------------------------------------- building


def _every_layer(pattern):
    """A per-layer list repeating pattern over the config's layer count."""
    return lambda c: [pattern[i % len(pattern)] for i in range(c.num_hidden_layers)]


# A timm ViT of the sizes transformers' own tests use for timm vision towers.
TINY_TIMM_VIT = {"embed_dim": 64, "img_size": (14, 14), "depth": 2, "global_pool": "", "use_post_transformer_norm": False,
                 "init_values": 0.1, "ref_feat_shape": (1, 1)}


def _near_vocab_end(c):
    """A token id inside the (shrunk) text vocabulary, clear of the usual low special ids."""
    text = c.get_text_config() if hasattr(c, "get_text_config") else getattr(c, "text_config", c)
    return int(text.vocab_size) - 8


def _with_rope_sections(c, count):
    """c's RoPE table with `count` sections summing to half the head (the config checks that sum)."""
    head = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    sections = [head // 2 // count] * count
    sections[0] += head // 2 - sum(sections)
    return dict(c.rope_parameters or {}, mrope_section=sections)


def _rope_table_per_layer_type(c):
    """One default RoPE table per layer type (the modeling code indexes them so), each with 3-axis
    multimodal sections that fit the head, for configs whose default has none; others unchanged."""
    types = vars(c).get("layer_types")
    if not isinstance(types, list) or not types:
        return c.rope_parameters
    head = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    half = head // 2
    sections = [half - 2 * max(1, half // 4), max(1, half // 4), max(1, half // 4)]
    theta = next((v.get("rope_theta") for v in (c.rope_parameters or {}).values()
                  if isinstance(v, dict) and v.get("rope_theta")), 10000.0)
    return {t: {"rope_type": "default", "rope_theta": theta, "mrope_section": list(sections)}
            for t in dict.fromkeys(types)}


def _every_other_hybrid(c, types):
    """Alternating (non-hybrid type, "hybrid") over the config's layers."""
    other = next((t for t in types or [] if t != "hybrid"), "mamba")
    return [other if i % 2 == 0 else "hybrid" for i in range(c.num_hidden_layers)]


# Per-class config fixes where no general rule applies, set after shrinking on every (sub)config
# that has the attribute: attribute -> value, or a function of that (sub)config.
OVERRIDES = {
    # Routed experts default to None ("dense") yet every layer builds an MoE block.
    "Dots1ForCausalLM": {"n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1},
    "DiffusionGemmaForBlockDiffusion": {"num_experts": 8, "top_k_experts": 2, "moe_intermediate_size": 32},
    # layer_types defaults to None and the decoder indexes it per layer; LFM2 alternates
    # short convolutions and attention.
    "Lfm2MoeForCausalLM": {"layer_types": _every_layer(["conv", "full_attention"])},
    # mlp_layer_types and the experts per token default to None; DeepSeek-V2 style: dense first.
    "DeepseekOcr2ForConditionalGeneration": {
        "mlp_layer_types": lambda c: ["dense"] + ["sparse"] * (c.num_hidden_layers - 1), "num_experts_per_tok": 2},
    # Chameleon and Emu3 map image tokens through a vocabulary map that defaults to None.
    "ChameleonForConditionalGeneration": {"vocabulary_map": {"<image>": 8}},
    # Emu3's VQ-VAE tower (convolutions of base_channels x multiplier, 3-D ones among them) holds
    # ~240M parameters at its default width; 32 keeps every GroupNorm's 32 groups whole.
    "Emu3ForConditionalGeneration": {"vocabulary_map": {"<image>": 8}, "base_channels": 32},
    # The timm vision tower takes its sizes from model_args (None by default: the large PE-Core,
    # 300M parameters); the projector reads its width there. The sizes transformers' own tests use.
    # Its timm architecture defaults to a ResNet, which takes no ViT sizes: the PE-Core ViT the model
    # pairs with.
    "PerceptionLMForConditionalGeneration": {"architecture": "vit_pe_core_large_patch14_336",
                                             "model_args": TINY_TIMM_VIT},
    # LongCat-Flash's layers each hold two attention blocks: num_hidden_layers (the caches) is twice
    # num_layers. Its zero (identity) experts shrink with the routed ones.
    "LongcatFlashForCausalLM": {"num_hidden_layers": lambda c: 2 * c.num_layers, "zero_expert_num": 4},
    # Reformer's axial position embedding widths must sum to the hidden size.
    "ReformerModelWithLMHead": {"axial_pos_embds_dim": lambda c: [c.hidden_size // 4, c.hidden_size - c.hidden_size // 4]},
    # Kosmos-2 places 64 image latents among the tokens: the 4-8 tokens of the check hold 2.
    "Kosmos2ForConditionalGeneration": {"latent_query_num": 2},
    # Gemma 3n: sliding and full attention alternate so that the 4 layers hold both types (the
    # kv-sharing layers need an unshared layer of their type before them). Its vision tower is a
    # 300M-parameter timm MobileNet with no small variant; transformers' tests use a tiny ViT too.
    "Gemma3nForCausalLM": {"layer_types": _every_layer(["sliding_attention", "full_attention"])},
    "Gemma3nForConditionalGeneration": {"layer_types": _every_layer(["sliding_attention", "full_attention"]),
                                        "architecture": "vit_pe_core_large_patch14_336", "model_args": TINY_TIMM_VIT},
    # Zamba ties the shared transformer of its first hybrid layer to the others: with 4 layers the
    # default period leaves one hybrid layer and nothing to tie to. Every layer from the third is
    # hybrid; the attention sizes __init__ derived from the full hidden size follow the small one.
    "ZambaForCausalLM": {
        "attn_layer_period": 1, "attn_layer_offset": 0,
        "layers_block_type": lambda c: ["mamba", "mamba"] + ["hybrid"] * (c.num_hidden_layers - 2),
        "attention_hidden_size": lambda c: 2 * c.hidden_size,
        "attention_head_dim": lambda c: 2 * c.hidden_size // c.num_attention_heads,
        "mamba_dt_rank": lambda c: math.ceil(c.hidden_size / 16)},
    # Zamba2 likewise (hybrid layers share one transformer block): every other layer hybrid, and
    # the sizes derived from the full hidden size recomputed.
    "Zamba2ForCausalLM": {
        "layers_block_type": lambda c: _every_other_hybrid(c, c.layers_block_type),
        "layer_types": lambda c: _every_other_hybrid(c, c.layer_types),
        "hybrid_layer_ids": lambda c: [i for i, t in enumerate(c.layers_block_type) if t == "hybrid"],
        "attention_hidden_size": lambda c: 2 * c.hidden_size,
        "attention_head_dim": lambda c: 2 * c.hidden_size // c.num_attention_heads,
        "kv_channels": lambda c: c.hidden_size // c.num_attention_heads,
        "mamba_headdim": lambda c: c.mamba_expand * c.hidden_size // c.n_mamba_heads,
        "chunk_size": 16, "mamba_d_state": 16},
    # The router's experts per token default to None (topk(k=None) in the forward).
    "DeepseekV2ForCausalLM": {"num_experts_per_tok": 2},
    # The attention clamps its fused QKV output to +-clip_qkv unconditionally; None by default.
    "DbrxForCausalLM": {"clip_qkv": 8.0},
    # The RoPE table spans head_dim x partial_rotary_factor, which must equal the MLA rope part
    # (the interleaved rotation pairs the two): head_dim is qk_rope_head_dim / partial_rotary_factor.
    "Mistral4ForCausalLM": {"head_dim": lambda c: int(c.qk_rope_head_dim / (
        (c.rope_parameters or {}).get("partial_rotary_factor") or 1.0))},
    # The text model builds a sliding-window mask for every forward; the window defaults to None.
    "Step3p7ForConditionalGeneration": {"sliding_window": 16},
    # Cohere Compass reads one RoPE table per layer type and defaults to none; its 3-axis sections
    # default to [24, 20, 20] (a 128-wide head).
    "CohereCompassForCausalLM": {"rope_parameters": _rope_table_per_layer_type},
    "CohereCompassForConditionalGeneration": {"rope_parameters": _rope_table_per_layer_type},
    # The vision merger is out_hidden_size wide with a 3x wider MLP (~24M parameters at 1536): shrunk
    # to the text width (the merged image features stand in for token embeddings).
    "Glm5NextForConditionalGeneration": {"out_hidden_size": 64},
    # Pix2Struct's attention splits the width into heads of d_kv (64 by default, for 768 / 12 heads).
    "Pix2StructForConditionalGeneration": {
        "d_kv": lambda c: c.hidden_size // (vars(c).get("num_heads") or vars(c).get("num_attention_heads"))},
    # Granite 4 Vision builds one Q-Former downsampler per deepstack_layer_map entry (None by default) and
    # parses downsample_rate (None by default; its window must divide the 14-patch side); the spatial
    # groups' target layers (12-21 by default) are kept within the 4 text layers.
    "Granite4VisionForConditionalGeneration": {"deepstack_layer_map": [[-3, 3], [-1, 0]], "downsample_rate": "1/2",
                                               "spatial_target_layers": [0, 1, 2, 3]},
    # HunYuan-VL's rotary embedding expands its table over the XD-RoPE sections (mrope_section, one
    # per position axis), absent from the default config: 4 sections, as the released model has.
    "HunYuanVLForConditionalGeneration": {"rope_parameters": lambda c: _with_rope_sections(c, 4)},
    # BLIP-2 and InstructBLIP(-Video) place the Q-Former's query outputs at image (video) tokens,
    # whose id defaults to None; 2 queries (1 per frame for video) so that they fit the short inputs.
    # Their default OPT text model embeds tokens at word_embed_proj_dim (set from the unshrunk width),
    # while the Q-Former's outputs are projected to the shrunk width: the two must agree.
    "Blip2ForConditionalGeneration": {"image_token_index": _near_vocab_end, "num_query_tokens": 2,
                                      "word_embed_proj_dim": lambda c: c.hidden_size},
    "InstructBlipForConditionalGeneration": {"image_token_index": _near_vocab_end, "num_query_tokens": 2,
                                             "word_embed_proj_dim": lambda c: c.hidden_size},
    "InstructBlipVideoForConditionalGeneration": {"video_token_index": _near_vocab_end, "num_query_tokens": 1,
                                                  "word_embed_proj_dim": lambda c: c.hidden_size},
}
# Qwen4-Exp's every fourth layer is QSA sparse attention, whose indexer sizes default to None.
for _name in ("Qwen4ExpForCausalLM", "Qwen4ExpForConditionalGeneration"):
    OVERRIDES[_name] = {"indexer_n_heads": 4, "indexer_kv_heads": 1, "indexer_head_dim": 16, "indexer_budget": 4,
                        "indexer_compress_ratio": 2}


def _granite4_vision_text(config):
    # Its text config defaults to a plain Llama one, which lacks the Granite multipliers its decoder reads.
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    config.text_config = CONFIG_MAPPING["granite4_vision_text"]()


def _assistant_text(model_type):
    def prepare(config):
        # Gemma 4's assistants default to no text config (their modeling code reads the vocabulary
        # and widths there): the default text config, with what the assistant requires of it (no
        # per-layer inputs, no MoE, every layer reading the backbone's shared keys and values).
        if config.text_config is not None:
            return
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING
        text = CONFIG_MAPPING[model_type]()
        for key, value in (("hidden_size_per_layer_input", 0), ("vocab_size_per_layer_input", 0),
                           ("enable_moe_block", False), ("use_double_wide_mlp", False)):
            if key in vars(text):
                setattr(text, key, value)
        text.num_kv_shared_layers = text.num_hidden_layers
        config.text_config = text
    return prepare


def _gemma4_vision(config):
    # DiffusionGemma builds its vision tower from vision_config, which defaults to None: Gemma 4's.
    if config.vision_config is None:
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING
        config.vision_config = CONFIG_MAPPING["gemma4_vision"]()


def _assistant_layers_all_shared(config):
    # Every assistant layer reads the shared keys and values; the shrink's kv-sharing rule cut them.
    text = config.text_config
    old = text.num_kv_shared_layers
    text.num_kv_shared_layers = text.num_hidden_layers
    return {f"{type(text).__name__}.num_kv_shared_layers": [old, text.num_hidden_layers]}


# Per-class changes made before shrinking (they replace a sub-config).
PREPARE = {"Granite4VisionForConditionalGeneration": _granite4_vision_text,
           "Gemma4AssistantForCausalLM": _assistant_text("gemma4_text"),
           "Gemma4UnifiedAssistantForCausalLM": _assistant_text("gemma4_unified_text"),
           "DiffusionGemmaForBlockDiffusion": _gemma4_vision}


def _vision_encoder_decoder_config(cls):
    # The generic vision encoder-decoder has no default encoder or decoder: a ViT encoder and a
    # GPT-2 decoder (with cross-attention), the usual pairing.
    import transformers
    return cls.config_class.from_encoder_decoder_configs(transformers.ViTConfig(), transformers.GPT2Config())


def _blt(config):
    # BLT's local encoder and decoder run at the global width divided by cross_attn_k (its patch
    # embeddings are cross_attn_k encoder states side by side); the byte-group hash embeddings
    # (500002 rows per group) would hold most of the parameters.
    k, width = config.cross_attn_k, config.global_config.hidden_size
    changed = {}
    for sub in (config.encoder_config, config.decoder_config):
        for key, value in (("hidden_size", width // k), ("head_dim", width // k // sub.num_attention_heads),
                           ("hidden_size_global", width)):
            changed[f"{type(sub).__name__}.{key}"] = [getattr(sub, key, None), value]
            setattr(sub, key, value)
    changed["BltConfig.encoder_hash_byte_group_vocab"] = [config.encoder_hash_byte_group_vocab, 512]
    config.encoder_hash_byte_group_vocab = 512
    return changed


def _qformer_reads_vision_width(config):
    # The Q-Former cross-attends to the vision tower's states: its encoder width follows the shrunk
    # vision width (the config's __init__ sets it so only when the config is rebuilt from a dict).
    old = config.qformer_config.encoder_hidden_size
    config.qformer_config.encoder_hidden_size = config.vision_config.hidden_size
    return {f"{type(config.qformer_config).__name__}.encoder_hidden_size": [old, config.vision_config.hidden_size]}


# Per-class changes made after shrinking and the overrides; each returns what it changed.
FINISH = {"BltForCausalLM": _blt}
for _name in ("Blip2ForConditionalGeneration", "InstructBlipForConditionalGeneration",
              "InstructBlipVideoForConditionalGeneration", "Granite4VisionForConditionalGeneration"):
    FINISH[_name] = _qformer_reads_vision_width
for _name in ("Gemma4AssistantForCausalLM", "Gemma4UnifiedAssistantForCausalLM"):
    FINISH[_name] = _assistant_layers_all_shared


def _decoder_reads_encoder_width(config):
    # PP-FormulaNet projects its vision states to decoder_hidden_size for the decoder's cross-attention:
    # the decoder's (shrunk) width.
    old, new = config.vision_config.decoder_hidden_size, config.text_config.d_model
    config.vision_config.decoder_hidden_size = new
    return {f"{type(config.vision_config).__name__}.decoder_hidden_size": [old, new]}


FINISH["PPFormulaNetForConditionalGeneration"] = _decoder_reads_encoder_width
# Encoder-decoders whose encoder reads only an image although their forward also takes input_ids.
IMAGE_ENCODER_CLASSES = {"PPFormulaNetForConditionalGeneration"}
# Forwards that refuse a use_cache argument (DiffusionGemma's decoder always reads the encoder's cache).
NO_USE_CACHE_CLASSES = {"DiffusionGemmaForBlockDiffusion"}
# Classes whose forward places query outputs at image or video tokens: (token id field, frames).
QUERY_TOKENS = {"Blip2ForConditionalGeneration": ("image_token_index", 1),
                "InstructBlipForConditionalGeneration": ("image_token_index", 1),
                "InstructBlipVideoForConditionalGeneration": ("video_token_index", 4)}


# Configs whose class has no usable defaults, made per class.
CONFIG_FACTORIES = {"VisionEncoderDecoderModel": _vision_encoder_decoder_config}


def apply_overrides(config, overrides):
    """Sets each attribute on every (sub)config that has it. Returns what changed."""
    changed = {}
    for c in _subconfigs(config):
        for key, value in overrides.items():
            if key in vars(c):
                new = value(c) if callable(value) else value
                changed[f"{type(c).__name__}.{key}"] = [vars(c)[key], new]
                setattr(c, key, new)
    return changed


def _subconfigs(config):
    yield config
    for key, value in list(vars(config).items()):
        if hasattr(value, "to_dict") and hasattr(value, "__dict__") and not key.startswith("_"):
            yield from _subconfigs(value)


def shrink(config, small_sizes, shrink_layers=True):
    """Shrinks in place: experts, (with shrink_layers) layers and (with small_sizes) widths.
    Returns what changed."""
    changed = {}
    for c in _subconfigs(config):
        fields = vars(c)

        def put(key, value):
            if fields.get(key) != value:
                changed[f"{type(c).__name__}.{key}"] = [fields.get(key), value]
                setattr(c, key, value)

        mirrored = {target: fields.get(target) for _, target in MIRRORS}
        if small_sizes:
            for key, value in NONE_DEFAULTS.items():
                if key in fields and fields[key] is None and value is not None:
                    put(key, value)
        before = next((fields[k] for k in LAYER_FIELDS if isinstance(fields.get(k), int)), None)
        if shrink_layers:
            for key in LAYER_FIELDS:
                if isinstance(fields.get(key), int) and fields[key] > LIMITS["layers"]:
                    put(key, LIMITS["layers"])
        layers = next((fields[k] for k in LAYER_FIELDS if isinstance(fields.get(k), int)), None)
        if layers and before and layers < before:
            # Per-layer lists and tables (layer_types, attention_layers, *_per_layer, per_layer_config
            # keyed by layer index) follow the layer count.
            for key, value in list(fields.items()):
                if key.startswith("_"):
                    continue
                if isinstance(value, list) and (len(value) == before or key.endswith("layer_types")
                                                or key.endswith("_per_layer")) and len(value) > layers:
                    put(key, value[:layers])
                elif isinstance(value, dict) and value and all(str(k).isdigit() for k in value):
                    kept = {k: v for k, v in value.items() if int(k) < layers}
                    if len(kept) != len(value):
                        put(key, kept)
            # Heterogeneous configs keep their per_layer_config in a private spec, keyed by layer.
            spec = fields.get("_heterogeneity_spec")
            overrides = getattr(spec, "per_layer_overrides", None)
            if isinstance(overrides, dict) and any(int(k) >= layers for k in overrides):
                kept = {k: v for k, v in overrides.items() if int(k) < layers}
                changed[f"{type(c).__name__}.per_layer_config"] = [sorted(overrides), sorted(kept)]
                try:
                    # Set anew, so that the attributes marked per-layer are those of the kept layers.
                    setattr(c, "per_layer_config", kept)
                except Exception:  # noqa: BLE001 - an older heterogeneity API: trim the spec itself
                    try:
                        spec.per_layer_overrides = kept
                    except Exception:  # a frozen dataclass
                        object.__setattr__(spec, "per_layer_overrides", kept)
            # Layers that reuse the keys and values of an earlier layer of their type (Gemma 3n, Gemma 4):
            # at most half of the layers, and only where an unshared layer of each shared type remains.
            shared = fields.get("num_kv_shared_layers")
            if isinstance(shared, int) and shared > 0:
                shared = min(shared, layers // 2)
                types = fields.get("layer_types") if isinstance(fields.get("layer_types"), list) else []
                if any(t not in types[:layers - shared] for t in types[layers - shared:layers]):
                    shared = 0
                put("num_kv_shared_layers", shared)
            # Attention layers named by index (Bamba): those past the last layer go; one stays.
            for key in ("attn_layer_indices",):
                value = fields.get(key)
                if isinstance(value, list) and value and any(isinstance(i, int) and i >= layers for i in value):
                    put(key, [i for i in value if i < layers] or [layers - 1])
            # GPT-Neo spells its layers as [[pattern, repeats]] and checks the expansion.
            if isinstance(fields.get("attention_types"), list) and isinstance(fields.get("attention_layers"), list) \
                    and len(fields["attention_layers"]) != layers:
                pattern = fields["attention_types"][0][0]
                put("attention_types", [[pattern, max(1, layers // len(pattern))]])
                put("attention_layers", (pattern * layers)[:layers])
        for key in EXPERT_FIELDS:
            if isinstance(fields.get(key), int) and fields[key] > LIMITS["experts"]:
                put(key, LIMITS["experts"])
        experts = next((fields[k] for k in EXPERT_FIELDS if isinstance(fields.get(k), int)), None)
        if experts:
            for key in TOPK_FIELDS:
                if isinstance(fields.get(key), int) and fields[key] > min(2, experts):
                    put(key, min(2, experts))
            for key in ("n_group", "topk_group", "num_expert_group"):
                if isinstance(fields.get(key), int) and fields[key] > 1:
                    put(key, 1)
        for key in ("first_k_dense_replace", "moe_layer_start_index"):
            if isinstance(fields.get(key), int) and fields[key] > 1:
                put(key, 1)
        if small_sizes:
            # Multi-head attention stays multi-head: MLA (DeepSeek V2/V3, MiniCPM3, GLM-4-MoE-Lite, ...)
            # expands its keys to every query head and then repeats them by heads // kv_heads again,
            # and some configs require the two counts equal (GLM-5 Next).
            mha = fields.get("num_key_value_heads") == fields.get("num_attention_heads")
            mla_sum = all(isinstance(fields.get(k), int) for k in ("qk_head_dim", "qk_nope_head_dim", "qk_rope_head_dim")) \
                and fields["qk_head_dim"] == fields["qk_nope_head_dim"] + fields["qk_rope_head_dim"]
            for key, value in SMALL.items():
                if isinstance(fields.get(key), int) and not isinstance(fields.get(key), bool) and fields[key] > value:
                    put(key, value)
            heads = fields.get("num_attention_heads")
            kv = fields.get("num_key_value_heads")
            if mha and isinstance(heads, int) and isinstance(kv, int) and kv != heads:
                put("num_key_value_heads", heads)
            elif isinstance(heads, int) and isinstance(kv, int) and heads % kv:
                put("num_key_value_heads", 1)
            _shrink_mamba(fields, put)
            # Rotary widths follow the head width: MLA's head_dim is its rope part; GPT-J style
            # rotary_dim and multimodal RoPE sections must fit in the head.
            if isinstance(fields.get("qk_rope_head_dim"), int) and isinstance(fields.get("head_dim"), int):
                put("head_dim", fields["qk_rope_head_dim"])
            if mla_sum:  # derived from the two (LongCat-Flash)
                put("qk_head_dim", fields["qk_nope_head_dim"] + fields["qk_rope_head_dim"])
            hidden, heads = fields.get("hidden_size") or fields.get("n_embd"), fields.get("num_attention_heads") \
                or fields.get("n_head")
            if isinstance(hidden, int) and isinstance(heads, int) and heads and isinstance(fields.get("rotary_dim"), int) \
                    and fields["rotary_dim"] > hidden // heads:
                put("rotary_dim", hidden // heads)
            head_dim = fields.get("head_dim") if isinstance(fields.get("head_dim"), int) else (
                hidden // heads if isinstance(hidden, int) and isinstance(heads, int) and heads else None)
            for key in ("rope_parameters", "rope_scaling"):
                rope = fields.get(key)
                if head_dim and isinstance(rope, dict) and isinstance(rope.get("mrope_section"), list):
                    sec = rope["mrope_section"]
                    factor = rope.get("partial_rotary_factor") or fields.get("partial_rotary_factor") or 1.0
                    half = max(len(sec), int(head_dim * factor) // 2)
                    total = sum(sec)
                    if total != half and total > 0:
                        new = [max(1, x * half // total) for x in sec]
                        new[0] += half - sum(new)
                        put(key, dict(rope, mrope_section=new))
            if "head_dim" in fields and fields["head_dim"] is None and isinstance(hidden, int) \
                    and isinstance(heads, int) and heads:
                put("head_dim", hidden // heads)
            vocab = fields.get("vocab_size")
            if isinstance(vocab, int):
                for key, value in list(fields.items()):
                    if (key.endswith("token_id") or key.endswith("token_index")) and isinstance(value, int) \
                            and value >= vocab:
                        put(key, vocab - 1 - (hash(key) % 16))
        for alias, target in MIRRORS:
            if isinstance(fields.get(alias), int) and fields[alias] == mirrored[target] != fields.get(target):
                put(alias, fields[target])
    return changed


def mrope_from_error(message):
    """Multimodal RoPE sections that fit, from the error of a rotary embedding whose sections do not:
    "split_with_sizes expects split_sizes to sum exactly to N ..., but got split_sizes=[a, b, c]"
    gives [a, b, c] scaled to sum to N; None for any other error."""
    import re
    m = re.search(r"split_sizes to sum exactly to (\d+).*split_sizes=\[([\d, ]+)\]", message, re.S)
    if not m:
        return None
    total, sections = int(m.group(1)), [int(x) for x in m.group(2).split(",") if x.strip()]
    half = len(sections) // 2
    if len(sections) == 6 and sections[:half] == sections[half:] and total % 2 == 0:
        sections, total = sections[:half], total // 2  # split by the sections twice over (cos and sin halves)
    return scale_sections(sections, total) if sections and sum(sections) != total and total >= len(sections) \
        else None


def scale_sections(sections, total):
    """sections scaled to sum to total, each at least 1."""
    whole = sum(sections)
    new = [max(1, x * total // whole) for x in sections]
    new[new.index(max(new))] += total - sum(new)
    return new


def set_mrope_section(config, sections):
    """Puts explicit multimodal RoPE sections into every RoPE table of the config (the modeling code
    reads them from there, falling back to its own full-size default). Returns what changed."""
    changed = {}
    for c in _subconfigs(config):
        fields = vars(c)
        for key in ("rope_parameters", "rope_scaling"):
            rope = fields.get(key)
            if not isinstance(rope, dict):
                continue
            if "rope_type" in rope or "rope_theta" in rope or "mrope_section" in rope:
                new = dict(rope, mrope_section=list(sections))
            elif rope and all(isinstance(v, dict) or v is None for v in rope.values()):  # one table per layer type
                new = {k: dict(v, mrope_section=list(sections)) if isinstance(v, dict) else v for k, v in rope.items()}
            else:
                continue
            changed[f"{type(c).__name__}.{key}"] = [rope, new]
            setattr(c, key, new)
    return changed


# Mamba-2 mixers: (expansion, heads, head width, groups, state size, chunk size) field names.
MAMBA2_FIELDS = (("expand", "num_heads", "head_dim", "n_groups", "state_size", "chunk_size"),  # Mamba2
                 ("mamba_expand", "mamba_n_heads", "mamba_d_head", "mamba_n_groups", "mamba_d_state",
                  "mamba_chunk_size"))  # Bamba, GraniteMoeHybrid, FalconH1


def _shrink_mamba(fields, put):
    """A Mamba-2 mixer's heads times head width must equal its inner width (expansion x hidden size,
    or FalconH1's mamba_d_ssm), and its groups divide its heads; its state and chunk sizes are cut too:
    the reference (kernel-less) scan is quadratic in the chunk and ran past the time limit."""
    hidden = fields.get("hidden_size")
    for expand, heads, width, groups, state, chunk in MAMBA2_FIELDS:
        if not all(isinstance(fields.get(k), int) for k in (expand, heads, width, state)) or not isinstance(hidden, int):
            continue
        inner = fields[expand] * hidden
        if isinstance(fields.get("mamba_d_ssm"), int):
            put("mamba_d_ssm", inner)
        head_width = 16 if inner % 16 == 0 else fields[width]
        put(width, head_width)
        put(heads, max(1, inner // head_width))
        if isinstance(fields.get(groups), int) and fields[heads] % fields[groups]:
            put(groups, 1)
        if fields[state] > 16:
            put(state, 16)
        if isinstance(fields.get(chunk), int) and fields[chunk] > 16:
            put(chunk, 16)


def patch_rope(config, per_layer_type=False):
    """Configs whose defaults carry no RoPE base (HunYuan, Ministral, Cohere Compass, Dbrx's attention
    config): a default base, so that they build. per_layer_type: the modeling code reads one table per
    layer type (rope_parameters["full_attention"], Cohere Compass). Returns what changed."""
    changed = {}
    for c in _subconfigs(config):
        fields = vars(c)
        rope = fields.get("rope_parameters", "absent")
        theta = fields.get("rope_theta") if isinstance(fields.get("rope_theta"), (int, float)) else 10000.0
        types = fields.get("layer_types")
        if per_layer_type and isinstance(types, list) and types and all(isinstance(t, str) for t in types) \
                and (rope is None or isinstance(rope, dict) and not any(t in rope for t in types)):
            new = {t: {"rope_type": "default", "rope_theta": theta} for t in dict.fromkeys(types)}
        elif rope is None or (isinstance(rope, dict) and rope.get("rope_theta") is None
                              and not any(isinstance(v, dict) for v in rope.values())):
            new = dict(rope or {})
            new.setdefault("rope_type", "default")
            new["rope_theta"] = theta
        elif isinstance(rope, dict) and any(isinstance(v, dict) and v.get("rope_theta") is None for v in rope.values()):
            new = {k: dict(v, rope_theta=theta, rope_type=v.get("rope_type") or "default") if isinstance(v, dict)
                   and v.get("rope_theta") is None else v for k, v in rope.items()}
        else:
            new = None
        if new is not None:
            changed[f"{type(c).__name__}.rope_parameters"] = [rope, new]
            setattr(c, "rope_parameters", new)
        if fields.get("rope_theta", "absent") is None or type(c).__name__.endswith("AttentionConfig") \
                and "rope_theta" not in fields:
            changed[f"{type(c).__name__}.rope_theta"] = [fields.get("rope_theta"), 10000.0]
            setattr(c, "rope_theta", 10000.0)
    return changed


def _reads_rope_per_layer_type(cls):
    """Whether the class's modeling code indexes its RoPE tables by layer type."""
    import inspect
    try:
        source = inspect.getsource(sys.modules[cls.__module__])
    except (OSError, TypeError, KeyError):
        return False
    return "rope_parameters[layer_type]" in source


def _set_eager(config):
    for c in _subconfigs(config):
        for attr in ("_attn_implementation", "_experts_implementation"):
            try:
                setattr(c, attr, "eager")
            except Exception:  # older configs lack the experts switch
                pass


def randomize(model, seed):
    """Redraws every parameter, so that no zero-initialised weight hides a consumer."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters(), key=lambda x: x[0]):
            r = torch.randn(p.shape, generator=g, dtype=torch.float64)
            if p.dim() <= 1:
                p.copy_(1.0 + 0.2 * r)
            else:
                p.copy_(r / math.sqrt(max(1, p.shape[-1])))


def _config_from_dict(cls, d):
    """The config that to_dict() wrote. Some nested configs (DBRX's attention and FFN configs) refuse
    the generic keys to_dict() writes into them: those are dropped from nested dicts and the build
    retried, the keys named by the config's own error and nothing else."""
    import ast
    import re
    for _ in range(4):
        try:
            return cls.config_class.from_dict(d)
        except ValueError as e:
            m = re.search(r"Found unknown kwargs=(\{.*\})", str(e))
            if not m:
                raise
            unknown = set(ast.literal_eval(m.group(1)))
            d = {k: ({kk: vv for kk, vv in v.items() if kk not in unknown} if isinstance(v, dict) else v)
                 for k, v in d.items()}
    return cls.config_class.from_dict(d)


def build_transformers(name, spec):
    """The model and its shrunk config; spec = {"small_sizes", "config"(optional, to rebuild)}."""
    import torch
    import transformers
    cls = getattr(transformers, name)
    if spec.get("config") is not None:
        config = _config_from_dict(cls, spec["config"])
    else:
        config = CONFIG_FACTORIES[name](cls) if name in CONFIG_FACTORIES else cls.config_class()
        if name in PREPARE:
            PREPARE[name](config)
        spec["changed"] = shrink(config, spec["small_sizes"], spec.get("shrink_layers", True))
        spec["changed"].update(apply_overrides(config, OVERRIDES.get(name, {})))
        if name in FINISH and spec["small_sizes"]:
            spec["changed"].update(FINISH[name](config))
        if spec.get("patch_rope"):
            spec["changed"].update(patch_rope(config, _reads_rope_per_layer_type(cls)))
        if spec.get("mrope_section"):
            spec["changed"].update(set_mrope_section(config, spec["mrope_section"]))
        if name.startswith("Reformer"):
            config.is_decoder = True  # its LM head refuses an encoder config
    _set_eager(config)
    if spec.get("config") is None:
        try:
            with torch.device("meta"):
                params = sum(p.numel() for p in cls(config).parameters())
        except Exception:  # noqa: BLE001 - some models do not build on the meta device; build for real
            params = None
        if params is not None and params > MAX_PARAMS:
            raise RuntimeError(f"the model would hold {params:,} parameters (more than {MAX_PARAMS:,})")
    torch.manual_seed(spec["seed"])
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = cls(config)
    finally:
        torch.set_default_dtype(old)
    model = model.to(torch.float64).eval()
    randomize(model, spec["seed"])
    if hasattr(model, "set_default_language") and getattr(config, "languages", None):
        model.set_default_language(config.languages[0])  # X-MOD routes through one language adapter
    return model, config


def build_toy(name, spec):
    sys.path.insert(0, TOY_DIR)
    import torch
    import toy_models
    model = getattr(toy_models, name)().to(torch.float64).eval()
    randomize(model, spec["seed"])
    return model, None


def inputs_for(model, config, seq_len, seed):
    import torch
    g = torch.Generator().manual_seed(seed + 17)
    if config is None:  # toy: the first Embedding gives the vocabulary
        emb = next(m for m in model.modules() if isinstance(m, torch.nn.Embedding))
        return torch.randint(0, emb.num_embeddings, (1, seq_len), generator=g)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    # The vocabulary of the text part; PI0 and the like keep it in a nested config only.
    vocab = getattr(text, "vocab_size", None) or getattr(config, "vocab_size", None) or next(
        (vars(c)["vocab_size"] for c in _subconfigs(config) if isinstance(vars(c).get("vocab_size"), int)), None)
    if not vocab:
        raise ValueError(f"{type(config).__name__} has no vocab_size in any of its configs: no token ids to feed")
    vocab = int(vocab)
    special = set()
    for c in _subconfigs(config):
        for key, value in vars(c).items():
            if (key.endswith("token_id") or key.endswith("token_index")) and isinstance(value, int):
                special.add(value)
            elif key == "vocabulary_map" and isinstance(value, dict):  # Chameleon, Emu3: image tokens
                special.update(v for v in value.values() if isinstance(v, int))
    # Musicgen: one row per codebook
    rows = int(getattr(text, "num_codebooks", None) or getattr(config, "num_codebooks", None) or 1)
    ids = torch.randint(0, vocab, (rows, seq_len), generator=g)
    safe = next(i for i in range(vocab) if i not in special)
    for s in special:
        ids[ids == s] = safe
    inputs = {"input_ids": ids, "use_cache": False}
    if type(model).__name__ in NO_USE_CACHE_CLASSES:
        del inputs["use_cache"]
    params = _forward_parameters(model)
    encoder_decoder = getattr(config, "is_encoder_decoder", False) or "decoder_input_ids" in params
    if encoder_decoder:
        inputs["decoder_input_ids"] = ids
    vision = getattr(config, "vision_config", None)
    # Models whose forward requires an image (BLIP-2, InstructBLIP), and encoder-decoders whose
    # encoder reads only an image (PP-FormulaNet, vision encoder-decoders: no input_ids) or text
    # with its layout and an image (UDOP): a random image of the vision tower's size; the language
    # model's groups are what is checked.
    if params.get("pixel_values") is False or ("pixel_values" in params and encoder_decoder
                                               and ("input_ids" not in params or "bbox" in params)) \
            or type(model).__name__ in IMAGE_ENCODER_CLASSES:
        image = _image(config, vision, torch, g)
        inputs["pixel_values"] = image[:, None].repeat(1, 4, 1, 1, 1) if "Video" in type(model).__name__ \
            else image
        if "input_ids" not in params and encoder_decoder:
            del inputs["input_ids"]  # the encoder reads the image only (vision encoder-decoders)
    # BLIP-2 and InstructBLIP(-Video): one image token per Q-Former query (per frame), leading.
    if type(model).__name__ in QUERY_TOKENS:
        field, frames = QUERY_TOKENS[type(model).__name__]
        token, queries = getattr(config, field, None), getattr(config, "num_query_tokens", None)
        if isinstance(token, int) and isinstance(queries, int):
            ids[:, :queries * frames] = token
    if params.get("qformer_input_ids") is False:
        qvocab = int(getattr(getattr(config, "qformer_config", None), "vocab_size", vocab) or vocab)
        inputs["qformer_input_ids"] = torch.randint(0, qvocab, (1, seq_len), generator=g)
    # Pix2Struct's encoder reads image patches flattened with their row and column (1-based), not ids
    # (Kosmos-2.5, which also reads text, runs on its text alone).
    if "flattened_patches" in params and "input_ids" not in params:
        width = int(getattr(vision, "patch_embed_hidden_size", None) or 768)
        patches = torch.randn(1, seq_len, 2 + width, generator=g, dtype=torch.float64)
        patches[0, :, 0] = torch.arange(seq_len) // 2 + 1
        patches[0, :, 1] = torch.arange(seq_len) % 2 + 1
        inputs["flattened_patches"] = patches
        del inputs["input_ids"]
    # Kosmos-2 places its image's latent queries where image_embeds_position_mask is set (after
    # BOS) and requires the image; IDEFICS requires one image per sample and a mask of the text
    # positions that attend to it.
    if "image_embeds_position_mask" in params and "pixel_values" in params \
            and isinstance(getattr(config, "latent_query_num", None), int):
        inputs["pixel_values"] = _image(config, vision, torch, g)
        mask = torch.zeros(1, seq_len, dtype=torch.long)
        mask[0, 1:1 + config.latent_query_num] = 1
        inputs["image_embeds_position_mask"] = mask
    if "image_attention_mask" in params and "image_encoder_embeddings" in params:
        inputs["pixel_values"] = _image(config, vision, torch, g)[:, None]
        inputs["image_attention_mask"] = torch.ones(1, seq_len, 1, dtype=torch.long)
    # PI0 (a vision-language-action model) trains on camera images, the robot state and an action
    # chunk; the noise and flow-matching time are fixed so that every forward pass is the same.
    if "actions" in params and "state" in params and isinstance(getattr(config, "max_action_dim", None), int):
        chunk = (1, int(getattr(config, "chunk_size", None) or 4), config.max_action_dim)
        inputs.update(pixel_values=_image(config, vision, torch, g)[:, None],
                      attention_mask=torch.ones(1, seq_len, dtype=torch.long),
                      state=torch.randn(1, int(getattr(config, "max_state_dim", None) or config.max_action_dim),
                                        generator=g, dtype=torch.float64),
                      actions=torch.randn(chunk, generator=g, dtype=torch.float64),
                      pixel_attention_mask=torch.ones(1, 1, dtype=torch.bool),  # one camera, present
                      noise=torch.randn(chunk, generator=g, dtype=torch.float64),
                      timestep=torch.full((1,), 0.5, dtype=torch.float64))
    # Gemma 4's multi-token-prediction assistant reads the backbone's embeddings (twice its width)
    # and the keys and values of the backbone's last layer of each attention type.
    if "shared_kv_states" in params and isinstance(getattr(config, "backbone_hidden_size", None), int):
        inputs = _assistant_inputs(model, config, seq_len, g, torch)
    # Layout models (UDOP) take one box per token, corners in [0, 1].
    if "bbox" in params:
        corner = torch.rand(1, seq_len, 2, generator=g, dtype=torch.float64) * 0.5
        inputs["bbox"] = torch.cat([corner, corner + 0.5], dim=-1)
    if params and not _takes_any_keyword(model):  # PI0's forward has no use_cache
        inputs = {k: v for k, v in inputs.items() if k in params}
    return inputs


def _takes_any_keyword(model):
    import inspect
    try:
        return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return True


def _image(config, vision, torch, g):
    """A random image (batch of one) of the vision tower's size."""
    source = vision if vision is not None else config
    size = getattr(source, "image_size", None) or 224
    size = int(size[0] if isinstance(size, (list, tuple)) else size)
    channels = int(getattr(source, "num_channels", None) or 3)
    return torch.randn(1, channels, size, size, generator=g, dtype=torch.float64)


def _assistant_inputs(model, config, seq_len, g, torch):
    text = config.get_text_config()
    heads = int(text.num_attention_heads)
    shapes = {}
    for m in model.modules():
        kind, width, groups = getattr(m, "layer_type", None), getattr(m, "head_dim", None), \
            getattr(m, "num_key_value_groups", None)
        if isinstance(kind, str) and isinstance(width, int) and isinstance(groups, int) and groups:
            shapes.setdefault(kind, (1, heads // groups, seq_len, width))
    for kind in ("full_attention", "sliding_attention"):
        shapes.setdefault(kind, (1, int(text.num_key_value_heads), seq_len, int(text.head_dim)))
    kv = {k: (torch.randn(s, generator=g, dtype=torch.float64), torch.randn(s, generator=g, dtype=torch.float64))
          for k, s in shapes.items()}
    return {"inputs_embeds": torch.randn(1, seq_len, 2 * config.backbone_hidden_size, generator=g, dtype=torch.float64),
            "shared_kv_states": kv, "position_ids": torch.arange(seq_len)[None]}


def _forward_parameters(model):
    """forward's parameters: name -> whether it has a default."""
    import inspect
    try:
        sig = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return {}
    return {n: p.default is not inspect.Parameter.empty for n, p in sig.parameters.items()}


def all_transformers_classes():
    import transformers
    names = set()
    for mapping in ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES"):
        table = getattr(transformers.models.auto.modeling_auto, mapping, {})
        for value in table.values():
            names.update([value] if isinstance(value, str) else value)
    return sorted(names)


# ------------------------------------------------------------------------------------- one class

class _Float64Default:
    """Tensors that model code makes with the default dtype are float64 like the model."""

    def __enter__(self):
        import torch
        self.old = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)

    def __exit__(self, *exc):
        import torch
        torch.set_default_dtype(self.old)


def _float64_on_overflow(run):
    """run(), and again with float64 as the default dtype where model code put float64's extremes into
    a tensor of the default dtype (XGLM: torch.full((), torch.finfo(attn_weights.dtype).min))."""
    try:
        return run()
    except RuntimeError as e:
        if "without overflow" not in str(e):
            raise
    with _Float64Default():
        return run()


def _forward(model, config, seed):
    import torch

    def run():
        with torch.no_grad():
            inputs = inputs_for(model, config, 4, seed)
            model(**inputs) if isinstance(inputs, dict) else model(inputs)

    _float64_on_overflow(run)


def one_describe(name, out, toy, seed, small_sizes):
    from awqmap.torch_tools import describe
    build = build_toy if toy else build_transformers
    # Some configs break under fewer layers (per-layer tables the shrink does not know): each
    # attempt must build and run one forward pass, else the next is tried: a default RoPE base for
    # configs that have none, all layers, then full widths with 4 layers (refused above MAX_PARAMS).
    attempts = [(small_sizes, True, False)] if toy else [(small_sizes, True, False), (small_sizes, True, True),
                                                         (small_sizes, False, True), (False, True, True)]
    failures, model, config = [], None, None
    queue = list(attempts)
    while queue:
        small, layers, rope, *extra = queue.pop(0)
        spec = {"class": name, "seed": seed, "small_sizes": small, "shrink_layers": layers, "toy": toy,
                "patch_rope": rope}
        if extra:
            spec["mrope_section"] = extra[0]
        start = time.time()
        try:
            model, config = build(name, spec)
            _forward(model, config, seed)
            break
        except Exception as e:  # noqa: BLE001 - recorded, the next attempt follows
            failures.append(f"small_sizes={small} shrink_layers={layers} patch_rope={rope}"
                            + (f" mrope_section={extra[0]}" if extra else "") + f": {type(e).__name__}: {str(e)[:300]}")
            # Written at once: if a later attempt runs out of time, the log still says why this one failed.
            print(f"attempt failed after {time.time() - start:.1f} s: {failures[-1]}", file=sys.stderr, flush=True)
            model = None
            sections = None if extra or toy else mrope_from_error(str(e))
            if sections:
                # The rotary embedding's own sections (a default in the modeling code when the config
                # has none) do not fit the small head: the same attempt again with sections that do.
                queue.insert(0, (small, layers, rope, sections))
    if model is None:
        # No forward pass runs (it needs images, say): describe what builds, so that resolution is
        # still checked; verify then reports the forward's failure.
        spec = {"class": name, "seed": seed, "small_sizes": attempts[0][0], "shrink_layers": True, "toy": toy,
                "forward_failed": failures}
        try:
            model, config = build(name, spec)
        except Exception as e:
            raise RuntimeError(" | ".join(failures)) from e
    elif failures:
        spec["earlier_attempts"] = failures
    desc = describe(model, config=config, architecture=name)
    spec["config"] = config.to_dict() if config is not None else None
    with open(os.path.join(out, f"{name}.model.json"), "w", encoding="utf-8") as f:
        json.dump(desc, f, default=str)
    with open(os.path.join(out, f"{name}.config.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=1, default=str)
    return {"modules": len(desc["modules"]), "small_sizes": spec["small_sizes"]}


def one_verify(name, models, resolved_dir, out, seq_len, tolerance):
    from awqmap.torch_tools import verify
    with open(os.path.join(models, f"{name}.config.json"), encoding="utf-8") as f:
        spec = json.load(f)
    with open(os.path.join(resolved_dir, f"{name}.resolved.json"), encoding="utf-8") as f:
        resolved = json.load(f)
    if resolved.get("format") != "awqmap.resolved/v1":
        result = {"class": name, "status": "error",
                  "error": f"resolution failed: {resolved.get('kind', '?')}: {resolved.get('message', '')}",
                  "groups": []}
    else:
        build = build_toy if spec.get("toy") else build_transformers

        def run():
            model, config = build(name, spec)  # anew: a failed check may leave the model changed
            return verify(model, resolved, inputs_for(model, config, seq_len, spec["seed"]), seed=spec["seed"],
                          tolerance=tolerance)
        groups = _float64_on_overflow(run)
        result = {"class": name, "status": classify(groups), "groups": groups,
                  "selection": resolved.get("selection")}
    with open(os.path.join(out, f"{name}.verdicts.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, default=str)
    return result


def classify(groups):
    reached = [g for g in groups if g["reached"] and not g["error"]]
    if not groups:
        return "empty"
    if not reached:
        return "unchecked"
    return "exact" if all(g["exact"] for g in reached) else "inexact"


# ------------------------------------------------------------------------------------- driver

def run_each(names, argv_for, timeout, log, jobs=1):
    """Runs this script once per class (a crash, OOM or hang costs one class, not the run), `jobs`
    classes at a time."""
    from concurrent.futures import ThreadPoolExecutor
    results = {}
    done = [0]

    def one(name):
        start = time.time()
        try:
            p = subprocess.run([sys.executable, os.path.abspath(__file__)] + argv_for(name), capture_output=True,
                               text=True, timeout=timeout, env=dict(os.environ, OMP_NUM_THREADS="1"))
            ok = p.returncode == 0
            detail = p.stdout.strip().splitlines()[-1] if ok and p.stdout.strip() else (p.stderr.strip()[-2000:] or
                                                                                        f"exit code {p.returncode}")
        except subprocess.TimeoutExpired as e:
            # What the class printed before it ran out of time: failed attempts and, from the
            # child's faulthandler, where it was.
            err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
            ok, detail = False, (err.strip()[-3000:] + "\n" if err.strip() else "") + f"timed out after {timeout} s"
        results[name] = {"ok": ok, "detail": detail, "seconds": round(time.time() - start, 1)}
        done[0] += 1
        print(f"[{done[0]}/{len(names)}] {name}: {'ok' if ok else 'FAILED'} ({results[name]['seconds']} s)"
              + ("" if ok else " " + detail.splitlines()[-1][:200] if detail else ""), file=log, flush=True)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, names))
    return {n: results[n] for n in names}


def summary_table(results_dir, names, failures):
    rows = ["| architecture | verdict | groups | exact | inexact | unreached | inexact groups |",
            "|---|---|---|---|---|---|---|"]
    counts = {}
    for name in names:
        path = os.path.join(results_dir, f"{name}.verdicts.json")
        if not os.path.exists(path):
            why = failures.get(name, {}).get("detail", "no verdicts").splitlines()
            rows.append(f"| {name} | error | | | | | {(why[-1] if why else '')[:120].replace('|', '/')} |")
            counts["error"] = counts.get("error", 0) + 1
            continue
        with open(path, encoding="utf-8") as f:
            r = json.load(f)
        g = r["groups"]
        reached = [x for x in g if x["reached"] and not x["error"]]
        bad = [x for x in reached if not x["exact"]]
        shapes = sorted({_shape(x) for x in bad})
        status = r["status"]
        counts[status] = counts.get(status, 0) + 1
        detail = r.get("error", "") if status == "error" else "<br>".join(f"`{s}`" for s in shapes)
        rows.append(f"| {name} | {status} | {len(g)} | {len(reached) - len(bad)} | {len(bad)} | "
                    f"{len(g) - len(reached)} | {detail} |")
    head = "Totals: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + "\n\n"
    return head + "\n".join(rows) + "\n"


def _shape(group):
    import re
    fold = lambda n: re.sub(r"\.\d+(?=\.|$)", ".N", n)  # noqa: E731
    return f"{fold(group['smooth_name'])} -> {', '.join(sorted(set(fold(b) for b in group['balance_names'])))}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("describe", help="pass 1: build models, write their descriptions")
    d.add_argument("--out", required=True)
    d.add_argument("--classes", nargs="*", help="class names (default: every causal-LM and image-text-to-text class)")
    v = sub.add_parser("verify", help="pass 2: check resolved groups numerically")
    v.add_argument("--models", required=True, help="the describe pass's output folder")
    v.add_argument("--resolved", required=True, help="folder of <Class>.resolved.json (awqmap resolve --format json)")
    v.add_argument("--out", required=True)
    v.add_argument("--classes", nargs="*", help="default: every <Class>.resolved.json")
    v.add_argument("--tolerance", type=float, default=1e-6)
    v.add_argument("--seq-len", type=int, default=8)
    for p in (d, v):
        p.add_argument("--toy", action="store_true", help="toy torch models instead of transformers")
        p.add_argument("--timeout", type=float, default=600, help="seconds per class")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--jobs", type=int, default=1, help="classes run at the same time")
    d.add_argument("--layers-only", action="store_true", help="shrink layers and experts only, not widths")
    one = sub.add_parser("one", help=argparse.SUPPRESS)
    one.add_argument("what", choices=["describe", "verify"])
    one.add_argument("name")
    one.add_argument("--json", required=True)
    args = ap.parse_args(argv)

    if args.command == "one":
        # One class per process, many processes at once: torch's own threads would oversubscribe
        # the cores (builds then ran past their time limit).
        import faulthandler
        import torch
        torch.set_num_threads(1)
        a = json.loads(args.json)
        if a.get("timeout"):
            # Every thread's stack shortly before the driver gives up on this class.
            faulthandler.dump_traceback_later(max(1.0, a["timeout"] - 5))
        try:
            if args.what == "describe":
                r = one_describe(args.name, a["out"], a["toy"], a["seed"], a["small_sizes"])
            else:
                r = one_verify(args.name, a["models"], a["resolved"], a["out"], a["seq_len"], a["tolerance"])
                r = {"status": r["status"]}
        except Exception:
            traceback.print_exc()
            return 1
        print(json.dumps(r, default=str))
        return 0

    os.makedirs(args.out, exist_ok=True)
    if args.command == "describe":
        names = args.classes or (["ToyLlamaForCausalLM", "ToyMoeForCausalLM", "ToyFusedMoeForCausalLM"] if args.toy
                                 else all_transformers_classes())
        common = {"out": args.out, "toy": args.toy, "seed": args.seed, "small_sizes": not args.layers_only,
                  "timeout": args.timeout}
        results = run_each(names, lambda n: ["one", "describe", n, "--json", json.dumps(common)], args.timeout,
                           sys.stderr, args.jobs)
        with open(os.path.join(args.out, "describe_summary.json"), "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
        built = sum(r["ok"] for r in results.values())
        print(f"described {built} of {len(names)} classes into {args.out}; failures in describe_summary.json")
        return 0
    names = args.classes or sorted(f[: -len(".resolved.json")] for f in os.listdir(args.resolved)
                                   if f.endswith(".resolved.json"))
    common = {"models": args.models, "resolved": args.resolved, "out": args.out, "seq_len": args.seq_len,
              "tolerance": args.tolerance, "timeout": args.timeout}
    results = run_each(names, lambda n: ["one", "verify", n, "--json", json.dumps(common)], args.timeout, sys.stderr,
                       args.jobs)
    failures = {n: r for n, r in results.items() if not r["ok"]}
    with open(os.path.join(args.out, "verify_runs.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    table = summary_table(args.out, names, failures)
    with open(os.path.join(args.out, "summary.md"), "w", encoding="utf-8") as f:
        f.write("# Numeric check of resolved AWQ groups\n\n" + table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
