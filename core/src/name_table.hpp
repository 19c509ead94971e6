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

// Every byte counts (names are long and share long prefixes), sixteen bytes a step in two
// independent chains: each step of one chain waits for its multiply, and a name of 60 bytes
// would otherwise wait for eight of them in a row.
inline std::uint64_t name_hash(std::string_view s) {
  std::uint64_t a = 0x9e3779b97f4a7c15ull ^ s.size(), b = 0x6a09e667f3bcc909ull;
  std::size_t i = 0;
  for (; i + 16 <= s.size(); i += 16) {
    std::uint64_t w0, w1;
    std::memcpy(&w0, s.data() + i, 8);
    std::memcpy(&w1, s.data() + i + 8, 8);
    a = (a ^ w0) * 0xbf58476d1ce4e5b9ull;
    b = (b ^ w1) * 0x94d049bb133111ebull;
    a ^= a >> 31;
    b ^= b >> 29;
  }
  if (i + 8 <= s.size()) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    a = (a ^ w) * 0xbf58476d1ce4e5b9ull;
    a ^= a >> 31;
    i += 8;
  }
  std::uint64_t tail = 0;
  if (const std::size_t rest = s.size() - i; rest && s.size() >= 8) {
    // The last `rest` bytes from the word that ends the name (a fixed-size load, where a
    // variable-size copy is a library call for most names).
    std::memcpy(&tail, s.data() + s.size() - 8, 8);
    tail >>= 8 * (8 - rest);
  } else {
    for (std::size_t k = 0; k < rest; ++k) tail |= std::uint64_t{static_cast<unsigned char>(s[i + k])} << (8 * k);
  }
  std::uint64_t h = (a ^ tail) * 0x94d049bb133111ebull;
  h ^= (b << 32) | (b >> 32);
  // A full finalizer: the slot is taken from the low bits, which the multiplications alone fill
  // only from the low bits of their inputs.
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  return h ^ (h >> 32);
}

// Each slot holds an id and 32 bits of its name's hash (the tag): a probe that meets another
// name almost always tells it apart by the tag, without touching the name (which lives in a
// record elsewhere in memory and shares a long prefix with its neighbours).
class NameTable {
 public:
  explicit NameTable(std::size_t expected = 0) { rebuild_empty(expected); }

  /// The id stored for `name`, or no_entry. `name_of(id)` gives an entry's name.
  template <class NameOf>
  std::uint32_t find(std::string_view name, const NameOf& name_of) const {
    return find_hashed(name, name_hash(name), name_of);
  }

  /// find() with `h` == name_hash(name), for callers that insert the name next when it is absent.
  template <class NameOf>
  std::uint32_t find_hashed(std::string_view name, std::uint64_t h, const NameOf& name_of) const {
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t slot = h & mask_;; slot = (slot + 1) & mask_) {
      const Slot& e = slots_[slot];
      if (e.id == no_entry || (e.tag == tag && name_of(e.id) == name)) return e.id;
    }
  }

  /// Stores `id` under `name` unless the name is present; returns the id already stored, or
  /// no_entry when `id` was inserted.
  template <class NameOf>
  std::uint32_t insert(std::uint32_t id, std::string_view name, const NameOf& name_of) {
    return insert_hashed(id, name, name_hash(name), name_of);
  }

  /// insert() with `h` == name_hash(name) computed ahead, so that the caller can prefetch() the
  /// slots of the next names while this one is stored: at 100k names the table is larger
  /// than the caches and each insert would otherwise wait for memory.
  template <class NameOf>
  std::uint32_t insert_hashed(std::uint32_t id, std::string_view name, std::uint64_t h, const NameOf& name_of) {
    if ((count_ + 1) * 5 > slots_.size() * 4) grow(name_of);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    std::size_t slot = h & mask_;
    for (; slots_[slot].id != no_entry; slot = (slot + 1) & mask_)
      if (slots_[slot].tag == tag && name_of(slots_[slot].id) == name) return slots_[slot].id;
    slots_[slot] = {id, tag};
    ++count_;
    return no_entry;
  }

  void prefetch(std::uint64_t h) const { __builtin_prefetch(&slots_[h & mask_]); }

  /// Stores `new_id[id]` in place of each id: the table of the same names once their records
  /// are laid out in another order (a slot depends on the name alone, so none moves).
  void renumber(const std::vector<std::uint32_t>& new_id) {
    for (Slot& e : slots_)
      if (e.id != no_entry) e.id = new_id[e.id];
  }

 private:
  struct Slot {
    std::uint32_t id = no_entry;
    std::uint32_t tag = 0;
  };
  std::vector<Slot> slots_;
  std::size_t mask_ = 0, count_ = 0;

  // Filled to at most four fifths: the tags keep the probes of a full table cheap (eight slots
  // to a cache line, most told apart without their names), and a smaller table is one the
  // caches hold more of (at 100k names, 1 MiB where half full would take 2).
  void rebuild_empty(std::size_t expected) {
    std::size_t capacity = 16;
    while (capacity * 4 < expected * 5) capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
  }

  template <class NameOf>
  void grow(const NameOf& name_of) {
    std::vector<Slot> old = std::move(slots_);
    rebuild_empty(old.size());
    for (const Slot& e : old) {
      if (e.id == no_entry) continue;
      std::size_t slot = name_hash(name_of(e.id)) & mask_;
      while (slots_[slot].id != no_entry) slot = (slot + 1) & mask_;
      slots_[slot] = e;
    }
  }
};

}  // namespace awqmap::detail
