// Scans over every module that take a shortcut give what the plain reading of their rule gives.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "awqmap/registry.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/toolkit.hpp"
#include "../core/src/match_table.hpp"
#include "../core/src/word_scan.hpp"
#include "model_builder.hpp"

using namespace awqmap;

namespace {

// docs/semantics.md §4.1 step 4 read literally: every name containing ".linear_attn.", the text
// after its last "linear_attn." when that starts with "in_proj_", first-seen order, no repeats.
std::vector<std::string> projections_by_the_rule(const ModelView& model) {
  std::vector<std::string> out;
  for (const Module& m : model.modules()) {
    const std::string name(m.name);
    if (name.find(".linear_attn.") == std::string::npos) continue;
    const std::string tail = name.substr(name.rfind("linear_attn.") + 12);
    if (tail.rfind("in_proj_", 0) == 0 && std::find(out.begin(), out.end(), tail) == out.end()) out.push_back(tail);
  }
  return out;
}

// Upstream's get_lowest_common_ancestor_name: p = commonprefix(["." + min + ".", "." + max + "."]),
// then p[1 : p.rfind(".")], over the names as strings.
std::string ancestor_by_upstream(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  const std::string lo = "." + *std::min_element(names.begin(), names.end()) + ".";
  const std::string hi = "." + *std::max_element(names.begin(), names.end()) + ".";
  std::size_t n = 0;
  while (n < lo.size() && n < hi.size() && lo[n] == hi[n]) ++n;
  const std::string p = lo.substr(0, n);
  const std::size_t dot = p.rfind('.');
  return dot == 0 ? "" : p.substr(1, dot - 1);
}

}  // namespace

TEST_CASE("linear attention projections are found at any depth and only below a non-top-level linear_attn") {
  test::ModelBuilder b("Qwen3NextForCausalLM");
  for (const char* name : {"model.layers.0.linear_attn.in_proj_qkvz", "model.layers.0.linear_attn.in_proj_ba",
                           "model.layers.1.linear_attn.in_proj_qkvz", "linear_attn.in_proj_top",
                           ".linear_attn.in_proj_empty_first", "a.linear_attn.x.blinear_attn.in_proj_last",
                           "b.linear_attn.in_proj_deep.sub", "c.linear_attnx.in_proj_not",
                           "d.xlinear_attn.in_proj_not_either", "e.linear_attn.out_proj", "e.linear_attn.in_proj_e"})
    b.linear(name);
  const ModelView model = b.build();
  const std::vector<std::string> found = toolkit::linear_attention_projections(model);
  CHECK(found == projections_by_the_rule(model));
  CHECK(found == std::vector<std::string>{"in_proj_qkvz", "in_proj_ba", "in_proj_empty_first", "in_proj_last",
                                          "in_proj_deep", "in_proj_deep.sub", "in_proj_e"});
}

TEST_CASE("the lowest common ancestor of many names is upstream's for names that sort around their dots") {
  // Bytes around '.' (0x2e) in sort order, '-' below it and '/' above, and a high byte: the
  // smallest and largest names are not the smallest and largest dotted names.
  const std::string alphabet = "ab.-/\xc3";
  std::mt19937 random(7);
  std::size_t differing_from_first = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::string> names(1 + random() % 5);
    for (auto& name : names) {
      name = "model.x";
      for (std::size_t k = random() % 6; k > 0; --k) name += alphabet[random() % alphabet.size()];
    }
    const std::vector<std::string_view> views(names.begin(), names.end());
    std::string shown;
    for (const auto& name : names) shown += "'" + name + "' ";
    INFO(shown);
    const std::string expected = ancestor_by_upstream(names);
    CHECK(std::string(lowest_common_ancestor(views)) == expected);
    differing_from_first += expected != names[0];
  }
  CHECK(differing_from_first > 1000);
}

TEST_CASE("the JSON text prefixes stop at the first byte a byte-by-byte reading stops at") {
  // Every byte value at every position of strings of 0 to 40 bytes (the 16- and 8-byte steps and
  // the tail), the rest plain letters.
  auto plain = [](std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && s[i] != '"' && s[i] != '\\' && static_cast<unsigned char>(s[i]) >= 0x20) ++i;
    return i;
  };
  auto printable = [](std::string_view s) {
    std::size_t i = 0;
    for (; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') break;
    }
    return i;
  };
  std::size_t mismatches = 0;
  for (std::size_t len = 0; len <= 40; ++len) {
    for (std::size_t at = 0; at < std::max<std::size_t>(len, 1); ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s(len, 'a');
        if (at < len) s[at] = static_cast<char>(b);
        if (detail::plain_json_prefix(s) != plain(s)) ++mismatches;
        if (detail::printable_json_prefix(s) != printable(s)) ++mismatches;
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("the tail scan visits exactly the words a word-by-word comparison keeps and in order") {
  std::mt19937_64 rng(2024);
  std::size_t visits = 0;
  for (std::size_t size = 0; size <= 37; ++size)
    for (int round = 0; round < 40; ++round) {
      // Few distinct values, differing in single halves too, so that equal and near-equal words
      // fall at every position.
      const std::uint64_t pool[] = {0x1122334455667788ull, 0x1122334400000000ull, 0x0000000055667788ull,
                                    0x1122334455667700ull, 0ull, ~0ull};
      std::vector<std::uint64_t> tails(size);
      for (auto& w : tails) w = pool[rng() % 6];
      const std::uint64_t mask = round % 3 == 0 ? ~0ull : round % 3 == 1 ? ~0ull << 8 : ~0ull << 32;
      const std::uint64_t want = pool[rng() % 6] & mask;
      std::vector<std::size_t> expected, got;
      for (std::size_t i = 0; i < size; ++i)
        if ((tails[i] & mask) == want) expected.push_back(i);
      detail::for_each_tail_match(tails, mask, want, [&](std::size_t i) { got.push_back(i); });
      INFO("size " << size << " round " << round);
      CHECK(got == expected);
      visits += got.size();
    }
  CHECK(visits > 1000);
}

TEST_CASE("the grouped tail scan visits what the whole scan visits for every mask width") {
  std::mt19937_64 rng(31);
  // Names' tails from a few last bytes, so that suffixes of every width have many matches.
  const std::vector<std::string> ends = {"up_proj", "down_proj", "gate_proj", "q_proj", "x", "", "layernorm", "p_proj"};
  auto tail_of = [](const std::string& s) {
    std::uint64_t w = 0;
    const std::size_t n = std::min<std::size_t>(s.size(), 8);
    std::memcpy(reinterpret_cast<char*>(&w) + 8 - n, s.data() + s.size() - n, n);
    return w;
  };
  for (std::size_t size : {0, 1, 5, 300, 5000}) {
    std::vector<std::uint64_t> tails(size);
    for (auto& w : tails) w = tail_of(std::to_string(rng() % 3) + ends[rng() % ends.size()]);
    const detail::TailGroups groups(tails);
    for (const char* suffix : {"proj", "_proj", "p_proj", "up_proj", "own_proj", "x", "layernorm"})
      for (std::size_t width = 1; width <= 8; ++width) {
        const std::uint64_t mask = ~0ull << (8 * (8 - width));
        const std::uint64_t want = tail_of(suffix) & mask;
        std::vector<std::size_t> whole, grouped;
        detail::for_each_tail_match(tails, mask, want, [&](std::size_t i) { whole.push_back(i); });
        groups.for_each_match(tails, mask, want, [&](std::size_t i) { grouped.push_back(i); });
        INFO("size " << size << " suffix " << suffix << " width " << width);
        CHECK(grouped == whole);
        if (size == 5000 && width == 6 && std::string(suffix) == "p_proj") CHECK(whole.size() > 500);
      }
  }
}
