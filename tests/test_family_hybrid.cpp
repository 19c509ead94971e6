// The hybrid, state-space and linear-attention family: every architecture the `hybrid` plugin
// registers, with the groups of one layer of each kind spelled out from the modeling code.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "group_check.hpp"
#include "model_builder.hpp"

using namespace awqmap;
using test::groups_under;
using test::resolve_checked;
using test::with_experts;
using test::ModelBuilder;
using Groups = std::vector<std::string>;

namespace {

// A Mamba-2 style mixer under `prefix` (in_proj, conv, gated norm, out_proj).
void mamba_mixer(ModelBuilder& b, const std::string& prefix) {
  b.linear(prefix + ".in_proj", 32, 144).add(prefix + ".conv1d", "Conv1d").add(prefix + ".norm", "RMSNormGated");
  b.linear(prefix + ".out_proj", 64, 32);
}

void attention(ModelBuilder& b, const std::string& prefix, const std::string& out = "o_proj") {
  b.linear(prefix + ".q_proj", 32, 32).linear(prefix + ".k_proj", 32, 32).linear(prefix + ".v_proj", 32, 32);
  b.linear(prefix + "." + out, 32, 32);
}

void gated_mlp(ModelBuilder& b, const std::string& prefix) {
  b.linear(prefix + ".gate_proj", 32, 64).linear(prefix + ".up_proj", 32, 64).linear(prefix + ".down_proj", 64, 32);
}

}  // namespace

TEST_CASE("Mamba, FalconMamba: the block norm smooths in_proj alone, from the real trees") {
  for (const char* arch : {"MambaForCausalLM", "FalconMambaForCausalLM"}) {
    INFO(arch);
    ModelView m = test::real_tree(arch);
    Resolution r = resolve_checked(m, "hybrid");
    CHECK(groups_under(r, "backbone.layers.2.") == Groups{"norm -> mixer.in_proj"});
    CHECK(r.resolved.size() == 4);
  }
}

TEST_CASE("Mamba2 smooths in_proj from the block norm and nothing past the scan") {
  ModelBuilder b("Mamba2ForCausalLM");
  b.add("backbone.embeddings", "Embedding").list("backbone.layers");
  for (int l = 0; l < 3; ++l) {
    std::string p = "backbone.layers." + std::to_string(l);
    b.add(p, "Mamba2Block").add(p + ".norm", "Mamba2RMSNorm");
    mamba_mixer(b, p + ".mixer");
  }
  b.add("backbone.norm_f", "Mamba2RMSNorm").linear("lm_head", 32, 100);
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "backbone.layers.1.") == Groups{"norm -> mixer.in_proj"});
  CHECK(r.resolved.size() == 3);
}

TEST_CASE("NemotronH closes one group per block for Mamba attention MLP and MoE mixers with the router") {
  ModelView m = test::real_tree("NemotronHForCausalLM");
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") == Groups{"norm -> mixer.in_proj"});
  CHECK(groups_under(r, "model.layers.1.") ==
        Groups{"norm -> mixer.experts.*.up_proj mixer.gate mixer.shared_experts.up_proj"});
  // v -> o is skipped as incompatible in this GQA tree (v is narrower than o's input).
  CHECK(groups_under(r, "model.layers.2.") == Groups{"norm -> mixer.k_proj mixer.q_proj mixer.v_proj"});
  // ReLU² between up and down: no up -> down group.
  CHECK(groups_under(r, "model.layers.3.") == Groups{"norm -> mixer.up_proj"});
}

TEST_CASE("NemotronH with a latent MoE smooths the experts from fc1_latent_proj") {
  ModelBuilder b("NemotronHForCausalLM");
  b.list("model.layers");
  b.add("model.layers.0", "NemotronHBlock").add("model.layers.0.norm", "NemotronHRMSNorm");
  std::string p = "model.layers.0.mixer";
  b.add(p, "NemotronHMoE").add(p + ".gate", "NemotronHTopkRouter");
  for (int e = 0; e < 2; ++e) {
    std::string x = p + ".experts." + std::to_string(e);
    b.linear(x + ".up_proj", 16, 64).linear(x + ".down_proj", 64, 16);
  }
  b.linear(p + ".shared_experts.up_proj", 32, 64).linear(p + ".shared_experts.down_proj", 64, 32);
  b.linear(p + ".fc1_latent_proj", 32, 16).linear(p + ".fc2_latent_proj", 16, 32);
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") ==
        Groups{"mixer.fc1_latent_proj -> mixer.experts.*.up_proj",
               "norm -> mixer.fc1_latent_proj mixer.gate mixer.shared_experts.up_proj"});
}

TEST_CASE("GraniteMoeHybrid puts the router the experts and the shared MLP in one post-attention group") {
  ModelView m = test::real_tree("GraniteMoeHybridForCausalLM");
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.1.") ==
        with_experts(8, "block_sparse_moe.experts.*.up_proj -> block_sparse_moe.experts.*.down_proj", {"input_layernorm -> mamba.in_proj",
             "post_attention_layernorm -> block_sparse_moe.experts.*.gate_proj block_sparse_moe.experts.*.up_proj "
             "block_sparse_moe.router shared_mlp.input_linear",
             "shared_mlp.input_linear -> shared_mlp.output_linear"}));
}

TEST_CASE("GraniteMoeHybrid attention layers and dense variants close their own groups") {
  ModelBuilder b("GraniteMoeHybridForCausalLM");
  b.list("model.layers");
  for (int l = 0; l < 2; ++l) {
    std::string p = "model.layers." + std::to_string(l);
    b.add(p, "GraniteMoeHybridDecoderLayer");
    b.linear(p + ".shared_mlp.input_linear", 32, 128).linear(p + ".shared_mlp.output_linear", 64, 32);
    if (l == 0)
      mamba_mixer(b, p + ".mamba");
    else
      attention(b, p + ".self_attn");
    b.add(p + ".input_layernorm", "GraniteMoeHybridRMSNorm").add(p + ".post_attention_layernorm", "RMSNorm");
  }
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") == Groups{"input_layernorm -> mamba.in_proj",
                                                     "post_attention_layernorm -> shared_mlp.input_linear",
                                                     "shared_mlp.input_linear -> shared_mlp.output_linear"});
  CHECK(groups_under(r, "model.layers.1.") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "post_attention_layernorm -> shared_mlp.input_linear", "self_attn.v_proj -> self_attn.o_proj",
               "shared_mlp.input_linear -> shared_mlp.output_linear"});
}

TEST_CASE("FalconH1 smooths attention and Mamba together from the input norm of its parallel block") {
  ModelBuilder b("FalconH1ForCausalLM");
  b.list("model.layers");
  for (int l = 0; l < 2; ++l) {
    std::string p = "model.layers." + std::to_string(l);
    b.add(p, "FalconH1DecoderLayer");
    gated_mlp(b, p + ".feed_forward");
    mamba_mixer(b, p + ".mamba");
    attention(b, p + ".self_attn");
    b.add(p + ".input_layernorm", "FalconH1RMSNorm").add(p + ".pre_ff_layernorm", "FalconH1RMSNorm");
  }
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.1.") ==
        Groups{"feed_forward.up_proj -> feed_forward.down_proj",
               "input_layernorm -> mamba.in_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "pre_ff_layernorm -> feed_forward.gate_proj feed_forward.up_proj",
               "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("Zamba2 smooths the Mamba input of Mamba layers and hybrid layers but not the shared block") {
  ModelBuilder b("Zamba2ForCausalLM");
  b.list("model.layers");
  b.add("model.layers.0", "Zamba2MambaDecoderLayer");
  mamba_mixer(b, "model.layers.0.mamba");
  b.add("model.layers.0.input_layernorm", "Zamba2RMSNorm");
  std::string h = "model.layers.1";
  b.add(h, "Zamba2HybridLayer").add(h + ".shared_transformer", "Zamba2AttentionDecoderLayer");
  b.add(h + ".shared_transformer.input_layernorm", "Zamba2RMSNorm");
  attention(b, h + ".shared_transformer.self_attn");
  b.add(h + ".shared_transformer.pre_ff_layernorm", "Zamba2RMSNorm");
  b.linear(h + ".shared_transformer.feed_forward.gate_up_proj", 32, 128);
  b.linear(h + ".shared_transformer.feed_forward.down_proj", 64, 32);
  b.linear(h + ".linear", 32, 32);
  b.add(h + ".mamba_decoder", "Zamba2MambaDecoderLayer");
  mamba_mixer(b, h + ".mamba_decoder.mamba");
  b.add(h + ".mamba_decoder.input_layernorm", "Zamba2RMSNorm");
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") == Groups{"input_layernorm -> mamba.in_proj"});
  CHECK(groups_under(r, "model.layers.1.") == Groups{"mamba_decoder.input_layernorm -> mamba_decoder.mamba.in_proj"});
}

TEST_CASE("LFM2 shares operator_norm between convolution and attention layers, from the real tree") {
  ModelView m = test::real_tree("Lfm2ForCausalLM");
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") ==
        Groups{"feed_forward.w3 -> feed_forward.w2", "ffn_norm -> feed_forward.w1 feed_forward.w3",
               "operator_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "self_attn.v_proj -> self_attn.out_proj"});
}

TEST_CASE("LFM2 convolution layers smooth the convolution's in_proj and not its out_proj") {
  ModelBuilder b("Lfm2ForCausalLM");
  b.list("model.layers");
  for (int l = 0; l < 2; ++l) {
    std::string p = "model.layers." + std::to_string(l);
    b.add(p, "Lfm2DecoderLayer");
    if (l == 0) {
      b.linear(p + ".conv.in_proj", 32, 96).add(p + ".conv.conv", "Conv1d").linear(p + ".conv.out_proj", 32, 32);
    } else {
      attention(b, p + ".self_attn", "out_proj");
    }
    b.linear(p + ".feed_forward.w1", 32, 64).linear(p + ".feed_forward.w3", 32, 64);
    b.linear(p + ".feed_forward.w2", 64, 32);
    b.add(p + ".operator_norm", "Lfm2RMSNorm").add(p + ".ffn_norm", "Lfm2RMSNorm");
  }
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") == Groups{"feed_forward.w3 -> feed_forward.w2",
                                                     "ffn_norm -> feed_forward.w1 feed_forward.w3",
                                                     "operator_norm -> conv.in_proj"});
}

TEST_CASE("MiniMax smooths no layer norm because its residual is taken after the norm") {
  ModelView m = test::real_tree("MiniMaxForCausalLM");
  Resolution r = resolve_checked(m, "hybrid");
  // Softmax-attention layer 0: v -> o is skipped as incompatible (GQA), so only the experts remain.
  const std::string experts = "mlp.experts.*.up_proj -> mlp.experts.*.down_proj";
  CHECK(groups_under(r, "model.layers.0.") == with_experts(8, experts, {}));
  // Lightning layer 1: the attention's own norm reaches out_proj through the sigmoid output gate,
  // a channel-wise product; SiLU on qkv_proj leaves the input norm out.
  CHECK(groups_under(r, "model.layers.1.") == with_experts(8, experts, {"self_attn.norm -> self_attn.out_proj"}));
  for (const auto& g : r.resolved) CHECK(g.smooth_name.find("layernorm") == std::string::npos);
}

TEST_CASE("MiniMax softmax attention keeps v to o when v and o match") {
  ModelBuilder b("MiniMaxForCausalLM");
  b.list("model.layers").add("model.layers.0", "MiniMaxDecoderLayer");
  b.add("model.layers.0.input_layernorm", "MiniMaxRMSNorm");
  attention(b, "model.layers.0.self_attn");
  b.add("model.layers.0.post_attention_layernorm", "MiniMaxRMSNorm").add("model.layers.0.mlp.gate", "Router");
  gated_mlp(b, "model.layers.0.mlp.experts.0");
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") ==
        Groups{"mlp.experts.*.up_proj -> mlp.experts.*.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("Kimi Linear KDA layers balance every projection of the input norm and the low-rank gates") {
  ModelView m = test::real_tree("KimiLinearForCausalLM");
  Resolution r = resolve_checked(m, "hybrid");
  const std::string input =
      "input_layernorm -> self_attn.b_proj self_attn.forget_gate.f_a_proj self_attn.g_a_proj "
      "self_attn.k_proj self_attn.q_proj self_attn.v_proj";
  CHECK(groups_under(r, "model.layers.0.") == Groups{input, "mlp.up_proj -> mlp.down_proj",
                                                     "post_attention_layernorm -> mlp.gate_proj mlp.up_proj",
                                                     "self_attn.forget_gate.f_a_proj -> self_attn.forget_gate.f_b_proj",
                                                     "self_attn.g_a_proj -> self_attn.g_b_proj"});
  CHECK(groups_under(r, "model.layers.1.") ==
        with_experts(8, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj", {input, "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj",
                      "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
                      "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj",
                      "self_attn.forget_gate.f_a_proj -> self_attn.forget_gate.f_b_proj",
                      "self_attn.g_a_proj -> self_attn.g_b_proj"}));
}

TEST_CASE("Kimi Linear MLA layers smooth q_a kv_a and the output gate and SiTU drops up to down") {
  ModelBuilder b("KimiLinearForCausalLM");
  b.config({{"hidden_act", "situ"}});
  b.list("model.layers").add("model.layers.0", "KimiLinearDecoderLayer");
  std::string a = "model.layers.0.self_attn";
  b.linear(a + ".q_a_proj", 32, 16).add(a + ".q_a_layernorm", "KimiLinearRMSNorm").linear(a + ".q_b_proj", 16, 64);
  b.linear(a + ".kv_a_proj_with_mqa", 32, 16).add(a + ".kv_a_layernorm", "KimiLinearRMSNorm");
  b.linear(a + ".kv_b_proj", 16, 64).linear(a + ".o_proj", 32, 32).linear(a + ".o_gate_proj", 32, 32);
  gated_mlp(b, "model.layers.0.mlp");
  b.add("model.layers.0.input_layernorm", "KimiLinearRMSNorm");
  b.add("model.layers.0.post_attention_layernorm", "KimiLinearRMSNorm");
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.kv_a_proj_with_mqa self_attn.o_gate_proj self_attn.q_a_proj",
               "post_attention_layernorm -> mlp.gate_proj mlp.up_proj",
               "self_attn.kv_a_layernorm -> self_attn.kv_b_proj", "self_attn.q_a_layernorm -> self_attn.q_b_proj"});
}

TEST_CASE("OLMo Hybrid pairs the MLP norm only in its pre-norm linear-attention layers") {
  ModelView m = test::real_tree("OlmoHybridForCausalLM");
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") ==
        Groups{"input_layernorm -> linear_attn.a_proj linear_attn.b_proj linear_attn.g_proj linear_attn.k_proj "
               "linear_attn.q_proj linear_attn.v_proj",
               "mlp.up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_proj mlp.up_proj"});
  // Layer 3 is an OLMo-2 post-norm attention block: its post_attention_layernorm feeds the residual.
  CHECK(groups_under(r, "model.layers.3.") ==
        Groups{"mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("RecurrentGemma smooths both recurrent branches or q k v from the temporal norm") {
  ModelView m = test::real_tree("RecurrentGemmaForCausalLM");
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") ==
        Groups{"channel_pre_norm -> mlp_block.gate_proj mlp_block.up_proj", "mlp_block.up_proj -> mlp_block.down_proj",
               "temporal_pre_norm -> temporal_block.linear_x temporal_block.linear_y"});
  CHECK(groups_under(r, "model.layers.2.") ==
        Groups{"channel_pre_norm -> mlp_block.gate_proj mlp_block.up_proj", "mlp_block.up_proj -> mlp_block.down_proj",
               "temporal_block.v_proj -> temporal_block.o_proj",
               "temporal_pre_norm -> temporal_block.k_proj temporal_block.q_proj temporal_block.v_proj"});
}

TEST_CASE("HRM-Text has weightless norms so only v to o and the MLP up to down remain") {
  ModelBuilder b("HrmTextForCausalLM");
  for (const char* stack : {"model.H_module", "model.L_module"}) {
    std::string s = stack;
    b.list(s + ".layers").add(s + ".layers.0", "HrmTextDecoderLayer");
    std::string p = s + ".layers.0";
    attention(b, p + ".self_attn");
    b.linear(p + ".self_attn.gate_proj", 32, 32);
    gated_mlp(b, p + ".mlp");
    b.add(p + ".input_layernorm", "HrmTextRMSNorm").add(p + ".post_attention_layernorm", "HrmTextRMSNorm");
  }
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.L_module.layers.0.") ==
        Groups{"mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
  CHECK(r.resolved.size() == 4);
}

TEST_CASE("Brumby balances the retention gate with q k v and leaves v to o out") {
  ModelBuilder b("BrumbyForCausalLM");
  b.list("model.layers").add("model.layers.0", "BrumbyDecoderLayer");
  std::string p = "model.layers.0";
  b.add(p + ".input_layernorm", "RMSNorm");
  attention(b, p + ".self_attn");
  b.linear(p + ".self_attn.g_proj", 32, 32).add(p + ".self_attn.q_norm", "RMSNorm");
  b.add(p + ".self_attn.k_norm", "RMSNorm").add(p + ".post_attention_layernorm", "RMSNorm");
  gated_mlp(b, p + ".mlp");
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.g_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "mlp.up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_proj mlp.up_proj"});
}

TEST_CASE("Hymba smooths the mixer input and the expert MLP from pre_moe_layernorm") {
  auto build = [](bool gated) {
    ModelBuilder b("HymbaForCausalLM");
    b.list("model.layers");
    for (int l = 0; l < 2; ++l) {
      std::string p = "model.layers." + std::to_string(l);
      b.add(p, "HymbaDecoderLayer");
      mamba_mixer(b, p + ".mamba");
      b.add(p + ".input_layernorm", "HymbaRMSNorm");
      std::string e = p + ".moe.experts.0";
      if (gated) b.linear(e + ".gate_proj", 32, 64);
      b.linear(e + ".down_proj", 64, 32).linear(e + ".up_proj", 32, 64);
      b.add(p + ".pre_moe_layernorm", "HymbaRMSNorm");
    }
    return b.build();
  };
  ModelView with_gate = build(true), without_gate = build(false);
  CHECK(groups_under(resolve_checked(with_gate, "hybrid"), "model.layers.1.") ==
        Groups{"input_layernorm -> mamba.in_proj", "moe.experts.*.up_proj -> moe.experts.*.down_proj",
               "pre_moe_layernorm -> moe.experts.*.gate_proj moe.experts.*.up_proj"});
  // Without SiLU the expert is up -> act -> down: no up -> down group.
  CHECK(groups_under(resolve_checked(without_gate, "hybrid"), "model.layers.1.") ==
        Groups{"input_layernorm -> mamba.in_proj", "pre_moe_layernorm -> moe.experts.*.up_proj"});
}

TEST_CASE("Bamba smooths in_proj or q k v from the input norm and the MLP from pre_ff_layernorm") {
  ModelView described = test::described_tree("BambaForCausalLM");
  const Groups mamba_layer = {"feed_forward.up_proj -> feed_forward.down_proj", "input_layernorm -> mamba.in_proj",
                              "pre_ff_layernorm -> feed_forward.gate_proj feed_forward.up_proj"};
  CHECK(groups_under(resolve_checked(described, "hybrid"), "model.layers.0.") == mamba_layer);

  ModelBuilder b("BambaForCausalLM");
  b.list("model.layers");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.layers." + std::to_string(i);
    b.add(p, "BambaDecoderLayer");
    if (i == 0)
      mamba_mixer(b, p + ".mamba");
    else
      attention(b, p + ".self_attn");
    gated_mlp(b, p + ".feed_forward");
    b.add(p + ".input_layernorm", "BambaRMSNorm").add(p + ".pre_ff_layernorm", "BambaRMSNorm");
  }
  ModelView m = b.build();
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") == mamba_layer);
  CHECK(groups_under(r, "model.layers.1.") ==
        Groups{"feed_forward.up_proj -> feed_forward.down_proj",
               "input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "pre_ff_layernorm -> feed_forward.gate_proj feed_forward.up_proj",
               "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("Jamba balances the router and the experts in its MoE layers and the MLP in the others") {
  ModelView m = test::described_tree("JambaForCausalLM");
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") ==
        Groups{"feed_forward.up_proj -> feed_forward.down_proj", "input_layernorm -> mamba.in_proj",
               "pre_ff_layernorm -> feed_forward.gate_proj feed_forward.up_proj"});
  CHECK(groups_under(r, "model.layers.1.") ==
        with_experts(8, "feed_forward.experts.*.up_proj -> feed_forward.experts.*.down_proj", {"input_layernorm -> mamba.in_proj",
                      "pre_ff_layernorm -> feed_forward.experts.*.gate_proj feed_forward.experts.*.up_proj "
                      "feed_forward.router"}));
}

TEST_CASE("Jamba attention layers smooth q k v from the input norm and keep v to o") {
  ModelBuilder b("JambaForCausalLM");
  b.list("model.layers").add("model.layers.0", "JambaAttentionDecoderLayer");
  attention(b, "model.layers.0.self_attn");
  b.linear("model.layers.0.feed_forward.router", 32, 2);
  gated_mlp(b, "model.layers.0.feed_forward.experts.0");
  gated_mlp(b, "model.layers.0.feed_forward.experts.1");
  b.add("model.layers.0.input_layernorm", "JambaRMSNorm").add("model.layers.0.pre_ff_layernorm", "JambaRMSNorm");
  ModelView m = b.build();
  CHECK(groups_under(resolve_checked(m, "hybrid"), "model.layers.0.") ==
        with_experts(2, "feed_forward.experts.*.up_proj -> feed_forward.experts.*.down_proj", {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
                      "pre_ff_layernorm -> feed_forward.experts.*.gate_proj feed_forward.experts.*.up_proj "
                      "feed_forward.router",
                      "self_attn.v_proj -> self_attn.o_proj"}));
}

TEST_CASE("Zamba smooths the Mamba input of Mamba and hybrid layers and never the shared block") {
  ModelView m = test::described_tree("ZambaForCausalLM");
  Resolution r = resolve_checked(m, "hybrid");
  CHECK(groups_under(r, "model.layers.0.") == Groups{"input_layernorm -> mamba.in_proj"});
  CHECK(groups_under(r, "model.layers.2.") ==
        Groups{"mamba_decoder.input_layernorm -> mamba_decoder.mamba.in_proj"});
  for (const auto& g : r.resolved) {
    CHECK(g.smooth_name.find("shared_transf") == std::string::npos);
    for (auto b : g.balance_names) CHECK(b.find("shared_transf") == std::string::npos);
  }
}

TEST_CASE("Every real tree of the hybrid family resolves with groups in exact mode") {
  for (const char* arch : {"MambaForCausalLM", "FalconMambaForCausalLM", "GraniteMoeHybridForCausalLM",
                           "NemotronHForCausalLM", "Lfm2ForCausalLM", "MiniMaxForCausalLM", "KimiLinearForCausalLM",
                           "OlmoHybridForCausalLM", "RecurrentGemmaForCausalLM"}) {
    INFO(arch);
    ModelView m = test::real_tree(arch);
    Resolution r = resolve_checked(m, "hybrid");
    CHECK_FALSE(r.resolved.empty());
  }
}

TEST_CASE("Every described tree of the hybrid family resolves with groups in exact mode") {
  for (const char* arch : {"BambaForCausalLM", "FalconH1ForCausalLM", "JambaForCausalLM", "Mamba2ForCausalLM",
                           "Zamba2ForCausalLM", "ZambaForCausalLM"}) {
    INFO(arch);
    ModelView m = test::described_tree(arch);
    Resolution r = resolve_checked(m, "hybrid");
    CHECK_FALSE(r.resolved.empty());
  }
}
