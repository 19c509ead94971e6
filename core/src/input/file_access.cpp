#include "file_access.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "awqmap/error.hpp"
#include "printable.hpp"

namespace awqmap::detail {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& display, const std::string& what) {
  throw InputError(printable(display) + ": " + what);
}

std::string file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::optional<std::string> real_path(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (!resolved) return std::nullopt;
  std::string out(resolved);
  std::free(resolved);
  return out;
}

bool inside(const std::string& path, const std::string& root) {
  if (root.empty()) return false;
  if (path.size() <= root.size() || path.compare(0, root.size(), root) != 0) return false;
  return root.back() == '/' || path[root.size()] == '/';
}

}  // namespace

RegularFile::RegularFile(const std::string& open_path, std::string display) : display_(std::move(display)) {
  // O_NONBLOCK: opening a FIFO for reading must not wait for a writer; it is refused below.
  fd_ = ::open(open_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd_ < 0) {
    const int e = errno;
    if (e == ENOENT) fail(display_, "no such file");
    fail(display_, std::string("cannot open the file (") + std::strerror(e) + ")");
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    fd_ = -1;
    fail(display_, std::string("cannot read the file (") + std::strerror(e) + ")");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail(display_, "is " + file_kind(st.st_mode) + "; awqmap reads only regular files");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

void RegularFile::read_at(std::uint64_t offset, char* out, std::size_t n) const {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) fail(display_, std::string("cannot read the file (") + std::strerror(errno) + ")");
    if (got == 0) fail(display_, "the file became shorter while it was read; is something rewriting it?");
    done += static_cast<std::size_t>(got);
  }
}

void RegularFile::check_size(LimitRef limit) const {
  if (size_ > limit.value)
    fail(display_, "the file is " + std::to_string(size_) + " bytes, over the limit InputLimits::" + limit.name + " (" +
                       std::to_string(limit.value) + " bytes); if the file is genuine, raise it (awqmap --limit " + limit.name + "=N)");
}

simdjson::padded_string RegularFile::read_all(LimitRef limit) const {
  check_size(limit);
  simdjson::padded_string text(static_cast<std::size_t>(size_));
  read_at(0, text.data(), static_cast<std::size_t>(size_));
  return text;
}

PaddedText::PaddedText(std::size_t size) : size_(size) {
  const std::size_t bytes = size + simdjson::SIMDJSON_PADDING;
  constexpr std::size_t kMapFrom = 1u << 20;
  if (bytes >= kMapFrom) {
    // Whole huge pages where the kernel gives them on request: faulting in a large text 4 KiB
    // at a time costs more than reading it.
    constexpr std::size_t kHuge = 2u << 20;
    const std::size_t whole = (bytes + kHuge - 1) & ~(kHuge - 1);
    void* p = ::mmap(nullptr, whole + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      const auto at = reinterpret_cast<std::uintptr_t>(p);
      const std::uintptr_t aligned = (at + kHuge - 1) & ~std::uintptr_t{kHuge - 1};
      if (aligned > at) ::munmap(p, aligned - at);
      if (aligned + whole < at + whole + kHuge) ::munmap(reinterpret_cast<void*>(aligned + whole), at + kHuge - aligned);
      data_ = reinterpret_cast<char*>(aligned);
      mapped_ = whole;
      ::madvise(data_, whole, MADV_HUGEPAGE);
    }
  }
  if (!data_) data_ = new char[bytes];
  std::memset(data_ + size, 0, simdjson::SIMDJSON_PADDING);
}

void PaddedText::drop_pages(const char* from, const char* to) {
  constexpr std::uintptr_t kHuge = 2u << 20;
  if (!mapped_ || from < data_ || to > data_ + size_) return;
  const auto first = (reinterpret_cast<std::uintptr_t>(from) + kHuge - 1) & ~(kHuge - 1);
  const auto last = reinterpret_cast<std::uintptr_t>(to) & ~(kHuge - 1);
  if (last <= first) return;
  if (::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) == 0) dropped_ = true;
}

void PaddedText::release() {
  if (mapped_)
    ::munmap(data_, mapped_);
  else
    delete[] data_;
  data_ = nullptr;
  size_ = mapped_ = 0;
  dropped_ = false;
}

PaddedText::~PaddedText() {
  release();
}

PaddedText::PaddedText(PaddedText&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)), dropped_(std::exchange(other.dropped_, false)) {}

PaddedText& PaddedText::operator=(PaddedText&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
    dropped_ = std::exchange(other.dropped_, false);
  }
  return *this;
}

PaddedText RegularFile::read_text(LimitRef limit) const {
  check_size(limit);
  PaddedText text(static_cast<std::size_t>(size_));
  read_at(0, text.data(), static_cast<std::size_t>(size_));
  return text;
}

simdjson::padded_string read_regular_file(const std::string& path, LimitRef limit) {
  return RegularFile(path, path).read_all(limit);
}

CheckpointFiles::CheckpointFiles(const std::string& directory) : directory_(directory) {
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) fail(directory, "not a checkpoint directory");
  auto root = real_path(directory);
  if (!root) fail(directory, std::string("cannot resolve the directory (") + std::strerror(errno) + ")");
  root_ = *root;
  // A Hugging Face cache snapshot, `<cache>/models--org--name/snapshots/<revision>` (or a
  // folder inside it), holds links to `<cache>/models--org--name/blobs/<hash>`: those are the
  // checkpoint's own files.
  for (fs::path snapshot(root_); snapshot.has_relative_path(); snapshot = snapshot.parent_path()) {
    const fs::path snapshots = snapshot.parent_path();
    const fs::path repo = snapshots.parent_path();
    if (snapshots.filename() == "snapshots" && repo.filename().string().rfind("models--", 0) == 0) {
      if (auto blobs = real_path((repo / "blobs").string())) blobs_ = *blobs;
      break;
    }
  }
}

std::string CheckpointFiles::display(std::string_view relative) const {
  return (fs::path(directory_) / fs::path(std::string(relative))).string();
}

std::optional<std::string> CheckpointFiles::find(std::string_view relative) const {
  const std::string shown = display(relative);
  const std::string path = (fs::path(root_) / fs::path(std::string(relative))).string();
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    fail(shown, std::string("cannot read the file (") + std::strerror(errno) + ")");
  }
  auto resolved = real_path(path);
  if (!resolved) fail(shown, "is a symbolic link to a file that does not exist");
  if (!inside(*resolved, root_) && !inside(*resolved, blobs_))
    fail(shown,
         "resolves to a file outside the checkpoint directory; awqmap follows links only to files inside the "
         "checkpoint or inside the blobs/ folder of the Hugging Face cache it belongs to");
  return resolved;
}

}  // namespace awqmap::detail
