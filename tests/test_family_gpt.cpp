// The gpt plugin: one layer's groups per architecture, spelled out from its modeling code, on
// the real transformers tree where the corpus has one and on a small tree of the modeling
// code's names otherwise.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "group_check.hpp"
#include "model_builder.hpp"

using namespace awqmap;
using Groups = std::vector<std::string>;

namespace {

// `layers` copies of `parts` under `<root>.<i>.`, in named_modules order. A part is "N:<name>"
// for a norm, "A:<name>" for an activation module, or a Linear name (64 -> 64).
ModelView layered(const std::string& architecture, const std::string& root, int layers,
                  const std::vector<std::string>& parts, nlohmann::json config = nlohmann::json::object()) {
  test::ModelBuilder b(architecture);
  b.list(root);
  for (int l = 0; l < layers; ++l) {
    std::string p = root + "." + std::to_string(l);
    b.add(p, "Block");
    for (const auto& part : parts) {
      if (part.size() > 2 && part[1] == ':')
        b.add(p + "." + part.substr(2), part[0] == 'N' ? "LayerNorm" : "GELUActivation");
      else
        b.linear(p + "." + part, 64, 64);
    }
  }
  b.config(std::move(config));
  return b.build();
}

Groups layer_groups(const ModelView& m, const std::string& prefix, Selection* selection = nullptr) {
  Selection s;
  auto r = test::resolve_exact(m, &s);
  CHECK(s.plugin == "gpt");
  CHECK_FALSE(r.resolved.empty());
  if (selection) *selection = s;
  return test::groups_under(r, prefix);
}

}  // namespace

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
    CHECK(layer_groups(test::real_tree(row.architecture), row.prefix) == row.expected);
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
    CHECK(layer_groups(layered(row.architecture, row.root, 2, row.parts), std::string(row.root) + ".1.") ==
          row.expected);
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
    CHECK(layer_groups(layered(arch, "transformer.h", 2, with({"ln_attn", "ln_mlp"})), "transformer.h.0.") ==
          Groups{"ln_attn -> self_attention.query_key_value", "ln_mlp -> mlp.dense_h_to_4h"});
    CHECK(layer_groups(layered(arch, "transformer.h", 2, with({"input_layernorm", "post_attention_layernorm"})),
                       "transformer.h.0.") ==
          Groups{"input_layernorm -> self_attention.query_key_value", "post_attention_layernorm -> mlp.dense_h_to_4h"});
    CHECK(layer_groups(layered(arch, "transformer.h", 2, with({"input_layernorm"})), "transformer.h.0.") ==
          Groups{"input_layernorm -> mlp.dense_h_to_4h self_attention.query_key_value"});
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
  CHECK(layer_groups(layered("OPTForCausalLM", "model.decoder.layers", 2, parts,
                             {{"do_layer_norm_before", false}, {"activation_function", "relu"}}),
                     "model.decoder.layers.0.") == Groups{"fc1 -> fc2", "self_attn.v_proj -> self_attn.out_proj"});
  CHECK(layer_groups(layered("OPTForCausalLM", "model.decoder.layers", 2, parts,
                             {{"do_layer_norm_before", true}, {"activation_function", "gelu"}}),
                     "model.decoder.layers.0.") ==
        Groups{"final_layer_norm -> fc1", "self_attn.v_proj -> self_attn.out_proj",
               "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"});
}

TEST_CASE("MVP with prompts is declined by the gpt plugin") {
  auto m = layered("MvpForCausalLM", "model.decoder.layers", 2,
                   {"self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj", "self_attn.out_proj",
                    "N:self_attn_layer_norm", "fc1", "fc2", "N:final_layer_norm"},
                   {{"use_prompt", true}});
  Selection s = test::shipped_registry().select(m, SelectionMode::exact);
  CHECK(s.plugin != "gpt");
  REQUIRE(s.declined.size() == 1);
  CHECK(s.declined[0].find("use_prompt") != std::string::npos);
}
