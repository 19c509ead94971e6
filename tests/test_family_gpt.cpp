// The gpt plugin: one layer's groups per architecture, spelled out from its modeling code, on
// the real transformers tree where the corpus has one and on a small tree of the modeling
// code's names otherwise.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "group_check.hpp"
#include "model_builder.hpp"

using namespace awqmap;
using test::block_style;
using test::layer_groups;
using test::layered;
using Groups = std::vector<std::string>;

TEST_CASE("Real GPT-style and encoder-style trees resolve to the groups their modeling code gives one layer") {
  struct Row {
    const char* architecture;
    const char* prefix;
    Groups expected;
  };
  const Groups bert = {"attention.self.value -> attention.output.dense"};
  const Groups bart = {"self_attn.v_proj -> self_attn.out_proj"};
  const Row rows[] = {
      {"GPTJForCausalLM",
       "transformer.h.1.",
       {"attn.v_proj -> attn.out_proj", "ln_1 -> attn.k_proj attn.q_proj attn.v_proj mlp.fc_in"}},
      {"FalconForCausalLM",
       "transformer.h.1.",
       {"input_layernorm -> mlp.dense_h_to_4h self_attention.query_key_value"}},
      {"MptForCausalLM", "transformer.blocks.1.", {"norm_1 -> attn.Wqkv", "norm_2 -> ffn.up_proj"}},
      {"OPTForCausalLM",
       "model.decoder.layers.1.",
       {"fc1 -> fc2", "final_layer_norm -> fc1", "self_attn.v_proj -> self_attn.out_proj",
        "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"}},
      {"CTRLLMHeadModel",
       "transformer.h.1.",
       {"ffn.* -> ffn.*", "layernorm1 -> multi_head_attention.Wk multi_head_attention.Wq multi_head_attention.Wv",
        "layernorm2 -> ffn.*", "multi_head_attention.Wv -> multi_head_attention.dense"}},
      {"BertLMHeadModel", "bert.encoder.layer.1.", bert},
      {"CamembertForCausalLM", "roberta.encoder.layer.1.", bert},
      {"Data2VecTextForCausalLM", "data2vec_text.encoder.layer.1.", bert},
      {"ErnieForCausalLM", "ernie.encoder.layer.1.", bert},
      {"RemBertForCausalLM", "rembert.encoder.layer.1.", bert},
      {"XmodForCausalLM", "roberta.encoder.layer.1.", bert},
      {"RobertaPreLayerNormForCausalLM",
       "roberta_prelayernorm.encoder.layer.1.",
       {"attention.LayerNorm -> attention.self.key attention.self.query attention.self.value",
        "attention.self.value -> attention.output.dense", "intermediate.LayerNorm -> intermediate.dense"}},
      {"XLMRobertaXLForCausalLM",
       "roberta.encoder.layer.1.",
       {"LayerNorm -> intermediate.dense", "attention.self.value -> attention.output.dense",
        "attention.self_attn_layer_norm -> attention.self.key attention.self.query attention.self.value"}},
      {"MarianForCausalLM", "model.decoder.layers.1.", bart},
      {"PLBartForCausalLM", "model.decoder.layers.1.", bart},
      {"MvpForCausalLM", "model.decoder.layers.1.", bart},
      {"BigBirdPegasusForCausalLM",
       "model.decoder.layers.1.",
       {"final_layer_norm -> fc1", "self_attn.v_proj -> self_attn.out_proj",
        "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"}},
      {"MusicgenForCausalLM",
       "model.decoder.layers.1.",
       {"final_layer_norm -> fc1", "self_attn.v_proj -> self_attn.out_proj",
        "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"}},
      {"MusicgenMelodyForCausalLM",
       "model.decoder.layers.1.",
       {"final_layer_norm -> fc1", "self_attn.v_proj -> self_attn.out_proj",
        "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"}},
      {"ModernBertDecoderForCausalLM",
       "model.layers.1.",
       {"attn.v_proj -> attn.Wo", "attn_norm -> attn.k_proj attn.q_proj attn.v_proj", "mlp.Wi -> mlp.Wo",
        "mlp_norm -> mlp.Wi"}},
  };
  for (const auto& row : rows) {
    INFO(row.architecture);
    CHECK(layer_groups(test::real_tree(row.architecture), row.prefix, "gpt") == row.expected);
  }
}

TEST_CASE("ModernBERT's first layer has no attention norm to smooth") {
  const auto r_model = test::real_tree("ModernBertDecoderForCausalLM");  // outlives r, whose names view it
  auto r = test::resolve_exact(r_model);
  CHECK(test::groups_under(r, "model.layers.0.") ==
        Groups{"attn.v_proj -> attn.Wo", "mlp.Wi -> mlp.Wo", "mlp_norm -> mlp.Wi"});
}

TEST_CASE("GPT-style peers resolve with their own module names") {
  struct Row {
    const char* architecture;
    const char* root;
    std::vector<std::string> parts;
    Groups expected;
  };
  const Row rows[] = {
      {"GPTNeoXForCausalLM",
       "gpt_neox.layers",
       {"N:input_layernorm", "N:post_attention_layernorm", "attention.query_key_value", "attention.dense",
        "mlp.dense_h_to_4h", "mlp.dense_4h_to_h", "A:mlp.act"},
       {"input_layernorm -> attention.query_key_value", "post_attention_layernorm -> mlp.dense_h_to_4h"}},
      {"GPTNeoForCausalLM",
       "transformer.h",
       {"N:ln_1", "attn.attention.k_proj", "attn.attention.v_proj", "attn.attention.q_proj", "attn.attention.out_proj",
        "N:ln_2", "mlp.c_fc", "mlp.c_proj", "A:mlp.act"},
       {"attn.attention.v_proj -> attn.attention.out_proj",
        "ln_1 -> attn.attention.k_proj attn.attention.q_proj attn.attention.v_proj", "ln_2 -> mlp.c_fc"}},
      {"GPTBigCodeForCausalLM",
       "transformer.h",
       {"N:ln_1", "attn.c_attn", "attn.c_proj", "N:ln_2", "mlp.c_fc", "mlp.c_proj", "A:mlp.act"},
       {"ln_1 -> attn.c_attn", "ln_2 -> mlp.c_fc"}},
      {"CodeGenForCausalLM",
       "transformer.h",
       {"N:ln_1", "attn.qkv_proj", "attn.out_proj", "mlp.fc_in", "mlp.fc_out", "A:mlp.act"},
       {"ln_1 -> attn.qkv_proj mlp.fc_in"}},
      {"MossForCausalLM",
       "transformer.h",
       {"N:ln_1", "attn.qkv_proj", "attn.out_proj", "mlp.fc_in", "mlp.fc_out", "A:mlp.act"},
       {"ln_1 -> attn.qkv_proj mlp.fc_in"}},
      {"PhiForCausalLM",
       "model.layers",
       {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.dense", "mlp.fc1", "mlp.fc2",
        "A:mlp.activation_fn", "N:input_layernorm"},
       {"input_layernorm -> mlp.fc1 self_attn.k_proj self_attn.q_proj self_attn.v_proj",
        "self_attn.v_proj -> self_attn.dense"}},
      {"Starcoder2ForCausalLM",
       "model.layers",
       {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.c_fc", "mlp.c_proj",
        "A:mlp.act", "N:input_layernorm", "N:post_attention_layernorm"},
       {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj", "post_attention_layernorm -> mlp.c_fc",
        "self_attn.v_proj -> self_attn.o_proj"}},
      {"GPTPanguForCausalLM",
       "transformer.h",
       {"N:ln_1", "attn.k_proj", "attn.v_proj", "attn.q_proj", "attn.c_proj", "N:ln_2", "mlp.c_fc", "mlp.c_proj",
        "A:mlp.act"},
       {"attn.v_proj -> attn.c_proj", "ln_1 -> attn.k_proj attn.q_proj attn.v_proj", "ln_2 -> mlp.c_fc"}},
  };
  for (const auto& row : rows) {
    INFO(row.architecture);
    CHECK(layer_groups(layered(block_style, row.architecture, row.root, 2, row.parts), std::string(row.root) + ".1.",
                       "gpt") == row.expected);
  }
}

TEST_CASE("Falcon's builder pairs the norms its block has") {
  const std::vector<std::string> attn_mlp = {"self_attention.query_key_value", "self_attention.dense",
                                             "mlp.dense_h_to_4h", "mlp.dense_4h_to_h"};
  auto with = [&](std::vector<std::string> norms) {
    auto parts = attn_mlp;
    for (auto& n : norms) parts.push_back("N:" + n);
    return parts;
  };
  for (const char* arch : {"FalconForCausalLM", "RWForCausalLM"}) {
    INFO(arch);
    CHECK(layer_groups(layered(block_style, arch, "transformer.h", 2, with({"ln_attn", "ln_mlp"})), "transformer.h.0.",
                       "gpt") == Groups{"ln_attn -> self_attention.query_key_value", "ln_mlp -> mlp.dense_h_to_4h"});
    CHECK(layer_groups(
              layered(block_style, arch, "transformer.h", 2, with({"input_layernorm", "post_attention_layernorm"})),
              "transformer.h.0.", "gpt") ==
          Groups{"input_layernorm -> self_attention.query_key_value", "post_attention_layernorm -> mlp.dense_h_to_4h"});
    CHECK(layer_groups(layered(block_style, arch, "transformer.h", 2, with({"input_layernorm"})), "transformer.h.0.",
                       "gpt") == Groups{"input_layernorm -> mlp.dense_h_to_4h self_attention.query_key_value"});
  }
}

TEST_CASE("OPT pairs no norm when post-norm and no fc1 to fc2 across GELU") {
  const std::vector<std::string> parts = {"self_attn.k_proj",
                                          "self_attn.v_proj",
                                          "self_attn.q_proj",
                                          "self_attn.out_proj",
                                          "N:self_attn_layer_norm",
                                          "fc1",
                                          "fc2",
                                          "N:final_layer_norm"};
  CHECK(layer_groups(layered(block_style, "OPTForCausalLM", "model.decoder.layers", 2, parts,
                             {{"do_layer_norm_before", false}, {"activation_function", "relu"}}),
                     "model.decoder.layers.0.",
                     "gpt") == Groups{"fc1 -> fc2", "self_attn.v_proj -> self_attn.out_proj"});
  CHECK(layer_groups(layered(block_style, "OPTForCausalLM", "model.decoder.layers", 2, parts,
                             {{"do_layer_norm_before", true}, {"activation_function", "gelu"}}),
                     "model.decoder.layers.0.",
                     "gpt") == Groups{"final_layer_norm -> fc1", "self_attn.v_proj -> self_attn.out_proj",
                                      "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"});
}

TEST_CASE("MVP with prompts is declined by the gpt plugin") {
  auto m = layered(block_style, "MvpForCausalLM", "model.decoder.layers", 2,
                   {"self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj", "self_attn.out_proj",
                    "N:self_attn_layer_norm", "fc1", "fc2", "N:final_layer_norm"},
                   {{"use_prompt", true}});
  Selection s = test::shipped_registry().select(m, SelectionMode::exact);
  CHECK(s.plugin != "gpt");
  REQUIRE(s.declined.size() == 1);
  CHECK(s.declined[0].find("use_prompt") != std::string::npos);
}

TEST_CASE("BART-family BERT-style and recurrent decoders resolve to the groups their modeling code gives one layer") {
  struct Row {
    const char* architecture;
    const char* prefix;
    Groups expected;
  };
  const Groups post_norm = {"self_attn.v_proj -> self_attn.out_proj"};
  const Groups pre_norm = {"final_layer_norm -> fc1", "self_attn.v_proj -> self_attn.out_proj",
                           "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"};
  const Groups bert = {"attention.self.value -> attention.output.dense"};
  const Groups opt = {"fc1 -> fc2", "final_layer_norm -> fc1", "self_attn.v_proj -> self_attn.out_proj",
                      "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"};
  const Row rows[] = {
      {"BartForCausalLM", "model.decoder.layers.1.", post_norm},
      {"BlenderbotSmallForCausalLM", "model.decoder.layers.1.", post_norm},
      {"TrOCRForCausalLM", "model.decoder.layers.1.", post_norm},
      {"ProphetNetForCausalLM", "prophetnet.decoder.layers.1.", {"self_attn.value_proj -> self_attn.out_proj"}},
      {"BlenderbotForCausalLM", "model.decoder.layers.1.", pre_norm},
      {"MBartForCausalLM", "model.decoder.layers.1.", pre_norm},
      {"PegasusForCausalLM", "model.decoder.layers.1.", pre_norm},
      {"WhisperForCausalLM", "model.decoder.layers.1.", pre_norm},
      {"BioGptForCausalLM", "biogpt.layers.1.", pre_norm},
      {"XGLMForCausalLM", "model.layers.1.", pre_norm},
      {"PPFormulaNetForConditionalGeneration",
       "model.decoder.layers.1.",
       {"encoder_attn.v_proj -> encoder_attn.out_proj", "encoder_attn_layer_norm -> encoder_attn.q_proj",
        "final_layer_norm -> fc1", "self_attn.v_proj -> self_attn.out_proj",
        "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"}},
      {"PPFormulaNetForConditionalGeneration", "model.encoder.", {}},
      {"Kosmos2ForConditionalGeneration",
       "text_model.model.layers.1.",
       {"final_layer_norm -> ffn.fc1", "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"}},
      {"Kosmos2ForConditionalGeneration", "vision_model.", {}},
      {"Kosmos2ForConditionalGeneration", "image_to_text_projection.", {}},
      {"Blip2ForConditionalGeneration", "language_model.model.decoder.layers.1.", opt},
      {"Blip2ForConditionalGeneration", "qformer.", {}},
      {"Blip2ForConditionalGeneration", "vision_model.", {}},
      {"InstructBlipForConditionalGeneration", "language_model.model.decoder.layers.1.", opt},
      {"InstructBlipForConditionalGeneration", "qformer.", {}},
      {"InstructBlipForConditionalGeneration", "vision_model.", {}},
      {"BertGenerationDecoder", "bert.encoder.layer.1.", bert},
      {"BigBirdForCausalLM", "bert.encoder.layer.1.", bert},
      {"ElectraForCausalLM", "electra.encoder.layer.1.", bert},
      {"RoCBertForCausalLM", "roc_bert.encoder.layer.1.", bert},
      {"RoFormerForCausalLM", "roformer.encoder.layer.1.", bert},
      {"RobertaForCausalLM", "roberta.encoder.layer.1.", bert},
      {"XLMRobertaForCausalLM", "roberta.encoder.layer.1.", bert},
      {"GitForCausalLM", "git.encoder.layer.1.", bert},
      {"GitForCausalLM", "git.image_encoder.", {}},
      {"MegatronBertForCausalLM",
       "bert.encoder.layer.1.",
       {"attention.ln -> attention.self.key attention.self.query attention.self.value",
        "attention.self.value -> attention.output.dense", "ln -> intermediate.dense"}},
      {"XLMWithLMHeadModel", "transformer.attentions.1.", {"v_lin -> out_lin"}},
      {"XLMWithLMHeadModel", "transformer.ffns.", {}},
      {"CpmAntForCausalLM",
       "cpmant.encoder.layers.1.",
       {"ffn.ffn.w_in.w_1 -> ffn.ffn.w_out", "ffn.layernorm_before_ffn -> ffn.ffn.w_in.w_0 ffn.ffn.w_in.w_1",
        "self_att.layernorm_before_attention -> self_att.self_attention.project_k "
        "self_att.self_attention.project_q self_att.self_attention.project_v",
        "self_att.self_attention.project_v -> self_att.self_attention.attention_out"}},
      {"RwkvForCausalLM",
       "rwkv.blocks.1.",
       {"attention.value -> attention.output", "ln1 -> attention.key attention.receptance attention.value",
        "ln2 -> feed_forward.key feed_forward.receptance"}},
      {"xLSTMForCausalLM",
       "backbone.blocks.1.",
       {"ffn.proj_up -> ffn.proj_down", "norm_ffn -> ffn.proj_up ffn.proj_up_gate",
        "norm_mlstm -> mlstm_layer.fgate_preact mlstm_layer.igate_preact mlstm_layer.k mlstm_layer.ogate_preact "
        "mlstm_layer.q mlstm_layer.v"}},
      {"GPTNeoForCausalLM",
       "transformer.h.1.",
       {"attn.attention.v_proj -> attn.attention.out_proj",
        "ln_1 -> attn.attention.k_proj attn.attention.q_proj attn.attention.v_proj", "ln_2 -> mlp.c_fc"}},
      {"CodeGenForCausalLM", "transformer.h.1.", {"ln_1 -> attn.qkv_proj mlp.fc_in"}},
  };
  for (const auto& row : rows) {
    INFO(row.architecture << " under " << row.prefix);
    const auto model = test::described_tree(row.architecture);
    CHECK(layer_groups(model, row.prefix, "gpt") == row.expected);
  }
}

TEST_CASE("Reformer pairs each half's norm with its local or LSH projections") {
  test::ModelBuilder b("ReformerModelWithLMHead");
  b.list("reformer.encoder.layers");
  for (int l = 0; l < 2; ++l) {
    std::string p = "reformer.encoder.layers." + std::to_string(l);
    b.add(p, "ReformerLayer");
    b.add(p + ".attention.layer_norm", "LayerNorm");
    if (l == 0) {
      b.linear(p + ".attention.self_attention.query", 64, 64);
      b.linear(p + ".attention.self_attention.key", 64, 64);
    } else {
      b.linear(p + ".attention.self_attention.query_key", 64, 64);
    }
    b.linear(p + ".attention.self_attention.value", 64, 64);
    b.linear(p + ".attention.output.dense", 64, 64);
    b.add(p + ".feed_forward.layer_norm", "LayerNorm");
    b.linear(p + ".feed_forward.dense.dense", 64, 128);
    b.linear(p + ".feed_forward.output.dense", 128, 64);
  }
  SECTION("ReLU feed-forward") {
    b.config({{"hidden_act", "relu"}});
    const auto m = b.build();
    CHECK(layer_groups(m, "reformer.encoder.layers.0.", "gpt") ==
          Groups{"attention.layer_norm -> attention.self_attention.key attention.self_attention.query "
                 "attention.self_attention.value",
                 "attention.self_attention.value -> attention.output.dense",
                 "feed_forward.dense.dense -> feed_forward.output.dense",
                 "feed_forward.layer_norm -> feed_forward.dense.dense"});
    CHECK(layer_groups(m, "reformer.encoder.layers.1.", "gpt") ==
          Groups{"attention.layer_norm -> attention.self_attention.query_key attention.self_attention.value",
                 "attention.self_attention.value -> attention.output.dense",
                 "feed_forward.dense.dense -> feed_forward.output.dense",
                 "feed_forward.layer_norm -> feed_forward.dense.dense"});
  }
  SECTION("GELU feed-forward") {
    b.config({{"hidden_act", "gelu"}});
    const auto m = b.build();
    CHECK(layer_groups(m, "reformer.encoder.layers.1.", "gpt") ==
          Groups{"attention.layer_norm -> attention.self_attention.query_key attention.self_attention.value",
                 "attention.self_attention.value -> attention.output.dense",
                 "feed_forward.layer_norm -> feed_forward.dense.dense"});
  }
}

TEST_CASE("BLIP-2 with a gated T5 language model pairs each T5 sub-layer norm with its own consumers") {
  test::ModelBuilder b("Blip2ForConditionalGeneration");
  b.add("vision_model.encoder.layers.0.layer_norm1", "LayerNorm");
  b.linear("vision_model.encoder.layers.0.self_attn.qkv", 64, 192);
  b.linear("qformer.encoder.layer.0.attention.attention.value", 64, 64);
  b.linear("qformer.encoder.layer.0.attention.output.dense", 64, 64);
  auto attention = [&](const std::string& p, const std::string& kind) {
    for (const char* n : {"q", "k", "v", "o"}) b.linear(p + "." + kind + "." + n, 64, 64);
    b.add(p + ".layer_norm", "T5LayerNorm");
  };
  auto mlp = [&](const std::string& p) {
    b.linear(p + ".DenseReluDense.wi_0", 64, 128);
    b.linear(p + ".DenseReluDense.wi_1", 64, 128);
    b.linear(p + ".DenseReluDense.wo", 128, 64);
    b.add(p + ".layer_norm", "T5LayerNorm");
  };
  for (int l = 0; l < 2; ++l) {
    std::string e = "language_model.encoder.block." + std::to_string(l) + ".layer.";
    attention(e + "0", "SelfAttention");
    mlp(e + "1");
  }
  for (int l = 0; l < 2; ++l) {
    std::string d = "language_model.decoder.block." + std::to_string(l) + ".layer.";
    attention(d + "0", "SelfAttention");
    attention(d + "1", "EncDecAttention");
    mlp(d + "2");
  }
  b.config({{"text_config", {{"model_type", "t5"}, {"feed_forward_proj", "gated-gelu"}}}});
  const auto m = b.build();
  const std::string dec = "language_model.decoder.block.1.layer.";
  CHECK(layer_groups(m, dec + "0.", "gpt") ==
        Groups{"SelfAttention.v -> SelfAttention.o", "layer_norm -> SelfAttention.k SelfAttention.q SelfAttention.v"});
  CHECK(layer_groups(m, dec + "1.", "gpt") ==
        Groups{"EncDecAttention.v -> EncDecAttention.o", "layer_norm -> EncDecAttention.q"});
  CHECK(layer_groups(m, dec + "2.", "gpt") ==
        Groups{"DenseReluDense.wi_1 -> DenseReluDense.wo", "layer_norm -> DenseReluDense.wi_0 DenseReluDense.wi_1"});
  CHECK(layer_groups(m, "language_model.encoder.block.0.layer.1.", "gpt") ==
        Groups{"DenseReluDense.wi_1 -> DenseReluDense.wo", "layer_norm -> DenseReluDense.wi_0 DenseReluDense.wi_1"});
  CHECK(layer_groups(m, "vision_model.", "gpt").empty());
  CHECK(layer_groups(m, "qformer.", "gpt").empty());
}

TEST_CASE("The gpt plugin's configuration-dependent decoders follow their configuration") {
  SECTION("RoFormer with rotary values is declined") {
    auto m = layered(block_style, "RoFormerForCausalLM", "roformer.encoder.layer", 2,
                     {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                      "N:attention.output.LayerNorm", "intermediate.dense", "output.dense", "N:output.LayerNorm"},
                     {{"rotary_value", true}});
    Selection s = test::shipped_registry().select(m, SelectionMode::exact);
    CHECK(s.plugin != "gpt");
    REQUIRE(s.declined.size() == 1);
    CHECK(s.declined[0].find("rotary_value") != std::string::npos);
  }
  SECTION("Kosmos-2 without the inner attention norm pairs v_proj with out_proj") {
    auto m = layered(block_style, "Kosmos2ForConditionalGeneration", "text_model.model.layers", 2,
                     {"self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj", "self_attn.out_proj",
                      "N:self_attn_layer_norm", "ffn.fc1", "ffn.fc2", "N:ffn.ffn_layernorm", "N:final_layer_norm"});
    CHECK(layer_groups(m, "text_model.model.layers.0.", "gpt") ==
          Groups{"final_layer_norm -> ffn.fc1", "self_attn.v_proj -> self_attn.out_proj",
                 "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"});
  }
  SECTION("BLIP-2 with a post-norm GELU OPT pairs no norm and no fc1 to fc2") {
    auto m = layered(block_style, "Blip2ForConditionalGeneration", "language_model.model.decoder.layers", 2,
                     {"self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj", "self_attn.out_proj",
                      "N:self_attn_layer_norm", "fc1", "fc2", "N:final_layer_norm"},
                     {{"text_config", {{"do_layer_norm_before", false}, {"activation_function", "gelu"}}}});
    CHECK(layer_groups(m, "language_model.model.decoder.layers.0.", "gpt") ==
          Groups{"self_attn.v_proj -> self_attn.out_proj"});
  }
  SECTION("XLM with ReLU pairs lin1 with lin2") {
    test::ModelBuilder b("XLMWithLMHeadModel");
    for (const char* list :
         {"transformer.attentions", "transformer.layer_norm1", "transformer.ffns", "transformer.layer_norm2"})
      b.list(list);
    for (int l = 0; l < 2; ++l) {
      std::string i = std::to_string(l);
      for (const char* n : {"q_lin", "k_lin", "v_lin", "out_lin"})
        b.linear("transformer.attentions." + i + "." + n, 64, 64);
      b.add("transformer.layer_norm1." + i, "LayerNorm");
      b.linear("transformer.ffns." + i + ".lin1", 64, 128);
      b.linear("transformer.ffns." + i + ".lin2", 128, 64);
      b.add("transformer.layer_norm2." + i, "LayerNorm");
    }
    b.config({{"gelu_activation", false}});
    const auto m = b.build();
    CHECK(layer_groups(m, "transformer.ffns.1.", "gpt") == Groups{"lin1 -> lin2"});
    CHECK(layer_groups(m, "transformer.attentions.1.", "gpt") == Groups{"v_lin -> out_lin"});
  }
  SECTION("xLSTM with fused projections pairs each norm with its fused projections only") {
    auto m =
        layered(block_style, "xLSTMForCausalLM", "backbone.blocks", 2,
                {"N:norm_mlstm", "mlstm_layer.qkv_opreact", "mlstm_layer.ifgate_preact", "N:mlstm_layer.multihead_norm",
                 "mlstm_layer.out_proj", "N:norm_ffn", "ffn.proj_up_gate_z", "ffn.proj_down"});
    CHECK(layer_groups(m, "backbone.blocks.1.", "gpt") ==
          Groups{"norm_ffn -> ffn.proj_up_gate_z", "norm_mlstm -> mlstm_layer.ifgate_preact mlstm_layer.qkv_opreact"});
  }
}

TEST_CASE("XLNet and OpenAI GPT have no exact group and get no gpt plugin registration") {
  const auto entries = test::shipped_registry().architectures();
  for (const char* arch : {"XLNetLMHeadModel", "OpenAIGPTLMHeadModel", "GPT2LMHeadModel"}) {
    INFO(arch);
    bool registered = std::any_of(entries.begin(), entries.end(), [&](const ArchitectureEntry& e) {
      return e.architecture == arch && e.plugin && e.plugin->name == "gpt";
    });
    CHECK_FALSE(registered);
  }
  bool some_gpt = std::any_of(entries.begin(), entries.end(),
                              [](const ArchitectureEntry& e) { return e.plugin && e.plugin->name == "gpt"; });
  CHECK(some_gpt);
}
