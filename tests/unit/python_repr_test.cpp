// core/python_repr against what CPython 3 prints for the same values.
#include "core/python_repr.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "core/error.hpp"

using sluice::python_json_dumps;
using sluice::python_repr;
using Json = nlohmann::ordered_json;

TEST(PythonRepr, Scalars) {
  EXPECT_EQ(python_repr(Json()), "None");
  EXPECT_EQ(python_repr(Json(true)), "True");
  EXPECT_EQ(python_repr(Json(-3)), "-3");
  EXPECT_EQ(python_repr(Json(1e-5)), "1e-05");
  EXPECT_EQ(python_repr(Json(1e16)), "1e+16");
  EXPECT_EQ(python_repr(Json(100.0)), "100.0");
  EXPECT_EQ(python_repr(Json(0.1)), "0.1");
  EXPECT_EQ(python_repr(Json(std::numeric_limits<double>::infinity())), "inf");
  EXPECT_EQ(python_json_dumps(Json(-std::numeric_limits<double>::infinity())), "-Infinity");
}

TEST(PythonRepr, Strings) {
  EXPECT_EQ(python_repr(Json("it's")), "\"it's\"");
  EXPECT_EQ(python_repr(Json("a'b\"c")), "'a\\'b\"c'");
  EXPECT_EQ(python_repr(Json("t\tn\n\x01\x7f")), "'t\\tn\\n\\x01\\x7f'");
  EXPECT_EQ(python_repr(Json("\xC3\xA9")), "'\xC3\xA9'");                // é is printable
  EXPECT_EQ(python_repr(Json("\xC2\xA0\xE2\x80\x8B")), "'\\xa0\\u200b'");  // NBSP, ZWSP are not
  EXPECT_EQ(python_repr(Json("\xF3\xB0\x80\x80")), "'\\U000f0000'");       // private use
}

TEST(PythonRepr, ContainersKeepOrderDumpsSortsKeys) {
  Json v = Json::parse(R"({"b": [1, "x", null], "a": {"k": 2.5}})");
  EXPECT_EQ(python_repr(v), "{'b': [1, 'x', None], 'a': {'k': 2.5}}");
  EXPECT_EQ(python_json_dumps(v), R"({"a":{"k":2.5},"b":[1,"x",null]})");
  EXPECT_EQ(python_json_dumps(Json("\xC3\xA9\xF0\x9F\x98\x80")), R"("\u00e9\ud83d\ude00")");
  EXPECT_EQ(sluice::python_str(Json("plain")), "plain");
  EXPECT_EQ(sluice::python_str(Json::array()), "[]");
}

TEST(PythonRepr, TruthyAndLen) {
  EXPECT_FALSE(sluice::python_truthy(Json()));
  EXPECT_FALSE(sluice::python_truthy(Json(0.0)));
  EXPECT_FALSE(sluice::python_truthy(Json::object()));
  EXPECT_TRUE(sluice::python_truthy(Json("0")));
  EXPECT_TRUE(sluice::python_truthy(Json::parse("[0]")));
  EXPECT_EQ(sluice::python_len("a\xC3\xA9\xF0\x9F\x98\x80"), 3u);
}

TEST(PythonRepr, InvalidUtf8NamesTheByte) {
  try {
    python_repr(Json("ab\xC0\xAF"));
    FAIL() << "no error";
  } catch (const sluice::Error& e) {
    EXPECT_EQ(e.kind(), sluice::ErrorKind::kInvalidInput);
    EXPECT_NE(e.cause().find("byte 2"), std::string::npos) << e.cause();
  }
  EXPECT_THROW(sluice::python_len("\xED\xA0\x80"), sluice::Error);
}
