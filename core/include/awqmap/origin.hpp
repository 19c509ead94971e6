#pragma once
// Where a registration's mappings come from, as plugins declare it and selection reports it.
#include <string>
#include <string_view>

#include "awqmap/export.hpp"

namespace awqmap {

/// Where a registration's mappings come from.
///  - upstream: llm-compressor's own registry, its mistakes included. Only these registrations
///    (and the default list) are used in upstream selection mode (`--upstream`).
///  - peer: another quantizer's mappings (AutoAWQ, GPTQModel), checked to be exact.
///  - analysis: derived here from the architecture's modeling code.
/// In the default (exact) mode a peer or analysis registration for an architecture takes
/// precedence over an upstream one of the same architecture.
enum class Origin { upstream, peer, analysis };

struct Provenance {
  Origin origin = Origin::analysis;
  /// Where to check the mappings: a peer's file or a transformers modeling file.
  std::string source;
};

/// "upstream", "peer" or "analysis".
AWQMAP_API std::string_view to_string(Origin origin);

}  // namespace awqmap
