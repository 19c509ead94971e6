// transformers renames the keys of older vision-language checkpoints when it loads them: each
// class's `_checkpoint_conversion_mapping`, regexes applied in order, the first that matches
// wins. Without the same renames a checkpoint directory would give `language_model.model.*`
// where llm-compressor sees `model.language_model.*`. A checkpoint saved in the new layout
// matches none of the patterns and passes unchanged.
#include "vision_language_checkpoints.hpp"

#include <string>
#include <utility>
#include <vector>

namespace {

using Renames = std::vector<std::pair<std::string, std::string>>;

// Llava and the models built on its layout: vision tower, projector, language model.
const Renames llava_layout = {
    {"^language_model.model", "model.language_model"},
    {"^vision_tower", "model.vision_tower"},
    {"^multi_modal_projector", "model.multi_modal_projector"},
    {"^language_model.lm_head", "lm_head"},
};

// LlavaNext adds a learned `image_newline` parameter beside the towers.
const Renames llava_next_layout = {
    {"^language_model.model", "model.language_model"},
    {"^vision_tower", "model.vision_tower"},
    {"^multi_modal_projector", "model.multi_modal_projector"},
    {"^image_newline", "model.image_newline"},
    {"^language_model.lm_head", "lm_head"},
};

// Mllama calls its tower `vision_model`.
const Renames mllama_layout = {
    {"^language_model.model", "model.language_model"},
    {"^vision_model", "model.vision_model"},
    {"^multi_modal_projector", "model.multi_modal_projector"},
    {"^language_model.lm_head", "lm_head"},
};

// A classification head instead of lm_head.
const Renames gemma3_classifier_layout = {
    {"^language_model.model", "model.language_model"},
    {"^vision_tower", "model.vision_tower"},
    {"^multi_modal_projector", "model.multi_modal_projector"},
};

// Qwen2-VL kept the language model's keys at `model.*`: everything under `model` that is not
// already a tower moves into `model.language_model`.
const Renames qwen2_vl_layout = {
    {"^visual", "model.visual"},
    {"^model(?!\\.(language_model|visual))", "model.language_model"},
};

const std::pair<const char*, const Renames*> classes[] = {
    {"LlavaForConditionalGeneration", &llava_layout},
    {"VipLlavaForConditionalGeneration", &llava_layout},
    {"Mistral3ForConditionalGeneration", &llava_layout},
    {"Gemma3ForConditionalGeneration", &llava_layout},
    {"PaliGemmaForConditionalGeneration", &llava_layout},
    {"AyaVisionForConditionalGeneration", &llava_layout},
    {"GotOcr2ForConditionalGeneration", &llava_layout},
    {"InternVLForConditionalGeneration", &llava_layout},
    {"LlavaNextForConditionalGeneration", &llava_next_layout},
    {"LlavaNextVideoForConditionalGeneration", &llava_next_layout},
    {"LlavaOnevisionForConditionalGeneration", &llava_next_layout},
    {"MllamaForConditionalGeneration", &mllama_layout},
    {"Gemma3ForSequenceClassification", &gemma3_classifier_layout},
    {"Qwen2VLForConditionalGeneration", &qwen2_vl_layout},
    {"Qwen2_5_VLForConditionalGeneration", &qwen2_vl_layout},
};

}  // namespace

void register_vision_language_checkpoints(awqmap::Registrar& r) {
  for (const auto& [architecture, renames] : classes)
    for (const auto& [pattern, replacement] : *renames) r.rename_checkpoint_keys(architecture, pattern, replacement);
}
