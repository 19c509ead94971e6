#pragma once
// The core library is built with hidden visibility: only declarations marked AWQMAP_API are
// exported from libawqmap.so. Classes whose exceptions or type information cross a library
// boundary carry it too, so that a `catch (const awqmap::InputError&)` in a program or plugin
// matches what the core throws.
#if defined(__GNUC__) || defined(__clang__)
#define AWQMAP_API __attribute__((visibility("default")))
#else
#define AWQMAP_API
#endif
