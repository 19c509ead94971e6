// The one-pass readers of shard headers and of the shard index (core/src/input/safetensors.cpp)
// read what the simdjson readers read, and refuse what they refuse with the same message. Each
// text is loaded as written and again with the first character of its first key escaped
// (`\u00XX`): the same JSON, which only the general reader takes.
#include <catch2/catch.hpp>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../core/src/word_scan.hpp"
#include "awqmap/checkpoint.hpp"
#include "awqmap/error.hpp"
#include "checkpoint_writer.hpp"
#include "support.hpp"

using namespace awqmap;
namespace fs = std::filesystem;

namespace {

const char* kConfig = R"({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 1})";

// A loaded checkpoint as text (the summary, then each module's name, type and weight shape), or
// the error's message.
std::string outcome(const fs::path& dir) {
  try {
    CheckpointSummary summary;
    ModelView m = load_checkpoint(dir.string(), {}, &summary);
    std::string out = std::to_string(summary.shards) + " shards, " + std::to_string(summary.tensors) + " tensors\n";
    for (const auto& mod : m.modules()) {
      out += std::string(mod.name) + " " + std::string(mod.type);
      for (auto d : mod.shape) out += " " + std::to_string(d);
      out += "\n";
    }
    return out;
  } catch (const InputError& e) {
    return std::string("error: ") + e.what();
  }
}

bool is_error(const std::string& outcome) {
  return outcome.rfind("error: ", 0) == 0;
}

// Where the first key's first character is: after the first quote.
std::size_t first_key_char(const std::string& text) {
  return text.find('"') + 1;
}

// `text` with the first character of its first key written as a \u escape.
std::string escape_first_key(const std::string& text) {
  const std::size_t k = first_key_char(text);
  REQUIRE(k < text.size());
  const auto c = static_cast<unsigned char>(text[k]);
  REQUIRE((c >= 0x20 && c < 0x7f && c != '"' && c != '\\'));
  char escape[8];
  std::snprintf(escape, sizeof escape, "\\u%04x", c);
  return text.substr(0, k) + escape + text.substr(k + 1);
}

// One tensor of a generated header, its numbers as text (leading zeros, any length).
struct Entry {
  std::string name, dtype;
  std::vector<std::string> shape;
  std::string begin, end;
};

// How a generated header or index is spelled.
struct Spelling {
  int space = 0;         // 0: compact (serde_json), 1: ", " and ": " (json.dumps), 2: random whitespace
  int order = 0;         // a permutation of dtype, shape, data_offsets
  int metadata = 0;      // 0: none, 1: first, 2: last, 3: after the first tensor
  std::string trailing;  // after the closing brace
};

class Writer {
 public:
  Writer(const Spelling& s, std::uint32_t seed) : s_(s), rng_(seed) {}

  std::string header(const std::vector<Entry>& tensors) {
    std::vector<std::string> members;
    for (const auto& t : tensors) {
      std::string shape = "[" + ws();
      for (std::size_t i = 0; i < t.shape.size(); ++i) shape += (i ? comma() : "") + t.shape[i];
      shape += ws() + "]";
      const std::string keys[3] = {"\"dtype\"" + colon() + "\"" + t.dtype + "\"", "\"shape\"" + colon() + shape,
                                   "\"data_offsets\"" + colon() + "[" + ws() + t.begin + comma() + t.end + ws() + "]"};
      static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
      std::string entry = "{" + ws();
      for (int i = 0; i < 3; ++i) entry += (i ? comma() : "") + keys[orders[s_.order][i]];
      members.push_back("\"" + t.name + "\"" + colon() + entry + ws() + "}");
    }
    const std::string metadata =
        "\"__metadata__\"" + colon() + "{" + ws() + "\"format\"" + colon() + "\"pt\"" + ws() + "}";
    if (s_.metadata == 1) members.insert(members.begin(), metadata);
    if (s_.metadata == 2) members.push_back(metadata);
    if (s_.metadata == 3) members.insert(members.begin() + std::min<std::ptrdiff_t>(1, members.size()), metadata);
    return object(members) + s_.trailing;
  }

  // An index: metadata (`metadata_first` or after), the weight_map of (tensor, shard) pairs.
  std::string index(const std::vector<std::pair<std::string, std::string>>& map, const std::string& metadata_text) {
    std::vector<std::string> entries;
    for (const auto& [tensor, shard] : map) entries.push_back("\"" + tensor + "\"" + colon() + "\"" + shard + "\"");
    std::vector<std::string> members = {"\"weight_map\"" + colon() + object(entries)};
    const std::string metadata = "\"metadata\"" + colon() + metadata_text;
    if (s_.metadata == 1) members.insert(members.begin(), metadata);
    if (s_.metadata >= 2) members.push_back(metadata);
    return object(members) + s_.trailing;
  }

 private:
  Spelling s_;
  std::mt19937 rng_;

  std::string ws() {
    static const char* spaces[] = {"", " ", "\n", "\t", "\r\n  ", "  "};
    return s_.space == 2 ? spaces[rng_() % 6] : "";
  }
  std::string colon() { return ws() + ":" + (s_.space == 1 ? " " : ws()); }
  std::string comma() { return ws() + "," + (s_.space == 1 ? " " : ws()); }
  std::string object(const std::vector<std::string>& members) {
    std::string out = "{" + ws();
    for (std::size_t i = 0; i < members.size(); ++i) out += (i ? comma() : "") + members[i];
    return out + ws() + "}";
  }
};

// Tensors laid out back to back from offset 0, each `bytes` long, 2-D weights unless given.
std::vector<Entry> tensors_of(const std::vector<std::pair<std::string, std::vector<std::uint64_t>>>& spec,
                              const std::string& dtype, std::uint64_t& data_size) {
  std::vector<Entry> out;
  data_size = 0;
  for (const auto& [name, shape] : spec) {
    std::uint64_t n = test::dtype_bytes(dtype);
    Entry t{name, dtype, {}, std::to_string(data_size), ""};
    for (auto d : shape) {
      n *= d;
      t.shape.push_back(std::to_string(d));
    }
    data_size += n;
    t.end = std::to_string(data_size);
    out.push_back(t);
  }
  return out;
}

// Loads `header` as a shard, and again with its first key escaped, in the same directory (the
// messages name it); both outcomes.
struct ShardDir {
  test::TempDir dir;
  ShardDir() { std::ofstream(dir.path / "config.json") << kConfig; }
  std::string load(const std::string& header, std::uint64_t data_size) {
    test::write_shard(dir.path / "model.safetensors", header, data_size);
    return outcome(dir.path);
  }
};

}  // namespace

TEST_CASE("shard headers in every spelling read as the general reader reads them") {
  ShardDir shard;
  std::uint64_t data_size;
  const std::vector<Entry> base = tensors_of({{"model.embed_tokens.weight", {16, 8}},
                                              {"model.layers.0.self_attn.q_proj.weight", {8, 8}},
                                              {"model.layers.0.self_attn.q_proj.bias", {8}},
                                              {"model.layers.0.mlp.experts.0.up_proj.weight", {12, 8}},
                                              {"model.norm.weight", {8}},
                                              {"lm_head.weight", {16, 8}}},
                                             "BF16", data_size);
  std::size_t cases = 0;
  for (int space = 0; space < 3; ++space)
    for (int order = 0; order < 6; ++order)
      for (int metadata = 0; metadata < 4; ++metadata)
        for (const char* trailing : {"", "   ", " \n\t\r"}) {
          Writer w({space, order, metadata, trailing}, static_cast<std::uint32_t>(cases));
          const std::string h = w.header(base);
          INFO(h);
          const std::string fast = shard.load(h, data_size);
          CHECK_FALSE(is_error(fast));
          CHECK(fast.find("model.layers.0.mlp.experts.0.up_proj Linear 12 8") != std::string::npos);
          CHECK(fast == shard.load(escape_first_key(h), data_size));
          // One byte of data short: the last tensor's end is past it.
          const std::string short_data = shard.load(h, data_size - 1);
          CHECK(short_data.find("tensor 'lm_head.weight': data_offsets end at " + std::to_string(data_size) +
                                ", past the " + std::to_string(data_size - 1) + " bytes") != std::string::npos);
          CHECK(short_data == shard.load(escape_first_key(h), data_size - 1));
          ++cases;
        }
  CHECK(cases == 216);
}

TEST_CASE("shard header entries at the edges of the plain reader read as the general reader reads them") {
  ShardDir shard;
  auto t = [](std::string name, std::string dtype, std::vector<std::string> shape, std::string begin, std::string end) {
    return Entry{std::move(name), std::move(dtype), std::move(shape), std::move(begin), std::move(end)};
  };
  const std::string big18 = "999999999999999999", big19 = "1000000000000000000", big20 = "18446744073709551616";
  // Each list is a header of its own: the first entry plain, so that the text's first key can be
  // escaped; the second the case.
  const std::vector<std::vector<Entry>> headers = {
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {}, "16", "18")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"0", "8"}, "16", "16")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"0", big18}, "16", "16")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"0", big19}, "16", "16")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"0", big20}, "16", "16")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"0", "9223372036854775807"}, "16", "16")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"0", "9223372036854775808"}, "16", "16")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {big18, big18}, "16", "16")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"2", "2"}, "16", big18)},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"2", "2"}, "16", big19)},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"2", "2"}, "016", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"02", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"2", "2"}, "00", "8")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"2.0", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"-2", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"2e0", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"2", "2"}, "24", "16")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16", {"2", "3"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "F4", {"3"}, "16", "18")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "F6_E2M3", {"4"}, "16", "19")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF17", {"2"}, "16", "20")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "", {"2"}, "16", "20")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "F8_E4M3X", {"2"}, "16", "18")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF16\\u0000", {"2"}, "16", "20")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "BF\\u0031\\u0036", {"2"}, "16", "20")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("", "BF16", {"2"}, "16", "20")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b\\u002eweight", "BF16", {"2", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b\\\"q.weight", "BF16", {"2", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b\xc3\xa9.weight", "BF16", {"2", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b\xff.weight", "BF16", {"2", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b\x7f.weight", "BF16", {"2", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b\t.weight", "BF16", {"2", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("__metadata__", "BF16", {"2", "2"}, "16", "24")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("a.weight", "BF16", {"2", "2"}, "16", "24")},
      // Spans out of header order: apart, nested, overlapping, touching, empty inside another.
      {t("a.weight", "F32", {"2", "2"}, "8", "24"), t("b.weight", "F32", {"2"}, "0", "8")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "F32", {"1"}, "4", "8")},
      {t("a.weight", "F32", {"2", "2"}, "8", "24"), t("b.weight", "F32", {"4"}, "0", "16")},
      {t("a.weight", "F32", {"2", "2"}, "0", "16"), t("b.weight", "F32", {"0"}, "8", "8")},
      {t("a.weight", "F32", {"2", "2"}, "16", "32"), t("b.weight", "F32", {"2", "2"}, "0", "16"),
       t("c.weight", "F32", {"1"}, "20", "24")},
      {t("a.weight", "F32", {"2", "2"}, "16", "32"), t("b.weight", "F32", {"2", "2"}, "0", "16"),
       t("c.weight", "F32", {"2", "2"}, "32", "48")},
  };
  std::size_t valid = 0, compared = 0;
  for (const auto& tensors : headers)
    for (int space = 0; space < 3; ++space)
      for (int order : {0, 4}) {
        Writer w({space, order, space, ""}, 5);
        const std::string h = w.header(tensors);
        INFO(h);
        const std::string fast = shard.load(h, 64);
        CHECK(fast == shard.load(escape_first_key(h), 64));
        valid += !is_error(fast);
        ++compared;
      }
  CHECK(compared == headers.size() * 6);
  CHECK(valid > compared / 4);
  // Some of the outcomes, as they must read.
  Writer compact({0, 0, 0, ""}, 1);
  CHECK(shard.load(compact.header(headers[3]), 64).find("b Linear 0 1000000000000000000") != std::string::npos);
  CHECK(shard.load(compact.header(headers[6]), 64) ==
        "error: " + (shard.dir.path / "model.safetensors").string() +
            ": tensor 'b.weight': shape must be a list of non-negative integers");
  CHECK(shard.load(compact.header(headers[20]), 64) ==
        "error: " + (shard.dir.path / "model.safetensors").string() + ": tensor 'b.weight': unknown dtype 'BF17'");
  CHECK(shard.load(compact.header(headers[35]), 64) ==
        "error: " + (shard.dir.path / "model.safetensors").string() +
            ": tensors 'a.weight' and 'b.weight' overlap in the data section");
  CHECK(shard.load(compact.header(headers[38]), 64) ==
        "error: " + (shard.dir.path / "model.safetensors").string() +
            ": tensors 'a.weight' and 'c.weight' overlap in the data section");
  CHECK_FALSE(is_error(shard.load(compact.header(headers[39]), 64)));
}

TEST_CASE("every dtype reads alike in both shard header readers") {
  ShardDir shard;
  const std::pair<const char*, int> dtypes[] = {
      {"BOOL", 8}, {"U8", 8},   {"I8", 8},    {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
      {"U16", 16}, {"F16", 16}, {"BF16", 16}, {"I32", 32},    {"U32", 32},    {"F32", 32},    {"I64", 64},
      {"U64", 64}, {"F64", 64}, {"F4", 4},    {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"C64", 64},
  };
  for (const auto& [dtype, bits] : dtypes)
    for (int numel : {4, 5, 8}) {
      const std::uint64_t bytes = static_cast<std::uint64_t>(numel) * bits / 8;
      // A whole number of bytes or not; data_offsets that fit or are one byte long.
      for (std::uint64_t size : {bytes, bytes + 1}) {
        const std::vector<Entry> tensors = {
            {"a.weight", "F32", {"1", "1"}, "0", "4"},
            {"b.weight", dtype, {"1", std::to_string(numel)}, "4", std::to_string(4 + size)}};
        for (int space = 0; space < 2; ++space) {
          const std::string h = Writer({space, 0, 0, ""}, 1).header(tensors);
          INFO(h);
          const std::string fast = shard.load(h, 128);
          CHECK(fast == shard.load(escape_first_key(h), 128));
          CHECK(is_error(fast) == (size != bytes || numel * bits % 8 != 0));
        }
      }
    }
}

TEST_CASE(
    "a shard header cut at every byte or with a bad byte at every position reads as the general reader reads it") {
  ShardDir shard;
  std::uint64_t data_size;
  const std::vector<Entry> tensors = tensors_of(
      {{"model.layers.0.self_attn.q_proj.weight", {8, 8}}, {"model.norm.weight", {8}}, {"lm_head.weight", {1, 8}}},
      "BF16", data_size);
  const unsigned char bad[] = {0,   ' ', '\n', '"', '\\', ',', ':', '{',  '}',  '[',  ']',  '0',
                               '1', '9', '-',  '.', 'e',  'a', 'F', 0x7f, 0x80, 0xc3, 0xff, 0x1f};
  std::size_t valid = 0, compared = 0;
  for (int space = 0; space < 3; ++space) {
    const std::string h = Writer({space, space == 2 ? 3 : 0, space, "  "}, 9).header(tensors);
    const std::string g = escape_first_key(h);
    const std::size_t k = first_key_char(h);
    for (std::size_t cut = k + 1; cut < h.size(); ++cut) {
      INFO(h.substr(0, cut));
      const std::string fast = shard.load(h.substr(0, cut), data_size);
      CHECK(fast == shard.load(g.substr(0, cut + 5), data_size));
      ++compared;
    }
    for (std::size_t at = k + 1; at < h.size(); ++at)
      for (unsigned char b : bad) {
        std::string fh = h, gh = g;
        fh[at] = static_cast<char>(b);
        gh[at + 5] = static_cast<char>(b);
        INFO(fh);
        const std::string fast = shard.load(fh, data_size);
        CHECK(fast == shard.load(gh, data_size));
        valid += !is_error(fast);
        ++compared;
      }
  }
  CHECK(compared > 10000);
  CHECK(valid > 100);  // bytes in names, spaces, digits of a dim that keep the sizes right
}

TEST_CASE("the wide printable prefix stops where the byte-by-byte reading stops") {
  // Every byte value at every position of strings of 0 to 80 bytes (the 32-byte steps and the
  // tail), the rest printable.
  auto printable = [](std::string_view s) {
    std::size_t i = 0;
    for (; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') break;
    }
    return i;
  };
  std::size_t mismatches = 0, stops = 0;
  for (std::size_t len = 0; len <= 80; ++len)
    for (std::size_t at = 0; at < std::max<std::size_t>(len, 1); ++at)
      for (int b = 0; b < 256; ++b) {
        std::string s(len, 'a');
        for (std::size_t i = 0; i < len; ++i) s[i] = static_cast<char>(0x20 + (i * 7) % 95);  // all printable
        for (char& c : s)
          if (c == '"' || c == '\\') c = 'x';
        if (at < len) s[at] = static_cast<char>(b);
        const std::size_t want = printable(s);
        if (detail::printable_json_prefix_wide(s) != want) ++mismatches;
        stops += want < len;
      }
  CHECK(mismatches == 0);
  CHECK(stops > 100000);
}

namespace {

// A checkpoint directory with shards one.safetensors ... four.safetensors and two with names of
// 34 and 52 bytes (one tensor each, `<shard>.weight`), and an index written for each case.
const char* kLongShard = "shard-name-of-34-bytes";  // 34 bytes with ".safetensors"
const char* kLongerShard = "model-00001-of-00002-a-shard-of-52-bytes";
struct IndexDir {
  test::TempDir dir;
  IndexDir() {
    std::ofstream(dir.path / "config.json") << kConfig;
    for (const char* shard : {"one", "two", "three", "four", kLongShard, kLongerShard}) {
      std::uint64_t size;
      const std::string header = test::safetensors_header(
          nlohmann::json::array({{{"name", std::string(shard) + ".weight"}, {"shape", {2, 2}}, {"dtype", "BF16"}}}),
          size);
      test::write_shard(dir.path / (std::string(shard) + ".safetensors"), header, size);
    }
  }
  std::string load(const std::string& index) {
    std::ofstream(dir.path / "model.safetensors.index.json", std::ios::binary) << index;
    return outcome(dir.path);
  }
};

}  // namespace

TEST_CASE("shard indexes in every spelling read as the general reader reads them") {
  IndexDir ckpt;
  // Shards grouped and not, repeated later, missing (the message names the first missing one in
  // order of first appearance), names the index may not use.
  const std::vector<std::vector<std::string>> maps = {
      {"one.safetensors", "one.safetensors", "two.safetensors", "two.safetensors"},
      {"two.safetensors", "one.safetensors", "two.safetensors", "three.safetensors", "one.safetensors"},
      {"four.safetensors", "x.safetensors", "four.safetensors", "y.safetensors"},
      {"one.safetensors", "y.safetensors", "x.safetensors", "y.safetensors"},
      {"one.safetensors", "two.safetensors", "../one.safetensors"},
      {"one.safetensors", ""},
      {"one.safetensors", "/abs.safetensors"},
      {"one.safetensors", "two\\u002esafetensors"},
      {"one.safetensors", "t\\u0077o.safetensors", "two.safetensors", "three.safetensors"},
      {"one.safetensors", "one.safetensor", "one.safetensorss"},
      {"one.safetensors", "\xc3\xa9.safetensors"},
      {"shard-name-of-34-bytes.safetensors", "shard-name-of-34-bytes.safetensors", "one.safetensors",
       "model-00001-of-00002-a-shard-of-52-bytes.safetensors", "model-00001-of-00002-a-shard-of-52-bytes.safetensors",
       "model-00001-of-00002-a-shard-of-52-bytes.safetensorz", "shard-name-of-34-bytes.safetensorz"},
      {"model-00001-of-00002-a-shard-of-52-bytes.safetensors", "model-00001-of-00002-a-shard-of-52-bytes.safetensors",
       "model-00001-of-00002-a-shard-of-52-bytez.safetensors", "x"},
      {},
  };
  const std::vector<std::string> metadata = {R"({"total_size": 32})",
                                             "{}",
                                             R"({"total_size": 32, "format": "pt"})",
                                             R"({"total_size": 0})",
                                             R"({"total_size": 012})",
                                             R"({"total_size": 3.5})",
                                             R"({"nested": {"a": 1}})",
                                             R"({"total_size": 123456789012345678901})",
                                             R"(["list"])",
                                             "null"};
  std::size_t valid = 0, compared = 0;
  for (std::size_t m = 0; m < maps.size(); ++m)
    for (std::size_t md = 0; md < metadata.size(); ++md)
      for (int space = 0; space < 3; ++space)
        for (int where = 0; where < 3; ++where) {
          std::vector<std::pair<std::string, std::string>> map;
          for (std::size_t i = 0; i < maps[m].size(); ++i)
            map.emplace_back(
                ((m == 3 || m == 7) && i == 1 ? "model.t\\u0065nsor." : "model.tensor.") + std::to_string(i),
                maps[m][i]);
          const std::string text =
              Writer({space, 0, where, space ? "\n" : ""}, static_cast<std::uint32_t>(m)).index(map, metadata[md]);
          INFO(text);
          const std::string fast = ckpt.load(text);
          CHECK(fast == ckpt.load(escape_first_key(text)));
          valid += !is_error(fast);
          ++compared;
        }
  CHECK(valid > compared / 10);
  // As they must read: in transformers' spelling, and with a missing shard.
  const std::string transformers =
      "{\n  \"metadata\": {\n    \"total_size\": 32\n  },\n  \"weight_map\": {\n"
      "    \"a\": \"two.safetensors\",\n    \"b\": \"one.safetensors\",\n"
      "    \"c\": \"two.safetensors\"\n  }\n}\n";
  const std::string read = ckpt.load(transformers);
  CHECK(read.rfind("2 shards, 2 tensors\n", 0) == 0);
  CHECK(read == ckpt.load(escape_first_key(transformers)));
  std::string missing = transformers;
  missing.replace(missing.find("one"), 3, "six");
  CHECK(ckpt.load(missing) == "error: " + (ckpt.dir.path / "model.safetensors.index.json").string() +
                                  ": names shard 'six.safetensors', which is not in " + ckpt.dir.path.string());
  CHECK(ckpt.load("{\"metadata\": {}}") ==
        "error: " + (ckpt.dir.path / "model.safetensors.index.json").string() + ": no weight_map");
  CHECK(ckpt.load("{\"weight_map\": {}, \"weight_map\": {\"a\": \"one.safetensors\"}}")
            .rfind("1 shards, 1 tensors\n", 0) == 0);
}

TEST_CASE("a shard index cut at every byte or with a bad byte at every position reads as the general reader reads it") {
  IndexDir ckpt;
  const std::vector<std::pair<std::string, std::string>> map = {{"model.a", "two.safetensors"},
                                                                {"model.b", "two.safetensors"},
                                                                {"model.c", "one.safetensors"},
                                                                {"model.d", "two.safetensors"},
                                                                {"model.e", "four.safetensors"}};
  const unsigned char bad[] = {0,   ' ', '\n', '"', '\\', ',', ':',  '{',  '}',
                               '[', ']', '0',  '9', 'a',  'o', 0x7f, 0x80, 0xff};
  std::size_t valid = 0, compared = 0;
  for (int space = 0; space < 3; ++space) {
    const std::string text = Writer({space, 0, 1 + space % 2, "\n"}, 3).index(map, R"({"total_size": 40})");
    const std::string g = escape_first_key(text);
    const std::size_t k = first_key_char(text);
    for (std::size_t cut = k + 1; cut < text.size(); ++cut) {
      INFO(text.substr(0, cut));
      CHECK(ckpt.load(text.substr(0, cut)) == ckpt.load(g.substr(0, cut + 5)));
      ++compared;
    }
    for (std::size_t at = k + 1; at < text.size(); ++at)
      for (unsigned char b : bad) {
        std::string ft = text, gt = g;
        ft[at] = static_cast<char>(b);
        gt[at + 5] = static_cast<char>(b);
        INFO(ft);
        const std::string fast = ckpt.load(ft);
        CHECK(fast == ckpt.load(gt));
        valid += !is_error(fast);
        ++compared;
      }
  }
  CHECK(compared > 4000);
  CHECK(valid > 100);  // bytes in tensor names, whitespace
}
