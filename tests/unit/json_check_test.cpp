// core/json_check on a small made-up document shape: paths, typed readers, unknown fields with
// "did you mean", duplicate keys and syntax errors (the SageMaker rules are in job_spec_test).
#include "core/json_check.hpp"

#include <gtest/gtest.h>

#include "core/did_you_mean.hpp"

namespace sluice::json_check {
namespace {

const Schema kTop{"the top level", {"Name", "Color", "Inner"}, {{"Notes", Loose::kString}}};
const Schema kInner{"Inner", {"Depth", "Labels"}, {}};
const Schema* const kAll[] = {&kTop, &kInner};

enum class Color { kRed, kGreen };
constexpr std::pair<std::string_view, Color> kColors[] = {{"Red", Color::kRed}, {"Green", Color::kGreen}};

std::vector<std::string> check(std::string_view text) {
  Checker c;
  c.schemas = kAll;
  json doc;
  if (parse_json(c, text, doc) && open_object(c, Node{&doc, ""}, kTop)) {
    get_string(c, need(c, Node{&doc, ""}, "Name", "every thing has one"), 1, 5);
    get_enum<Color>(c, at(Node{&doc, ""}, "Color"), kColors);
    Node inner = at(Node{&doc, ""}, "Inner");
    if (open_object(c, inner, kInner)) {
      get_int(c, at(inner, "Depth"));
      get_string_list(c, at(inner, "Labels"), 0, 2, 1, 3);
    }
  }
  std::vector<std::string> out;
  for (const Problem& p : c.problems) out.push_back(format(p));
  return out;
}

TEST(JsonCheck, ReportsEveryProblemWithItsPath) {
  EXPECT_EQ(check(R"({"Name": "ok"})"), std::vector<std::string>{});
  EXPECT_EQ(check(R"({"Color": "red", "Inner": {"Depth": "3", "Labels": ["a", "long", 1]}})"),
            (std::vector<std::string>{
                "Name: required field is missing (every thing has one)",
                "Color: must be one of Red|Green, got 'red'; did you mean 'Red'? (values are case-sensitive)",
                "Inner.Depth: must be an integer, got string '3'",
                "Inner.Labels: must have 0 to 2 entries, got 3",
                "Inner.Labels[1]: must be 1 to 3 characters long, got 4",
                "Inner.Labels[2]: must be a string, got number 1",
            }));
}

TEST(JsonCheck, UnknownFieldsGetASuggestion) {
  EXPECT_EQ(check(R"({"Name": "a", "Colour": "Red"})"),
            std::vector<std::string>{"Colour: unknown field 'Colour'; did you mean 'Color'?"});
  EXPECT_EQ(check(R"({"Name": "a", "name": "b"})"),
            std::vector<std::string>{"name: unknown field 'name'; did you mean 'Name'? (field names are case-sensitive)"});
  EXPECT_EQ(check(R"({"Name": "a", "Depth": 2})"),
            std::vector<std::string>{"Depth: unknown field 'Depth'; it belongs in Inner"});
  EXPECT_EQ(check(R"({"Name": "a", "Inner": {"Zzzzzzz": 2}})"),
            std::vector<std::string>{"Inner.Zzzzzzz: unknown field 'Zzzzzzz' (fields here: Depth, Labels)"});
  EXPECT_EQ(check(R"({"Name": "a", "Notes": 3})"),
            std::vector<std::string>{
                "Notes: must be a string, got number 3 (Sluice accepts this field but does not act on it)"});
}

TEST(JsonCheck, SyntaxAndDuplicates) {
  EXPECT_EQ(check("{\"Name\": \"a\",\n  \"Name\": \"b\"}"),
            std::vector<std::string>{"Name: duplicate field 'Name'; JSON parsers keep only one of them"});
  auto bad = check("{\n  \"Name\": \xC3\xA9}");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_TRUE(bad[0].starts_with("invalid JSON at line 2, column ")) << bad[0];
}

TEST(JsonCheck, PathsAndShownValues) {
  EXPECT_EQ(member("", "A"), "A");
  EXPECT_EQ(member("A", "b_1"), "A.b_1");
  EXPECT_EQ(member("A", "has space"), "A[\"has space\"]");
  EXPECT_EQ(member("A", std::string(150, 'k')), "A[\"" + std::string(100, 'k') + "...\"]");
  EXPECT_EQ(item("A", 3), "A[3]");
  EXPECT_TRUE(path_less("A[2]", "A[10]"));
  EXPECT_FALSE(path_less("A[10]", "A[2]"));
  EXPECT_TRUE(path_less("A", "A.B"));
  EXPECT_EQ(show("a\nb\t\x01"), "'a\\nb\\t\\x01'");
  EXPECT_EQ(show(std::string(101, 'x')), "'" + std::string(100, 'x') + "'... (101 characters)");
  EXPECT_EQ(describe(json::parse("[1]")), "an array");
}

TEST(DidYouMean, NearestWithinTheLimit) {
  const std::string_view names[] = {"Alpha", "Beta", "Gamma"};
  EXPECT_EQ(did_you_mean("alpah", names, "x"), "; did you mean 'Alpha'?");
  EXPECT_EQ(did_you_mean("GAMMA", names, "names"), "; did you mean 'Gamma'? (names are case-sensitive)");
  EXPECT_EQ(did_you_mean("Omega", names, "x"), "");
  EXPECT_EQ(sluice::edit_distance("ab", "ba"), 2u);
  EXPECT_EQ(sluice::edit_distance("ab", "ba", {.transpositions = true}), 1u);
  EXPECT_EQ(sluice::edit_distance("AB", "ab", {.ignore_case = true}), 0u);
  EXPECT_EQ(sluice::nearest("Bta", names, 1), std::optional<size_t>(1));
  EXPECT_EQ(sluice::nearest("xyz", names, 2), std::nullopt);
}

}  // namespace
}  // namespace sluice::json_check
