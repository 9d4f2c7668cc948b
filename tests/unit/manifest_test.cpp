// ManifestFile and AugmentedManifestFile parsing (dataset/manifest.hpp): the accepted shapes,
// every refusal with where it happened, JSON strictness (escapes, UTF-8, numbers), and the text
// an augmented-manifest attribute becomes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "dataset/manifest.hpp"

namespace sluice::dataset {
namespace {

using namespace std::string_literals;
using Scheme = store::Address::Scheme;

// The Error parse_manifest throws for text; fails the test when it accepts it.
Error manifest_refusal(std::string_view text) {
  try {
    Manifest m = parse_manifest(text);
    ADD_FAILURE() << "accepted a manifest with " << m.size() << " entries: " << text;
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-Error: " << e.what();
  }
  return Error(ErrorKind::kInternal, "<nothing thrown>");
}

// Refused with kInvalidInput and a cause containing every part given.
void expect_bad_manifest(std::string_view text, std::vector<std::string> parts) {
  SCOPED_TRACE("manifest: " + std::string(text));
  Error e = manifest_refusal(text);
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << e.what();
  EXPECT_EQ(e.message(), "invalid manifest");
  for (const auto& part : parts) EXPECT_NE(e.cause().find(part), std::string::npos) << "missing '" << part << "' in: " << e.cause();
}

std::string byte_at(std::string_view text, std::string_view needle, size_t nth = 0) {
  size_t pos = text.find(needle);
  for (size_t i = 0; i < nth; ++i) pos = text.find(needle, pos + 1);
  return "byte " + std::to_string(pos) + " ";
}

// ---- ManifestFile: accepted -----------------------------------------------------------------------

TEST(Manifest, ContractExample) {
  Manifest m = parse_manifest(R"([ {"prefix": "s3://customer_bucket/some/prefix/"},
  "relative/path/to/custdata-1",
  "relative/path/custdata-2",
  "relative/path/custdata-N" ])");
  EXPECT_EQ(m.prefix, (store::Address{Scheme::kS3, "customer_bucket", "some/prefix/"}));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.entries, (std::vector<std::string>{"relative/path/to/custdata-1", "relative/path/custdata-2",
                                                 "relative/path/custdata-N"}));
  EXPECT_EQ(m.key(0), "some/prefix/relative/path/to/custdata-1");
  EXPECT_EQ(m.address(0).uri(), "s3://customer_bucket/some/prefix/relative/path/to/custdata-1");
  EXPECT_EQ(m.address(2), (store::Address{Scheme::kS3, "customer_bucket", "some/prefix/relative/path/custdata-N"}));
}

TEST(Manifest, KeepsManifestOrderAndDuplicates) {
  Manifest m = parse_manifest(R"([{"prefix":"s3://bkt/p/"},"z","a","m","a","B"])");
  EXPECT_EQ(m.entries, (std::vector<std::string>{"z", "a", "m", "a", "B"}));
}

TEST(Manifest, WhitespaceAnywhereJsonAllowsIt) {
  std::vector<std::string> texts = {
      R"([{"prefix":"s3://bkt/p/"},"a","b"])",
      " \t\r\n[ \n{ \"prefix\" \t: \r\n \"s3://bkt/p/\" } , \"a\"\n,\n\"b\" ] \n\n",
      "[{\"prefix\":\"s3://bkt/p/\"},\r\n\"a\",\r\n\"b\"\r\n]\r\n",
      "\xEF\xBB\xBF[{\"prefix\":\"s3://bkt/p/\"},\"a\",\"b\"]",  // UTF-8 BOM skipped
  };
  for (const auto& t : texts) {
    SCOPED_TRACE(t);
    Manifest m = parse_manifest(t);
    EXPECT_EQ(m.prefix.key, "p/");
    EXPECT_EQ(m.entries, (std::vector<std::string>{"a", "b"}));
  }
}

TEST(Manifest, PrefixIsPlainStringAppend) {
  Manifest m = parse_manifest(R"([{"prefix":"s3://bkt/data/part-"},"0001","0002"])");
  EXPECT_EQ(m.key(0), "data/part-0001");
  EXPECT_EQ(m.key(1), "data/part-0002");
  Manifest root = parse_manifest(R"([{"prefix":"s3://bkt"},"x/y"])");
  EXPECT_EQ(root.prefix, (store::Address{Scheme::kS3, "bkt", ""}));
  EXPECT_EQ(root.key(0), "x/y");
  Manifest root_slash = parse_manifest(R"([{"prefix":"s3://bkt/"},"x/y"])");
  EXPECT_EQ(root_slash.key(0), "x/y");
}

TEST(Manifest, FilePrefix) {
  Manifest m = parse_manifest(R"([{"prefix":"file:///srv/data/"},"a.csv","sub/b.csv"])");
  EXPECT_EQ(m.prefix, (store::Address{Scheme::kFile, "", "srv/data/"}));
  EXPECT_EQ(m.address(1).uri(), "file:///srv/data/sub/b.csv");
  Manifest no_slash = parse_manifest(R"([{"prefix":"file:///srv/data"},"-1"])");
  EXPECT_EQ(no_slash.key(0), "srv/data-1");
}

TEST(Manifest, StringEscapesAndUnicode) {
  Manifest m = parse_manifest(
      "[{\"prefix\":\"s3:\\/\\/bkt\\/p\\/\"},"
      "\"caf\\u00e9\",\"caf\xC3\xA9\",\"\\ud83d\\ude00.jpg\",\"\xF0\x9F\x98\x80.jpg\",\"q\\\"uote\",\"back\\\\slash\","
      "\"tab\\tnl\\n\",\"\\b\\f\\r\",\"\\u0041\\u00DF\\u6F22\",\"sp ace\",\"..\",\"a//b\"]");
  EXPECT_EQ(m.prefix, (store::Address{Scheme::kS3, "bkt", "p/"}));
  EXPECT_EQ(m.entries, (std::vector<std::string>{"caf\xC3\xA9", "caf\xC3\xA9", "\xF0\x9F\x98\x80.jpg",
                                                 "\xF0\x9F\x98\x80.jpg", "q\"uote", "back\\slash", "tab\tnl\n",
                                                 "\b\f\r", "A\xC3\x9F\xE6\xBC\xA2", "sp ace", "..", "a//b"}));
}

TEST(Manifest, ManyEntries) {
  std::string text = R"([{"prefix":"s3://bkt/p/"})";
  for (int i = 0; i < 10000; ++i) text += ",\"k" + std::to_string(i) + "\"";
  text += "]";
  Manifest m = parse_manifest(text);
  ASSERT_EQ(m.size(), 10000u);
  EXPECT_EQ(m.entries[9999], "k9999");
}

// ---- ManifestFile: refused ------------------------------------------------------------------------

TEST(Manifest, RefusesEmptyOrNonArrayDocuments) {
  expect_bad_manifest("", {"byte 0:", "empty"});
  expect_bad_manifest(" \n\t ", {"byte 4:", "empty"});
  expect_bad_manifest(R"({"prefix":"s3://bkt/p/"})", {"byte 0:", "must be a JSON array", "found an object"});
  expect_bad_manifest(R"("s3://bkt/p/a")", {"byte 0:", "must be a JSON array", "found a string"});
  expect_bad_manifest("  42", {"byte 2:", "found a number"});
  expect_bad_manifest("null", {"found null"});
  expect_bad_manifest("[]", {"byte 1 (element 0):", "array is empty"});
  expect_bad_manifest("[ \n ]", {"array is empty"});
}

TEST(Manifest, RefusesAMissingOrMalformedPrefixElement) {
  expect_bad_manifest(R"(["a","b"])", {"byte 1 (element 0):", "first element must be an object", "found a string"});
  expect_bad_manifest(R"([["s3://bkt/"],"a"])", {"(element 0)", "found an array"});
  expect_bad_manifest(R"([{},"a"])", {"byte 2 (element 0):", "no \"prefix\" member"});
  expect_bad_manifest(R"([{"prefix":5},"a"])", {"byte 11 (element 0):", "must be a string", "found a number"});
  expect_bad_manifest(R"([{"prefix":null},"a"])", {"must be a string", "found null"});
  expect_bad_manifest(R"([{"prefix":["s3://bkt/"]},"a"])", {"must be a string", "found an array"});
  expect_bad_manifest(R"([{"prefix":""},"a"])", {"byte 11 (element 0):", "\"prefix\" is empty"});
  expect_bad_manifest(R"([{"Prefix":"s3://bkt/"},"a"])", {"byte 2 (element 0):", "unexpected member \"Prefix\""});
  expect_bad_manifest(R"([{"prefix":"s3://bkt/","extra":1},"a"])", {"byte 23 (element 0):", "unexpected member \"extra\""});
  expect_bad_manifest(R"([{"prefix":"s3://bkt/","prefix":"s3://other/"},"a"])", {"byte 23 (element 0):", "appears twice"});
  expect_bad_manifest(R"([{"prefix":"s3://bkt/" "a"])", {"(element 0)", "expected ',' or '}'"});
  expect_bad_manifest(R"([{"prefix" "s3://bkt/"},"a"])", {"(element 0)", "expected ':'"});
  expect_bad_manifest(R"([{prefix:"s3://bkt/"},"a"])", {"(element 0)", "expected a member name"});
}

TEST(Manifest, RefusesAPrefixThatIsNotAnS3OrFileUri) {
  for (std::string uri : {"https://bkt.s3.amazonaws.com/p/"s, "http://bkt/p/"s, "bkt/p/"s, "/abs/path/"s, "s3://"s,
                          "s3:///p/"s, "s3://ab/p/"s, "s3://bad bucket/p/"s, "file://relative/"s, "gs://bkt/p/"s}) {
    std::string text = R"([{"prefix":")" + uri + R"("},"a"])";
    expect_bad_manifest(text, {"byte 11 (element 0):", "is not a valid s3:// or file:// URI", uri});
  }
}

TEST(Manifest, RefusesAManifestWithOnlyThePrefix) {
  expect_bad_manifest(R"([{"prefix":"s3://bkt/p/"}])", {"byte 25:", "lists no objects"});
}

TEST(Manifest, RefusesNonStringEntriesNamingTheElement) {
  const std::string head = R"([{"prefix":"s3://bkt/p/"},"a",)";
  for (auto [value, kind] : std::vector<std::pair<std::string, std::string>>{
           {"7", "a number"}, {"-1.5", "a number"}, {"null", "null"}, {"true", "a boolean"}, {"false", "a boolean"},
           {"{\"key\":\"b\"}", "an object"}, {"[\"b\"]", "an array"}, {"'b'", "'''"}}) {
    std::string text = head + value + "]";
    expect_bad_manifest(text, {byte_at(text, value) + "(element 2):", "expected a string", "found " + kind});
  }
}

TEST(Manifest, RefusesEmptyAbsoluteUriAndNulEntries) {
  std::string empty = R"([{"prefix":"s3://bkt/p/"},"a",""])";
  expect_bad_manifest(empty, {byte_at(empty, "\"\"") + "(element 2):", "empty string"});
  std::string abs = R"([{"prefix":"s3://bkt/p/"},"/etc/passwd"])";
  expect_bad_manifest(abs, {"byte 26 (element 1):", "is absolute", "/etc/passwd"});
  expect_bad_manifest(R"([{"prefix":"s3://bkt/p/"},"a","s3://bkt/p/b"])", {"(element 2)", "is a full URI"});
  expect_bad_manifest(R"([{"prefix":"s3://bkt/p/"},"file:///x"])", {"(element 1)", "is a full URI"});
  expect_bad_manifest(R"([{"prefix":"s3://bkt/p/"},"a\u0000b"])", {"(element 1)", "NUL"});
}

TEST(Manifest, RefusesBrokenArraySyntax) {
  const std::string head = R"([{"prefix":"s3://bkt/p/"})";
  expect_bad_manifest(head + R"(,"a",])", {"byte 30 (element 2):", "trailing comma"});
  expect_bad_manifest(head + R"(,"a" "b"])", {"byte 30 (element 1):", "expected ',' or ']' after element 1", "found a string"});
  expect_bad_manifest(head + R"( "a"])", {"byte 26 (element 0):", "after element 0"});
  expect_bad_manifest(head + R"(,"a")", {"byte 29 (element 1):", "found the end of the text"});
  expect_bad_manifest(head + R"(,"a",)", {"byte 30 (element 2):", "found the end of the text"});
  expect_bad_manifest(head + R"(,,"a"])", {"(element 1)", "found ','"});
  expect_bad_manifest(head + R"(,"a"]])", {"byte 30:", "after the closing ']'"});
  expect_bad_manifest(head + R"(,"a"] [])", {"byte 31:", "after the closing ']'"});
  expect_bad_manifest(head + R"(,"a"],)", {"after the closing ']'"});
  expect_bad_manifest(head + R"(,"a"]x)", {"after the closing ']'"});
}

TEST(Manifest, RefusesBrokenStrings) {
  const std::string head = R"([{"prefix":"s3://bkt/p/"},)";
  expect_bad_manifest(head + R"("abc)", {"byte 26 (element 1):", "unterminated string"});
  expect_bad_manifest(head + "\"a\tb\"]", {"byte 28 (element 1):", "control character (byte 0x09)"});
  expect_bad_manifest(head + "\"a\nb\"]", {"control character (byte 0x0a)"});
  expect_bad_manifest(head + R"("a\xb"])", {"byte 28 (element 1):", "invalid escape '\\x'"});
  expect_bad_manifest(head + R"("a\'b"])", {"invalid escape"});
  expect_bad_manifest(head + R"("\u12"])", {"\\u escape"});
  expect_bad_manifest(head + R"("\u12G4"])", {"is not 4 hex digits"});
  expect_bad_manifest(head + R"("\udc00"])", {"byte 27 (element 1):", "lone low surrogate"});
  expect_bad_manifest(head + R"("\ud800"])", {"high surrogate without a following low surrogate"});
  expect_bad_manifest(head + R"("\ud800x"])", {"high surrogate without"});
  expect_bad_manifest(head + R"("\ud800\u0041"])", {"high surrogate without"});
  expect_bad_manifest(head + "\"a\\", {"unterminated escape"});
}

TEST(Manifest, RefusesInvalidUtf8) {
  const std::string head = R"([{"prefix":"s3://bkt/p/"},"ok",")";
  for (std::string bad : {"\xFF"s, "\xFE"s, "\x80"s, "\xC0\xAF"s, "\xC1\xBF"s, "\xC3"s, "\xC3("s, "\xE0\x80\xAF"s,
                          "\xED\xA0\x80"s, "\xED\xBF\xBF"s, "\xE2\x82"s, "\xF0\x80\x80\xAF"s, "\xF4\x90\x80\x80"s,
                          "\xF5\x80\x80\x80"s, "\xF0\x9F\x98"s}) {
    std::string text = head + "a" + bad + "b\"]";
    expect_bad_manifest(text, {"byte 33 (element 2):", "invalid UTF-8"});
  }
  // The boundaries that are valid.
  Manifest m = parse_manifest(head + "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"]");
  EXPECT_EQ(m.entries[1], "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF");
}

TEST(Manifest, ByteOffsetsCountTheBom) {
  expect_bad_manifest("\xEF\xBB\xBF[{\"prefix\":\"s3://bkt/p/\"},7]", {"byte 29 (element 1):"});
}

// ---- AugmentedManifestFile ------------------------------------------------------------------------

AugmentedLine line_of(std::string_view text, const std::vector<std::string>& attrs, size_t number = 1) {
  AugmentedLine out;
  EXPECT_TRUE(parse_augmented_line(text, number, attrs, out)) << text;
  return out;
}

AugmentedRecord inline_record(std::string data) { return AugmentedRecord{AugmentedRecord::Kind::kInline, {}, std::move(data)}; }
AugmentedRecord ref_record(std::string uri) {
  return AugmentedRecord{AugmentedRecord::Kind::kObjectRef, store::parse_address(uri), {}};
}

Error augmented_refusal(std::string_view text, const std::vector<std::string>& attrs) {
  try {
    auto lines = parse_augmented_manifest(text, attrs);
    ADD_FAILURE() << "accepted " << lines.size() << " lines: " << text;
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorKind::kInternal, "<nothing thrown>");
}

void expect_bad_augmented(std::string_view text, const std::vector<std::string>& attrs, std::vector<std::string> parts) {
  SCOPED_TRACE("augmented manifest: " + std::string(text));
  Error e = augmented_refusal(text, attrs);
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << e.what();
  for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "missing '" << part << "' in: " << e.what();
}

TEST(AugmentedManifest, DeveloperGuideExample) {
  std::string text =
      "{\"source-ref\": \"s3://mybucket/sample01/image1.jpg\", \"is-a-cat\": 1}\n"
      "{\"source-ref\": \"s3://mybucket/sample02/image2.jpg\", \"is-a-cat\": 0}\n";
  auto lines = parse_augmented_manifest(text, {"source-ref", "is-a-cat"});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].line_number, 1u);
  EXPECT_EQ(lines[0].records, (std::vector<AugmentedRecord>{ref_record("s3://mybucket/sample01/image1.jpg"), inline_record("1")}));
  EXPECT_EQ(lines[1].line_number, 2u);
  EXPECT_EQ(lines[1].records, (std::vector<AugmentedRecord>{ref_record("s3://mybucket/sample02/image2.jpg"), inline_record("0")}));
  EXPECT_EQ(lines[0].records[0].ref, (store::Address{Scheme::kS3, "mybucket", "sample01/image1.jpg"}));
}

TEST(AugmentedManifest, RecordsFollowAttributeNamesOrderNotLineOrder) {
  auto l = line_of(R"({"b":"2","c":"3","a":"1"})", {"a", "b", "c"});
  EXPECT_EQ(l.records, (std::vector<AugmentedRecord>{inline_record("1"), inline_record("2"), inline_record("3")}));
  auto r = line_of(R"({"b":"2","c":"3","a":"1"})", {"c", "a"});
  EXPECT_EQ(r.records, (std::vector<AugmentedRecord>{inline_record("3"), inline_record("1")}));
  // Naming an attribute twice sends it twice.
  auto twice = line_of(R"({"a":"x"})", {"a", "a"});
  EXPECT_EQ(twice.records, (std::vector<AugmentedRecord>{inline_record("x"), inline_record("x")}));
}

TEST(AugmentedManifest, ValueTextRules) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("cat")", "cat"},                             // strings without quotes
      {R"("")", ""},
      {R"("a \"quoted\" \\ word")", "a \"quoted\" \\ word"},
      {R"("caf\u00e9 \ud83d\ude00")", "caf\xC3\xA9 \xF0\x9F\x98\x80"},
      {"\"\xE6\xBC\xA2\xE5\xAD\x97\"", "\xE6\xBC\xA2\xE5\xAD\x97"},
      {R"("line\nbreak\ttab")", "line\nbreak\ttab"},
      {"1", "1"},                                       // numbers keep their spelling
      {"0", "0"},
      {"-0", "-0"},
      {"1.50", "1.50"},
      {"-12.5e-3", "-12.5e-3"},
      {"1E+5", "1E+5"},
      {"123456789012345678901234567890", "123456789012345678901234567890"},
      {"true", "true"},
      {"false", "false"},
      {"null", "null"},
      {"[1, 2, 3]", "[1,2,3]"},                         // arrays and objects: compact, as written
      {"[ ]", "[]"},
      {"{ }", "{}"},
      {R"({ "class" : "cat" , "boxes" : [ {"x" : 1.0, "y": 2} ] })", R"({"class":"cat","boxes":[{"x":1.0,"y":2}]})"},
      {R"([ "a b" , "c\"d", "\u00e9" ])", R"(["a b","c\"d","\u00e9"])"},  // strings inside stay as written
      {"{\"z\":1,\"a\":2}", "{\"z\":1,\"a\":2}"},         // member order kept
      {"[\r\n\t1\r\n]", "[1]"},
  };
  for (const auto& [value, text] : cases) {
    SCOPED_TRACE(value);
    auto l = line_of("{\"label\": " + value + ", \"other\": 0}", {"label"});
    ASSERT_EQ(l.records.size(), 1u);
    EXPECT_EQ(l.records[0].kind, AugmentedRecord::Kind::kInline);
    EXPECT_EQ(l.records[0].data, text);
  }
}

TEST(AugmentedManifest, RefAttributes) {
  auto l = line_of(R"({"image-ref":"s3://bkt/a/b.jpg","mask-ref":"file:///data/m.png","label-refs":"s3://x/y","x-REF":"q"})",
                   {"image-ref", "mask-ref", "label-refs", "x-REF"});
  ASSERT_EQ(l.records.size(), 4u);
  EXPECT_EQ(l.records[0], ref_record("s3://bkt/a/b.jpg"));
  EXPECT_EQ(l.records[1], (AugmentedRecord{AugmentedRecord::Kind::kObjectRef, {Scheme::kFile, "", "data/m.png"}, {}}));
  EXPECT_EQ(l.records[2], inline_record("s3://x/y"));  // "-refs" is not "-ref"
  EXPECT_EQ(l.records[3], inline_record("q"));         // names are case-sensitive
  // An escaped name is the same name.
  auto esc = line_of(R"({"\u006cabel":"x","source\u002dref":"s3://bkt/k"})", {"label", "source-ref"});
  EXPECT_EQ(esc.records, (std::vector<AugmentedRecord>{inline_record("x"), ref_record("s3://bkt/k")}));
}

TEST(AugmentedManifest, RefusesBadRefValues) {
  const std::vector<std::string> attrs = {"source-ref"};
  for (auto [value, part] : std::vector<std::pair<std::string, std::string>>{
           {"1", "must be a string holding an s3:// URI"},
           {"null", "found null"},
           {R"(["s3://bkt/k"])", "found an array"},
           {R"({"uri":"s3://bkt/k"})", "found an object"},
           {R"("https://bkt.s3.amazonaws.com/k")", "not an s3:// URI"},
           {R"("bkt/k")", "not an s3:// URI"},
           {R"("")", "not an s3:// URI"},
           {R"("s3://ab/k")", "not an s3:// URI"},
           {R"("s3://bkt")", "names no object"},
           {R"("s3://bkt/")", "names no object"},
           {R"("s3://bkt/dir/")", "names no object"},
       }) {
    expect_bad_augmented("{\"source-ref\":\"s3://bkt/ok\"}\n{\"source-ref\":" + value + "}\n", attrs, {"line 2: attribute 'source-ref'", part});
  }
}

TEST(AugmentedManifest, MissingAttributesNameLineAndAttribute) {
  expect_bad_augmented("{\"source-ref\":\"s3://b1b/k\",\"label\":1}\n{\"source-ref\":\"s3://b1b/k\"}\n",
                       {"source-ref", "label"}, {"line 2: attribute 'label' is missing"});
  expect_bad_augmented("{\"x\":1}", {"a", "b", "x"}, {"line 1: attributes 'a', 'b' are missing"});
  expect_bad_augmented("{}", {"a"}, {"line 1: attribute 'a' is missing"});
  expect_bad_augmented("{\"Label\":1}", {"label"}, {"attribute 'label' is missing"});
  // Nested members are not attributes.
  expect_bad_augmented("{\"meta\":{\"label\":1}}", {"label"}, {"attribute 'label' is missing"});
  // Blank lines count for the line number.
  expect_bad_augmented("{\"label\":1}\n\n\n{\"labl\":1}\n", {"label"}, {"line 4: attribute 'label' is missing"});
}

TEST(AugmentedManifest, RefusesDuplicatedAttribute) {
  expect_bad_augmented("{\"label\":1,\"label\":2}", {"label"}, {"line 1: attribute 'label' appears more than once"});
  // Duplicates of members that are not asked for are ignored.
  auto l = line_of("{\"x\":1,\"x\":2,\"label\":3}", {"label"});
  EXPECT_EQ(l.records, (std::vector<AugmentedRecord>{inline_record("3")}));
}

TEST(AugmentedManifest, BlankLinesLineEndingsAndBom) {
  std::string text = "\xEF\xBB\xBF{\"a\":1}\r\n\r\n   \t\n{\"a\":2}\n\n{\"a\":3}";  // no final newline
  auto lines = parse_augmented_manifest(text, {"a"});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].line_number, 1u);
  EXPECT_EQ(lines[1].line_number, 4u);
  EXPECT_EQ(lines[2].line_number, 6u);
  EXPECT_EQ(lines[2].records[0].data, "3");
  EXPECT_TRUE(parse_augmented_manifest("", {"a"}).empty());
  EXPECT_TRUE(parse_augmented_manifest("\n\n \n", {"a"}).empty());
  AugmentedLine untouched;
  untouched.line_number = 99;
  EXPECT_FALSE(parse_augmented_line(" \t\r", 7, {"a"}, untouched));
  EXPECT_EQ(untouched.line_number, 99u);
}

TEST(AugmentedManifest, EmptyAttributeNameMissingIsAnError) {  // found by the fuzz target (ASan)
  AugmentedLine out;
  try {
    parse_augmented_line(R"({"a":"x"})", 1, {"a", ""}, out);
    ADD_FAILURE() << "a missing attribute '' was not reported";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find("is missing"), std::string::npos) << e.what();
  }
}

TEST(AugmentedManifest, IgnoredMembersAreStillCheckedForSyntax) {
  auto l = line_of(R"({"junk":{"deep":[1,{"x":[true,false,null,"s",-1.5e3]}]},"a":"ok","more":[]})", {"a"});
  EXPECT_EQ(l.records[0].data, "ok");
  expect_bad_augmented(R"({"junk":[1,2,],"a":1})", {"a"}, {"line 1, column 14:", "expected a value, found ']'"});
  expect_bad_augmented(R"({"junk":01,"a":1})", {"a"}, {"line 1, column 10:", "leading zero"});
  expect_bad_augmented(R"({"junk":tru,"a":1})", {"a"}, {"line 1, column 9:", "invalid literal"});
}

TEST(AugmentedManifest, RefusesLinesThatAreNotOneObject) {
  const std::vector<std::string> a = {"a"};
  expect_bad_augmented("{\"a\":1}\n[1,2]\n", a, {"line 2, column 1:", "must be a JSON object, found an array"});
  expect_bad_augmented("\"a\"", a, {"line 1, column 1:", "found a string"});
  expect_bad_augmented("  42", a, {"line 1, column 3:", "found a number"});
  expect_bad_augmented("{\"a\":1} {\"a\":2}", a, {"line 1, column 9:", "after the JSON object"});
  expect_bad_augmented("{\"a\":1},", a, {"after the JSON object"});
  expect_bad_augmented("{\"a\":1", a, {"line 1, column 7:", "expected ',' or '}'"});
  expect_bad_augmented("{\"a\" 1}", a, {"line 1, column 6:", "expected ':'"});
  expect_bad_augmented("{a:1}", a, {"line 1, column 2:", "expected a member name"});
  expect_bad_augmented("{\"a\":1,}", a, {"line 1, column 8:", "expected a member name"});
  // An object spread over two lines is two broken lines.
  expect_bad_augmented("{\"a\":\n1}", a, {"line 1, column 6:", "expected a value, found the end of the text"});
}

TEST(AugmentedManifest, RefusesBadNumbersStringsAndUtf8) {
  const std::vector<std::string> a = {"a"};
  for (std::string bad : {"-"s, "1."s, ".5"s, "1e"s, "1e+"s, "+1"s, "00"s, "-01"s, "0x10"s, "NaN"s, "Infinity"s}) {
    SCOPED_TRACE(bad);
    Error e = augmented_refusal("{\"a\":" + bad + "}", a);
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find("line 1, column "), std::string::npos) << e.what();
  }
  expect_bad_augmented("{\"a\":\"x\xFFy\"}", a, {"line 1, column 8:", "invalid UTF-8 (byte 0xff)"});
  expect_bad_augmented("{\"a\":\"x\ty\"}", a, {"line 1, column 8:", "control character"});
  expect_bad_augmented("{\"a\":\"\\ud800\"}", a, {"line 1, column 7:", "surrogate"});
}

TEST(AugmentedManifest, NestingLimit) {
  std::string ok = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(line_of(ok, {"a"}).records[0].data, std::string(100, '[') + std::string(100, ']'));
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_bad_augmented(deep, {"a"}, {"nested more than 512 deep"});
  std::string deep_ignored = "{\"x\":" + std::string(100000, '{') + "}";
  expect_bad_augmented(deep_ignored, {"a"}, {"line 1"});
}

TEST(AugmentedManifest, RefusesAnEmptyAttributeList) {
  Error e = augmented_refusal("{\"a\":1}\n", {});
  EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(std::string(e.what()).find("AttributeNames is empty"), std::string::npos);
}

TEST(AugmentedManifest, ManyLines) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "{\"image-ref\":\"s3://bkt/img/" + std::to_string(i) + ".jpg\",\"label\":" + std::to_string(i % 7) + "}\n";
  auto lines = parse_augmented_manifest(text, {"image-ref", "label"});
  ASSERT_EQ(lines.size(), 5000u);
  EXPECT_EQ(lines[4321].line_number, 4322u);
  EXPECT_EQ(lines[4321].records[0].ref.key, "img/4321.jpg");
  EXPECT_EQ(lines[4321].records[1].data, std::to_string(4321 % 7));
}

}  // namespace
}  // namespace sluice::dataset
