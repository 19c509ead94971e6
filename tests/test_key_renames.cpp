// Checkpoint key renames: Python's re.sub template rules, checked when the plugin registers.
#include <catch2/catch.hpp>

#include <chrono>

#include "awqmap/checkpoint.hpp"
#include "awqmap/error.hpp"
#include "awqmap/registry.hpp"
#include "checkpoint_writer.hpp"
#include "support.hpp"

using namespace awqmap;
namespace fs = std::filesystem;

namespace {

// Registers one rename for "RenameForCausalLM"; returns the error, or "" when it registers.
std::string registration_error(const std::string& pattern, const std::string& replacement) {
  Registry registry;
  try {
    registry.register_plugin({"renamer.so", "renamer", "1", {}}, [&](Registrar& r) {
      r.rename_checkpoint_keys("RenameForCausalLM", pattern, replacement);
    });
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// The module names a one-tensor checkpoint `<tensor>.weight` gives under one rename.
std::vector<std::string> renamed(const std::string& pattern, const std::string& replacement, const std::string& tensor) {
  Registry registry;
  registry.register_plugin({"renamer.so", "renamer", "1", {}}, [&](Registrar& r) {
    r.rename_checkpoint_keys("RenameForCausalLM", pattern, replacement);
  });
  test::TempDir dir;
  test::write_checkpoint(dir.path, {{"architectures", {"RenameForCausalLM"}}},
                         nlohmann::json::array({{{"name", tensor + ".weight"}, {"shape", {2, 2}}, {"dtype", "BF16"}}}));
  ModelView m = load_checkpoint(dir.path.string(), {std::nullopt, &registry});
  std::vector<std::string> out;
  for (const auto& module : m.modules())
    if (module.type == "Linear") out.emplace_back(module.name);
  return out;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("rename templates follow Python's re.sub rules for every reference form") {
  CHECK(renamed("(a)\\.(b)", "\\2.\\1", "a.b.c") == Names{"b.a.c"});
  CHECK(renamed("(a)\\.(b)", "\\g<2>.\\g<1>", "a.b.c") == Names{"b.a.c"});
  CHECK(renamed("(?P<first>a)\\.(?P<second>b)", "\\g<second>.\\g<first>", "a.b.c") == Names{"b.a.c"});
  CHECK(renamed("a\\.b", "x.\\g<0>", "a.b.c") == Names{"x.a.b.c"});
  // \10 is group 10 when ten groups exist (two digits are a group, never an octal escape).
  CHECK(renamed("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)", "\\10.\\1", "abcdefghij.k") == Names{"j.a.k"});
  // Three octal digits are a character: \101 is 'A'.
  CHECK(renamed("(a)", "\\101\\1", "a.w") == Names{"Aa.w"});
  // \0 and up to two more octal digits are a character too: \060 is '0'.
  CHECK(renamed("a", "x\\060", "a.w") == Names{"x0.w"});
  // \\ is one backslash; an unknown non-letter escape stays as written.
  CHECK(renamed("a", "x\\\\y", "a.w") == Names{"x\\y.w"});
  CHECK(renamed("a", "x\\-y", "a.w") == Names{"x\\-y.w"});
  // A group that did not take part gives nothing.
  CHECK(renamed("(x)?(a)", "[\\1]\\2", "a.w") == Names{"[]a.w"});
  // Only the matched prefix is replaced; a name that does not match stays.
  CHECK(renamed("^old", "new", "old.old.w") == Names{"new.old.w"});
  CHECK(renamed("^old", "new", "keep.old.w") == Names{"keep.old.w"});
}

TEST_CASE("rename patterns use the same Python regex translation as targets") {
  CHECK(renamed("(?i)^LANGUAGE_MODEL\\.MODEL", "model.language_model", "language_model.model.q") ==
        Names{"model.language_model.q"});
  CHECK(renamed("^model(?!\\.(language_model|visual))", "model.language_model", "model.layers.q") ==
        Names{"model.language_model.layers.q"});
  CHECK(renamed("^model(?!\\.(language_model|visual))", "model.language_model", "model.visual.q") ==
        Names{"model.visual.q"});
  CHECK(renamed("(\\d+)", "n\\1", "12.q") == Names{"n12.q"});
}

TEST_CASE("invalid rename templates are refused at registration naming the plugin and the pattern") {
  struct Case {
    const char* replacement;
    const char* reason;
  };
  const Case cases[] = {
      {"\\g<1.gate_proj", "missing >, unterminated name"},
      {"\\g<1.gate_proj>", "bad character in group name '1.gate_proj'"},
      {"\\g<>", "missing group name"},
      {"\\g1", "missing <"},
      {"\\g<nosuch>", "unknown group name 'nosuch'"},
      {"\\g<2>", "invalid group reference 2"},
      {"\\g<99999999999999999999999>", "invalid group reference 99999999999999999999999"},
      {"\\2", "invalid group reference 2"},
      {"\\15", "invalid group reference 15"},
      {"\\400", "octal escape value \\400 outside of range 0-0o377"},
      {"\\q", "bad escape \\q"},
      {"x\\", "bad escape (end of pattern)"},
  };
  for (const auto& c : cases) {
    INFO(c.replacement);
    const auto start = std::chrono::steady_clock::now();
    const std::string e = registration_error("(a)\\.", c.replacement);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK(e.find("renamer") != std::string::npos);
    CHECK(e.find("(a)\\.") != std::string::npos);
    CHECK(e.find(c.reason) != std::string::npos);
  }
  CHECK(registration_error("(a)\\.", "\\1.gate_proj") == "");
  CHECK(registration_error("(unclosed", "x").find("renamer") != std::string::npos);
}
