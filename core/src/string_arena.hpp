#pragma once
// Internal: strings copied back to back into chunks of a fixed size, for readers that keep
// copies of what they read (names, class names) while the text they read from goes. One
// allocation per chunk where a string each would take one per string; at most one chunk's
// tail is left unused.
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace awqmap::detail {

class StringArena {
 public:
  explicit StringArena(std::size_t chunk_size) : chunk_size_(chunk_size) {}

  std::string_view copy(std::string_view s) {
    if (s.empty()) return std::string_view(kEmpty, 0);  // never a null pointer, as views into a text have none
    if (s.size() > room_) start_chunk(s.size());
    char* at = next_;
    std::memcpy(at, s.data(), s.size());
    next_ += s.size();
    room_ -= s.size();
    return std::string_view(at, s.size());
  }

  /// Where the next copy goes, and how many bytes it may take there, for a caller that copies
  /// while it scans (and may write past what it then claims).
  char* free_space() const { return next_; }
  std::size_t room() const { return room_; }
  /// The `n` bytes written at free_space(), kept.
  std::string_view claim(std::size_t n) {
    const std::string_view c(next_, n);
    next_ += n;
    room_ -= n;
    return c;
  }

  /// The chunks, to be kept alive as long as the views handed out.
  std::shared_ptr<const void> release() {
    return std::make_shared<std::vector<std::unique_ptr<char[]>>>(std::move(chunks_));
  }

 private:
  static constexpr char kEmpty[] = "";

  void start_chunk(std::size_t at_least) {
    const std::size_t size = at_least > chunk_size_ ? at_least : chunk_size_;
    chunks_.emplace_back(new char[size]);
    next_ = chunks_.back().get();
    room_ = size;
  }

  std::size_t chunk_size_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* next_ = nullptr;
  std::size_t room_ = 0;
};

}  // namespace awqmap::detail
