// The description scanner (core/src/input/description_scan.hpp) against the full JSON reader:
// what the scanner accepts must load exactly as the full reader loads it, and what it refuses
// goes to the full reader. A description is sent to the full reader by adding a top-level key
// of no meaning, which the scanner refuses and the full reader skips.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "../core/src/input/description_scan.hpp"
#include "awqmap/error.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/target.hpp"
#include "support.hpp"

using namespace awqmap;

namespace {

std::string full_reader_only(const std::string& text) {
  const auto brace = text.find('{');
  if (brace == std::string::npos) return text;
  return text.substr(0, brace + 1) + "\"~\": [0], " + text.substr(brace + 1);
}

bool scanner_accepts(const std::string& text) {
  detail::ScannedDescription out;
  return detail::scan_description(text, out);
}

void put_optional(std::string& s, const std::optional<std::int64_t>& v) {
  s += v ? std::to_string(*v) : std::string("-");
}

// Everything a ModelView shows, or the error its loading gave.
std::string loaded(const std::string& text) {
  try {
    const ModelView m = parse_model_description(text, "d.json");
    std::string s = m.architecture() + "\n" + m.config_json() + "\n";
    for (const Module& mod : m.modules()) {
      s += "[" + std::string(mod.name) + "|" + std::string(mod.type) + "|";
      for (auto b : mod.bases) s += std::string(b) + ",";
      s += "|";
      put_optional(s, mod.in_features);
      s += "|";
      put_optional(s, mod.out_features);
      s += "|";
      for (auto d : mod.shape) s += std::to_string(d) + ",";
      s += "|" + std::to_string(mod.parent) + "]\n";
    }
    return s;
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
}

const std::string base = R"({"format":"awqmap.model/v1","architecture":"A","config":{"x":[1,{"y":"}"}]},)"
                         R"("modules":[{"name":"","type":"A"},)"
                         R"({"name":"l","type":"Linear","in_features":2,"out_features":3,"bias":false},)"
                         R"({"name":"e","type":"E","bases":["ModuleList","X"],"shape":[4,5]}]})";

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

// `base` with features on every record, so that any of them may be made a Linear.
const std::string featured =
    R"({"format":"awqmap.model/v1","architecture":"A","modules":[{"name":"","type":"A","in_features":1,"out_features":1},)"
    R"({"name":"l","type":"Linear","in_features":2,"out_features":3},)"
    R"({"name":"e","type":"E","bases":["ModuleList","X"],"in_features":4,"out_features":5}]})";

}  // namespace

TEST_CASE("Every corpus description is read by the scanner and loads as the full reader loads it") {
  std::size_t files = 0;
  for (const auto& dir : {test::corpus_dir(), test::described_dir()}) {
    for (const std::string& name : test::model_names(dir)) {
      INFO(name);
      const std::string text = test::read_file(dir / (name + ".model.json"));
      REQUIRE(scanner_accepts(text));
      REQUIRE_FALSE(scanner_accepts(full_reader_only(text)));
      const std::string through_scanner = loaded(text);
      CHECK(through_scanner.rfind("error", 0) != 0);
      CHECK(through_scanner == loaded(full_reader_only(text)));
      ++files;
    }
  }
  CHECK(files > 200);
}

TEST_CASE("Descriptions the scanner accepts load as the full reader loads them") {
  const std::vector<std::string> accepted = {
      base,
      // Python's json.dump with an indent, and other whitespace.
      replaced(replaced(base, "{\"name\":\"l\",", "\r\n {\n\t\"name\" :  \"l\" ,\n"), "[4,5]", "[ 4 , 5 ]"),
      replaced(base, "\"config\":{\"x\":[1,{\"y\":\"}\"}]},", ""),
      replaced(base, "\"format\":\"awqmap.model/v1\",", "") + "",
      R"({"modules":[],"architecture":"A","format":"awqmap.model/v1"})",
      replaced(base, "\"name\":\"l\"", "\"name\":\"e\",\"name\":\"l\""),
      replaced(base, "\"bases\":[\"ModuleList\",\"X\"]", "\"bases\":[\"ModuleList\"],\"bases\":[],\"bases\":[\"X\"]"),
      replaced(base, "\"shape\":[4,5]", "\"shape\":[4],\"shape\":[5,0]"),
      replaced(base, "\"in_features\":2", "\"in_features\":7,\"in_features\":999999999999999999"),
      replaced(base, "\"bias\":false", "\"bias\":null,\"n\":-1.5e+3,\"m\":0.25,\"s\":\"x\",\"t\":true"),
      // Keys out of the writers' order, spelled with whitespace, or only starting like theirs.
      replaced(base, "\"name\":\"l\",\"type\":\"Linear\"", "\"type\":\"Linear\",\"name\":\"l\""),
      replaced(base, "\"in_features\":2,\"out_features\":3", "\"out_features\":3,\"in_features\":2"),
      replaced(base, "\"name\":\"l\",\"type\":\"Linear\",", "\"in_features\":5,\"type\":\"Linear\",\"name\":\"l\","),
      replaced(base, "\"name\":\"l\"", "\"name\" :\"l\""),
      replaced(base, "\"type\":\"Linear\"", "\"type\"\n:\"Linear\""),
      replaced(base, "\"in_features\":2", "\"in_features\" : 2"),
      replaced(base, "\"name\":\"l\",\"type\"", "\"name\":\"l\" ,\"type\""),
      replaced(base, "\"type\":\"Linear\",\"in_features\"", "\"type\":\"Linear\",\n\"in_features\""),
      replaced(base, "\"in_features\":2,\"out_features\"", "\"in_features\":2\t, \"out_features\""),
      replaced(base, "\"name\":\"l\",", "\"name\": \"l\", \"names\": \"x\", \"nam\": 1, \"typed\": 2, \"in_features_\": 3, "),
      replaced(base, "\"bias\":false", "\"shapes\":1,\"base\":2,\"out_feature\":3,\"o\":4,\"i\":5,\"\":6"),
      // Class names the record strings find again by their first bytes: equal starts, a name a
      // prefix of another, empty, long, and near the end of the text.
      replaced(replaced(featured, "\"type\":\"A\"", "\"type\":\"LinearAttention\""), "\"type\":\"E\"",
               "\"type\":\"LinearAttentionX\""),
      replaced(replaced(featured, "\"type\":\"A\"", "\"type\":\"Linear\""), "\"type\":\"E\"", "\"type\":\"Linea\""),
      replaced(replaced(featured, "\"type\":\"A\"", "\"type\":\"Linea\""), "\"type\":\"E\"", "\"type\":\"Linear\""),
      replaced(replaced(featured, "\"type\":\"A\"", "\"type\":\"\""), "\"type\":\"E\"", "\"type\":\"\""),
      replaced(replaced(featured, "\"type\":\"A\"", "\"type\":\"AVeryLongClassNameOfThirtyBytes\""), "\"type\":\"E\"",
               "\"type\":\"AVeryLongClassNameOfThirtyByteZ\""),
      replaced(featured, "\"bases\":[\"ModuleList\",\"X\"]", "\"bases\":[\"Linear\",\"Linear\",\"ModuleList\",\"ModuleLis\"]"),
      replaced(featured, "\"out_features\":5}]}", "\"out_features\":5,\"type\":\"Linear\"}]}"),
      replaced(base, "\"shape\":[4,5]}]}", "\"shape\":[4,5],\"type\":\"L\"}]}"),
      // Records listed out of named_modules() order, parents still first.
      replaced(replaced(featured, "\"name\":\"e\"", "\"name\":\"l.e\""), "{\"name\":\"l\"",
               "{\"name\":\"m\",\"type\":\"M\"},{\"name\":\"l\""),
      // The config is the config reader's to judge: Python's NaN is taken, a bad word is not.
      replaced(base, "\"y\":\"}\"", "\"y\":NaN"),
      replaced(base, "\"y\":\"}\"", "\"y\":nope"),
  };
  for (const std::string& text : accepted) {
    INFO(text);
    CHECK(scanner_accepts(text) == (text.find("\"format\"") != std::string::npos));
    CHECK(loaded(text) == loaded(full_reader_only(text)));
  }
}

TEST_CASE("Loading errors are left to the full reader, which reports them") {
  // The scanner checks what ModelAccess::make checks, as it reads each record, and on a fault
  // gives the text to the full reader and make(), whose messages are the ones users see.
  const std::vector<std::string> faulty = {
      replaced(base, ",\"in_features\":2", ""),
      replaced(base, ",\"out_features\":3", ""),
      replaced(base, "\"name\":\"e\"", "\"name\":\"l\""),
      replaced(base, "\"name\":\"e\"", "\"name\":\"\""),
      replaced(base, "\"name\":\"e\"", "\"name\":\"x.e\""),
      replaced(base, "\"name\":\"l\"", "\"name\":\"e.l\""),
      replaced(base, "\"type\":\"A\"", "\"type\":\"Linear\""),
      replaced(base, "\"bases\":[\"ModuleList\",\"X\"]", "\"bases\":[\"X\",\"Linear\"]"),
      // A duplicate among the last records, whose names wait to enter the name table.
      replaced(featured, "\"name\":\"e\"", "\"name\":\"l\""),
  };
  for (const std::string& text : faulty) {
    INFO(text);
    CHECK_FALSE(scanner_accepts(text));
    CHECK(loaded(text).rfind("error: d.json: module #", 0) == 0);
    CHECK(loaded(text) == loaded(full_reader_only(text)));
  }
  // A duplicate far from its first spelling, and one out of order, past the records that wait.
  std::string many = R"({"format":"awqmap.model/v1","architecture":"A","modules":[{"name":"","type":"A"})";
  for (int i = 0; i < 40; ++i) many += R"(,{"name":"m)" + std::to_string(i) + R"(","type":"A"})";
  for (const std::string& extra : {std::string("m3"), std::string("m39"), std::string("m3.x"), std::string("m3.x.y")}) {
    const std::string text = many + R"(,{"name":")" + extra + R"(","type":"A"}]})";
    INFO(extra);
    CHECK(scanner_accepts(text) == (extra == "m3.x"));
    CHECK(loaded(text) == loaded(full_reader_only(text)));
  }
}

TEST_CASE("Descriptions the scanner refuses load or fail as the full reader decides") {
  const std::vector<std::string> refused = {
      replaced(base, "\"name\":\"l\"", "\"name\":\"l\\u0041\""),
      replaced(base, "\"name\":\"l\"", "\"name\":\"l\\\"\""),
      replaced(base, "\"name\":\"l\"", "\"name\":\"l\xc3\xa9\""),
      replaced(base, "\"name\":\"l\"", "\"name\":\"l\xff\""),
      replaced(base, "\"name\":\"l\"", "\"name\":\"l\x01\""),
      replaced(base, "\"name\":\"l\"", "\"na\\u006de\":\"l\""),
      replaced(base, "\"in_features\":2", "\"in_features\":2.0"),
      replaced(base, "\"in_features\":2", "\"in_features\":-1"),
      replaced(base, "\"in_features\":2", "\"in_features\":1e3"),
      replaced(base, "\"in_features\":2", "\"in_features\":02"),
      replaced(base, "\"in_features\":2", "\"in_features\":1234567890123456789"),
      replaced(base, "\"in_features\":2", "\"in_features\":99999999999999999999"),
      replaced(base, "\"in_features\":2", "\"in_features\":\"2\""),
      replaced(base, "\"in_features\":2", "\"in_features\":2x"),
      replaced(base, "\"shape\":[4,5]", "\"shape\":[[4],5]"),
      replaced(base, "\"bias\":false", "\"bias\":{}"),
      replaced(base, "\"bias\":false", "\"bias\":fals"),
      replaced(base, "\"bias\":false", "\"bias\":[false]"),
      replaced(base, "\"format\":\"awqmap.model/v1\"", "\"format\":\"awqmap.model/v2\""),
      replaced(base, "\"format\":\"awqmap.model/v1\"", "\"format\":\"awqmap.model/v1\",\"format\":\"awqmap.model/v1\""),
      replaced(base, "\"architecture\":\"A\",", ""),
      replaced(base, "\"architecture\":\"A\"", "\"architecture\":7"),
      replaced(base, "\"config\":{", "\"config\":[{") + "",
      replaced(base, "{\"name\":\"\",", "{"),
      replaced(base, "\"type\":\"E\",", ""),
      replaced(base, "\"modules\":[", "\"modules\":{"),
      replaced(base, "\"modules\":[{\"name\":\"\",\"type\":\"A\"}", "\"modules\":[{\"name\":\"\",\"type\":\"A\"},"),
      replaced(base, "\"y\":\"}\"", "\"y\":\"\x02\""),
      base + " x",
      base + "}",
      "",
      "[]",
  };
  for (const std::string& text : refused) {
    INFO(text);
    CHECK_FALSE(scanner_accepts(text));
    CHECK(loaded(text) == loaded(full_reader_only(text)));
  }
}

TEST_CASE("Every cut and every changed byte of a description loads or fails alike through both readers") {
  std::size_t accepted = 0, compared = 0;
  for (std::size_t n = 0; n < base.size(); ++n) {
    const std::string cut = base.substr(0, n);
    INFO(cut);
    CHECK_FALSE(scanner_accepts(cut));
    CHECK(loaded(cut) == loaded(full_reader_only(cut)));
  }
  for (std::size_t i = 1; i < base.size(); ++i) {
    for (const char c : std::string(" \"{}[],:\\x0-.e\x7f")) {
      std::string changed = base;
      changed[i] = c;
      INFO(changed);
      accepted += scanner_accepts(changed);
      CHECK(loaded(changed) == loaded(full_reader_only(changed)));
      ++compared;
    }
  }
  // The scanner takes a good share of the changed texts (a changed letter in a name, or
  // whitespace in place of a comma), so the comparison covers both readers.
  CHECK(accepted > 50);
  CHECK(compared > 1000);
}

TEST_CASE("Records read by the scanner keep their strings after the text is gone") {
  std::string text = replaced(base, "\"type\":\"E\"", "\"type\":\"Embedding\"");
  detail::ScannedDescription out;
  REQUIRE(detail::scan_description(text, out));
  const ModelView full = parse_model_description(full_reader_only(text), "d.json");
  std::fill(text.begin(), text.end(), '#');
  REQUIRE(out.modules.size() == full.modules().size());
  for (std::size_t i = 0; i < out.modules.size(); ++i) {
    CHECK(out.modules[i].name == full.modules()[i].name);
    CHECK(out.modules[i].type == full.modules()[i].type);
    CHECK(out.modules[i].bases == full.modules()[i].bases);
  }
}

TEST_CASE("The scanner reserves one record per opening brace of the text") {
  for (const std::string& name : {std::string("Qwen3MoeForCausalLM.tiny"), std::string("LlamaForCausalLM.real-tree")}) {
    const std::string text = test::read_file(test::corpus_dir() / (name + ".model.json"));
    detail::ScannedDescription out;
    REQUIRE(detail::scan_description(text, out));
    const auto braces = static_cast<std::size_t>(std::count(text.begin(), text.end(), '{'));
    INFO(name << ": " << out.modules.size() << " records, " << braces << " braces");
    CHECK(out.modules.capacity() >= out.modules.size());
    CHECK(out.modules.capacity() <= braces);
  }
  // Every length around the 64-byte steps of the count, a brace at every place.
  for (std::size_t extra = 0; extra < 140; ++extra) {
    const std::string text = replaced(base, "\"bias\":false", "\"bias\":\"" + std::string(extra, 'x') + "{\"");
    detail::ScannedDescription out;
    REQUIRE(detail::scan_description(text, out));
    CHECK(out.modules.capacity() == static_cast<std::size_t>(std::count(text.begin(), text.end(), '{')));
  }
  // Braces in strings count too, but never past what the text could hold in records.
  const std::string braces = replaced(base, "\"y\":\"}\"", "\"y\":\"" + std::string(100000, '{') + "\"");
  detail::ScannedDescription out;
  REQUIRE(detail::scan_description(braces, out));
  CHECK(out.modules.size() == 3);
  CHECK(out.modules.capacity() <= braces.size() / detail::DescriptionScanner::kShortestRecord);
  CHECK(detail::DescriptionScanner::kShortestRecord == std::string(R"({"name":"","type":""})").size());
}

TEST_CASE("Many records and names longer than the record strings' chunks load as the full reader loads them") {
  std::string text = R"({"format":"awqmap.model/v1","architecture":"A","modules":[{"name":"","type":"A"})";
  for (int i = 0; i < 3000; ++i) {
    const std::string name = "layer" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 97), 'x');
    text += R"(,{"name":")" + name + R"(","type":"Linear","in_features":)" + std::to_string(i) +
            R"(,"out_features":)" + std::to_string(i + 1) + "}";
  }
  text += R"(,{"name":")" + std::string(20000, 'y') + R"(","type":"Linear","in_features":1,"out_features":1}]})";
  REQUIRE(scanner_accepts(text));
  const std::string through_scanner = loaded(text);
  CHECK(through_scanner.rfind("error", 0) != 0);
  CHECK(through_scanner == loaded(full_reader_only(text)));
}

TEST_CASE("Names of every length around the scanner's 16-byte steps load or fail alike through both readers") {
  std::size_t accepted = 0;
  for (std::size_t n = 0; n <= 50; ++n) {
    const std::string name(n, 'a');
    std::vector<std::string> names = {name};
    // An escape, a control byte, a byte past ASCII and DEL at every place of the name.
    for (std::size_t at = 0; at < n; ++at)
      for (const std::string bad : {"\\\"", "\\u0062", "\x01", "\x1f", "\xc3\xa9", "\x7f"})
        names.push_back(name.substr(0, at) + bad + name.substr(at + 1));
    for (const std::string& nm : names) {
      const std::string text = replaced(base, "\"name\":\"l\"", "\"name\":\"" + nm + "\"");
      INFO(text);
      accepted += scanner_accepts(text);
      CHECK(loaded(text) == loaded(full_reader_only(text)));
    }
  }
  CHECK(accepted > 100);  // plain names and DEL; the others go to the full reader
}

TEST_CASE("A model read by the scanner says its names are plain only when every name is") {
  // names_are_plain lets the match table and the JSON writer skip their scans of each name: it
  // must never be true for a name that needs escaping in JSON or the Unicode engine.
  auto plain_byte = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
  };
  std::size_t said_plain = 0, said_not = 0;
  for (const std::string nm : {"model.l", "", "a\\\"b", "a\\u0062", "a\\u000a", "a\\\\b", "\xc3\xa9", "a\x7f"}) {
    const std::string text = replaced(base, "\"name\":\"l\"", "\"name\":\"" + nm + "\"");
    INFO(text);
    ModelView m = [&] {
      try {
        return parse_model_description(text, "d.json");
      } catch (const Error&) {
        return parse_model_description(base, "d.json");  // a refused name: the base text instead
      }
    }();
    (m.names_are_plain() ? said_plain : said_not) += 1;
    if (!m.names_are_plain()) continue;
    for (const Module& mod : m.modules()) {
      CHECK(std::all_of(mod.name.begin(), mod.name.end(), plain_byte));
      CHECK(Target::is_plain_name(mod.name));
    }
  }
  CHECK(said_plain >= 3);  // the plain names, DEL included
  CHECK(said_not >= 4);    // escapes and the byte past ASCII go to the full reader, which does not say
  CHECK_FALSE(parse_model_description(full_reader_only(base), "d.json").names_are_plain());
}

TEST_CASE("Large description files, read into memory of their own, load as the same text parsed from memory") {
  // Texts of a megabyte and more are kept apart from the heap (in whole 2 MiB pages): sizes
  // around those steps, read by the scanner and, with one escaped name, by the full reader.
  // (Each such text is compared with parse_model_description's reading of it, which also
  // lets pages go and copies the text again when the full reader needs it.)
  test::TempDir tmp;
  // Past 4 MiB the scanner lets whole pages of records go as it reads: with an escaped name at
  // the end it gives up after that, and the full reader must see the text whole again.
  for (const std::size_t target : {std::size_t{1} << 20, (std::size_t{2} << 20) - 40, (std::size_t{2} << 20) + 3,
                                   (std::size_t{7} << 20) + 5}) {
    for (const bool escaped : {false, true}) {
      std::string text = R"({"format":"awqmap.model/v1","architecture":"A","modules":[{"name":"","type":"A"})";
      const std::string tail = escaped ? R"(,{"name":"z\u0041","type":"Linear","in_features":1,"out_features":1}]})"
                                       : R"(,{"name":"zA","type":"Linear","in_features":1,"out_features":1}]})";
      for (int i = 0; text.size() + tail.size() < target; ++i) {
        const std::string record = R"(,{"name":"m)" + std::to_string(i) + R"(","type":"Linear","in_features":)" +
                                   std::to_string(i) + R"(,"out_features":7})";
        if (text.size() + record.size() + tail.size() > target) {
          text += std::string(target - text.size() - tail.size(), ' ');  // whitespace to the exact size
          break;
        }
        text += record;
      }
      text += tail;
      INFO("size " << text.size() << (escaped ? ", escaped name" : ""));
      REQUIRE(text.size() == target);
      CHECK(scanner_accepts(text) == !escaped);
      const auto path = tmp.write("big.model.json", text);
      const ModelView from_file = load_model_description(path.string());
      const ModelView from_memory = parse_model_description(text, "big.model.json");
      REQUIRE(from_file.size() == from_memory.size());
      CHECK(from_file[from_file.size() - 1].name == "zA");
      bool same = true;
      for (std::size_t i = 0; i < from_file.size() && same; ++i) {
        const auto k = static_cast<ModuleIndex>(i);
        same = from_file[k].name == from_memory[k].name && from_file[k].type == from_memory[k].type &&
               from_file[k].in_features == from_memory[k].in_features && from_file[k].parent == from_memory[k].parent;
      }
      CHECK(same);
    }
  }
}

namespace {

// The scanner reading `text` from memory a window at a time.
bool scan_windowed(const std::string& text, std::size_t window, std::size_t margin, detail::ScannedDescription& out) {
  auto read = [](void* context, std::uint64_t offset, char* to, std::size_t n) {
    std::memcpy(to, static_cast<const std::string*>(context)->data() + offset, n);
  };
  const detail::DescriptionScanner::Source source{read, const_cast<std::string*>(&text), text.size()};
  return detail::scan_description(source, window, margin, out);
}

// Everything a scan gives, as text.
std::string dump(const detail::ScannedDescription& s) {
  std::string out = s.architecture + "\n" + s.config + "\n";
  for (const Module& m : s.modules) {
    out += std::string(m.name) + "|" + std::string(m.type) + "|";
    for (auto b : m.bases) out += std::string(b) + ",";
    out += "|" + (m.in_features ? std::to_string(*m.in_features) : "-") + "|" +
           (m.out_features ? std::to_string(*m.out_features) : "-") + "|";
    for (auto d : m.shape) out += std::to_string(d) + ",";
    out += "|" + std::to_string(m.parent) + "\n";
  }
  for (auto o : s.tree.child_offsets) out += std::to_string(o) + ",";
  out += "\n";
  for (auto c : s.tree.child_list) out += std::to_string(c) + ",";
  return out;
}

std::string whole_scan(const std::string& text) {
  detail::ScannedDescription out;
  REQUIRE(detail::scan_description(text, out));
  return dump(out);
}

}  // namespace

TEST_CASE("The scanner reads a description a window at a time as it reads the whole text") {
  std::size_t compared = 0;
  for (const auto& dir : {test::corpus_dir(), test::described_dir()}) {
    for (const std::string& name : test::model_names(dir)) {
      const std::string text = test::read_file(dir / (name + ".model.json"));
      const std::string whole = whole_scan(text);
      for (const std::size_t window : {std::size_t{96}, std::size_t{333}, std::size_t{4096}, std::size_t{1} << 16}) {
        INFO(name << ", window " << window);
        detail::ScannedDescription out;
        const bool accepted = scan_windowed(text, window, window / 2, out);
        // Records are far shorter than a few kilobytes: from there on every text is read.
        if (window >= 4096) CHECK(accepted);
        if (accepted) CHECK(dump(out) == whole);
        ++compared;
      }
    }
  }
  CHECK(compared > 800);
}

TEST_CASE("A windowed scan grows the window for a long member, and its room for many records") {
  std::string records;
  for (int i = 0; i < 2000; ++i)
    records += R"(,{"name":"m)" + std::to_string(i) + R"(","type":"Linear","in_features":)" + std::to_string(i) +
               R"(,"out_features":1})";
  const std::string head = R"({"format":"awqmap.model/v1","architecture":"A",)";
  const std::string modules = R"("modules":[{"name":"","type":"A"})" + records + "]";
  // A config far longer than the window, and without braces to count: the records are reserved
  // for from a count that is far short.
  const std::string config = R"("config":{"s":")" + std::string(5000, 'x') + R"(","n":[1,2,3]})";
  const std::vector<std::string> texts = {
      head + config + "," + modules + "}",
      head + modules + "," + config + "}",
      head + modules + std::string(3000, ' ') + "," + std::string(3000, '\n') + config + std::string(3000, ' ') + "}" +
          std::string(3000, ' '),
  };
  for (const std::string& text : texts) {
    for (const std::size_t window : {std::size_t{256}, std::size_t{1024}, std::size_t{8192}}) {
      INFO("window " << window << ": " << text.substr(0, 120));
      detail::ScannedDescription out;
      REQUIRE(scan_windowed(text, window, 128, out));
      CHECK(out.modules.size() == 2001);
      CHECK(dump(out) == whole_scan(text));
    }
  }
}

TEST_CASE("A windowed scan gives up where the whole text's scan does, and on a record longer than its window") {
  std::string text = R"({"format":"awqmap.model/v1","architecture":"A","modules":[{"name":"","type":"A"})";
  for (int i = 0; i < 300; ++i) text += R"(,{"name":"m)" + std::to_string(i) + R"(","type":"A"})";
  const std::string good = text + "]}";
  detail::ScannedDescription out;
  REQUIRE(scan_windowed(good, 512, 128, out));
  for (const std::string& bad : {text + R"(,{"name":"m7","type":"A"}]})", text + R"(,{"name":"m\u0037x","type":"A"}]})",
                                 text + R"(,{"name":"x.y","type":"A"}]})", text + ",{\"name\":\"m\xc3\xa9\",\"type\":\"A\"}]}",
                                 text + "]} x", text + "]",
                                 good.substr(0, good.size() - 1)}) {
    INFO(bad.substr(bad.size() - 40));
    detail::ScannedDescription refused;
    CHECK_FALSE(scan_windowed(bad, 512, 128, refused));
  }
  const std::string long_record = text + R"(,{"name":")" + std::string(600, 'y') + R"(","type":"A"}]})";
  CHECK(scanner_accepts(long_record));
  detail::ScannedDescription windowed;
  CHECK_FALSE(scan_windowed(long_record, 512, 128, windowed));
}

TEST_CASE("A large description file with a record longer than the scanner's margin loads through the full reader") {
  test::TempDir tmp;
  std::string text = R"({"format":"awqmap.model/v1","architecture":"A","modules":[{"name":"","type":"A"})";
  for (int i = 0; text.size() < (std::size_t{3} << 20); ++i)
    text += R"(,{"name":"m)" + std::to_string(i) + R"(","type":"Linear","in_features":1,"out_features":2})";
  text += R"(,{"name":")" + std::string(100000, 'y') + R"(","type":"A"}]})";
  const ModelView from_file = load_model_description(tmp.write("long.model.json", text).string());
  const ModelView from_memory = parse_model_description(text, "long.model.json");
  REQUIRE(from_file.size() == from_memory.size());
  CHECK(from_file[from_file.size() - 1].name == std::string(100000, 'y'));
  CHECK(from_file.find(std::string(100000, 'y')) == from_file.size() - 1);
  CHECK(from_file.children(0).size() == from_memory.children(0).size());
}
