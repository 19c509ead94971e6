// The dense plugin: one layer's groups per architecture, spelled out from its modeling code,
// on the real transformers tree where the corpus has one and on a small tree of the modeling
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
// for a norm, "M:<name>" for a router (a weight, not a Linear), or a Linear name (64 -> 64).
ModelView layered(const std::string& architecture, int layers, const std::vector<std::string>& parts,
                  nlohmann::json config = nlohmann::json::object(), const std::string& root = "model.layers") {
  test::ModelBuilder b(architecture);
  b.list(root);
  for (int l = 0; l < layers; ++l) {
    std::string p = root + "." + std::to_string(l);
    b.add(p, "DecoderLayer");
    for (const auto& part : parts) {
      if (part.size() > 2 && part[1] == ':')
        b.add(p + "." + part.substr(2), part[0] == 'N' ? "RMSNorm" : "TopkRouter");
      else
        b.linear(p + "." + part, 64, 64);
    }
  }
  config["num_hidden_layers"] = layers;
  b.config(std::move(config));
  return b.build();
}

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

Groups layer_groups(const ModelView& m, const std::string& prefix, const std::string& plugin = "dense") {
  Selection s;
  auto r = test::resolve_exact(m, &s);
  CHECK(s.plugin == plugin);
  CHECK_FALSE(r.resolved.empty());
  return test::groups_under(r, prefix);
}

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
    CHECK(layer_groups(test::real_tree(row.architecture), "model.layers.1.") == row.expected);
  }
}

TEST_CASE("Llama-named peers get the default groups from the dense plugin") {
  for (const char* arch :
       {"AquilaForCausalLM", "DeciLMForCausalLM", "DreamModel", "Ernie4_5ForCausalLM", "HunYuanDenseV1ForCausalLM",
        "InstellaForCausalLM", "InternLMForCausalLM", "LongLlamaForCausalLM", "MiMoForCausalLM", "MiniCPMForCausalLM",
        "MobileLLMForCausalLM", "SmolLM3ForCausalLM", "StableLMEpochForCausalLM", "XverseForCausalLM"}) {
    INFO(arch);
    CHECK(layer_groups(layered(arch, 2, llama_parts), "model.layers.1.") == llama_groups);
  }
}

TEST_CASE("Doge with its MoE block keeps only the attention groups and the shared expert's up to down") {
  auto m = layered("DogeForCausalLM", 2,
                   {"N:input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                    "self_attn.dt_proj", "self_attn.o_proj", "N:post_attention_layernorm", "mlp.gate_proj",
                    "mlp.up_proj", "mlp.down_proj", "mlp.router_gate"},
                   {{"is_moe", true}});
  CHECK(layer_groups(m, "model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj", "mlp.up_proj -> mlp.down_proj",
               "self_attn.v_proj -> self_attn.dt_proj self_attn.o_proj"});
}

TEST_CASE("StableLM pairs input_layernorm with the MLP only when the residual is parallel") {
  const std::vector<std::string> parallel = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                             "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                             "mlp.down_proj",    "N:input_layernorm"};
  CHECK(
      layer_groups(layered("StableLmForCausalLM", 2, parallel, {{"use_parallel_residual", true}}), "model.layers.0.") ==
      Groups{"input_layernorm -> mlp.gate_proj mlp.up_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj",
             "mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
  CHECK(layer_groups(layered("StableLmForCausalLM", 2, llama_parts, {{"use_parallel_residual", false}}),
                     "model.layers.0.") == llama_groups);
}

TEST_CASE("OLMo-2 pairs no post-norm: only v to o and up to down") {
  auto m = layered("Olmo2ForCausalLM", 2,
                   {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "N:self_attn.q_norm", "N:self_attn.k_norm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj",
                    "N:post_attention_layernorm", "N:post_feedforward_layernorm"});
  CHECK(layer_groups(m, "model.layers.1.") ==
        Groups{"mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("Apertus pairs its own norm names and no up to down across xIELU") {
  auto m = layered("ApertusForCausalLM", 2,
                   {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.up_proj",
                    "mlp.down_proj", "N:attention_layernorm", "N:feedforward_layernorm"});
  CHECK(layer_groups(m, "model.layers.0.") ==
        Groups{"attention_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "feedforward_layernorm -> mlp.up_proj", "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("GLM and GLM-4 smooth the fused gate_up_proj and leave the sandwich norms alone") {
  for (const char* arch : {"GlmForCausalLM", "Glm4ForCausalLM"}) {
    INFO(arch);
    auto m = layered(arch, 2,
                     {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                      "mlp.gate_up_proj", "mlp.down_proj", "N:input_layernorm", "N:post_attention_layernorm",
                      "N:post_self_attn_layernorm", "N:post_mlp_layernorm"});
    CHECK(layer_groups(m, "model.layers.1.") ==
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
    auto m = layered(row.architecture, 2, row.parts, nlohmann::json::object(), row.root);
    CHECK(layer_groups(m, std::string(row.root) + ".1.") == row.expected);
  }
}

TEST_CASE("Solar Open puts the router and the shared experts in the post-attention group") {
  auto m = layered(
      "SolarOpenForCausalLM", 2,
      {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "M:mlp.gate",
       "mlp.experts.0.gate_proj", "mlp.experts.0.up_proj", "mlp.experts.0.down_proj", "mlp.experts.1.gate_proj",
       "mlp.experts.1.up_proj", "mlp.experts.1.down_proj", "mlp.shared_experts.gate_proj", "mlp.shared_experts.up_proj",
       "mlp.shared_experts.down_proj", "N:input_layernorm", "N:post_attention_layernorm"});
  CHECK(layer_groups(m, "model.layers.1.") ==
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
  CHECK(layer_groups(layered("KlearForCausalLM", 2, moe), "model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "mlp.experts.*.up_proj -> mlp.experts.*.down_proj",
               "mlp.shared_expert.up_proj -> mlp.shared_expert.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
  CHECK(layer_groups(layered("SolarOpen2ForCausalLM", 2, moe), "model.layers.0.") ==
        Groups{"mlp.experts.*.up_proj -> mlp.experts.*.down_proj",
               "mlp.shared_expert.up_proj -> mlp.shared_expert.down_proj"});
}
