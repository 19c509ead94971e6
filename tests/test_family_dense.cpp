// The dense plugin: one layer's groups per architecture, spelled out from its modeling code,
// on the real transformers tree where the corpus has one and on a small tree of the modeling
// code's names otherwise.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "group_check.hpp"
#include "model_builder.hpp"

using namespace awqmap;
using test::layer_groups;
using test::layered;
using test::with_experts;
using Groups = std::vector<std::string>;

namespace {

const std::vector<std::string> llama_parts = {"self_attn.q_proj", "self_attn.k_proj",  "self_attn.v_proj",
                                              "self_attn.o_proj", "mlp.gate_proj",     "mlp.up_proj",
                                              "mlp.down_proj",    "N:input_layernorm", "N:post_attention_layernorm"};

const Groups llama_groups = {
    "input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
    "mlp.up_proj -> mlp.down_proj",
    "post_attention_layernorm -> mlp.gate_proj mlp.up_proj",
    "self_attn.v_proj -> self_attn.o_proj",
};

// Llama's block with grouped-query attention: v_proj -> o_proj is skipped as incompatible
// (v's output is narrower than o's input), exactly as upstream does.
const Groups llama_gqa_groups = {
    "input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
    "mlp.up_proj -> mlp.down_proj",
    "post_attention_layernorm -> mlp.gate_proj mlp.up_proj",
};

}  // namespace

TEST_CASE("Real dense trees resolve to the groups their modeling code gives one layer") {
  struct Row {
    const char* architecture;
    Groups expected;
  };
  const Groups ungated = {
      "input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
      "post_attention_layernorm -> mlp.up_proj",
      "self_attn.v_proj -> self_attn.o_proj",
  };
  const Row rows[] = {
      {"ArceeForCausalLM", ungated},
      {"Jais2ForCausalLM", ungated},
      {"CwmForCausalLM", llama_gqa_groups},
      {"GraniteSWAForCausalLM", llama_gqa_groups},
      {"Ministral3ForCausalLM", llama_gqa_groups},
      {"HeliumForCausalLM", llama_groups},
      {"HyperCLOVAXForCausalLM", llama_groups},
      {"DogeForCausalLM",
       {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj", "mlp.up_proj -> mlp.down_proj",
        "post_attention_layernorm -> mlp.gate_proj mlp.up_proj",
        "self_attn.v_proj -> self_attn.dt_proj self_attn.o_proj"}},
  };
  for (const auto& row : rows) {
    INFO(row.architecture);
    CHECK(layer_groups(test::real_tree(row.architecture), "model.layers.1.", "dense") == row.expected);
  }
}

TEST_CASE("Llama-named peers get the default groups from the dense plugin") {
  for (const char* arch :
       {"AquilaForCausalLM", "DeciLMForCausalLM", "DreamModel", "Ernie4_5ForCausalLM", "HunYuanDenseV1ForCausalLM",
        "InstellaForCausalLM", "InternLMForCausalLM", "LongLlamaForCausalLM", "MiMoForCausalLM", "MiniCPMForCausalLM",
        "MobileLLMForCausalLM", "SmolLM3ForCausalLM", "StableLMEpochForCausalLM", "XverseForCausalLM"}) {
    INFO(arch);
    CHECK(layer_groups(layered(arch, "model.layers", 2, llama_parts), "model.layers.1.", "dense") == llama_groups);
  }
}

TEST_CASE("Doge with its MoE block keeps only the attention groups and the shared expert's up to down") {
  auto m = layered("DogeForCausalLM", "model.layers", 2,
                   {"N:input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                    "self_attn.dt_proj", "self_attn.o_proj", "N:post_attention_layernorm", "mlp.gate_proj",
                    "mlp.up_proj", "mlp.down_proj", "mlp.router_gate"},
                   {{"is_moe", true}});
  CHECK(layer_groups(m, "model.layers.0.", "dense") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj", "mlp.up_proj -> mlp.down_proj",
               "self_attn.v_proj -> self_attn.dt_proj self_attn.o_proj"});
}

TEST_CASE("StableLM pairs input_layernorm with the MLP only when the residual is parallel") {
  const std::vector<std::string> parallel = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                             "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                             "mlp.down_proj",    "N:input_layernorm"};
  CHECK(layer_groups(layered("StableLmForCausalLM", "model.layers", 2, parallel, {{"use_parallel_residual", true}}),
                     "model.layers.0.", "dense") ==
        Groups{"input_layernorm -> mlp.gate_proj mlp.up_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
  CHECK(layer_groups(layered("StableLmForCausalLM", "model.layers", 2, llama_parts, {{"use_parallel_residual", false}}),
                     "model.layers.0.", "dense") == llama_groups);
}

TEST_CASE("OLMo-2 pairs no post-norm: only v to o and up to down") {
  auto m = layered("Olmo2ForCausalLM", "model.layers", 2,
                   {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "N:self_attn.q_norm", "N:self_attn.k_norm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj",
                    "N:post_attention_layernorm", "N:post_feedforward_layernorm"});
  CHECK(layer_groups(m, "model.layers.1.", "dense") ==
        Groups{"mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("Apertus pairs its own norm names and no up to down across xIELU") {
  auto m = layered("ApertusForCausalLM", "model.layers", 2,
                   {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.up_proj",
                    "mlp.down_proj", "N:attention_layernorm", "N:feedforward_layernorm"});
  CHECK(layer_groups(m, "model.layers.0.", "dense") ==
        Groups{"attention_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "feedforward_layernorm -> mlp.up_proj", "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("GLM and GLM-4 smooth the fused gate_up_proj and leave the sandwich norms alone") {
  for (const char* arch : {"GlmForCausalLM", "Glm4ForCausalLM"}) {
    INFO(arch);
    auto m = layered(arch, "model.layers", 2,
                     {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                      "mlp.gate_up_proj", "mlp.down_proj", "N:input_layernorm", "N:post_attention_layernorm",
                      "N:post_self_attn_layernorm", "N:post_mlp_layernorm"});
    CHECK(layer_groups(m, "model.layers.1.", "dense") ==
          Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
                 "mlp.gate_up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_up_proj",
                 "self_attn.v_proj -> self_attn.o_proj"});
  }
}

TEST_CASE("Remote-code peers resolve with their own module names") {
  struct Row {
    const char* architecture;
    const char* root;
    std::vector<std::string> parts;
    Groups expected;
  };
  const Row rows[] = {
      {"YiForCausalLM",
       "model.layers",
       {"N:ln1", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "N:ln2",
        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"},
       {"ln1 -> self_attn.k_proj self_attn.q_proj self_attn.v_proj", "ln2 -> mlp.gate_proj mlp.up_proj",
        "mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"}},
      {"ExaoneForCausalLM",
       "transformer.h",
       {"N:ln_1", "attn.attention.q_proj", "attn.attention.k_proj", "attn.attention.v_proj", "attn.attention.out_proj",
        "N:ln_2", "mlp.c_fc_0", "mlp.c_fc_1", "mlp.c_proj"},
       {"attn.attention.v_proj -> attn.attention.out_proj",
        "ln_1 -> attn.attention.k_proj attn.attention.q_proj attn.attention.v_proj", "ln_2 -> mlp.c_fc_0 mlp.c_fc_1",
        "mlp.c_fc_1 -> mlp.c_proj"}},
      {"BaichuanForCausalLM",
       "model.layers",
       {"self_attn.W_pack", "self_attn.o_proj", "mlp.gate_proj", "mlp.down_proj", "mlp.up_proj", "N:input_layernorm",
        "N:post_attention_layernorm"},
       {"input_layernorm -> self_attn.W_pack", "mlp.up_proj -> mlp.down_proj",
        "post_attention_layernorm -> mlp.gate_proj mlp.up_proj", "self_attn.W_pack -> self_attn.o_proj"}},
      {"InternLM2ForCausalLM",
       "model.layers",
       {"attention.wqkv", "attention.wo", "feed_forward.w1", "feed_forward.w3", "feed_forward.w2", "N:attention_norm",
        "N:ffn_norm"},
       {"attention_norm -> attention.wqkv", "feed_forward.w3 -> feed_forward.w2",
        "ffn_norm -> feed_forward.w1 feed_forward.w3"}},
      {"ChatGLMModel",
       "transformer.encoder.layers",
       {"N:input_layernorm", "self_attention.query_key_value", "self_attention.dense", "N:post_attention_layernorm",
        "mlp.dense_h_to_4h", "mlp.dense_4h_to_h"},
       {"input_layernorm -> self_attention.query_key_value", "mlp.dense_h_to_4h -> mlp.dense_4h_to_h",
        "post_attention_layernorm -> mlp.dense_h_to_4h"}},
      {"QWenLMHeadModel",
       "transformer.h",
       {"N:ln_1", "attn.c_attn", "attn.c_proj", "N:ln_2", "mlp.w1", "mlp.w2", "mlp.c_proj"},
       {"attn.c_attn -> attn.c_proj", "ln_1 -> attn.c_attn", "ln_2 -> mlp.w1 mlp.w2", "mlp.w1 -> mlp.c_proj"}},
      {"TeleChat2ForCausalLM",
       "transformer.h",
       {"N:input_layernorm", "self_attention.query", "self_attention.key_value", "self_attention.dense",
        "N:post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"},
       {"input_layernorm -> self_attention.key_value self_attention.query", "mlp.up_proj -> mlp.down_proj",
        "post_attention_layernorm -> mlp.gate_proj mlp.up_proj"}},
      {"MiniCPM3ForCausalLM",
       "model.layers",
       {"self_attn.q_a_proj", "N:self_attn.q_a_layernorm", "self_attn.q_b_proj", "self_attn.kv_a_proj_with_mqa",
        "N:self_attn.kv_a_layernorm", "self_attn.kv_b_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
        "mlp.down_proj", "N:input_layernorm", "N:post_attention_layernorm"},
       {"input_layernorm -> self_attn.kv_a_proj_with_mqa self_attn.q_a_proj", "mlp.up_proj -> mlp.down_proj",
        "post_attention_layernorm -> mlp.gate_proj mlp.up_proj", "self_attn.kv_a_layernorm -> self_attn.kv_b_proj",
        "self_attn.q_a_layernorm -> self_attn.q_b_proj"}},
  };
  for (const auto& row : rows) {
    INFO(row.architecture);
    auto m = layered(row.architecture, row.root, 2, row.parts, nlohmann::json::object());
    CHECK(layer_groups(m, std::string(row.root) + ".1.", "dense") == row.expected);
  }
}

TEST_CASE("Solar Open puts the router and the shared experts in the post-attention group") {
  auto m = layered(
      "SolarOpenForCausalLM", "model.layers", 2,
      {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "M:mlp.gate",
       "mlp.experts.0.gate_proj", "mlp.experts.0.up_proj", "mlp.experts.0.down_proj", "mlp.experts.1.gate_proj",
       "mlp.experts.1.up_proj", "mlp.experts.1.down_proj", "mlp.shared_experts.gate_proj", "mlp.shared_experts.up_proj",
       "mlp.shared_experts.down_proj", "N:input_layernorm", "N:post_attention_layernorm"});
  CHECK(layer_groups(m, "model.layers.1.", "dense") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "mlp.experts.*.up_proj -> mlp.experts.*.down_proj", "mlp.experts.*.up_proj -> mlp.experts.*.down_proj",
               "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj",
               "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
               "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj",
               "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("Klear and Solar Open 2 leave the uncertain post-attention group out") {
  const std::vector<std::string> moe = {"self_attn.q_proj",
                                        "self_attn.k_proj",
                                        "self_attn.v_proj",
                                        "self_attn.o_proj",
                                        "M:mlp.gate",
                                        "mlp.experts.0.gate_proj",
                                        "mlp.experts.0.up_proj",
                                        "mlp.experts.0.down_proj",
                                        "mlp.shared_expert.gate_proj",
                                        "mlp.shared_expert.up_proj",
                                        "mlp.shared_expert.down_proj",
                                        "N:input_layernorm",
                                        "N:post_attention_layernorm"};
  CHECK(layer_groups(layered("KlearForCausalLM", "model.layers", 2, moe), "model.layers.0.", "dense") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "mlp.experts.*.up_proj -> mlp.experts.*.down_proj",
               "mlp.shared_expert.up_proj -> mlp.shared_expert.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
  CHECK(layer_groups(layered("SolarOpen2ForCausalLM", "model.layers", 2, moe), "model.layers.0.", "dense") ==
        Groups{"mlp.experts.*.up_proj -> mlp.experts.*.down_proj",
               "mlp.shared_expert.up_proj -> mlp.shared_expert.down_proj"});
}

namespace {

const std::string mla_attention_qkv = "input_layernorm -> self_attn.kv_a_proj_with_mqa self_attn.q_a_proj";
const std::string mla_kv_b = "self_attn.kv_a_layernorm -> self_attn.kv_b_proj";
const std::string mla_q_b = "self_attn.q_a_layernorm -> self_attn.q_b_proj";

}  // namespace

TEST_CASE("Described dense trees resolve to the groups their modeling code gives one layer") {
  struct Row {
    const char* architecture;
    const char* layer;
    Groups expected;
  };
  const Groups neox_style_qkv = {"input_layernorm -> self_attn.query_key_value",
                                 "post_attention_layernorm -> mlp.dense_h_to_4h"};
  const Groups mla_dense = {mla_attention_qkv, "mlp.up_proj -> mlp.down_proj",
                            "post_attention_layernorm -> mlp.gate_proj mlp.up_proj", mla_kv_b, mla_q_b};
  const Row rows[] = {
      // Post-norm around an MoE block whose router and experts read the raw residual; v -> o
      // is skipped as grouped-query (v is narrower than o's input).
      {"FlexOlmoForCausalLM", "model.layers.0.",
       with_experts(7, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj", {})},
      {"PersimmonForCausalLM", "model.layers.0.", neox_style_qkv},
      {"GPTNeoXJapaneseForCausalLM",
       "gpt_neox_japanese.layers.0.",
       {"input_layernorm -> attention.query_key_value", "post_attention_layernorm -> mlp.dense_h_to_4h"}},
      // The sub-norms take o_proj and down_proj; no v -> o or up -> down across them.
      {"BitNetForCausalLM",
       "model.layers.0.",
       {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj", "mlp.ffn_sub_norm -> mlp.down_proj",
        "post_attention_layernorm -> mlp.gate_proj mlp.up_proj", "self_attn.attn_sub_norm -> self_attn.o_proj"}},
      {"YoutuForCausalLM", "model.layers.0.", mla_dense},
      {"MiniCPM3ForCausalLM", "model.layers.0.", mla_dense},
      // Every layer of this config is MoE (first_k_dense_replace 0): router, routed and shared
      // experts read the post-attention norm.
      {"Mistral4ForCausalLM", "model.layers.3.",
       with_experts(8, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj",
                    {mla_attention_qkv, "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj",
                     "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
                     "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj",
                     mla_kv_b, mla_q_b})},
      // Grouped-query config: no v -> o (the names end in `.linear`, so only the plugin knows).
      {"MoshiForCausalLM",
       "model.layers.1.",
       {"input_layernorm -> self_attn.k_proj.linear self_attn.q_proj.linear self_attn.v_proj.linear",
        "mlp.fc1 -> mlp.fc2", "post_attention_layernorm -> mlp.fc1"}},
  };
  for (const auto& row : rows) {
    INFO(row.architecture);
    CHECK(layer_groups(test::described_tree(row.architecture), row.layer, "dense") == row.expected);
  }
}

TEST_CASE("BLT smooths its three Llama stacks and leaves the cross-attention and the patcher out") {
  auto m = test::described_tree("BltForCausalLM");
  Selection s;
  auto r = test::resolve_exact(m, &s);
  CHECK(s.plugin == "dense");
  for (const char* stack :
       {"model.local_encoder.layers.0.", "model.global_transformer.layers.0.", "model.local_decoder.layers.0."}) {
    INFO(stack);
    CHECK(test::groups_under(r, stack) == llama_gqa_groups);
  }
  CHECK(test::groups_under(r, "model.patcher.").empty());
  CHECK(test::groups_under(r, "model.local_encoder.cross_attn_layers.").empty());
  CHECK(test::groups_under(r, "model.local_decoder.cross_attn_layers.").empty());
}

TEST_CASE("DeepSeek-V4 smooths the compressor and indexer with the input norm and keeps the router") {
  auto m = test::described_tree("DeepseekV4ForCausalLM");
  Selection s;
  auto r = test::resolve_exact(m, &s);
  CHECK(s.plugin == "dense");
  const std::string post =
      "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
      "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj";
  const std::string shared = "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj";
  const std::string o = "self_attn.o_a_proj -> self_attn.o_b_proj";
  // Layer 0 compresses heavily (a compressor, no indexer).
  CHECK(test::groups_under(r, "model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.compressor.gate_proj self_attn.compressor.kv_proj self_attn.kv_proj "
               "self_attn.q_a_proj",
               shared, post, o, "self_attn.q_a_norm -> self_attn.q_b_proj"});
  // Layer 3 is compressed sparse attention: the indexer reads the input norm and q_a_norm too.
  CHECK(test::groups_under(r, "model.layers.3.") ==
        Groups{"input_layernorm -> self_attn.compressor.gate_proj self_attn.compressor.indexer.gate_proj "
               "self_attn.compressor.indexer.kv_proj self_attn.compressor.indexer.scorer.weights_proj "
               "self_attn.compressor.kv_proj self_attn.kv_proj self_attn.q_a_proj",
               shared, post, o, "self_attn.q_a_norm -> self_attn.compressor.indexer.q_b_proj self_attn.q_b_proj"});
}

TEST_CASE("Mistral 4 scopes the post-attention group per dense and MoE layer") {
  const std::vector<std::string> attention = {
      "self_attn.q_a_proj",         "N:self_attn.q_a_layernorm", "self_attn.q_b_proj", "self_attn.kv_a_proj_with_mqa",
      "N:self_attn.kv_a_layernorm", "self_attn.kv_b_proj",       "self_attn.o_proj"};
  test::ModelBuilder b("Mistral4ForCausalLM");
  b.list("model.layers");
  for (int l = 0; l < 3; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    for (const auto& a : attention) {
      if (a.rfind("N:", 0) == 0)
        b.add(p + a.substr(2), "Mistral4RMSNorm");
      else
        b.linear(p + a, 64, 64);
    }
    if (l == 0) {
      for (const char* n : {"gate_proj", "up_proj", "down_proj"}) b.linear(p + "mlp." + n, 64, 64);
    } else {
      b.list(p + "mlp.experts");
      for (int e = 0; e < 2; ++e)
        for (const char* n : {"up_proj", "gate_proj", "down_proj"})
          b.linear(p + "mlp.experts." + std::to_string(e) + "." + n, 64, 64);
      b.add(p + "mlp.gate", "Mistral4TopkRouter");
      for (const char* n : {"gate_proj", "up_proj", "down_proj"}) b.linear(p + "mlp.shared_experts." + n, 64, 64);
    }
    b.add(p + "input_layernorm", "Mistral4RMSNorm");
    b.add(p + "post_attention_layernorm", "Mistral4RMSNorm");
  }
  b.config({{"num_hidden_layers", 3}, {"first_k_dense_replace", 1}});
  auto m = b.build();
  CHECK(layer_groups(m, "model.layers.0.", "dense") == Groups{mla_attention_qkv, "mlp.up_proj -> mlp.down_proj",
                                                              "post_attention_layernorm -> mlp.gate_proj mlp.up_proj",
                                                              mla_kv_b, mla_q_b});
  CHECK(layer_groups(m, "model.layers.2.", "dense") ==
        with_experts(2, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj",
                     {mla_attention_qkv, "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj",
                      "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
                      "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj",
                      mla_kv_b, mla_q_b}));
}

TEST_CASE("Mistral 4 declines a config without num_hidden_layers") {
  test::ModelBuilder b("Mistral4ForCausalLM");
  b.list("model.layers");
  b.add("model.layers.0.input_layernorm", "Mistral4RMSNorm");
  auto m = b.build();
  Selection s = test::shipped_registry().select(m, SelectionMode::exact);
  REQUIRE(s.declined_builders.size() == 1);
  CHECK(s.declined_builders[0].builder == "mistral4");
  CHECK(s.declined_builders[0].reason == "the config gives no num_hidden_layers");
}

TEST_CASE("Moshi pairs v with o when every query head has its own key-value head") {
  const std::vector<std::string> parts = {"self_attn.q_proj.linear",
                                          "self_attn.k_proj.linear",
                                          "self_attn.v_proj.linear",
                                          "self_attn.o_proj.linear",
                                          "mlp.fc1",
                                          "mlp.fc2",
                                          "N:input_layernorm",
                                          "N:post_attention_layernorm"};
  CHECK(layer_groups(layered("MoshiForCausalLM", "model.layers", 2, parts,
                             {{"num_attention_heads", 4}, {"num_key_value_heads", 4}}),
                     "model.layers.1.", "dense") ==
        Groups{"input_layernorm -> self_attn.k_proj.linear self_attn.q_proj.linear self_attn.v_proj.linear",
               "mlp.fc1 -> mlp.fc2", "post_attention_layernorm -> mlp.fc1",
               "self_attn.v_proj.linear -> self_attn.o_proj.linear"});
}

TEST_CASE("NanoChat has weightless norms and a squared ReLU MLP: only v to o") {
  auto m = layered("NanoChatForCausalLM", "model.layers", 2,
                   {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.fc1",
                    "mlp.fc2", "N:input_layernorm", "N:post_attention_layernorm"});
  CHECK(layer_groups(m, "model.layers.1.", "dense") == Groups{"self_attn.v_proj -> self_attn.o_proj"});
  // The described tree is grouped-query: v -> o is skipped as incompatible, and nothing fails.
  auto described = test::described_tree("NanoChatForCausalLM");
  Selection s;
  auto r = test::resolve_exact(described, &s);
  CHECK(s.plugin == "dense");
  CHECK(test::groups_under(r, "model.layers.0.").empty());
}

TEST_CASE("Ministral Nemotron and CohereCompass get the groups of their blocks from their modeling code") {
  CHECK(layer_groups(layered("MinistralForCausalLM", "model.layers", 2, llama_parts), "model.layers.1.", "dense") ==
        llama_groups);
  CHECK(layer_groups(layered("NemotronForCausalLM", "model.layers", 2,
                             {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                              "mlp.up_proj", "mlp.down_proj", "N:input_layernorm", "N:post_attention_layernorm"}),
                     "model.layers.1.", "dense") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "post_attention_layernorm -> mlp.up_proj", "self_attn.v_proj -> self_attn.o_proj"});
  // Cohere 2's parallel block: one norm feeds attention and MLP.
  CHECK(layer_groups(layered("CohereCompassForCausalLM", "model.layers", 2,
                             {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                              "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "N:input_layernorm"}),
                     "model.layers.1.", "dense") ==
        Groups{"input_layernorm -> mlp.gate_proj mlp.up_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
}
