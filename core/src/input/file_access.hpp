#pragma once
// How awqmap opens the files it is given (docs/limits.md, "Files"): only regular files, opened
// without blocking (a FIFO or device is refused, never waited on), read with a size limit; and
// for checkpoints, only files that resolve inside the checkpoint directory or inside the
// `blobs/` folder of the Hugging Face cache repository the checkpoint is a snapshot of.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace awqmap::detail {

/// A limit as messages name it: `InputLimits::<name>` and its value.
struct LimitRef {
  const char* name;
  std::uint64_t value;
};

/// A file's text with simdjson's padding after it, in memory of its own: a text of a megabyte
/// or more is mapped apart from the heap, so that freeing it returns its pages to the system at
/// once. (Freed into the heap, it would leave a hole that only later, smaller allocations
/// reuse: the heap would keep the text's size on top of what the records need.)
class PaddedText {
 public:
  PaddedText() = default;
  explicit PaddedText(std::size_t size);
  ~PaddedText();
  PaddedText(PaddedText&& other) noexcept;
  PaddedText& operator=(PaddedText&& other) noexcept;
  PaddedText(const PaddedText&) = delete;
  PaddedText& operator=(const PaddedText&) = delete;

  char* data() { return data_; }
  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  simdjson::padded_string_view view() const {
    return simdjson::padded_string_view(data_, size_, size_ + simdjson::SIMDJSON_PADDING);
  }
  /// Gives the whole huge pages within [from, to) back to the system (a text on the heap keeps
  /// them); those bytes read as zeros afterwards, until the text is read again.
  void drop_pages(const char* from, const char* to);
  /// True once drop_pages gave any page back.
  bool dropped() const { return dropped_; }

 private:
  void release();
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;  // bytes mapped (from a 2 MiB boundary); 0 when data_ came from the heap
  bool dropped_ = false;
};

/// An open regular file. Throws InputError naming `display` (the path as the user gave it)
/// when the path is absent, unreadable or not a regular file.
class RegularFile {
 public:
  RegularFile(const std::string& open_path, std::string display);
  ~RegularFile();
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;

  std::uint64_t size() const { return size_; }
  const std::string& display() const { return display_; }
  /// Reads exactly `n` bytes at `offset`; a short read (the file changed) is an InputError.
  void read_at(std::uint64_t offset, char* out, std::size_t n) const;
  /// The whole file with simdjson padding; refused by `limit` before anything is read.
  simdjson::padded_string read_all(LimitRef limit) const;
  /// read_all into a PaddedText.
  PaddedText read_text(LimitRef limit) const;
  /// Throws InputError when the file is larger than `limit` allows.
  void check_size(LimitRef limit) const;

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string display_;
};

/// Reads the whole regular file at `path` (see RegularFile).
simdjson::padded_string read_regular_file(const std::string& path, LimitRef limit);

/// The files of one checkpoint directory and where they may resolve.
class CheckpointFiles {
 public:
  /// Throws InputError when `directory` is not a directory.
  explicit CheckpointFiles(const std::string& directory);

  const std::string& directory() const { return directory_; }
  /// `directory/relative` as messages show it.
  std::string display(std::string_view relative) const;
  /// The resolved path of `relative` when it exists (nullopt when nothing is there); an entry
  /// that resolves outside the allowed places, or dangles, is an InputError naming it.
  std::optional<std::string> find(std::string_view relative) const;

 private:
  std::string directory_;  // as given
  std::string root_;       // canonical
  std::string blobs_;      // canonical `<repo>/blobs` of a Hugging Face cache snapshot, or empty
};

}  // namespace awqmap::detail
