#pragma once

namespace awqmap {
inline constexpr const char* version = "0.1.0";
}  // namespace awqmap
