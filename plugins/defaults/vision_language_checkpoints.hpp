#pragma once
// Key renames of vision-language checkpoints saved in the layout transformers used before it
// nested the towers under `model` (docs/semantics.md §8).
#include <awqmap/plugin.hpp>

void register_vision_language_checkpoints(awqmap::Registrar& r);
