#pragma once
// What a checkpoint cannot say and names have to: a checkpoint holds tensors, not classes, so
// the few facts torch would give (which 2-D weights are embeddings, which `layers` lists are
// decoder layers, in which order a model registers its towers) are read from name components.
// They are gathered here so that the rules stay few and visible.
#include <string_view>

namespace awqmap::detail {

/// A module with a 2-D weight is an Embedding, not a Linear, when its last name component says
/// so: `embed_tokens`, `embeddings`, `wte` and `wpe` (GPT-2's token and position tables).
bool is_embedding_name(std::string_view last_component);

/// Vision and audio encoders have their own `layers` lists; only the language model's count
/// against num_hidden_layers.
bool is_tower_component(std::string_view component);

/// Rank of a module among its siblings, before numeric-aware name order: multimodal models
/// register their vision tower first and the projector next, then the language model (Llava,
/// Gemma3, Mistral3, Qwen2-VL, Llama4, ...), and resolution errors depend on module order.
int sibling_rank(std::string_view last_component);

}  // namespace awqmap::detail
