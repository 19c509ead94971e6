#include "awqmap/model_description.hpp"

#include <simdjson.h>

#include <cstring>
#include <deque>
#include <functional>
#include <type_traits>

#include "awqmap/error.hpp"
#include "input/description_scan.hpp"
#include "input/file_access.hpp"
#include "input/printable.hpp"
#include "input/python_json.hpp"
#include "model_parts.hpp"
#include "word_scan.hpp"

namespace awqmap {
namespace {

namespace od = simdjson::ondemand;

// Everything the views in a described model point into: the text, read into memory the
// model owns (a mapping of the user's file would die with SIGBUS when the file is truncated
// while the model lives), and the parser's string buffer.
struct DescriptionStorage {
  detail::PaddedText text;
  std::deque<std::string> unescaped;  // strings with escapes, decoded (a deque never moves them)
};

class Reader {
 public:
  Reader(const std::string& origin, std::size_t text_size, std::deque<std::string>& unescaped)
      : origin_(origin), text_size_(text_size), unescaped_(unescaped) {}

  [[noreturn]] void fail(const std::string& what) const { throw InputError(origin_ + ": " + what); }
  void check(simdjson::error_code ec, const std::string& what) const {
    if (ec == simdjson::SUCCESS) return;
    // A wrong type is the item's fault; anything else means the text is not valid JSON.
    if (ec == simdjson::INCORRECT_TYPE || ec == simdjson::NUMBER_OUT_OF_RANGE || ec == simdjson::NUMBER_ERROR)
      fail(what);
    fail(std::string("invalid JSON: ") + simdjson::error_message(ec) + " (while reading " + what + ")");
  }

  // `what` is a string or a callable that makes one: messages are built only on failure,
  // since this runs for every field of every module.
  template <class T, class R, class What>
  T get(R&& result, const What& what) const {
    T out{};
    auto ec = std::forward<R>(result).get(out);
    if (ec != simdjson::SUCCESS) {
      if constexpr (std::is_invocable_v<What>)
        check(ec, what());
      else
        check(ec, what);
    }
    return out;
  }

  // A string without escapes is viewed in place in the input text (no copy); others are
  // decoded into the storage. Either way the view lives as long as the storage, and the
  // parser (whose index takes four bytes per input byte) can go once the records are read.
  template <class What>
  std::string_view string_view_of(od::value& v, const What& what) const {
    std::string_view token = v.raw_json_token();
    if (token.size() >= 2 && token[0] == '"') {
      const std::size_t end = 1 + detail::plain_json_prefix(token.substr(1));
      if (end < token.size() && token[end] == '"') return token.substr(1, end - 1);
    }
    return unescaped_.emplace_back(get<std::string_view>(v.get_string(), what));
  }

  // The key's text up to its closing quote; a key with escapes compares unequal to ours.
  static std::string_view raw_key_view(const od::raw_json_string& key) {
    const char* p = key.raw();
    std::size_t n = 0;
    while (p[n] != '"' && p[n] != '\\') ++n;
    return std::string_view(p, n);
  }

  std::int64_t non_negative(od::value v, std::size_t index, const char* field) const {
    auto what = [&] { return "modules[" + std::to_string(index) + "]." + field; };
    std::int64_t n = get<std::int64_t>(v.get_int64(), [&] { return what() + " must be an integer"; });
    if (n < 0) fail(what() + " must not be negative");
    return n;
  }

  Module module(od::value record, std::size_t index) const {
    struct Item {
      std::size_t index;
      const char* suffix;
      std::string operator()() const { return "modules[" + std::to_string(index) + "]" + suffix; }
    };
    auto item_text = [&] { return Item{index, ""}(); };
    od::object obj = get<od::object>(record.get_object(), Item{index, " must be an object"});
    Module m;
    bool has_name = false, has_type = false;
    for (auto field_result : obj) {
      od::field field = get<od::field>(std::move(field_result), Item{index, ""});
      // Keys compared in place: a key with escapes is not one of ours anyway.
      od::raw_json_string raw_key = field.key();
      std::string_view key = raw_key_view(raw_key);
      od::value v = field.value();
      if (key == "name") {
        m.name = string_view_of(v, Item{index, ".name must be a string"});
        has_name = true;
      } else if (key == "type") {
        m.type = string_view_of(v, Item{index, ".type must be a string"});
        has_type = true;
      } else if (key == "bases") {
        const Item bad{index, ".bases must be a list of strings"};
        od::array arr = get<od::array>(v.get_array(), bad);
        for (auto b : arr) {
          od::value base = get<od::value>(std::move(b), bad);
          m.bases.push_back(string_view_of(base, bad));
        }
      } else if (key == "in_features") {
        m.in_features = non_negative(v, index, "in_features");
      } else if (key == "out_features") {
        m.out_features = non_negative(v, index, "out_features");
      } else if (key == "shape") {
        od::array arr = get<od::array>(v.get_array(), Item{index, ".shape must be a list of integers"});
        for (auto d : arr) m.shape.push_back(non_negative(d.value(), index, "shape entries"));
      }
      // Other fields (bias, num_embeddings, ...) are informative and skipped.
    }
    if (!has_name) fail(item_text() + " has no \"name\"");
    if (!has_type) fail(item_text() + " ('" + std::string(m.name) + "') has no \"type\"");
    return m;
  }

  ModelParts parse(od::document& doc) const {
    ModelParts parts;
    parts.origin = origin_;
    od::object root = get<od::object>(doc.get_object(), "not a JSON object (expected an awqmap.model/v1 description)");
    bool has_format = false, has_arch = false, has_modules = false;
    for (auto field_result : root) {
      od::field field = get<od::field>(std::move(field_result), "the top-level object");
      std::string_view key = get<std::string_view>(field.unescaped_key(), "a top-level key");
      od::value v = field.value();
      if (key == "format") {
        std::string_view f = get<std::string_view>(v.get_string(), "\"format\" must be a string");
        if (f != "awqmap.model/v1") fail("format is '" + std::string(f) + "', expected 'awqmap.model/v1'");
        has_format = true;
      } else if (key == "architecture") {
        parts.architecture = std::string(get<std::string_view>(v.get_string(), "\"architecture\" must be a string"));
        has_arch = true;
      } else if (key == "config") {
        od::object cfg = get<od::object>(v.get_object(), "\"config\" must be an object");
        std::string_view raw = get<std::string_view>(cfg.raw_json(), "\"config\"");
        parts.config = detail::parse_python_json(raw, origin_ + " \"config\"");
      } else if (key == "modules") {
        od::array arr = get<od::array>(v.get_array(), "\"modules\" must be a list");
        parts.modules.reserve(text_size_ / 80);  // a module record takes ~80-120 bytes
        std::size_t i = 0;
        for (auto rec : arr) {
          od::value value = get<od::value>(std::move(rec), [&] { return "modules[" + std::to_string(i) + "]"; });
          parts.modules.push_back(module(value, i++));
        }
        has_modules = true;
      }
    }
    if (!doc.current_location().error()) fail("invalid JSON: trailing content after the document");
    if (!has_format) fail("no \"format\" field; expected \"format\": \"awqmap.model/v1\"");
    if (!has_arch) fail("no \"architecture\" field");
    if (!has_modules) fail("no \"modules\" list");
    return parts;
  }

 private:
  const std::string& origin_;
  std::size_t text_size_;
  std::deque<std::string>& unescaped_;
};

// The scanner's reading into parts; false when the config reader refuses the config, so
// that the full reader reports it as it always has.
bool parts_from_scan(detail::ScannedDescription& scanned, const std::string& origin, ModelParts& parts) {
  ModelParts out;
  out.origin = origin;
  out.architecture = std::move(scanned.architecture);
  if (!scanned.config.empty()) {
    try {
      out.config = detail::parse_python_json(scanned.config, origin + " \"config\"");
    } catch (const std::exception&) {
      return false;
    }
  }
  out.modules = std::move(scanned.modules);
  out.tree = std::make_unique<ModelParts::Tree>(std::move(scanned.tree));
  out.storage = std::move(scanned.strings);
  out.plain_names = true;  // the scanner takes ASCII text and gives up on escapes and control bytes
  parts = std::move(out);
  return true;
}

// The scanner's reading of a description in the common shape, without the JSON parser and its
// index (four bytes per input byte); false when the full reader must read it. The text of the
// records read so far goes back to the system as the scanner moves on (when the text has pages
// of its own): the records copy what they keep.
bool read_common_shape(DescriptionStorage& storage, const std::string& origin, ModelParts& parts) {
  detail::ScannedDescription scanned;
  auto drop = [](void* text, const char* from, const char* to) {
    static_cast<detail::PaddedText*>(text)->drop_pages(from, to);
  };
  return detail::scan_description(std::string_view(storage.text.data(), storage.text.size()), scanned, drop,
                                  &storage.text) &&
         parts_from_scan(scanned, origin, parts);
}

// A large file in the common shape, read by the scanner a window at a time: the text is never
// whole in memory, and the window, reused, stays in the cache. A record takes ~100 bytes; the
// margin leaves room for any real one, and the scanner gives up on a longer one.
constexpr std::size_t kWindow = 512u << 10, kMargin = 64u << 10;
bool read_common_shape(const detail::RegularFile& file, const std::string& origin, ModelParts& parts) {
  auto read = [](void* context, std::uint64_t offset, char* to, std::size_t n) {
    static_cast<const detail::RegularFile*>(context)->read_at(offset, to, n);
  };
  const detail::DescriptionScanner::Source source{read, const_cast<detail::RegularFile*>(&file), file.size()};
  detail::ScannedDescription scanned;
  return detail::scan_description(source, kWindow, kMargin, scanned) && parts_from_scan(scanned, origin, parts);
}

// `refill` writes the text again where it was, for the full reader when the scanner gave up
// after letting some of it go.
// `scanned`: the scanner has read this text already and given up.
ModelView parse_owned(std::shared_ptr<DescriptionStorage> storage, const std::string& origin,
                      const std::function<void(detail::PaddedText&)>& refill,
                      const std::optional<std::string>& architecture = std::nullopt, bool scanned = false) {
  Reader reader(origin, storage->text.size(), storage->unescaped);
  ModelParts parts;
  if (!scanned && read_common_shape(*storage, origin, parts)) {
    storage.reset();  // the records own their strings: the text goes before the tables are built
  } else {
    if (storage->text.dropped()) refill(storage->text);
    od::parser parser;
    od::document doc;
    reader.check(parser.iterate(storage->text.view()).get(doc), "the document");
    try {
      parts = reader.parse(doc);
    } catch (const simdjson::simdjson_error& e) {
      reader.fail(std::string("invalid JSON (") + e.what() + ")");
    }
  }
  if (storage) parts.storage = std::move(storage);
  if (architecture) parts.architecture = *architecture;
  return make_model_view(std::move(parts));
}

}  // namespace

ModelView load_model_description(const std::string& path, const std::optional<std::string>& architecture,
                                 const InputLimits& limits) {
  const detail::RegularFile file(path, path);
  const detail::LimitRef limit{"max_description_bytes", limits.max_description_bytes};
  file.check_size(limit);
  const std::string origin = detail::printable(path);
  const bool windowed = file.size() >= 2 * kWindow;
  if (windowed) {
    ModelParts parts;
    if (read_common_shape(file, origin, parts)) {
      if (architecture) parts.architecture = *architecture;
      return make_model_view(std::move(parts));
    }
  }
  auto storage = std::make_shared<DescriptionStorage>();
  storage->text = file.read_text(limit);
  auto refill = [&file](detail::PaddedText& text) { file.read_at(0, text.data(), text.size()); };
  return parse_owned(std::move(storage), origin, refill, architecture, windowed);
}

ModelView parse_model_description(std::string_view json, const std::string& origin) {
  auto storage = std::make_shared<DescriptionStorage>();
  storage->text = detail::PaddedText(json.size());
  auto refill = [json](detail::PaddedText& text) {
    if (!json.empty()) std::memcpy(text.data(), json.data(), json.size());
  };
  refill(storage->text);
  return parse_owned(std::move(storage), origin, refill);
}

}  // namespace awqmap
