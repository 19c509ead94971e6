#pragma once
// Internal: open-addressing index of names that the caller stores elsewhere (module records,
// tree nodes). One allocation for every entry, where a node-based map makes one per entry —
// the difference matters at 100k modules.
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace awqmap::detail {

inline constexpr std::uint32_t no_entry = static_cast<std::uint32_t>(-1);

// Eight bytes per step: names are long and share long prefixes, so every byte must count.
inline std::uint64_t name_hash(std::string_view s) {
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ s.size();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  }
  std::uint64_t tail = 0;
  if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);  // an empty view may hold nullptr
  h = (h ^ tail) * 0x94d049bb133111ebull;
  return h ^ (h >> 29);
}

class NameTable {
 public:
  explicit NameTable(std::size_t expected = 0) { rebuild_empty(expected); }

  /// The id stored for `name`, or no_entry. `name_of(id)` gives an entry's name.
  template <class NameOf>
  std::uint32_t find(std::string_view name, const NameOf& name_of) const {
    for (std::size_t slot = name_hash(name) & mask_;; slot = (slot + 1) & mask_) {
      std::uint32_t id = slots_[slot];
      if (id == no_entry || name_of(id) == name) return id;
    }
  }

  /// Stores `id` under `name` unless the name is present; returns the id already stored, or
  /// no_entry when `id` was inserted.
  template <class NameOf>
  std::uint32_t insert(std::uint32_t id, std::string_view name, const NameOf& name_of) {
    if ((count_ + 1) * 2 > slots_.size()) grow(name_of);
    std::size_t slot = name_hash(name) & mask_;
    for (; slots_[slot] != no_entry; slot = (slot + 1) & mask_)
      if (name_of(slots_[slot]) == name) return slots_[slot];
    slots_[slot] = id;
    ++count_;
    return no_entry;
  }

 private:
  std::vector<std::uint32_t> slots_;
  std::size_t mask_ = 0, count_ = 0;

  void rebuild_empty(std::size_t expected) {
    std::size_t capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    slots_.assign(capacity, no_entry);
    mask_ = capacity - 1;
  }

  template <class NameOf>
  void grow(const NameOf& name_of) {
    std::vector<std::uint32_t> old = std::move(slots_);
    rebuild_empty(old.size());
    for (std::uint32_t id : old) {
      if (id == no_entry) continue;
      std::size_t slot = name_hash(name_of(id)) & mask_;
      while (slots_[slot] != no_entry) slot = (slot + 1) & mask_;
      slots_[slot] = id;
    }
  }
};

}  // namespace awqmap::detail
