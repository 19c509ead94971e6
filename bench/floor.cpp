// The parse floor: the least any reader of an awqmap.model/v1 description must do. It maps the
// file and walks every module record with simdjson On-Demand, viewing each field's value, and
// prints how many records and name bytes it saw. `awqmap resolve` is measured against this
// program's whole-process time (bench/compare.py).
//
//     awqmap_floor MODEL.json
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace od = simdjson::ondemand;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: awqmap_floor MODEL.json\n");
    return 2;
  }
  const int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size == 0) {
    std::fprintf(stderr, "awqmap_floor: cannot read %s: %s\n", argv[1], std::strerror(errno));
    return 3;
  }
  const std::size_t size = static_cast<std::size_t>(st.st_size);
  // simdjson reads up to SIMDJSON_PADDING bytes past the end. The rest of the file's last page
  // reads as zeros, so the mapping serves when that rest is long enough; otherwise (rarely) the
  // file is read into a padded copy.
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t room = (page - size % page) % page;
  simdjson::padded_string copy;
  simdjson::padded_string_view text;
  if (room >= simdjson::SIMDJSON_PADDING) {
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (map == MAP_FAILED) {
      std::fprintf(stderr, "awqmap_floor: cannot map %s: %s\n", argv[1], std::strerror(errno));
      return 3;
    }
    text = simdjson::padded_string_view(static_cast<const char*>(map), size, size + room);
  } else {
    auto loaded = simdjson::padded_string::load(argv[1]);
    if (loaded.error()) {
      std::fprintf(stderr, "awqmap_floor: cannot read %s\n", argv[1]);
      return 3;
    }
    copy = std::move(loaded).value_unsafe();
    text = copy;
  }
  od::parser parser;
  std::size_t records = 0, name_bytes = 0, numbers = 0;
  try {
    od::document doc = parser.iterate(text);
    for (auto field : doc.get_object()) {
      std::string_view key = field.unescaped_key();
      if (key != "modules") continue;
      for (od::object record : field.value().get_array()) {
        ++records;
        for (auto f : record) {
          std::string_view k = f.unescaped_key();
          od::value v = f.value();
          if (k == "name" || k == "type") {
            name_bytes += std::string_view(v.get_string()).size();
          } else if (k == "in_features" || k == "out_features") {
            numbers += static_cast<std::size_t>(std::int64_t(v.get_int64()));
          } else if (k == "shape" || k == "bases") {
            for (auto item : v.get_array()) numbers += std::string_view(item.raw_json_token()).size();
          }
        }
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    std::fprintf(stderr, "awqmap_floor: %s: %s\n", argv[1], e.what());
    return 3;
  }
  std::printf("%zu records, %zu name bytes, %zu\n", records, name_bytes, numbers);
  return 0;
}
