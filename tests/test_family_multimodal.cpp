// Vision-language and audio-language models (plugin multimodal): one layer's groups per
// architecture, spelled out from the transformers modeling code (or the remote code's names),
// and a check that no tower, projector or resampler module is smoothed. Where a layer's v_proj
// is narrower than o_proj's input (grouped-query attention), the v_proj -> o_proj group is
// skipped by resolution, so the expected lists leave it out.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "awqmap/error.hpp"
#include "group_check.hpp"
#include "model_builder.hpp"

using awqmap::Selection;
using awqmap::test::check_all_under;
using awqmap::test::ModelBuilder;
using awqmap::test::plus;
using awqmap::test::resolve_checked;
using awqmap::test::sorted;
using awqmap::test::times;
using Groups = std::vector<std::string>;

namespace {

// The groups of a Llama-style decoder layer.
const Groups llama_gqa = {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
                          "mlp.up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_proj mlp.up_proj"};
const Groups llama = plus(llama_gqa, {"self_attn.v_proj -> self_attn.o_proj"});

// A Llama decoder layer under `p` (ending in a dot).
void llama_layer(ModelBuilder& b, const std::string& p) {
  for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "self_attn." + n);
  b.gated_mlp(p + "mlp.");
  b.norm(p + "input_layernorm");
  b.norm(p + "post_attention_layernorm");
}

void llama_stack(ModelBuilder& b, const std::string& root, int layers = 2) {
  b.list(root + "layers");
  for (int i = 0; i < layers; ++i) llama_layer(b, root + "layers." + std::to_string(i) + ".");
}

// A CLIP/SigLIP/Whisper-style tower: q/k/v_proj without input_layernorm.
void clip_tower(ModelBuilder& b, const std::string& root) {
  for (int i = 0; i < 2; ++i) {
    std::string p = root + "encoder.layers." + std::to_string(i) + ".";
    b.norm(p + "layer_norm1");
    for (const char* n : {"k_proj", "v_proj", "q_proj", "out_proj"}) b.linear(p + "self_attn." + n);
    b.norm(p + "layer_norm2");
    b.linear(p + "mlp.fc1");
    b.linear(p + "mlp.fc2");
  }
}

// A Pixtral/AIMv2/Qwen2.5-VL-style tower: a gated MLP (gate/up/down) without post_attention_layernorm.
void gated_tower(ModelBuilder& b, const std::string& root) {
  for (int i = 0; i < 2; ++i) {
    std::string p = root + "layers." + std::to_string(i) + ".";
    b.norm(p + "attention_norm");
    for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "attention." + n);
    b.norm(p + "ffn_norm");
    b.gated_mlp(p + "feed_forward.");
  }
}

// A dense or MoE MLP under `p` ("...mlp."): a router, two routed experts, optional shared experts.
void moe_mlp(ModelBuilder& b, const std::string& p, bool shared) {
  b.router(p + "gate");
  b.experts(p + "experts");
  if (shared) b.gated_mlp(p + "shared_experts.");
}

void attention_and_norms(ModelBuilder& b, const std::string& p) {
  for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "self_attn." + n);
  b.norm(p + "input_layernorm");
  b.norm(p + "post_attention_layernorm");
}

// A decoder whose first layer is dense and whose other layers are MoE.
void dense_then_moe(ModelBuilder& b, const std::string& root, bool shared) {
  b.list(root + "layers");
  for (int i = 0; i < 3; ++i) {
    std::string p = root + "layers." + std::to_string(i) + ".";
    attention_and_norms(b, p);
    if (i == 0)
      b.gated_mlp(p + "mlp.");
    else
      moe_mlp(b, p + "mlp.", shared);
  }
}

const Groups moe_layer_shared =
    plus(times(2, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj"),
         {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
          "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj",
          "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
          "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj",
          "self_attn.v_proj -> self_attn.o_proj"});

struct RealTree {
  const char* architecture;
  const char* root;   // every smooth module lies under it
  const char* layer;  // the layer whose groups are checked
  Groups groups;
};

}  // namespace

TEST_CASE("Llama-style language models beside towers resolve scoped on their real trees") {
  const RealTree cases[] = {
      {"LlavaOnevisionForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       llama},
      {"VipLlavaForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama},
      {"Qwen2AudioForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama},
      {"DeepseekVLForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama},
      {"DeepseekVLHybridForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       llama},
      {"JanusForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama},
      {"InternVLForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama},
      {"QianfanOCRForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama},
      {"Cosmos3OmniForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama},
      {"Qwen3VLForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama},
      {"LightOnOcrForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       llama_gqa},
      {"GlmAsrForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama_gqa},
      {"VoxtralForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama_gqa},
      // The delay conditioning multiplies the post-attention norm's output channel-wise.
      {"VoxtralRealtimeForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       llama_gqa},
      // The audio projector's own encoder layers (input_layernorm, q/k/v, fc1/fc2) stay out.
      {"FunAsrNanoForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       llama_gqa},
      {"Qwen2VLForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.", llama_gqa},
      // The perceiver resampler reuses every decoder name; the decoder is `text_model`.
      {"Idefics2ForConditionalGeneration", "model.text_model.layers.", "model.text_model.layers.3.", llama_gqa},
      // The thinker's decoder only: not the talker, audio or vision towers.
      {"Qwen2_5OmniForConditionalGeneration", "thinker.model.layers.", "thinker.model.layers.27.", llama_gqa},
  };
  for (const auto& c : cases) {
    INFO(c.architecture);
    auto model = awqmap::test::real_tree(c.architecture);
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, c.root);
    CHECK(awqmap::test::groups_under(r, c.layer) == c.groups);
  }
}

TEST_CASE("Qwen3-Omni-MoE thinker balances the router with the experts on its real tree") {
  auto model = awqmap::test::real_tree("Qwen3OmniMoeThinkerForConditionalGeneration");
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.layers.");
  CHECK(awqmap::test::groups_under(r, "model.layers.2.") ==
        plus(times(8, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj"),
             {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
              "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate"}));
}

TEST_CASE("ERNIE 4.5-VL MoE balances both routers and the shared experts and keeps its dense layer apart") {
  auto model = awqmap::test::real_tree("Ernie4_5_VLMoeForConditionalGeneration");
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") == llama_gqa);
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.1.") ==
        plus(plus(times(8, "mlp.text_moe.experts.*.up_proj -> mlp.text_moe.experts.*.down_proj"),
                  times(8, "mlp.vision_moe.experts.*.up_proj -> mlp.vision_moe.experts.*.down_proj")),
             {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
              "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj",
              "post_attention_layernorm -> mlp.shared_experts.gate_proj mlp.shared_experts.up_proj "
              "mlp.text_moe.experts.*.gate_proj mlp.text_moe.experts.*.up_proj mlp.text_moe.gate "
              "mlp.vision_moe.experts.*.gate_proj mlp.vision_moe.experts.*.up_proj mlp.vision_moe.gate"}));
}

TEST_CASE("MiniMax-M3 sparse VL balances the router and the fused shared experts on its real tree") {
  auto model = awqmap::test::real_tree("MiniMaxM3SparseForConditionalGeneration");
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  // The clamped SwiGLU-OAI ((clamp(up) + 1) * glu) leaves no up -> down group; GQA no v -> o.
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
               "mlp.shared_experts.gate_up_proj"});
}

TEST_CASE("MiniMax-M3-VL balances the sparse-attention indexer with q/k/v") {
  ModelBuilder b("MiniMaxM3VLForConditionalGeneration");
  clip_tower(b, "model.vision_tower.");
  b.list("model.language_model.layers");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.language_model.layers." + std::to_string(i) + ".";
    attention_and_norms(b, p);
    if (i == 1)
      for (const char* n : {"q_proj", "k_proj"}) b.linear(p + "self_attn.indexer." + n);
    moe_mlp(b, p + "mlp.", false);
    b.linear(p + "mlp.shared_experts.gate_up_proj", 64, 128);
    b.linear(p + "mlp.shared_experts.down_proj");
  }
  auto model = b.build();
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  auto g = awqmap::test::groups_under(r, "model.language_model.layers.1.");
  CHECK(std::count(g.begin(), g.end(),
                   "input_layernorm -> self_attn.indexer.k_proj self_attn.indexer.q_proj self_attn.k_proj "
                   "self_attn.q_proj self_attn.v_proj") == 1);
  CHECK(std::count(g.begin(), g.end(), "input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj") == 0);
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.")[0] ==
        "input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj");
}

TEST_CASE("GLM-4.1V smooths its fused gate_up_proj and leaves the GLM post-norms and the vision MLP out") {
  auto model = awqmap::test::real_tree("Glm4vForConditionalGeneration");
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "mlp.gate_up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_up_proj"});
}

TEST_CASE("GLM-OCR uses the GLM-4.1V groups") {
  ModelBuilder b("GlmOcrForConditionalGeneration");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.visual.blocks." + std::to_string(i) + ".";
    b.norm(p + "norm1");
    b.linear(p + "attn.qkv", 64, 192);
    b.linear(p + "attn.proj");
    b.norm(p + "norm2");
    b.gated_mlp(p + "mlp.");
  }
  b.list("model.language_model.layers");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.language_model.layers." + std::to_string(i) + ".";
    attention_and_norms(b, p);
    b.linear(p + "mlp.gate_up_proj", 64, 128);
    b.linear(p + "mlp.down_proj");
    b.norm(p + "post_self_attn_layernorm");
    b.norm(p + "post_mlp_layernorm");
  }
  auto model = b.build();
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.1.") ==
        Groups{"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "mlp.gate_up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_up_proj",
               "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("EXAONE 4.5 keeps only the linear-to-linear groups of its post-norm decoder") {
  auto model = awqmap::test::real_tree("Exaone4_5_ForConditionalGeneration");
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        Groups{"mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
}

TEST_CASE("Muse Glimmer balances the attention output gate with q/k/v and smooths the MLP with its pre-norm") {
  auto model = awqmap::test::real_tree("MuseGlimmerForConditionalGeneration");
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  // GQA: v_proj (256 out) cannot balance o_proj (4096 in).
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        Groups{"input_layernorm -> self_attn.gate_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj",
               "mlp.up_proj -> mlp.down_proj", "pre_feedforward_layernorm -> mlp.gate_proj mlp.up_proj"});
}

TEST_CASE("Encoder-decoder and post-norm text models keep only their exact groups") {
  {
    // BART (post-norm, GELU MLP): value -> output projection in self- and cross-attention.
    auto model = awqmap::test::real_tree("Florence2ForConditionalGeneration");
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, "model.language_model.");
    CHECK(awqmap::test::groups_under(r, "model.language_model.encoder.layers.0.") ==
          Groups{"self_attn.v_proj -> self_attn.out_proj"});
    CHECK(awqmap::test::groups_under(r, "model.language_model.decoder.layers.0.") ==
          Groups{"encoder_attn.v_proj -> encoder_attn.out_proj", "self_attn.v_proj -> self_attn.out_proj"});
  }
  {
    // BERT-style post-norm decoder: value -> attention output dense only.
    auto model = awqmap::test::real_tree("BlipForConditionalGeneration");
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, "text_decoder.");
    CHECK(awqmap::test::groups_under(r, "text_decoder.bert.encoder.layer.0.") ==
          Groups{"attention.self.value -> attention.output.dense",
                 "crossattention.self.value -> crossattention.output.dense"});
  }
  {
    // T5 blocks: each sub-layer's norm feeds its attention or the ReLU MLP's wi; cross-attention
    // k/v read the encoder output, so the cross norm balances the query alone.
    auto model = awqmap::test::real_tree("UdopForConditionalGeneration");
    auto r = resolve_checked(model, "multimodal");
    // groups_under folds the sub-layer indices too (layer.0 attention, layer.1 cross-attention
    // or MLP, layer.2 MLP).
    CHECK(awqmap::test::groups_under(r, "encoder.block.0.") ==
          sorted({"layer.*.SelfAttention.v -> layer.*.SelfAttention.o",
                  "layer.*.layer_norm -> layer.*.SelfAttention.k layer.*.SelfAttention.q layer.*.SelfAttention.v",
                  "layer.*.layer_norm -> layer.*.DenseReluDense.wi"}));
    CHECK(
        awqmap::test::groups_under(r, "decoder.block.0.") ==
        sorted({"layer.*.SelfAttention.v -> layer.*.SelfAttention.o",
                "layer.*.layer_norm -> layer.*.SelfAttention.k layer.*.SelfAttention.q layer.*.SelfAttention.v",
                "layer.*.EncDecAttention.v -> layer.*.EncDecAttention.o",
                "layer.*.layer_norm -> layer.*.EncDecAttention.q", "layer.*.layer_norm -> layer.*.DenseReluDense.wi"}));
  }
  {
    // Kosmos-2.5: pre-norm, no inner attention norm; the MLP has a sub-norm.
    auto model = awqmap::test::real_tree("Kosmos2_5ForConditionalGeneration");
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, "text_model.model.layers.");
    CHECK(awqmap::test::groups_under(r, "text_model.model.layers.0.") ==
          Groups{"final_layer_norm -> ffn.fc1", "self_attn.v_proj -> self_attn.out_proj",
                 "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"});
  }
}

TEST_CASE("InstructBLIP-Video smooths its OPT decoder by the config's norm placement") {
  auto tree = awqmap::test::real_tree("InstructBlipVideoForConditionalGeneration");
  Selection s;
  auto r = awqmap::test::resolve_exact(tree, &s);
  CHECK(s.plugin == "multimodal");
  CHECK(s.builder == "opt_language_model");
  check_all_under(r, "language_model.model.decoder.layers.");
  CHECK(awqmap::test::groups_under(r, "language_model.model.decoder.layers.0.") ==
        Groups{"final_layer_norm -> fc1", "self_attn.v_proj -> self_attn.out_proj",
               "self_attn_layer_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"});

  // OPT-350m normalises after the residual add: its norms smooth nothing.
  ModelBuilder b("InstructBlipVideoForConditionalGeneration");
  b.config({{"text_config", {{"do_layer_norm_before", false}}}});
  for (int i = 0; i < 2; ++i) {
    std::string p = "language_model.model.decoder.layers." + std::to_string(i) + ".";
    for (const char* n : {"k_proj", "v_proj", "q_proj", "out_proj"}) b.linear(p + "self_attn." + n);
    b.norm(p + "self_attn_layer_norm");
    b.linear(p + "fc1", 64, 256);
    b.linear(p + "fc2", 256, 64);
    b.norm(p + "final_layer_norm");
  }
  auto model = b.build();
  auto post = awqmap::test::resolve_exact(model);
  CHECK(awqmap::test::groups_under(post, "language_model.model.decoder.layers.1.") ==
        Groups{"self_attn.v_proj -> self_attn.out_proj"});
}

TEST_CASE("Llama-style language models of remote-code and tree-less VLMs are scoped away from their towers") {
  struct Case {
    const char* architecture;
    const char* root;
    bool clip;  // a CLIP/SigLIP tower, else a gated one
  };
  const Case cases[] = {
      {"LlavaForConditionalGeneration", "model.language_model.", true},
      {"LlavaNextForConditionalGeneration", "model.language_model.", true},
      {"InternVLChatModel", "language_model.model.", true},
      {"InternS1ForConditionalGeneration", "model.language_model.", true},
      {"Ovis2ForConditionalGeneration", "model.language_model.", false},
      {"MageVLForConditionalGeneration", "model.language_model.", true},
      {"MiniCPMV", "llm.model.", true},
      {"MiniCPMO", "llm.model.", true},
      {"Ovis", "llm.model.", true},
  };
  for (const auto& c : cases) {
    INFO(c.architecture);
    ModelBuilder b(c.architecture);
    if (c.clip)
      clip_tower(b, "vision_tower.");
    else
      gated_tower(b, "vision_tower.transformer.");
    llama_stack(b, c.root);
    auto model = b.build();
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, std::string(c.root) + "layers.");
    CHECK(awqmap::test::groups_under(r, std::string(c.root) + "layers.1.") == llama);
  }
}

TEST_CASE("Qwen2-VL Qwen3-VL and FastVLM keep the default list because their towers use other names") {
  for (const char* arch :
       {"Qwen2VLForConditionalGeneration", "Qwen3VLForConditionalGeneration", "LlavaQwen2ForCausalLM"}) {
    INFO(arch);
    ModelBuilder b(arch);
    for (int i = 0; i < 2; ++i) {
      std::string p = "model.visual.blocks." + std::to_string(i) + ".";
      b.linear(p + "attn.qkv", 64, 192);
      b.linear(p + "attn.proj");
      b.linear(p + "mlp.fc1");
      b.linear(p + "mlp.fc2");
    }
    llama_stack(b, "model.language_model.");
    auto model = b.build();
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, "model.language_model.layers.");
    CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") == llama);
  }
}

TEST_CASE("MoE language models inside VLMs balance the router and keep dense layers apart") {
  struct Case {
    const char* architecture;
    const char* root;
  };
  const Case cases[] = {
      {"Glm4vMoeForConditionalGeneration", "model.language_model."},
      {"DeepseekOcr2ForConditionalGeneration", "model.language_model."},
      {"Qwen3OmniMoeForConditionalGeneration", "thinker.model."},
      {"Qwen3OmniMoeThinkerForConditionalGeneration", "model."},
      {"Ovis2_5", "llm.model."},
  };
  for (const auto& c : cases) {
    INFO(c.architecture);
    ModelBuilder b(c.architecture);
    clip_tower(b, "vision_tower.");
    dense_then_moe(b, c.root, true);
    auto model = b.build();
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, std::string(c.root) + "layers.");
    CHECK(awqmap::test::groups_under(r, std::string(c.root) + "layers.0.") == llama);
    CHECK(awqmap::test::groups_under(r, std::string(c.root) + "layers.2.") == moe_layer_shared);
  }
}

TEST_CASE("Kimi K2.5 and DeepSeek-VL2 smooth latent attention and balance the router") {
  struct Case {
    const char* architecture;
    const char* root;
  };
  const Case cases[] = {
      {"Kimi_K25ForConditionalGeneration", "language_model.model."},
      {"DeepseekVLV2ForCausalLM", "language.model."},
  };
  for (const auto& c : cases) {
    INFO(c.architecture);
    ModelBuilder b(c.architecture);
    clip_tower(b, "vision_tower.");
    std::string root = c.root;
    b.list(root + "layers");
    for (int i = 0; i < 3; ++i) {
      std::string p = root + "layers." + std::to_string(i) + ".";
      b.linear(p + "self_attn.q_a_proj", 64, 32);
      b.norm(p + "self_attn.q_a_layernorm");
      b.linear(p + "self_attn.q_b_proj", 32, 64);
      b.linear(p + "self_attn.kv_a_proj_with_mqa", 64, 40);
      b.norm(p + "self_attn.kv_a_layernorm");
      b.linear(p + "self_attn.kv_b_proj", 32, 64);
      b.linear(p + "self_attn.o_proj");
      b.norm(p + "input_layernorm");
      b.norm(p + "post_attention_layernorm");
      if (i == 0)
        b.gated_mlp(p + "mlp.");
      else
        moe_mlp(b, p + "mlp.", true);
    }
    auto model = b.build();
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, root + "layers.");
    const Groups attention = {"input_layernorm -> self_attn.kv_a_proj_with_mqa self_attn.q_a_proj",
                              "self_attn.kv_a_layernorm -> self_attn.kv_b_proj",
                              "self_attn.q_a_layernorm -> self_attn.q_b_proj"};
    CHECK(awqmap::test::groups_under(r, root + "layers.0.") ==
          plus(attention, {"mlp.up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_proj mlp.up_proj"}));
    CHECK(awqmap::test::groups_under(r, root + "layers.1.") ==
          plus(plus(attention, times(2, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj")),
               {"mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj",
                "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
                "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj"}));
  }
}

TEST_CASE("Mllama smooths the cross-attention layer's input norm into its query alone") {
  const Groups self_layer = llama;
  const Groups cross_layer = {"input_layernorm -> cross_attn.q_proj", "mlp.up_proj -> mlp.down_proj",
                              "post_attention_layernorm -> mlp.gate_proj mlp.up_proj"};
  for (const char* root : {"model.", "model.language_model."}) {
    std::string arch = std::string(root) == "model." ? "MllamaForCausalLM" : "MllamaForConditionalGeneration";
    INFO(arch);
    ModelBuilder b(arch);
    if (arch == "MllamaForConditionalGeneration")
      for (int i = 0; i < 2; ++i) {
        // Vision layers reuse the decoder's norm names with an fc1/fc2 MLP.
        std::string p = "model.vision_model.transformer.layers." + std::to_string(i) + ".";
        for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "self_attn." + n);
        b.linear(p + "mlp.fc1");
        b.linear(p + "mlp.fc2");
        b.norm(p + "input_layernorm");
        b.norm(p + "post_attention_layernorm");
      }
    std::string r0 = root;
    b.list(r0 + "layers");
    llama_layer(b, r0 + "layers.0.");
    std::string p = r0 + "layers.1.";
    for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "cross_attn." + n);
    b.norm(p + "cross_attn.q_norm");
    b.norm(p + "cross_attn.k_norm");
    b.norm(p + "input_layernorm");
    b.gated_mlp(p + "mlp.");
    b.norm(p + "post_attention_layernorm");
    llama_layer(b, r0 + "layers.2.");
    auto model = b.build();
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, r0 + "layers.");
    CHECK(awqmap::test::groups_under(r, r0 + "layers.0.") == self_layer);
    CHECK(awqmap::test::groups_under(r, r0 + "layers.1.") == cross_layer);
    CHECK(awqmap::test::groups_under(r, r0 + "layers.2.") == self_layer);
  }
}

TEST_CASE("Cohere Compass smooths the input norm into attention and MLP together") {
  for (const char* arch : {"CohereCompassForConditionalGeneration"}) {
    INFO(arch);
    ModelBuilder b(arch);
    clip_tower(b, "model.vision_tower.");
    b.list("model.language_model.layers");
    for (int i = 0; i < 2; ++i) {
      std::string p = "model.language_model.layers." + std::to_string(i) + ".";
      for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "self_attn." + n);
      b.gated_mlp(p + "mlp.");
      b.norm(p + "input_layernorm");
    }
    auto model = b.build();
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, "model.language_model.layers.");
    CHECK(awqmap::test::groups_under(r, "model.language_model.layers.1.") ==
          Groups{"input_layernorm -> mlp.gate_proj mlp.up_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj",
                 "mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"});
  }
}

TEST_CASE("LFM2-VL closes one operator_norm group per conv or attention layer") {
  ModelBuilder b("Lfm2VlForConditionalGeneration");
  clip_tower(b, "model.vision_tower.");
  b.list("model.language_model.layers");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.language_model.layers." + std::to_string(i) + ".";
    if (i == 0) {
      b.linear(p + "conv.in_proj", 64, 192);
      b.linear(p + "conv.out_proj");
    } else {
      for (const char* n : {"q_proj", "k_proj", "v_proj", "out_proj"}) b.linear(p + "self_attn." + n);
    }
    for (const char* n : {"w1", "w3", "w2"}) b.linear(p + "feed_forward." + n);
    b.norm(p + "operator_norm");
    b.norm(p + "ffn_norm");
  }
  auto model = b.build();
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  const Groups ffn = {"feed_forward.w3 -> feed_forward.w2", "ffn_norm -> feed_forward.w1 feed_forward.w3"};
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        plus(ffn, {"operator_norm -> conv.in_proj"}));
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.1.") ==
        plus(ffn, {"operator_norm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj",
                   "self_attn.v_proj -> self_attn.out_proj"}));
}

TEST_CASE("Phi-4-multimodal balances the LoRA A matrices with the base projections and smooths no fused projection") {
  ModelBuilder b("Phi4MMForCausalLM");
  b.list("model.layers");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    for (const char* proj : {"self_attn.qkv_proj", "self_attn.o_proj", "mlp.gate_up_proj", "mlp.down_proj"}) {
      std::string q = p + proj + ".";
      b.linear(q + "base_layer");
      for (const char* adapter : {"speech", "vision"}) {
        b.linear(q + "lora_A." + adapter, 64, 8);
        b.linear(q + "lora_B." + adapter, 8, 64);
      }
    }
    b.norm(p + "input_layernorm");
    b.norm(p + "post_attention_layernorm");
  }
  auto model = b.build();
  auto r = resolve_checked(model, "multimodal");
  CHECK(awqmap::test::groups_under(r, "model.layers.1.") ==
        Groups{"input_layernorm -> self_attn.qkv_proj.base_layer self_attn.qkv_proj.lora_A.speech "
               "self_attn.qkv_proj.lora_A.vision",
               "post_attention_layernorm -> mlp.gate_up_proj.base_layer mlp.gate_up_proj.lora_A.speech "
               "mlp.gate_up_proj.lora_A.vision"});
}

TEST_CASE("MiniCPM-V 4.6 gets the Qwen3.5 hybrid groups scoped to its language model") {
  auto model = awqmap::test::real_tree("MiniCPMV4_6ForConditionalGeneration");
  Selection s;
  auto r = awqmap::test::resolve_exact(model, &s);
  CHECK(s.plugin == "multimodal");
  CHECK(s.builder == "hybrid_language_model");
  check_all_under(r, "model.language_model.layers.");
  const Groups mlp = {"mlp.up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_proj mlp.up_proj"};
  // text_config.layer_types: three linear-attention layers, then a full-attention one.
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        plus(mlp, {"input_layernorm -> linear_attn.in_proj_a linear_attn.in_proj_b linear_attn.in_proj_qkv "
                   "linear_attn.in_proj_z"}));
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.3.") ==
        plus(mlp, {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"}));

  // Without layer types the builder declines, with the reason, rather than guess.
  ModelBuilder b("MiniCPMV4_6ForConditionalGeneration");
  llama_stack(b, "model.language_model.");
  auto plain = b.build();
  Selection declined;
  awqmap::test::resolve_exact(plain, &declined);
  CHECK(declined.builder.empty());
  CHECK(declined.declined.size() == 1);
}

TEST_CASE("PI0 smooths its PaliGemma language model only and no v_proj against o_proj") {
  auto model = awqmap::test::real_tree("PI0ForConditionalGeneration");
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.vlm.language_model.layers.");
  CHECK(awqmap::test::groups_under(r, "model.vlm.language_model.layers.17.") == llama_gqa);
}

TEST_CASE("Intern-S2-Preview gets the hybrid groups with the router and the shared expert") {
  ModelBuilder b("InternS2PreviewForConditionalGeneration");
  b.config({{"text_config", {{"num_hidden_layers", 2}, {"layer_types", {"linear_attention", "full_attention"}}}}});
  clip_tower(b, "model.vision_tower.");
  b.list("model.language_model.layers");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.language_model.layers." + std::to_string(i) + ".";
    if (i == 0)
      for (const char* n : {"in_proj_qkvz", "in_proj_ba", "out_proj"}) b.linear(p + "linear_attn." + n);
    else
      for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "self_attn." + n);
    b.norm(p + "input_layernorm");
    b.norm(p + "post_attention_layernorm");
    moe_mlp(b, p + "mlp.", false);
    b.gated_mlp(p + "mlp.shared_expert.");
    b.linear(p + "mlp.shared_expert_gate", 64, 1);
  }
  auto model = b.build();
  Selection s;
  auto r = awqmap::test::resolve_exact(model, &s);
  CHECK(s.builder == "hybrid_language_model");
  check_all_under(r, "model.language_model.layers.");
  const Groups mlp = plus(times(2, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj"),
                          {"mlp.shared_expert.up_proj -> mlp.shared_expert.down_proj",
                           "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
                           "mlp.shared_expert.gate_proj mlp.shared_expert.up_proj mlp.shared_expert_gate"});
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        plus(mlp, {"input_layernorm -> linear_attn.in_proj_ba linear_attn.in_proj_qkvz"}));
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.1.") ==
        plus(mlp, {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"}));
}

TEST_CASE("GLM-5 Next smooths only the MLP norm into every MLP consumer on its real tree") {
  auto model = awqmap::test::real_tree("Glm5NextForConditionalGeneration");
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        Groups{"post_attention_layernorm -> mlp.gate_proj mlp.up_proj"});
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.3.") ==
        Groups{"post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
               "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj"});
}

TEST_CASE("upstream's vision-language registrations are scoped to the language model in exact mode") {
  // Qwen2.5-Omni thinker: the audio tower's q/k/v have no input_layernorm and the vision
  // blocks' gated MLP no post_attention_layernorm, so upstream's default list fails on it.
  auto omni = awqmap::test::real_tree("Qwen2_5OmniThinkerForConditionalGeneration");
  CHECK_THROWS_AS(awqmap::resolve(omni, *awqmap::test::shipped_registry().default_mappings()), awqmap::ResolutionError);
  auto r = resolve_checked(omni, "multimodal");
  check_all_under(r, "model.layers.");
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == sorted(llama_gqa));
  // Gemma 3 with its SigLIP tower: upstream's gemma3 list, scoped.
  auto gemma3 = awqmap::load_model_description(
      (awqmap::test::corpus_dir() / "Gemma3ForConditionalGeneration.tiny.model.json").string());
  auto g = resolve_checked(gemma3, "multimodal");
  check_all_under(g, "model.language_model.layers.");
  Groups want = {"mlp.up_proj -> mlp.down_proj", "pre_feedforward_layernorm -> mlp.gate_proj mlp.up_proj"};
  auto got = awqmap::test::groups_under(g, "model.language_model.layers.0.");
  // v -> o joins when the widths allow it (it is skipped as incompatible under GQA otherwise).
  got.erase(std::remove(got.begin(), got.end(), "self_attn.v_proj -> self_attn.o_proj"), got.end());
  CHECK(got == want);
}

namespace {

struct DescribedTree {
  const char* architecture;
  const char* root;   // every smooth module lies under it
  const char* layer;  // the layer whose groups are checked
  Groups groups;
};

}  // namespace

TEST_CASE("vision and video-language models resolve scoped to their language model on their described trees") {
  const Groups gqa_attention = {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.v_proj"};
  const DescribedTree cases[] = {
      {"LlavaNextVideoForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       llama_gqa},
      {"VideoLlavaForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       llama_gqa},
      // Qwen2 decoder beside a tower whose encoder layers reuse q/k/v_proj.
      {"VideoLlama3ForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       llama_gqa},
      // ERNIE 4.5 decoder.
      {"PaddleOCRVLForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       llama_gqa},
      // Llama decoders named `text_model`.
      {"Idefics3ForConditionalGeneration", "model.text_model.layers.", "model.text_model.layers.0.", llama_gqa},
      {"SmolVLMForConditionalGeneration", "model.text_model.layers.", "model.text_model.layers.0.", llama_gqa},
      // Cohere 2 parallel block: one norm feeds attention and the MLP.
      {"AyaVisionForConditionalGeneration",
       "model.language_model.layers.",
       "model.language_model.layers.0.",
       {"input_layernorm -> mlp.gate_proj mlp.up_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj",
        "mlp.up_proj -> mlp.down_proj"}},
      // fc1 -> ReLU-squared -> fc2: the norm feeds fc1, nothing is smoothed into fc2.
      {"Cosmos3EdgeForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       plus(gqa_attention, {"post_attention_layernorm -> mlp.fc1"})},
      // Grouped-GEMM routed experts: no post-attention group, the shared experts' up -> down stays.
      {"AriaForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       plus(gqa_attention, {"mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj"})},
      // Persimmon: per-head interleaved query_key_value, ReLU-squared MLP.
      {"FuyuForCausalLM",
       "model.language_model.layers.",
       "model.language_model.layers.0.",
       {"input_layernorm -> self_attn.query_key_value", "post_attention_layernorm -> mlp.dense_h_to_4h"}},
      // Phi-3 layers; qkv_proj -> o_proj is skipped under grouped-query attention.
      {"Phi4MultimodalForCausalLM",
       "model.layers.",
       "model.layers.0.",
       {"input_layernorm -> self_attn.qkv_proj", "mlp.gate_up_proj -> mlp.down_proj",
        "post_attention_layernorm -> mlp.gate_up_proj"}},
      // GLM-4.6V with GLM-4.1V's dense language model (fused gate_up_proj, up rows last).
      {"Glm46VForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       plus(gqa_attention, {"mlp.gate_up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_up_proj"})},
      {"Qwen3VLMoeForConditionalGeneration", "model.language_model.layers.", "model.language_model.layers.0.",
       plus(times(8, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj"),
            plus(gqa_attention,
                 {"post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate"}))},
      // T5-style text decoder: per-sub-layer norms, cross-attention query alone, gated MLP.
      {"Pix2StructForConditionalGeneration",
       "decoder.layer.",
       "decoder.layer.0.",
       {"encoder_decoder_attention.attention.value -> encoder_decoder_attention.attention.output",
        "encoder_decoder_attention.layer_norm -> encoder_decoder_attention.attention.query",
        "mlp.DenseReluDense.wi_1 -> mlp.DenseReluDense.wo",
        "mlp.layer_norm -> mlp.DenseReluDense.wi_0 mlp.DenseReluDense.wi_1",
        "self_attention.attention.value -> self_attention.attention.output",
        "self_attention.layer_norm -> self_attention.attention.key self_attention.attention.query "
        "self_attention.attention.value"}},
      // Clamped SwiGLU-OAI experts: no up -> down; the fused shared experts read the norm too.
      {"MiniMaxM3VLForCausalLM", "model.layers.", "model.layers.0.",
       plus(gqa_attention, {"post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
                            "mlp.shared_experts.gate_up_proj"})},
  };
  for (const auto& c : cases) {
    INFO(c.architecture);
    auto model = awqmap::test::described_tree(c.architecture);
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, c.root);
    CHECK(awqmap::test::groups_under(r, c.layer) == sorted(c.groups));
  }
}

TEST_CASE("IDEFICS smooths its gated cross-attention layers with the query alone on its described tree") {
  auto model = awqmap::test::described_tree("IdeficsForVisionText2Text");
  auto r = resolve_checked(model, "multimodal");
  for (const auto& g : r.resolved) {
    INFO(g.smooth_name);
    CHECK((g.smooth_name.rfind("model.layers.", 0) == 0 ||
           g.smooth_name.rfind("model.gated_cross_attn_layers.", 0) == 0));
  }
  CHECK(awqmap::test::groups_under(r, "model.layers.0.") == llama);
  CHECK(awqmap::test::groups_under(r, "model.gated_cross_attn_layers.0.") ==
        Groups{"input_layernorm -> cross_attn.q_proj", "mlp.up_proj -> mlp.down_proj",
               "post_attention_layernorm -> mlp.gate_proj mlp.up_proj"});
}

TEST_CASE("Step 3.7 balances the attention gate and every MLP consumer on its described tree") {
  auto model = awqmap::test::described_tree("Step3p7ForConditionalGeneration");
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  const std::string attention =
      "input_layernorm -> self_attn.g_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj";
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        sorted({attention, "mlp.up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_proj mlp.up_proj"}));
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.3.") ==
        plus(times(8, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj"),
             {attention, "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj",
              "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
              "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj"}));
}

namespace {

// A Step 3.7 language model: layer 0 dense, layers 1 and 2 MoE with shared experts.
ModelBuilder step3p7(const nlohmann::json& text_config) {
  ModelBuilder b("Step3p7ForConditionalGeneration");
  b.config({{"text_config", text_config}});
  clip_tower(b, "model.vision_model.");
  b.list("model.language_model.layers");
  for (int i = 0; i < 3; ++i) {
    std::string p = "model.language_model.layers." + std::to_string(i) + ".";
    attention_and_norms(b, p);
    b.linear(p + "self_attn.g_proj", 64, 4);
    if (i == 0)
      b.gated_mlp(p + "mlp.");
    else
      moe_mlp(b, p + "mlp.", true);
  }
  return b;
}

}  // namespace

TEST_CASE("Step 3.7 leaves out up -> down where the config clamps the SwiGLU") {
  auto model =
      step3p7(
          {{"num_hidden_layers", 3}, {"swiglu_limits", {nullptr, 0, 7}}, {"swiglu_limits_shared", {16, nullptr, 0.0}}})
          .build();
  Selection s;
  auto r = awqmap::test::resolve_exact(model, &s);
  CHECK(s.builder == "step3p7_language_model");
  const std::string attention =
      "input_layernorm -> self_attn.g_proj self_attn.k_proj self_attn.q_proj self_attn.v_proj";
  const std::string moe_norm =
      "post_attention_layernorm -> mlp.experts.*.gate_proj mlp.experts.*.up_proj mlp.gate "
      "mlp.shared_experts.gate_proj mlp.shared_experts.up_proj";
  // Layer 0's dense MLP is clamped by swiglu_limits_shared.
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        sorted({attention, "post_attention_layernorm -> mlp.gate_proj mlp.up_proj",
                "self_attn.v_proj -> self_attn.o_proj"}));
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.1.") ==
        plus(times(2, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj"),
             {attention, moe_norm, "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj",
              "self_attn.v_proj -> self_attn.o_proj"}));
  // Layer 2's routed experts are clamped, its shared expert is not.
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.2.") ==
        sorted({attention, moe_norm, "mlp.shared_experts.up_proj -> mlp.shared_experts.down_proj",
                "self_attn.v_proj -> self_attn.o_proj"}));
}

TEST_CASE("Step 3.7 declines a malformed clamp list") {
  for (const auto& limits : {nlohmann::json("7"), nlohmann::json({7}), nlohmann::json({"7", 0, 0})}) {
    INFO(limits.dump());
    auto model = step3p7({{"num_hidden_layers", 3}, {"swiglu_limits", limits}}).build();
    Selection s = awqmap::test::shipped_registry().select(model, awqmap::SelectionMode::exact);
    CHECK(s.builder != "step3p7_language_model");
    CHECK(std::any_of(s.declined_builders.begin(), s.declined_builders.end(), [](const auto& d) {
      return d.builder == "step3p7_language_model" && d.reason.find("swiglu_limits") != std::string::npos;
    }));
  }
}

TEST_CASE("Inkling balances r_proj with q/k/v and leaves the sparse post-attention norm out on its described tree") {
  auto model = awqmap::test::described_tree("InklingForConditionalGeneration");
  auto r = resolve_checked(model, "multimodal");
  check_all_under(r, "model.language_model.layers.");
  // v_proj -> o_proj is skipped: grouped-query attention.
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        plus(plus(times(8, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj"),
                  times(2, "mlp.shared_experts.*.up_proj -> mlp.shared_experts.*.down_proj")),
             {"input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.r_proj self_attn.v_proj"}));
}

TEST_CASE("Inkling smooths the post-attention norm of its dense layers only") {
  ModelBuilder b("InklingForConditionalGeneration");
  b.config({{"text_config", {{"num_hidden_layers", 2}, {"mlp_layer_types", {"dense", "sparse"}}}}});
  b.list("model.language_model.layers");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.language_model.layers." + std::to_string(i) + ".";
    attention_and_norms(b, p);
    b.linear(p + "self_attn.r_proj", 64, 16);
    if (i == 0) {
      b.gated_mlp(p + "mlp.");
    } else {
      b.add(p + "mlp.gate", "InklingTopkRouter", {{"shape", {4, 64}}});
      for (int e = 0; e < 2; ++e) b.gated_mlp(p + "mlp.experts." + std::to_string(e) + ".");
    }
  }
  auto model = b.build();
  Selection s;
  auto r = awqmap::test::resolve_exact(model, &s);
  CHECK(s.builder == "inkling_language_model");
  const std::string attention =
      "input_layernorm -> self_attn.k_proj self_attn.q_proj self_attn.r_proj self_attn.v_proj";
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.0.") ==
        sorted({attention, "mlp.up_proj -> mlp.down_proj", "post_attention_layernorm -> mlp.gate_proj mlp.up_proj",
                "self_attn.v_proj -> self_attn.o_proj"}));
  CHECK(awqmap::test::groups_under(r, "model.language_model.layers.1.") ==
        plus(times(2, "mlp.experts.*.up_proj -> mlp.experts.*.down_proj"),
             {attention, "self_attn.v_proj -> self_attn.o_proj"}));
}

TEST_CASE("tree-less Llama-style VLMs are scoped to their language model on modeling-code trees") {
  const std::pair<const char*, const char*> cases[] = {
      {"PerceptionLMForConditionalGeneration", "model.language_model."},
      {"Granite4VisionForConditionalGeneration", "model.language_model."},
      {"Emu3ForConditionalGeneration", "model.text_model."},
  };
  for (const auto& [arch, root] : cases) {
    INFO(arch);
    ModelBuilder b(arch);
    clip_tower(b, "model.vision_tower.");
    gated_tower(b, "model.vqmodel.");
    llama_stack(b, root);
    auto model = b.build();
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, std::string(root) + "layers.");
    CHECK(awqmap::test::groups_under(r, std::string(root) + "layers.1.") == llama);
  }
}

TEST_CASE("Chameleon smooths its norms only when they precede the sub-blocks") {
  for (bool swin : {false, true}) {
    INFO(swin);
    ModelBuilder b("ChameleonForConditionalGeneration");
    b.config({{"swin_norm", swin}});
    llama_stack(b, "model.");
    gated_tower(b, "model.vqmodel.");
    auto model = b.build();
    Selection s;
    auto r = awqmap::test::resolve_exact(model, &s);
    CHECK(s.builder == "chameleon_norm_placement");
    check_all_under(r, "model.layers.");
    CHECK(awqmap::test::groups_under(r, "model.layers.0.") ==
          (swin ? Groups{"mlp.up_proj -> mlp.down_proj", "self_attn.v_proj -> self_attn.o_proj"} : llama));
  }
}

TEST_CASE("InstructBLIP-Video with a Vicuna language model gets the Llama groups") {
  ModelBuilder b("InstructBlipVideoForConditionalGeneration");
  b.config({{"model_type", "instructblipvideo"}, {"text_config", {{"model_type", "llama"}}}});
  clip_tower(b, "vision_model.");
  llama_stack(b, "language_model.model.");
  auto model = b.build();
  Selection s;
  auto r = awqmap::test::resolve_exact(model, &s);
  CHECK(s.builder == "opt_language_model");
  check_all_under(r, "language_model.model.layers.");
  CHECK(awqmap::test::groups_under(r, "language_model.model.layers.1.") == llama);

  ModelBuilder other("InstructBlipVideoForConditionalGeneration");
  other.config({{"text_config", {{"model_type", "t5"}}}});
  llama_stack(other, "language_model.model.");
  auto unmapped = other.build();
  Selection declined = awqmap::test::shipped_registry().select(unmapped, awqmap::SelectionMode::exact);
  CHECK(declined.builder != "opt_language_model");
}

TEST_CASE("UDOP balances both halves of a gated-activation MLP input with its norm") {
  ModelBuilder b("UdopForConditionalGeneration");
  b.list("encoder.block");
  for (int i = 0; i < 2; ++i) {
    std::string p = "encoder.block." + std::to_string(i) + ".layer.";
    for (const char* n : {"q", "k", "v", "o"}) b.linear(p + "0.SelfAttention." + n);
    b.norm(p + "0.layer_norm");
    for (const char* n : {"wi_0", "wi_1", "wo"}) b.linear(p + "1.DenseReluDense." + n);
    b.norm(p + "1.layer_norm");
  }
  auto model = b.build();
  auto r = resolve_checked(model, "multimodal");
  CHECK(awqmap::test::groups_under(r, "encoder.block.1.") ==
        sorted({"layer.*.SelfAttention.v -> layer.*.SelfAttention.o",
                "layer.*.layer_norm -> layer.*.SelfAttention.k layer.*.SelfAttention.q layer.*.SelfAttention.v",
                "layer.*.layer_norm -> layer.*.DenseReluDense.wi_0 layer.*.DenseReluDense.wi_1"}));
}

TEST_CASE("HunYuanVL smooths its decoder and not the vision blocks that reuse its names") {
  const std::pair<const char*, const char*> layouts[] = {{"model.", "vit."}, {"model.language_model.", "model.vit."}};
  for (const auto& [root, vit] : layouts) {
    INFO(root);
    ModelBuilder b("HunYuanVLForConditionalGeneration");
    llama_stack(b, root);
    // Vision blocks: the decoder's norm and attention names, an fc MLP.
    b.list(std::string(vit) + "layers");
    for (int i = 0; i < 2; ++i) {
      std::string p = std::string(vit) + "layers." + std::to_string(i) + ".";
      for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) b.linear(p + "self_attn." + n);
      b.linear(p + "mlp.dense_h_to_4h");
      b.linear(p + "mlp.dense_4h_to_h");
      b.norm(p + "input_layernorm");
      b.norm(p + "post_attention_layernorm");
    }
    auto model = b.build();
    auto r = resolve_checked(model, "multimodal");
    check_all_under(r, std::string(root) + "layers.");
    CHECK(awqmap::test::groups_under(r, std::string(root) + "layers.0.") == llama);
  }
}
