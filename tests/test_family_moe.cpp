// Mixture-of-experts architectures (plugin moe): one dense and one sparse layer of each, with
// the groups spelled out from the transformers modeling code (or the remote code's names).
// The router, the shared experts and their gates read the MLP norm beside the experts, so
// they belong to its group; dense and sparse layers get their own groups.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "awqmap/checkpoint.hpp"
#include "checkpoint_writer.hpp"
#include "group_check.hpp"
#include "model_builder.hpp"

using awqmap::Selection;
using awqmap::SelectionMode;
using awqmap::test::ModelBuilder;
using awqmap::test::resolve_checked;
using awqmap::test::sorted;
using awqmap::test::with_experts;
using Groups = std::vector<std::string>;

namespace {

void mla_attention(ModelBuilder& b, const std::string& p, bool indexer) {
  for (const char* n :
       {"q_a_proj", "q_a_layernorm", "q_b_proj", "kv_a_proj_with_mqa", "kv_a_layernorm", "kv_b_proj", "o_proj"}) {
    std::string name = p + "self_attn." + n;
    if (std::string(n).find("layernorm") != std::string::npos)
      b.norm(name);
    else
      b.linear(name);
  }
  if (indexer)
    for (const char* n : {"wq_b", "wk", "weights_proj"}) b.linear(p + "self_attn.indexer." + n);
}

// A DeepSeek-style decoder stack: dense layers have `mlp.{gate,up,down}_proj`, sparse ones a
// router `mlp.gate`, experts and (optionally) `mlp.shared_experts`.
ModelBuilder deepseek_style(const std::string& arch, const std::vector<bool>& sparse, bool mla, bool shared,
                            nlohmann::json config) {
  ModelBuilder b(arch);
  b.config(std::move(config));
  b.list("model.layers");
  for (std::size_t i = 0; i < sparse.size(); ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    if (mla)
      mla_attention(b, p, false);
    else
      b.llama_attention(p);
    if (sparse[i]) {
      b.router(p + "mlp.gate");
      b.experts(p + "mlp.experts");
      if (shared) b.gated_mlp(p + "mlp.shared_experts.");
    } else {
      b.gated_mlp(p + "mlp.");
    }
    b.norm(p + "input_layernorm");
    b.norm(p + "post_attention_layernorm");
  }
  b.norm("model.norm");
  b.linear("lm_head", 64, 100);
  return b;
}

const std::string expert_up_down = "mlp.experts.*.up_proj -> mlp.experts.*.down_proj";
const std::string llama_qkv = "input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj";
const std::string llama_vo = "self_attn.v_proj -> self_attn.o_proj";
const std::string dense_post = "post_attention_layernorm -> mlp.gate_proj mlp.up_proj";
const std::string dense_up_down = "mlp.up_proj -> mlp.down_proj";
const std::string shared_up_down = "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj";
const std::string sparse_post_shared =
    "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
    "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj";
const std::string sparse_post = "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate";
const std::string mla_qa = "self_attn.q_a_layernorm -> self_attn.q_b_proj";
const std::string mla_kva = "self_attn.kv_a_layernorm -> self_attn.kv_b_proj";
const std::string mla_input = "input_layernorm -> self_attn.kv_a_proj_with_mqa self_attn.q_a_proj";

}  // namespace

// ----------------------------------------------------------------------------------------------
// Real trees (transformers 5.17).

TEST_CASE("DeepSeek-V3 real tree scopes dense layers 0-2 and sparse layer 3 from first_k_dense_replace") {
  auto m = awqmap::test::real_tree("DeepseekV3ForCausalLM");
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.2.") ==
        sorted({mla_input, mla_qa, mla_kva, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.3.") ==
        with_experts(8, expert_up_down, {mla_input, mla_qa, mla_kva, sparse_post_shared, shared_up_down}));
}

TEST_CASE("DeepSeek-V3.2 real tree balances the indexer inputs with the attention projections") {
  auto m = awqmap::test::real_tree("DeepseekV32ForCausalLM");
  auto r = resolve_checked(m, "moe");
  const std::string input =
      "input_layernorm -> self_attn.indexer.weights_proj self_attn.indexer.wk self_attn.kv_a_proj_with_mqa "
      "self_attn.q_a_proj";
  const std::string qa = "self_attn.q_a_layernorm -> self_attn.indexer.wq_b self_attn.q_b_proj";
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({input, qa, mla_kva, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.3.") ==
        with_experts(8, expert_up_down, {input, qa, mla_kva, sparse_post_shared, shared_up_down}));
}

TEST_CASE("Hunyuan V4 real tree adds the attention gate and closes layers without an indexer") {
  auto m = awqmap::test::real_tree("HYV4ForCausalLM");
  auto r = resolve_checked(m, "moe");
  const std::string with_indexer =
      "input_layernorm -> self_attn.gate_proj self_attn.indexer.weights_proj self_attn.indexer.wk "
      "self_attn.kv_a_proj_with_mqa self_attn.q_a_proj";
  const std::string qa_indexer = "self_attn.q_a_layernorm -> self_attn.indexer.wq_b self_attn.q_b_proj";
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        sorted({with_indexer, qa_indexer, mla_kva, dense_post, dense_up_down}));
  const std::string no_indexer =
      "input_layernorm -> self_attn.gate_proj self_attn.kv_a_proj_with_mqa self_attn.q_a_proj";
  CHECK(awqmap::test::groups_under(r, "model.layers.2.") ==
        with_experts(8, expert_up_down, {no_indexer, mla_qa, mla_kva, sparse_post_shared, shared_up_down}));
}

TEST_CASE("GLM-4.5 real tree has a dense layer 0 and sparse layers with shared experts") {
  auto m = awqmap::test::real_tree("Glm4MoeForCausalLM");
  auto r = resolve_checked(m, "moe");
  // GQA: v_proj (336) and o_proj (4032) differ in width, so that group is skipped.
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({llama_qkv, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(8, expert_up_down, {llama_qkv, sparse_post_shared, shared_up_down}));
}

TEST_CASE("Hunyuan V3 real tree reads its split from mlp_layer_types") {
  auto m = awqmap::test::real_tree("HYV3ForCausalLM");
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({llama_qkv, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.3.") ==
        with_experts(8, expert_up_down, {llama_qkv, sparse_post_shared, shared_up_down}));
}

TEST_CASE("MiMo-V2-Flash real tree has routed experts only in its sparse layers") {
  auto m = awqmap::test::real_tree("MiMoV2FlashForCausalLM");
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({llama_qkv, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") == with_experts(8, expert_up_down, {llama_qkv, sparse_post}));
}

TEST_CASE("Laguna real tree balances the attention output gate g_proj with q k v") {
  auto m = awqmap::test::real_tree("LagunaForCausalLM");
  auto r = resolve_checked(m, "moe");
  const std::string qkvg = "input_layernorm -> self_attn.g_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj";
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({qkvg, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.2.") ==
        with_experts(8, expert_up_down, {qkvg, sparse_post_shared, shared_up_down}));
}

TEST_CASE("ERNIE 4.5 MoE real tree starts its sparse layers at moe_layer_start_index") {
  auto m = awqmap::test::real_tree("Ernie4_5_MoeForCausalLM");
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({llama_qkv, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(8, expert_up_down, {llama_qkv, sparse_post_shared, shared_up_down}));
}

TEST_CASE("AFMoE real tree smooths pre_mlp_layernorm and never the post-norm") {
  auto m = awqmap::test::real_tree("AfmoeForCausalLM");
  auto r = resolve_checked(m, "moe");
  const std::string qkvg = "input_layernorm -> self_attn.gate_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj";
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        sorted({qkvg, llama_vo, "pre_mlp_layernorm -> mlp.gate_proj mlp.up_proj", dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(8, expert_up_down,
                     {qkvg, llama_vo,
                      "pre_mlp_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.router.gate "
                      "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj",
                      shared_up_down}));
}

TEST_CASE("Llama 4 multimodal real tree groups the language model only and adds the router") {
  auto m = awqmap::test::real_tree("Llama4ForConditionalGeneration");
  auto r = resolve_checked(m, "moe");
  for (const auto& g : r.resolved) CHECK(g.smooth_name.rfind("language_model.", 0) == 0);
  // GQA: the text v_proj is narrower than o_proj's input, so that group is skipped.
  CHECK(awqmap::test::groups_under(r, "language_model.model.layers.0.") ==
        with_experts(8, "feed_forward.experts.*.up_proj -> feed_forward.experts.*.down_proj",
                     {llama_qkv,
                      "post_attention_layernorm -> feed_forward.experts.*.gate_proj feed_forward.experts.*.up_proj "
                      "feed_forward.router feed_forward.shared_expert.gate_proj feed_forward.shared_expert.up_proj",
                      "feed_forward.shared_expert.up_proj -> feed_forward.shared_expert.down_proj"}));
}

TEST_CASE("All-sparse real trees add the router to the post-attention group") {
  struct Row {
    const char* arch;
    const char* router;
    bool v_to_o;  // false where GQA makes v_proj narrower than o_proj's input
  };
  const Row rows[] = {{"MiniMaxM2ForCausalLM", "mlp.gate", false},
                      {"OlmoeForCausalLM", "mlp.gate", true},
                      {"PhimoeForCausalLM", "mlp.router", false}};
  for (const auto& row : rows) {
    INFO(row.arch);
    const auto r_model = awqmap::test::real_tree(row.arch);  // outlives r, whose names view it
    auto r = resolve_checked(r_model, "moe");
    Groups rest = {llama_qkv, "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj " +
                                  std::string(row.router)};
    if (row.v_to_o) rest.push_back(llama_vo);
    CHECK(awqmap::test::groups_under(r, "model.layers.1.") == with_experts(8, expert_up_down, rest));
  }
}

TEST_CASE("Granite MoE real trees balance block_sparse_moe.router with the experts") {
  for (const char* arch : {"GraniteMoeForCausalLM", "GraniteMoeSharedForCausalLM", "GraniteMoeSWAForCausalLM"}) {
    INFO(arch);
    const auto r_model = awqmap::test::real_tree(arch);  // outlives r, whose names view it
    auto r = resolve_checked(r_model, "moe");
    CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
          with_experts(8, "block_sparse_moe.experts.*.up_proj -> block_sparse_moe.experts.*.down_proj",
                       {llama_qkv, llama_vo,
                        "post_attention_layernorm -> block_sparse_moe.experts.*.gate_proj "
                        "block_sparse_moe.experts.*.up_proj block_sparse_moe.router"}));
  }
}

TEST_CASE("LongCat-Flash real tree leaves out the norm its identity experts pass to the residual") {
  const auto r_model = awqmap::test::real_tree("LongcatFlashForCausalLM");  // outlives r, whose names view it
  auto r = resolve_checked(r_model, "moe");
  // Sub-block indices fold to `*` like expert indices: each line appears once per sub-block.
  CHECK(
      awqmap::test::groups_under(r, "model.layers.0.") ==
      with_experts(
          8, expert_up_down,
          {"input_layernorm.* -> self_attn.*.kv_a_proj_with_mqa self_attn.*.q_a_proj",
           "input_layernorm.* -> self_attn.*.kv_a_proj_with_mqa self_attn.*.q_a_proj",
           "self_attn.*.q_a_layernorm -> self_attn.*.q_b_proj", "self_attn.*.q_a_layernorm -> self_attn.*.q_b_proj",
           "self_attn.*.kv_a_layernorm -> self_attn.*.kv_b_proj", "self_attn.*.kv_a_layernorm -> self_attn.*.kv_b_proj",
           "post_attention_layernorm.* -> mlps.*.gate_proj mlps.*.up_proj", "mlps.*.up_proj -> mlps.*.down_proj",
           "mlps.*.up_proj -> mlps.*.down_proj"}));
  // Unfolded: the one post-attention group is sub-block 1's, and each input norm feeds its own
  // sub-block's attention.
  for (const auto& g : r.resolved) {
    if (g.smooth_name.rfind("model.layers.0.", 0) != 0) continue;
    INFO(std::string(g.smooth_name));
    const std::vector<std::string> balance(g.balance_names.begin(), g.balance_names.end());
    CHECK(g.smooth_name != "model.layers.0.post_attention_layernorm.0");
    if (g.smooth_name == "model.layers.0.post_attention_layernorm.1")
      CHECK(balance == std::vector<std::string>{"model.layers.0.mlps.1.gate_proj", "model.layers.0.mlps.1.up_proj"});
    if (g.smooth_name == "model.layers.0.input_layernorm.1")
      CHECK(balance == std::vector<std::string>{"model.layers.0.self_attn.1.q_a_proj",
                                                "model.layers.0.self_attn.1.kv_a_proj_with_mqa"});
  }
}

TEST_CASE("Aria text real tree keeps only the groups its grouped-GEMM experts allow") {
  const auto r_model = awqmap::test::real_tree("AriaTextForCausalLM");  // outlives r, whose names view it
  auto r = resolve_checked(r_model, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({llama_qkv, llama_vo, shared_up_down}));
}

// ----------------------------------------------------------------------------------------------
// Splits that differ from the real trees'.

TEST_CASE("DeepSeek-V3 with first_k_dense_replace 1 moves the split to layer 1") {
  auto m = deepseek_style("DeepseekV3ForCausalLM", {false, true, true}, true, true,
                          {{"num_hidden_layers", 3}, {"first_k_dense_replace", 1}})
               .build();
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        sorted({mla_input, mla_qa, mla_kva, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(2, expert_up_down, {mla_input, mla_qa, mla_kva, sparse_post_shared, shared_up_down}));
}

TEST_CASE("mlp_layer_types takes precedence over first_k_dense_replace and is read from text_config") {
  auto m =
      deepseek_style("Glm4MoeForCausalLM", {true, false, true}, false, true,
                     {{"first_k_dense_replace", 1},
                      {"text_config", {{"num_hidden_layers", 3}, {"mlp_layer_types", {"sparse", "dense", "sparse"}}}}})
          .build();
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        with_experts(2, expert_up_down, {llama_qkv, llama_vo, sparse_post_shared, shared_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") == sorted({llama_qkv, llama_vo, dense_post, dense_up_down}));
}

TEST_CASE("A config without the layer split declines and says which fields it lacks") {
  auto m = deepseek_style("DeepseekV2ForCausalLM", {false, true}, true, true, {{"num_hidden_layers", 2}}).build();
  Selection s = awqmap::test::shipped_registry().select(m, SelectionMode::exact);
  REQUIRE(s.declined.size() == 1);
  CHECK(s.declined[0].find("first_k_dense_replace") != std::string::npos);
  CHECK(s.plugin != "moe");
}

TEST_CASE("A hostile layer split is an input error naming the field") {
  auto m = deepseek_style("DeepseekV3ForCausalLM", {false, true}, true, true,
                          {{"num_hidden_layers", 2}, {"mlp_layer_types", {"dense"}}})
               .build();
  CHECK_THROWS_WITH(awqmap::test::shipped_registry().select(m, SelectionMode::exact),
                    Catch::Contains("mlp_layer_types has 1 entries for 2 layers"));
  auto huge = deepseek_style("DeepseekV3ForCausalLM", {false}, true, true,
                             {{"num_hidden_layers", 1000000000}, {"first_k_dense_replace", 1}})
                  .build();
  CHECK_THROWS_WITH(awqmap::test::shipped_registry().select(huge, SelectionMode::exact),
                    Catch::Contains("num_hidden_layers"));
}

TEST_CASE("Qwen2-MoE balances the shared expert and its gate and skips mlp_only_layers") {
  ModelBuilder b("Qwen2MoeForCausalLM");
  b.config({{"num_hidden_layers", 3}, {"num_experts", 2}, {"decoder_sparse_step", 1}, {"mlp_only_layers", {1}}});
  b.list("model.layers");
  for (int i = 0; i < 3; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    b.llama_attention(p);
    if (i != 1) {
      b.router(p + "mlp.gate");
      b.experts(p + "mlp.experts");
      b.gated_mlp(p + "mlp.shared_expert.");
      b.linear(p + "mlp.shared_expert_gate", 64, 1);
    } else {
      b.gated_mlp(p + "mlp.");
    }
    b.norm(p + "input_layernorm");
    b.norm(p + "post_attention_layernorm");
  }
  const auto r_model = b.build();  // outlives r, whose names view it
  auto r = resolve_checked(r_model, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") == sorted({llama_qkv, llama_vo, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.2.") ==
        with_experts(2, expert_up_down,
                     {llama_qkv, llama_vo,
                      "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
                      "mlp.shared_expert.gate_proj mlp.shared_expert.up_proj mlp.shared_expert_gate",
                      "mlp.shared_expert.up_proj -> mlp.shared_expert.down_proj"}));
  // Upstream's own list stays one flag away.
  Selection up = awqmap::test::shipped_registry().select(b.build(), SelectionMode::upstream);
  CHECK(up.origin == awqmap::Origin::upstream);
}

TEST_CASE("Qwen3-MoE with decoder_sparse_step 2 makes every second layer sparse") {
  auto m = deepseek_style("Qwen3MoeForCausalLM", {false, true, false, true}, false, false,
                          {{"num_hidden_layers", 4}, {"num_experts", 2}, {"decoder_sparse_step", 2}})
               .build();
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.2.") == sorted({llama_qkv, llama_vo, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.3.") ==
        with_experts(2, expert_up_down, {llama_qkv, llama_vo, sparse_post}));
}

TEST_CASE("ERNIE 4.5 MoE honours moe_layer_interval and moe_layer_end_index") {
  auto m = deepseek_style("Ernie4_5_MoeForCausalLM", {false, true, false, false}, false, true,
                          {{"num_hidden_layers", 4},
                           {"moe_layer_start_index", 1},
                           {"moe_layer_end_index", 2},
                           {"moe_layer_interval", 2}})
               .build();
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(2, expert_up_down, {llama_qkv, llama_vo, sparse_post_shared, shared_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.3.") == sorted({llama_qkv, llama_vo, dense_post, dense_up_down}));
}

TEST_CASE("Llama 4 text with interleave_moe_layer_step 2 has dense feed_forward layers between") {
  ModelBuilder b("Llama4ForCausalLM");
  b.config({{"num_hidden_layers", 2}, {"interleave_moe_layer_step", 2}});
  b.list("model.layers");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    b.llama_attention(p);
    if (i == 1) {
      b.experts(p + "feed_forward.experts");
      b.linear(p + "feed_forward.router", 64, 2);
      b.gated_mlp(p + "feed_forward.shared_expert.");
    } else {
      b.gated_mlp(p + "feed_forward.");
    }
    b.norm(p + "input_layernorm");
    b.norm(p + "post_attention_layernorm");
  }
  const auto r_model = b.build();  // outlives r, whose names view it
  auto r = resolve_checked(r_model, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        sorted({llama_qkv, llama_vo, "post_attention_layernorm -> feed_forward.gate_proj feed_forward.up_proj",
                "feed_forward.up_proj -> feed_forward.down_proj"}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(2, "feed_forward.experts.*.up_proj -> feed_forward.experts.*.down_proj",
                     {llama_qkv, llama_vo,
                      "post_attention_layernorm -> feed_forward.experts.*.gate_proj feed_forward.experts.*.up_proj "
                      "feed_forward.router feed_forward.shared_expert.gate_proj feed_forward.shared_expert.up_proj",
                      "feed_forward.shared_expert.up_proj -> feed_forward.shared_expert.down_proj"}));
}

// ----------------------------------------------------------------------------------------------
// Architectures without a real tree: small trees with the modeling code's names.

TEST_CASE("DeepSeek-V2-Lite without q-LoRA smooths q_proj from the input norm") {
  ModelBuilder b("DeepseekV2ForCausalLM");
  b.config({{"num_hidden_layers", 2}, {"first_k_dense_replace", 1}});
  b.list("model.layers");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    for (const char* n : {"q_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"}) b.linear(p + "self_attn." + n);
    b.norm(p + "self_attn.kv_a_layernorm");
    if (i == 1) {
      b.router(p + "mlp.gate");
      b.experts(p + "mlp.experts");
      b.gated_mlp(p + "mlp.shared_experts.");
    } else {
      b.gated_mlp(p + "mlp.");
    }
    b.norm(p + "input_layernorm");
    b.norm(p + "post_attention_layernorm");
  }
  const auto r_model = b.build();  // outlives r, whose names view it
  auto r = resolve_checked(r_model, "moe");
  const std::string input = "input_layernorm -> self_attn.kv_a_proj_with_mqa self_attn.q_proj";
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({input, mla_kva, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(2, expert_up_down, {input, mla_kva, sparse_post_shared, shared_up_down}));
}

TEST_CASE("MLA families without a real tree share the DeepSeek split and groups") {
  for (const char* arch : {"Glm4MoeLiteForCausalLM", "GlmMoeDsaForCausalLM"}) {
    INFO(arch);
    auto m = deepseek_style(arch, {false, true}, true, true, {{"num_hidden_layers", 2}, {"first_k_dense_replace", 1}})
                 .build();
    auto r = resolve_checked(m, "moe");
    CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
          sorted({mla_input, mla_qa, mla_kva, dense_post, dense_up_down}));
    CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
          with_experts(2, expert_up_down, {mla_input, mla_qa, mla_kva, sparse_post_shared, shared_up_down}));
  }
}

TEST_CASE("dots.llm1 scopes its dense first layer from first_k_dense_replace") {
  auto m = deepseek_style("Dots1ForCausalLM", {false, true}, false, true,
                          {{"num_hidden_layers", 2}, {"first_k_dense_replace", 1}})
               .build();
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({llama_qkv, llama_vo, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(2, expert_up_down, {llama_qkv, llama_vo, sparse_post_shared, shared_up_down}));
}

TEST_CASE("Mixtral balances the router mlp.gate with every expert") {
  auto m = deepseek_style("MixtralForCausalLM", {true, true}, false, false, {{"num_hidden_layers", 2}}).build();
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(2, expert_up_down, {llama_qkv, llama_vo, sparse_post}));
}

TEST_CASE("Cohere2 MoE parallel block puts attention and MLP under input_layernorm in each layer kind") {
  auto m = deepseek_style("Cohere2MoeForCausalLM", {false, true}, false, true,
                          {{"num_hidden_layers", 2}, {"first_k_dense_replace", 1}})
               .build();
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        sorted({"input_layernorm -> mlp.gate_proj mlp.up_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj",
                llama_vo, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(2, expert_up_down,
                     {"input_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
                      "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj self_attn.k_proj self_attn.q_proj "
                      "self_attn.v_proj",
                      llama_vo, shared_up_down}));
}

TEST_CASE("Ling 2 and LLaDA 2 MoE smooth the fused query_key_value and add the router") {
  for (const char* arch : {"BailingMoeV2ForCausalLM", "LLaDA2MoeModelLM"}) {
    INFO(arch);
    ModelBuilder b(arch);
    b.config({{"num_hidden_layers", 2}, {"first_k_dense_replace", 1}});
    b.list("model.layers");
    for (int i = 0; i < 2; ++i) {
      std::string p = "model.layers." + std::to_string(i) + ".";
      b.linear(p + "attention.query_key_value", 64, 192);
      b.norm(p + "attention.query_layernorm");
      b.norm(p + "attention.key_layernorm");
      b.linear(p + "attention.dense");
      if (i == 1) {
        b.router(p + "mlp.gate");
        b.experts(p + "mlp.experts");
        b.gated_mlp(p + "mlp.shared_experts.");
      } else {
        b.gated_mlp(p + "mlp.");
      }
      b.norm(p + "input_layernorm");
      b.norm(p + "post_attention_layernorm");
    }
    const auto r_model = b.build();  // outlives r, whose names view it
    auto r = resolve_checked(r_model, "moe");
    const std::string qkv = "input_layernorm -> attention.query_key_value";
    CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({qkv, dense_post, dense_up_down}));
    CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
          with_experts(2, expert_up_down, {qkv, sparse_post_shared, shared_up_down}));
  }
}

TEST_CASE("LFM2-MoE smooths conv and attention inputs and splits at num_dense_layers") {
  ModelBuilder b("Lfm2MoeForCausalLM");
  b.config({{"num_hidden_layers", 2}, {"num_dense_layers", 1}});
  b.list("model.layers");
  // Layer 0: short convolution + dense MLP; layer 1: attention + MoE.
  b.linear("model.layers.0.conv.in_proj");
  b.add("model.layers.0.conv.conv", "Conv1d");
  b.linear("model.layers.0.conv.out_proj");
  for (const char* n : {"w1", "w3", "w2"}) b.linear(std::string("model.layers.0.feed_forward.") + n);
  b.norm("model.layers.0.operator_norm");
  b.norm("model.layers.0.ffn_norm");
  for (const char* n : {"q_proj", "k_proj", "v_proj", "out_proj"}) b.linear(std::string("model.layers.1.self_attn.") + n);
  b.norm("model.layers.1.self_attn.q_layernorm");
  b.norm("model.layers.1.self_attn.k_layernorm");
  b.linear("model.layers.1.feed_forward.gate", 64, 2);
  b.experts("model.layers.1.feed_forward.experts");
  b.norm("model.layers.1.operator_norm");
  b.norm("model.layers.1.ffn_norm");
  const auto r_model = b.build();  // outlives r, whose names view it
  auto r = resolve_checked(r_model, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        sorted({"operator_norm -> conv.in_proj", "ffn_norm -> feed_forward.w1 feed_forward.w3",
                "feed_forward.w3 -> feed_forward.w2"}));
  CHECK(
      awqmap::test::groups_under(r, "model.layers.1.") ==
      with_experts(2, "feed_forward.experts.*.up_proj -> feed_forward.experts.*.down_proj",
                   {"operator_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
                    "self_attn.v_proj -> self_attn.out_proj",
                    "ffn_norm -> feed_forward.experts.*.gate_proj feed_forward.experts.*.up_proj feed_forward.gate"}));
}

TEST_CASE("Hunyuan A13B balances the router mlp.gate.wg and the shared MLP") {
  ModelBuilder b("HunYuanMoEV1ForCausalLM");
  b.list("model.layers");
  const std::string p = "model.layers.0.";
  b.llama_attention(p);
  b.norm(p + "self_attn.query_layernorm");
  b.norm(p + "self_attn.key_layernorm");
  b.linear(p + "mlp.gate.wg", 64, 2);
  b.experts(p + "mlp.experts");
  b.gated_mlp(p + "mlp.shared_mlp.");
  b.norm(p + "input_layernorm");
  b.norm(p + "post_attention_layernorm");
  const auto r_model = b.build();  // outlives r, whose names view it
  auto r = resolve_checked(r_model, "moe");
  CHECK(awqmap::test::groups_under(r, p) ==
        with_experts(2, expert_up_down,
                     {llama_qkv, llama_vo,
                      "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate.wg "
                      "mlp.shared_mlp.gate_proj mlp.shared_mlp.up_proj",
                      "mlp.shared_mlp.up_proj -> mlp.shared_mlp.down_proj"}));
}

TEST_CASE("gpt-oss adds its router and has no up to down group across the clamped activation") {
  ModelBuilder b("GptOssForCausalLM");
  b.list("model.layers");
  const std::string p = "model.layers.0.";
  b.llama_attention(p);
  b.linear(p + "mlp.router", 64, 2);
  b.experts(p + "mlp.experts");
  b.norm(p + "input_layernorm");
  b.norm(p + "post_attention_layernorm");
  const auto r_model = b.build();  // outlives r, whose names view it
  auto r = resolve_checked(r_model, "moe");
  CHECK(awqmap::test::groups_under(r, p) ==
        sorted({llama_qkv, llama_vo,
                "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.router"}));
}

TEST_CASE("GRIN-MoE balances block_sparse_moe.gate with the w1 and w3 experts") {
  ModelBuilder b("GRINMoEForCausalLM");
  b.list("model.layers");
  const std::string p = "model.layers.0.";
  b.llama_attention(p);
  b.linear(p + "block_sparse_moe.gate", 64, 2);
  b.list(p + "block_sparse_moe.experts");
  for (int e = 0; e < 2; ++e)
    for (const char* n : {"w1", "w2", "w3"}) b.linear(p + "block_sparse_moe.experts." + std::to_string(e) + "." + n);
  b.norm(p + "input_layernorm");
  b.norm(p + "post_attention_layernorm");
  const auto r_model = b.build();  // outlives r, whose names view it
  auto r = resolve_checked(r_model, "moe");
  CHECK(awqmap::test::groups_under(r, p) ==
        with_experts(2, "block_sparse_moe.experts.*.w3 -> block_sparse_moe.experts.*.w2",
                     {llama_qkv, llama_vo,
                      "post_attention_layernorm -> block_sparse_moe.experts.*.w1 block_sparse_moe.experts.*.w3 "
                      "block_sparse_moe.gate"}));
}

TEST_CASE("DBRX smooths only norm_1 into Wqkv") {
  ModelBuilder b("DbrxForCausalLM");
  b.list("transformer.blocks");
  const std::string p = "transformer.blocks.0.";
  b.add(p + "norm_attn_norm.norm_1", "LayerNorm", {{"shape", {64}}});
  b.linear(p + "norm_attn_norm.attn.Wqkv", 64, 192);
  b.linear(p + "norm_attn_norm.attn.out_proj");
  b.add(p + "norm_attn_norm.norm_2", "LayerNorm", {{"shape", {64}}});
  b.linear(p + "ffn.router.layer");
  b.add(p + "ffn.experts", "DbrxExperts");
  const auto r_model = b.build();  // outlives r, whose names view it
  auto r = resolve_checked(r_model, "moe");
  CHECK(awqmap::test::groups_under(r, p) == Groups{"norm_attn_norm.norm_1 -> norm_attn_norm.attn.Wqkv"});
}

TEST_CASE("A.X-K2 smooths the inner norms of its gated norms with the gate's fc1 and the router") {
  auto m = awqmap::test::described_tree("AXK2ForCausalLM");
  auto r = resolve_checked(m, "moe");
  const std::string input =
      "input_layernorm.norm -> input_layernorm.mlp.fc1 self_attn.indexer.weights_proj self_attn.indexer.wk "
      "self_attn.kv_a_proj_with_mqa self_attn.q_a_proj";
  // q_a_layernorm feeds only half of q_gate_proj's input (beside q_a_proj's own output): no group.
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({input, mla_kva, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(8, expert_up_down,
                     {input, mla_kva,
                      "post_attention_layernorm.norm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
                      "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj post_attention_layernorm.mlp.fc1",
                      shared_up_down}));
}

// ----------------------------------------------------------------------------------------------
// Checkpoint directories.

namespace {

nlohmann::json tensor(const std::string& name, std::vector<int> shape) {
  return {{"name", name}, {"shape", shape}, {"dtype", "BF16"}};
}

awqmap::ModelView checkpoint(const awqmap::test::TempDir& dir, const std::string& arch, nlohmann::json config,
                             const nlohmann::json& tensors) {
  config["architectures"] = {arch};
  awqmap::test::write_checkpoint(dir.path, config, tensors);
  return awqmap::load_checkpoint(dir.path.string(), {std::nullopt, &awqmap::test::shipped_registry()});
}

void attention_tensors(nlohmann::json& t, const std::string& p) {
  for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"})
    t.push_back(tensor(p + "self_attn." + n + ".weight", {64, 64}));
  t.push_back(tensor(p + "input_layernorm.weight", {64}));
  t.push_back(tensor(p + "post_attention_layernorm.weight", {64}));
}

}  // namespace

TEST_CASE("A Mixtral checkpoint in the block_sparse_moe layout resolves to the module names") {
  nlohmann::json t = nlohmann::json::array();
  t.push_back(tensor("model.embed_tokens.weight", {100, 64}));
  const std::string p = "model.layers.0.";
  attention_tensors(t, p);
  t.push_back(tensor(p + "block_sparse_moe.gate.weight", {2, 64}));
  for (int e = 0; e < 2; ++e) {
    const std::string x = p + "block_sparse_moe.experts." + std::to_string(e) + ".";
    t.push_back(tensor(x + "w1.weight", {32, 64}));
    t.push_back(tensor(x + "w3.weight", {32, 64}));
    t.push_back(tensor(x + "w2.weight", {64, 32}));
  }
  awqmap::test::TempDir dir;
  auto m = checkpoint(dir, "MixtralForCausalLM", {{"num_hidden_layers", 1}}, t);
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, p) == with_experts(2, expert_up_down, {llama_qkv, llama_vo, sparse_post}));
}

TEST_CASE("A DeepSeek-V3 checkpoint with fused experts is split into per-expert modules") {
  nlohmann::json t = nlohmann::json::array();
  t.push_back(tensor("model.embed_tokens.weight", {100, 64}));
  for (int i = 0; i < 2; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    for (const char* n : {"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"})
      t.push_back(tensor(p + "self_attn." + n + ".weight", {64, 64}));
    t.push_back(tensor(p + "self_attn.q_a_layernorm.weight", {64}));
    t.push_back(tensor(p + "self_attn.kv_a_layernorm.weight", {64}));
    t.push_back(tensor(p + "input_layernorm.weight", {64}));
    t.push_back(tensor(p + "post_attention_layernorm.weight", {64}));
    if (i == 0) {
      for (const char* n : {"gate_proj", "up_proj"}) t.push_back(tensor(p + "mlp." + n + ".weight", {128, 64}));
      t.push_back(tensor(p + "mlp.down_proj.weight", {64, 128}));
    } else {
      t.push_back(tensor(p + "mlp.gate.weight", {2, 64}));
      t.push_back(tensor(p + "mlp.experts.gate_up_proj", {2, 64, 64}));
      t.push_back(tensor(p + "mlp.experts.down_proj", {2, 64, 32}));
      for (const char* n : {"gate_proj", "up_proj"})
        t.push_back(tensor(p + "mlp.shared_experts." + n + ".weight", {32, 64}));
      t.push_back(tensor(p + "mlp.shared_experts.down_proj.weight", {64, 32}));
    }
  }
  awqmap::test::TempDir dir;
  auto m = checkpoint(dir, "DeepseekV3ForCausalLM", {{"num_hidden_layers", 2}, {"first_k_dense_replace", 1}}, t);
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        sorted({mla_input, mla_qa, mla_kva, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(2, expert_up_down, {mla_input, mla_qa, mla_kva, sparse_post_shared, shared_up_down}));
}

// ----------------------------------------------------------------------------------------------
// Trees that awqmap.describe wrote of transformers models (4 layers, 8 experts), and small trees.

TEST_CASE("A.X-K1 is DeepSeek-V3 with a dense layer 0 and its MoE output norm is never smoothed") {
  auto m = awqmap::test::described_tree("AXK1ForCausalLM");
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        sorted({mla_input, mla_qa, mla_kva, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(8, expert_up_down, {mla_input, mla_qa, mla_kva, sparse_post_shared, shared_up_down}));
  for (const auto& g : r.resolved) CHECK(g.smooth_name.find("post_mlp_layernorm") == std::string::npos);
}

TEST_CASE("K-EXAONE balances the router and the shared experts in its sparse layers") {
  auto m = awqmap::test::described_tree("ExaoneMoeForCausalLM");
  auto r = resolve_checked(m, "moe");
  // v -> o is skipped as incompatible: 2 key-value heads of 16 against o_proj's 64 inputs.
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({llama_qkv, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(8, expert_up_down, {llama_qkv, sparse_post_shared, shared_up_down}));
}

TEST_CASE("K-EXAONE without mlp_layer_types splits at first_k_dense_replace") {
  auto m = deepseek_style("ExaoneMoeForCausalLM", {false, false, true}, false, true,
                          {{"num_hidden_layers", 3}, {"first_k_dense_replace", 2}})
               .build();
  auto r = resolve_checked(m, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") == sorted({llama_qkv, llama_vo, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.2.") ==
        with_experts(2, expert_up_down, {llama_qkv, llama_vo, sparse_post_shared, shared_up_down}));
}

TEST_CASE("Mellum adds the router mlp.gate to the post-attention group") {
  auto m = awqmap::test::described_tree("MellumForCausalLM");
  auto r = resolve_checked(m, "moe");
  for (const char* layer : {"model.layers.0.", "model.layers.3."}) {
    INFO(layer);
    CHECK(awqmap::test::groups_under(r, layer) == with_experts(8, expert_up_down, {llama_qkv, sparse_post}));
  }
}

TEST_CASE("Mellum reads dense layers from mlp_layer_types and is all sparse without it") {
  auto mixed = deepseek_style("MellumForCausalLM", {false, true}, false, false,
                              {{"num_hidden_layers", 2}, {"mlp_layer_types", {"dense", "sparse"}}})
                   .build();
  auto r = resolve_checked(mixed, "moe");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({llama_qkv, llama_vo, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        with_experts(2, expert_up_down, {llama_qkv, llama_vo, sparse_post}));

  auto sparse = deepseek_style("MellumForCausalLM", {true, true}, false, false, {{"num_hidden_layers", 2}}).build();
  auto r2 = resolve_checked(sparse, "moe");
  CHECK(awqmap::test::groups_under(r2, "model.layers.0.") ==
        with_experts(2, expert_up_down, {llama_qkv, llama_vo, sparse_post}));
}

TEST_CASE("Inkling balances r_proj with q k v and leaves its sparse MLP norm out") {
  auto m = awqmap::test::described_tree("InklingForCausalLM");
  auto r = resolve_checked(m, "moe");
  // v -> o is skipped as incompatible here (16 key-value heads against 64 query heads).
  const std::string shared = "mlp.shared_experts.*.up_proj -> mlp.shared_experts.*.down_proj";
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        with_experts(8, expert_up_down,
                     {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.r_proj self_attn.v_proj", shared,
                      shared}));
  for (const auto& g : r.resolved) CHECK(g.smooth_name.find("post_attention_layernorm") == std::string::npos);
}

TEST_CASE("Inkling dense layers keep the MLP norm group and v to o where the widths match") {
  ModelBuilder b("InklingForCausalLM");
  b.config({{"num_hidden_layers", 2}, {"mlp_layer_types", {"dense", "sparse"}}});
  b.list("model.layers");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    b.llama_attention(p);
    b.linear(p + "self_attn.r_proj");
    b.add(p + "self_attn.v_sconv.conv1d", "Conv1d");
    if (i == 0) {
      b.gated_mlp(p + "mlp.");
    } else {
      b.router(p + "mlp.gate");
      b.experts(p + "mlp.experts");
    }
    b.norm(p + "input_layernorm");
    b.norm(p + "post_attention_layernorm");
  }
  auto m = b.build();
  auto r = resolve_checked(m, "moe");
  const std::string qkvr = "input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.r_proj self_attn.v_proj";
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted({qkvr, llama_vo, dense_post, dense_up_down}));
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") == with_experts(2, expert_up_down, {qkvr, llama_vo}));
}

TEST_CASE("ZAYA balances the CCA projections and the router's down_proj with the experts") {
  auto m = awqmap::test::described_tree("ZayaForCausalLM");
  auto r = resolve_checked(m, "moe");
  for (const char* layer : {"model.layers.0.", "model.layers.2."}) {
    INFO(layer);
    CHECK(awqmap::test::groups_under(r, layer) ==
          with_experts(8, expert_up_down,
                       {"input_layernorm -> self_attn.qkv_proj.k_proj self_attn.qkv_proj.q_proj "
                        "self_attn.qkv_proj.v_proj_current self_attn.qkv_proj.v_proj_delayed",
                        "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate.down_proj"}));
  }
}

TEST_CASE("JetMoE balances both routers and expert banks and kv_proj from the real tree") {
  auto m = awqmap::test::real_tree("JetMoeForCausalLM");
  auto r = resolve_checked(m, "moe");
  for (const char* layer : {"model.layers.0.", "model.layers.3."}) {
    INFO(layer);
    CHECK(awqmap::test::groups_under(r, layer) ==
          Groups{"input_layernorm -> self_attention.experts.input_linear self_attention.experts.router.layer "
                 "self_attention.kv_proj",
                 "post_attention_layernorm -> mlp.input_linear mlp.router.layer"});
  }
}

TEST_CASE("Every described tree of the moe family resolves with groups in exact mode") {
  for (const char* arch : {"AXK1ForCausalLM", "AXK2ForCausalLM", "DeepseekV2ForCausalLM", "ExaoneMoeForCausalLM",
                           "Glm4MoeLiteForCausalLM", "GlmMoeDsaForCausalLM", "InklingForCausalLM",
                           "MellumForCausalLM", "ZayaForCausalLM"}) {
    INFO(arch);
    auto m = awqmap::test::described_tree(arch);
    resolve_checked(m, "moe");
  }
}

TEST_CASE("Mellum and Inkling refuse a hostile layer split naming the field and decline without layers") {
  for (const char* arch : {"MellumForCausalLM", "InklingForCausalLM"}) {
    INFO(arch);
    auto wrong_type = deepseek_style(arch, {true}, false, false, {{"num_hidden_layers", 1}, {"mlp_layer_types", "sparse"}})
                          .build();
    CHECK_THROWS_WITH(awqmap::test::shipped_registry().select(wrong_type, SelectionMode::exact),
                      Catch::Contains("mlp_layer_types"));
    auto huge = deepseek_style(arch, {true}, false, false, {{"num_hidden_layers", 1000000000}}).build();
    CHECK_THROWS_WITH(awqmap::test::shipped_registry().select(huge, SelectionMode::exact),
                      Catch::Contains("num_hidden_layers"));
    auto bare = deepseek_style(arch, {true}, false, false, nlohmann::json::object()).build();
    Selection s = awqmap::test::shipped_registry().select(bare, SelectionMode::exact);
    REQUIRE(s.declined.size() == 1);
    CHECK(s.declined[0].find("num_hidden_layers") != std::string::npos);
  }
}
