// The Gemma family (plugin gemma): one layer's groups per architecture, spelled out from the
// transformers modeling code. From Gemma 2 on, post_attention_layernorm and
// post_feedforward_layernorm normalise a sub-block's output before the residual add, so they
// smooth nothing; the MLP reads pre_feedforward_layernorm. With q/k norms (Gemma 3 and later)
// the input norm is not smoothed into q/k/v; with Gemma 3n/4's per-head v_norm there is no
// v_proj -> o_proj either.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "group_check.hpp"
#include "model_builder.hpp"

using awqmap::Selection;
using awqmap::test::check_all_under;
using awqmap::test::ModelBuilder;
using awqmap::test::resolve_checked;
using Groups = std::vector<std::string>;

namespace {

// A Gemma 3n / Gemma 4 text decoder layer: q/k/v norms (v_norm without weight), four sandwich
// norms, a gated MLP, the per-layer-input gate and projection, and (Gemma 4 MoE) a router that
// reads the residual and experts behind pre_feedforward_layernorm_2.
void gemma4_layer(ModelBuilder& b, const std::string& p, bool moe) {
  b.linear(p + "self_attn.q_proj");
  b.norm(p + "self_attn.q_norm", 16);
  b.norm(p + "self_attn.k_norm", 16);
  b.add(p + "self_attn.v_norm", "Gemma4RMSNorm");
  b.linear(p + "self_attn.k_proj");
  b.linear(p + "self_attn.v_proj");
  b.linear(p + "self_attn.o_proj");
  for (const char* n : {"gate_proj", "up_proj", "down_proj"}) b.linear(p + "mlp." + n);
  for (const char* n :
       {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"})
    b.norm(p + n);
  b.linear(p + "per_layer_input_gate", 64, 16);
  b.linear(p + "per_layer_projection", 16, 64);
  b.norm(p + "post_per_layer_input_norm");
  if (moe) {
    b.add(p + "router", "Gemma4TextRouter");
    b.linear(p + "router.proj", 64, 2);
    b.list(p + "experts");
    for (int e = 0; e < 2; ++e)
      for (const char* n : {"gate_proj", "up_proj", "down_proj"})
        b.linear(p + "experts." + std::to_string(e) + "." + n);
    for (const char* n :
         {"post_feedforward_layernorm_1", "post_feedforward_layernorm_2", "pre_feedforward_layernorm_2"})
      b.norm(p + n);
  }
}

// Gemma 4's vision tower: its own sandwich-normed layers with q/k/v and gate/up/down wrapped in
// clippable linears, which the unscoped text list would pick up.
void gemma4_vision_tower(ModelBuilder& b, const std::string& root) {
  for (int i = 0; i < 2; ++i) {
    std::string p = root + "encoder.layers." + std::to_string(i) + ".";
    for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "self_attn." + n + ".linear");
    for (const char* n : {"gate_proj", "up_proj", "down_proj"}) b.linear(p + "mlp." + n + ".linear");
    for (const char* n :
         {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"})
      b.norm(p + n);
  }
}

const Groups gemma4_dense = {"mlp.up_proj -> mlp.down_proj", "pre_feedforward_layernorm -> mlp.gate_proj mlp.up_proj"};
// Two experts, each with its own up -> down group.
const Groups gemma4_moe = {"experts.*.up_proj -> experts.*.down_proj", "experts.*.up_proj -> experts.*.down_proj",
                           "mlp.up_proj -> mlp.down_proj", "pre_feedforward_layernorm -> mlp.gate_proj mlp.up_proj",
                           "pre_feedforward_layernorm_2 -> experts.*.gate_proj experts.*.up_proj"};

// A Gemma 3n text layer: Gemma 4's attention and norms plus AltUp and LAuReL, which read the
// input norm beside the attention.
void gemma3n_layer(ModelBuilder& b, const std::string& p) {
  gemma4_layer(b, p, false);
  b.add(p + "altup", "Gemma3nTextAltUp");
  b.linear(p + "altup.modality_router", 64, 4);
  b.norm(p + "altup.router_norm");
  b.add(p + "laurel", "Gemma3nTextLaurelBlock");
  b.linear(p + "laurel.linear_left", 64, 8);
  b.linear(p + "laurel.linear_right", 8, 64);
  b.norm(p + "laurel.post_laurel_norm");
}

}  // namespace

TEST_CASE("Gemma uses the Llama groups from AutoAWQ on its real tree") {
  auto model = awqmap::test::real_tree("GemmaForCausalLM");
  auto r = resolve_checked(model, "gemma");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj", "mlp.up_proj -> mlp.down_proj",
               "post_attention_layernorm -> mlp.gate_proj mlp.up_proj", "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("VaultGemma smooths the MLP with pre_feedforward_layernorm and has no post-norms") {
  auto model = awqmap::test::real_tree("VaultGemmaForCausalLM");
  auto r = resolve_checked(model, "gemma");
  // GQA: v_proj (1024 out) cannot balance o_proj (2048 in), so that group is skipped.
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj", "mlp.up_proj -> mlp.down_proj",
               "pre_feedforward_layernorm -> mlp.gate_proj mlp.up_proj"});
}

TEST_CASE("Gemma 2 keeps the exact upstream list of the defaults plugin") {
  auto model = awqmap::test::real_tree("Gemma2ForCausalLM");
  Selection s;
  auto r = awqmap::test::resolve_exact(model, &s);
  CHECK(s.plugin == "defaults");
  CHECK(s.origin == awqmap::Origin::upstream);
  CHECK_FALSE(r.resolved.empty());
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj", "mlp.up_proj -> mlp.down_proj",
               "pre_feedforward_layernorm -> mlp.gate_proj mlp.up_proj"});
}

TEST_CASE("PaliGemma smooths the Gemma language model and leaves the SigLIP tower out") {
  auto model = awqmap::test::real_tree("PaliGemmaForConditionalGeneration");
  auto r = resolve_checked(model, "gemma");
  check_all_under(r, "model.language_model.layers.");
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.1.") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj", "mlp.up_proj -> mlp.down_proj",
               "post_attention_layernorm -> mlp.gate_proj mlp.up_proj"});
}

TEST_CASE("Gemma 4 pairs only pre_feedforward_layernorm with the MLP on its real tree") {
  auto model = awqmap::test::real_tree("Gemma4ForCausalLM");
  auto r = resolve_checked(model, "gemma");
  for (const char* layer : {"model.layers.0.", "model.layers.3."}) {
    INFO(layer);
    CHECK(awqmap::test::groups_under(r, layer) == gemma4_dense);
  }
}

TEST_CASE("Gemma 4 Unified vision-language has the same groups as Gemma 4 on its real tree") {
  auto model = awqmap::test::real_tree("Gemma4UnifiedForConditionalGeneration");
  auto r = resolve_checked(model, "gemma");
  check_all_under(r, "model.language_model.layers.");
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.2.") == gemma4_dense);
}

TEST_CASE("Gemma 4 MoE layers smooth the experts with pre_feedforward_layernorm_2 and leave the router out") {
  for (const char* arch : {"Gemma4ForCausalLM", "Gemma4UnifiedForCausalLM"}) {
    INFO(arch);
    ModelBuilder b(arch, "GemmaRMSNorm");
    b.list("model.layers");
    gemma4_layer(b, "model.layers.0.", true);
    gemma4_layer(b, "model.layers.1.", true);
    auto model = b.build();
    auto r = resolve_checked(model, "gemma");
    CHECK(awqmap::test::groups_under(r, "model.layers.1.") == gemma4_moe);
  }
}

TEST_CASE("Gemma 4 vision-language models keep the vision tower out of every group") {
  for (const char* arch : {"Gemma4ForConditionalGeneration", "Gemma4UnifiedForConditionalGeneration"}) {
    INFO(arch);
    ModelBuilder b(arch, "GemmaRMSNorm");
    gemma4_vision_tower(b, "model.vision_tower.");
    b.list("model.language_model.layers");
    gemma4_layer(b, "model.language_model.layers.0.", false);
    gemma4_layer(b, "model.language_model.layers.1.", true);
    auto model = b.build();
    auto r = resolve_checked(model, "gemma");
    check_all_under(r, "model.language_model.layers.");
    CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") == gemma4_dense);
    CHECK(awqmap::test::groups_under(r, "model.language_model.layers.1.") == gemma4_moe);
  }
}

TEST_CASE("Gemma 3n smooths only the MLP and leaves AltUp and LAuReL alone") {
  const Groups expected = {"mlp.up_proj -> mlp.down_proj", "pre_feedforward_layernorm -> mlp.gate_proj mlp.up_proj"};
  {
    ModelBuilder b("Gemma3nForCausalLM", "GemmaRMSNorm");
    b.list("model.layers");
    gemma3n_layer(b, "model.layers.0.");
    gemma3n_layer(b, "model.layers.1.");
    auto model = b.build();
    auto r = resolve_checked(model, "gemma");
    CHECK(awqmap::test::groups_under(r, "model.layers.1.") == expected);
    CHECK(r.resolved.size() == 4);
  }
  {
    // The audio tower's conformer blocks have q/k/v and feed-forward layers of their own.
    ModelBuilder b("Gemma3nForConditionalGeneration", "GemmaRMSNorm");
    for (const char* n : {"attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.post", "ffw_layer_start.ffw_layer_1",
                          "ffw_layer_start.ffw_layer_2"})
      b.linear(std::string("model.audio_tower.conformer.0.") + n);
    b.norm("model.audio_tower.conformer.0.ffw_layer_start.pre_layer_norm");
    b.list("model.language_model.layers");
    gemma3n_layer(b, "model.language_model.layers.0.");
    gemma3n_layer(b, "model.language_model.layers.1.");
    auto model = b.build();
    auto r = resolve_checked(model, "gemma");
    check_all_under(r, "model.language_model.layers.");
    CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") == expected);
  }
}

TEST_CASE("T5Gemma 2 smooths no norm into the decoder attention whose k and v also read the encoder") {
  auto model = awqmap::test::real_tree("T5Gemma2ForConditionalGeneration");
  auto r = resolve_checked(model, "gemma");
  // GQA in both stacks (v_proj 1024 out, o_proj 2048 in): v_proj -> o_proj is skipped.
  const Groups expected = {"mlp.up_proj -> mlp.down_proj", "pre_feedforward_layernorm -> mlp.gate_proj mlp.up_proj"};
  CHECK(awqmap::test::groups_under(r, "model.encoder.text_model.layers.0.") == expected);
  CHECK(awqmap::test::groups_under(r, "model.decoder.layers.25.") == expected);
  CHECK(awqmap::test::groups_under(r, "model.encoder.vision_tower.").empty());
  for (const auto& g : r.resolved) {
    INFO(g.smooth_name);
    CHECK(g.smooth_name.find("pre_self_attn_layernorm") == std::string::npos);
  }
}

TEST_CASE("T5Gemma 2 balances v_proj against o_proj where their widths match") {
  // The same layer with multi-head attention: v_proj -> o_proj is exact in both stacks (the
  // decoder's self and cross values share v_proj's channels).
  ModelBuilder b("T5Gemma2ForConditionalGeneration", "GemmaRMSNorm");
  for (const char* stack : {"model.encoder.text_model.layers.0.", "model.decoder.layers.0."}) {
    std::string p = stack;
    for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "self_attn." + n);
    for (const char* n : {"pre_self_attn_layernorm", "post_self_attn_layernorm", "pre_feedforward_layernorm",
                          "post_feedforward_layernorm"})
      b.norm(p + n);
    for (const char* n : {"gate_proj", "up_proj", "down_proj"}) b.linear(p + "mlp." + n);
  }
  auto model = b.build();
  auto r = resolve_checked(model, "gemma");
  CHECK(awqmap::test::groups_under(r, "model.decoder.layers.0.") ==
        Groups{"mlp.up_proj -> mlp.down_proj", "pre_feedforward_layernorm -> mlp.gate_proj mlp.up_proj",
               "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("Gemma 4 described trees resolve to the MLP groups of their modeling code") {
  struct Row {
    const char* architecture;
    const char* layer;
  };
  for (const Row& row : {Row{"Gemma4ForConditionalGeneration", "model.language_model.layers."},
                         Row{"Gemma4UnifiedForCausalLM", "model.layers."}}) {
    INFO(row.architecture);
    auto model = awqmap::test::described_tree(row.architecture);
    auto r = resolve_checked(model, "gemma");
    check_all_under(r, row.layer);
    CHECK(awqmap::test::groups_under(r, std::string(row.layer) + "1.") == gemma4_dense);
  }
}

TEST_CASE("Gemma 4 drafters smooth their Gemma 4 text layers and not the projections around them") {
  for (const char* arch : {"Gemma4AssistantForCausalLM", "Gemma4UnifiedAssistantForCausalLM"}) {
    INFO(arch);
    ModelBuilder b(arch, "GemmaRMSNorm");
    b.list("model.layers");
    gemma4_layer(b, "model.layers.0.", false);
    gemma4_layer(b, "model.layers.1.", false);
    b.norm("model.norm");
    b.linear("lm_head", 64, 128);
    b.linear("pre_projection", 128, 64);
    b.linear("post_projection", 64, 64);
    auto model = b.build();
    auto r = resolve_checked(model, "gemma");
    check_all_under(r, "model.layers.");
    CHECK(awqmap::test::groups_under(r, "model.layers.1.") == gemma4_dense);
  }
}

TEST_CASE("DiffusionGemma smooths the MLP, experts and self-conditioning MLP of its text stacks on its described tree") {
  auto model = awqmap::test::described_tree("DiffusionGemmaForBlockDiffusion");
  auto r = resolve_checked(model, "gemma");
  // Gemma 4's MoE layer: the MLP behind pre_feedforward_layernorm, the experts behind
  // pre_feedforward_layernorm_2 (the router reads the residual), up -> down in each.
  const Groups moe_layer = awqmap::test::with_experts(
      8, "experts.*.up_proj -> experts.*.down_proj",
      {"mlp.up_proj -> mlp.down_proj", "pre_feedforward_layernorm -> mlp.gate_proj mlp.up_proj",
       "pre_feedforward_layernorm_2 -> experts.*.gate_proj experts.*.up_proj"});
  for (const char* stack : {"model.encoder.language_model.layers.", "model.decoder.layers."}) {
    for (int layer = 0; layer < 4; ++layer) {
      const std::string prefix = stack + std::to_string(layer) + ".";
      INFO(prefix);
      CHECK(awqmap::test::groups_under(r, prefix) == moe_layer);
    }
  }
  CHECK(awqmap::test::groups_under(r, "model.decoder.self_conditioning.") ==
        Groups{"pre_norm -> gate_proj up_proj", "up_proj -> down_proj"});
  // The vision tower has the same projection names and reads no text-stack norm.
  CHECK(awqmap::test::groups_under(r, "model.encoder.vision_tower.").empty());
  CHECK(r.resolved.size() == 2 * 4 * moe_layer.size() + 2);
}
