// GPT-style decoders (GPT-J/Neo/NeoX, BigCode, CodeGen, Falcon, MPT, OPT, Phi, StarCoder2,
// CTRL) and the encoder-style stacks that transformers also builds as causal LMs (BERT and
// RoBERTa variants, BART/Pegasus-style decoders, ModernBERT, MusicGen). Their MLPs are mostly
// `fc2(gelu(fc1(x)))`: fc1 -> fc2 would cross the activation, so only a norm feeding fc1 (and,
// where the activation is a plain ReLU, fc1 -> fc2) is paired. Activation modules are never
// smooth layers: they have no weight to take the scales. Cross-attention is left out: a causal
// LM runs without encoder states, so calibration never reaches it.
#include <awqmap/plugin.hpp>

#include <string>
#include <string_view>

using awqmap::BuildResult;
using awqmap::MappingList;
using awqmap::ModelView;
using awqmap::Origin;

namespace {

// GPT-J: a parallel block (ln_1 feeds attention and MLP); fc_in -> fc_out would cross GELU.
const MappingList gptj_mappings = {
    {"re:.*ln_1$", {"re:.*attn.q_proj$", "re:.*attn.k_proj$", "re:.*attn.v_proj$", "re:.*mlp.fc_in$"}},
    {"re:.*attn.v_proj$", {"re:.*attn.out_proj$"}},
};

// GPT-NeoX: query_key_value interleaves q/k/v per head (no qkv -> dense); with or without
// use_parallel_residual each norm feeds one branch.
const MappingList gpt_neox_mappings = {
    {"re:.*input_layernorm$", {"re:.*attention.query_key_value$"}},
    {"re:.*post_attention_layernorm$", {"re:.*mlp.dense_h_to_4h$"}},
};

// GPT-Neo: GPT-2 names with separate q/k/v Linear layers; c_fc -> c_proj would cross GELU.
const MappingList gpt_neo_mappings = {
    {"re:.*ln_1$", {"re:.*attn.attention.q_proj$", "re:.*attn.attention.k_proj$", "re:.*attn.attention.v_proj$"}},
    {"re:.*attn.attention.v_proj$", {"re:.*attn.attention.out_proj$"}},
    {"re:.*ln_2$", {"re:.*mlp.c_fc$"}},
};

// GPTBigCode (StarCoder, SantaCoder): c_attn packs q with one shared k/v head (multi-query),
// so no c_attn -> c_proj; c_fc -> c_proj would cross GELU.
const MappingList gpt_bigcode_mappings = {
    {"re:.*ln_1$", {"re:.*attn.c_attn$"}},
    {"re:.*ln_2$", {"re:.*mlp.c_fc$"}},
};

// CodeGen and MOSS: a parallel block; qkv_proj is interleaved across model-parallel shards
// (no qkv -> out_proj) and fc_in -> fc_out would cross GELU.
const MappingList codegen_mappings = {
    {"re:.*ln_1$", {"re:.*attn.qkv_proj$", "re:.*mlp.fc_in$"}},
};

// MPT: Wqkv's output may be clamped (attn_config.clip_qkv), which no per-channel scale passes
// through, so no Wqkv -> out_proj; up_proj -> down_proj would cross GELU.
const MappingList mpt_mappings = {
    {"re:.*norm_1$", {"re:.*attn.Wqkv$"}},
    {"re:.*norm_2$", {"re:.*ffn.up_proj$"}},
};

// Phi (1, 1.5, 2): a parallel block, one input_layernorm for attention and MLP; the attention
// output projection is `dense`; fc1 -> fc2 would cross GELU.
const MappingList phi_mappings = {
    {"re:.*input_layernorm$",
     {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$", "re:.*mlp.fc1$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.dense$"}},
};

// StarCoder 2: Llama's attention, an ungated MLP c_fc -> GELU -> c_proj.
const MappingList starcoder2_mappings = {
    {"re:.*input_layernorm$", {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.o_proj$"}},
    {"re:.*post_attention_layernorm$", {"re:.*mlp.c_fc$"}},
};

// PanGu-alpha (remote code): GPT-2 names with separate q/k/v.
const MappingList pangu_mappings = {
    {"re:.*ln_1$", {"re:.*attn.q_proj$", "re:.*attn.k_proj$", "re:.*attn.v_proj$"}},
    {"re:.*attn.v_proj$", {"re:.*attn.c_proj$"}},
    {"re:.*ln_2$", {"re:.*mlp.c_fc$"}},
};

// CTRL: pre-norm layers with Wq/Wk/Wv/dense; the FFN is Linear -> ReLU -> Linear, and ReLU
// commutes with positive per-channel scales, so ffn.0 -> ffn.2 is exact.
const MappingList ctrl_mappings = {
    {"re:.*layernorm1$",
     {"re:.*multi_head_attention.Wq$", "re:.*multi_head_attention.Wk$", "re:.*multi_head_attention.Wv$"}},
    {"re:.*multi_head_attention.Wv$", {"re:.*multi_head_attention.dense$"}},
    {"re:.*layernorm2$", {"re:.*ffn.0$"}},
    {"re:.*ffn.0$", {"re:.*ffn.2$"}},
};

// BERT-style post-norm layers: every LayerNorm output is also the residual stream, so no norm
// is a smooth layer; value -> attention.output.dense is the only exact group.
const MappingList bert_mappings = {
    {"re:.*\\.attention\\.self\\.value$", {"re:.*\\.attention\\.output\\.dense$"}},
};

// RoBERTa-PreLayerNorm: attention.LayerNorm feeds q/k/v and intermediate.LayerNorm feeds
// intermediate.dense (pre-norm); intermediate -> output would cross GELU.
const MappingList roberta_prelayernorm_mappings = {
    {"re:.*\\.attention\\.LayerNorm$",
     {"re:.*\\.attention\\.self\\.query$", "re:.*\\.attention\\.self\\.key$", "re:.*\\.attention\\.self\\.value$"}},
    {"re:.*\\.attention\\.self\\.value$", {"re:.*\\.attention\\.output\\.dense$"}},
    {"re:.*\\.intermediate\\.LayerNorm$", {"re:.*\\.intermediate\\.dense$"}},
};

// XLM-RoBERTa-XL: pre-norm; attention.self_attn_layer_norm feeds q/k/v and the layer's own
// LayerNorm feeds intermediate.dense.
const MappingList xlm_roberta_xl_mappings = {
    {"re:.*\\.attention\\.self_attn_layer_norm$",
     {"re:.*\\.attention\\.self\\.query$", "re:.*\\.attention\\.self\\.key$", "re:.*\\.attention\\.self\\.value$"}},
    {"re:.*\\.attention\\.self\\.value$", {"re:.*\\.attention\\.output\\.dense$"}},
    {"re:.*layer\\.\\d+\\.LayerNorm$", {"re:.*\\.intermediate\\.dense$"}},
};

// BART-style post-norm decoders (Marian, PLBart, MVP): norms feed the residual stream, so only
// v_proj -> out_proj of the self-attention remains.
const MappingList bart_decoder_mappings = {
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.out_proj$"}},
};

// Pegasus-style pre-norm decoders (BigBird-Pegasus, MusicGen): self_attn_layer_norm feeds
// q/k/v and final_layer_norm feeds fc1; fc1 -> fc2 would cross GELU.
const MappingList pre_norm_decoder_mappings = {
    {"re:.*layers\\.\\d+\\.self_attn_layer_norm$",
     {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}},
    {"re:.*self_attn.v_proj$", {"re:.*self_attn.out_proj$"}},
    {"re:.*layers\\.\\d+\\.final_layer_norm$", {"re:.*layers\\.\\d+\\.fc1$"}},
};

// ModernBERT decoder: pre-norm, but layer 0's attn_norm is an Identity (no weight to scale);
// Wi = [input; gate] and `Wo(act(input) * gate)`, so Wi's last half is the linear branch.
const MappingList modernbert_decoder_mappings = {
    {"re:.*layers\\.[1-9]\\d*\\.attn_norm$",
     {"re:.*layers\\.[1-9]\\d*\\.attn\\.q_proj$", "re:.*layers\\.[1-9]\\d*\\.attn\\.k_proj$",
      "re:.*layers\\.[1-9]\\d*\\.attn\\.v_proj$"}},
    {"re:.*attn.v_proj$", {"re:.*attn.Wo$"}},
    {"re:.*mlp_norm$", {"re:.*mlp.Wi$"}},
    {"re:.*mlp.Wi$", {"re:.*mlp.Wo$"}},
};

bool has_module_ending(const ModelView& model, std::string_view suffix) {
  for (const auto& m : model.modules()) {
    std::string_view n = m.name;
    if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
  }
  return false;
}

// Falcon has three blocks, told apart by their norms: two parallel norms (ln_attn, ln_mlp:
// Falcon-40B/180B), one shared norm (parallel_attn: Falcon-7B, Falcon 2), or a sequential block
// (input_layernorm, post_attention_layernorm: Falcon-RW). query_key_value is multi-query or
// grouped, so never query_key_value -> dense; dense_h_to_4h -> dense_4h_to_h would cross GELU.
BuildResult build_falcon(const ModelView& model) {
  if (has_module_ending(model, ".ln_attn") || has_module_ending(model, ".ln_mlp"))
    return BuildResult::use(
        {{"re:.*ln_attn$", {"re:.*self_attention.query_key_value$"}}, {"re:.*ln_mlp$", {"re:.*mlp.dense_h_to_4h$"}}});
  if (has_module_ending(model, ".post_attention_layernorm"))
    return BuildResult::use({{"re:.*input_layernorm$", {"re:.*self_attention.query_key_value$"}},
                             {"re:.*post_attention_layernorm$", {"re:.*mlp.dense_h_to_4h$"}}});
  if (has_module_ending(model, ".input_layernorm"))
    return BuildResult::use(
        {{"re:.*input_layernorm$", {"re:.*self_attention.query_key_value$", "re:.*mlp.dense_h_to_4h$"}}});
  return BuildResult::decline("no ln_attn, ln_mlp, input_layernorm or post_attention_layernorm module");
}

// OPT: pre-norm by default (self_attn_layer_norm feeds q/k/v, the layer's final_layer_norm
// feeds fc1; anchored on `layers.N.` because the decoder has a final_layer_norm too). OPT-350m
// sets do_layer_norm_before=false (post-norm): then only v -> out_proj. fc1 -> fc2 is exact
// only through a ReLU.
BuildResult build_opt(const ModelView& model) {
  const auto* before = model.config_field("do_layer_norm_before");
  bool pre_norm = !before || !before->is_boolean() || before->get<bool>();
  const auto* act = model.config_field("activation_function");
  bool relu = !act || (act->is_string() && act->get<std::string>() == "relu");
  MappingList m;
  if (pre_norm)
    m.push_back({"re:.*layers\\.\\d+\\.self_attn_layer_norm$",
                 {"re:.*self_attn.q_proj$", "re:.*self_attn.k_proj$", "re:.*self_attn.v_proj$"}});
  m.push_back({"re:.*self_attn.v_proj$", {"re:.*self_attn.out_proj$"}});
  if (pre_norm) m.push_back({"re:.*layers\\.\\d+\\.final_layer_norm$", {"re:.*layers\\.\\d+\\.fc1$"}});
  if (relu) m.push_back({"re:.*layers\\.\\d+\\.fc1$", {"re:.*layers\\.\\d+\\.fc2$"}});
  return BuildResult::use(std::move(m));
}

// MVP with use_prompt concatenates learned prompt keys and values to the attention's own, so
// v_proj's output is no longer all that attention mixes: no group then.
BuildResult build_mvp(const ModelView& model) {
  const auto* prompt = model.config_field("use_prompt");
  if (prompt && prompt->is_boolean() && prompt->get<bool>())
    return BuildResult::decline("use_prompt mixes prompt values into the attention");
  return BuildResult::use(bart_decoder_mappings);
}

struct Table {
  const char* architecture;
  const MappingList* mappings;
  Origin origin;
  const char* source;
};

const Table tables[] = {
    {"GPTJForCausalLM", &gptj_mappings, Origin::analysis, "transformers models/gptj/modeling_gptj.py"},
    {"GPTNeoXForCausalLM", &gpt_neox_mappings, Origin::analysis, "transformers models/gpt_neox/modeling_gpt_neox.py"},
    {"GPTNeoForCausalLM", &gpt_neo_mappings, Origin::analysis, "transformers models/gpt_neo/modeling_gpt_neo.py"},
    {"GPTBigCodeForCausalLM", &gpt_bigcode_mappings, Origin::analysis,
     "transformers models/gpt_bigcode/modeling_gpt_bigcode.py"},
    {"CodeGenForCausalLM", &codegen_mappings, Origin::peer, "GPTQModel definitions/codegen.py"},
    {"MossForCausalLM", &codegen_mappings, Origin::peer, "GPTQModel definitions/moss.py"},
    {"MptForCausalLM", &mpt_mappings, Origin::analysis, "transformers models/mpt/modeling_mpt.py"},
    {"PhiForCausalLM", &phi_mappings, Origin::analysis, "transformers models/phi/modeling_phi.py"},
    {"Starcoder2ForCausalLM", &starcoder2_mappings, Origin::analysis,
     "transformers models/starcoder2/modeling_starcoder2.py"},
    {"GPTPanguForCausalLM", &pangu_mappings, Origin::analysis, "GPTQModel definitions/pangu_alpha.py"},
    {"CTRLLMHeadModel", &ctrl_mappings, Origin::analysis, "transformers models/ctrl/modeling_ctrl.py"},
    {"BertLMHeadModel", &bert_mappings, Origin::analysis, "transformers models/bert/modeling_bert.py"},
    {"CamembertForCausalLM", &bert_mappings, Origin::analysis, "transformers models/camembert/modeling_camembert.py"},
    {"Data2VecTextForCausalLM", &bert_mappings, Origin::analysis,
     "transformers models/data2vec/modeling_data2vec_text.py"},
    {"ErnieForCausalLM", &bert_mappings, Origin::analysis, "transformers models/ernie/modeling_ernie.py"},
    {"RemBertForCausalLM", &bert_mappings, Origin::analysis, "transformers models/rembert/modeling_rembert.py"},
    {"XmodForCausalLM", &bert_mappings, Origin::analysis, "transformers models/xmod/modeling_xmod.py"},
    {"RobertaPreLayerNormForCausalLM", &roberta_prelayernorm_mappings, Origin::analysis,
     "transformers models/roberta_prelayernorm/modeling_roberta_prelayernorm.py"},
    {"XLMRobertaXLForCausalLM", &xlm_roberta_xl_mappings, Origin::analysis,
     "transformers models/xlm_roberta_xl/modeling_xlm_roberta_xl.py"},
    {"MarianForCausalLM", &bart_decoder_mappings, Origin::analysis, "transformers models/marian/modeling_marian.py"},
    {"PLBartForCausalLM", &bart_decoder_mappings, Origin::analysis, "transformers models/plbart/modeling_plbart.py"},
    {"BigBirdPegasusForCausalLM", &pre_norm_decoder_mappings, Origin::analysis,
     "transformers models/bigbird_pegasus/modeling_bigbird_pegasus.py"},
    {"MusicgenForCausalLM", &pre_norm_decoder_mappings, Origin::analysis,
     "transformers models/musicgen/modeling_musicgen.py"},
    {"MusicgenMelodyForCausalLM", &pre_norm_decoder_mappings, Origin::analysis,
     "transformers models/musicgen_melody/modeling_musicgen_melody.py"},
    {"ModernBertDecoderForCausalLM", &modernbert_decoder_mappings, Origin::analysis,
     "transformers models/modernbert_decoder/modeling_modernbert_decoder.py"},
};

// Not registered: GPT2LMHeadModel (its projections are transformers Conv1D, weight [in, out]:
// not Linear, and scaling their weights as Linear ones would scale the wrong dimension), and
// XLNetLMHeadModel (post-norm, q/k/v/o are bare parameters, and its FFN crosses GELU: no
// exact group).
void register_gpt(awqmap::Registrar& r) {
  for (const auto& t : tables) r.add_static(t.architecture, *t.mappings, {t.origin, t.source});
  const awqmap::Provenance falcon{Origin::analysis, "transformers models/falcon/modeling_falcon.py"};
  r.add_dynamic("FalconForCausalLM", "falcon", build_falcon, falcon);
  r.add_dynamic("RWForCausalLM", "falcon", build_falcon, {Origin::peer, "AutoAWQ awq/models/falcon.py"});
  r.add_dynamic("OPTForCausalLM", "opt", build_opt, {Origin::analysis, "transformers models/opt/modeling_opt.py"});
  r.add_dynamic("MvpForCausalLM", "mvp", build_mvp, {Origin::analysis, "transformers models/mvp/modeling_mvp.py"});
}

}  // namespace

AWQMAP_PLUGIN("gpt", "0.1.0", register_gpt)
