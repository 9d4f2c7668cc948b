// Checking a JSON document a user wrote against the shape a program expects, reporting every
// problem at once, each with its JSON path ("InputDataConfig[1].DataSource.S3DataSource.S3Uri")
// and a message that echoes the offending value and, for a near miss, says "did you mean".
// The domain (which objects have which fields, what a value must look like) is the caller's:
// a Checker collects problems; typed readers (get_string, get_enum, ...) and open_object (known,
// ignored and unknown fields) add them; parse_json reports syntax errors and duplicate keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::json_check {

using json = nlohmann::json;

inline constexpr size_t kShowMax = 100;  // characters of a value echoed in a message

// ---- text and paths ---------------------------------------------------------------------------

// 'value' for a message: control characters escaped, cut after kShowMax characters.
std::string show(std::string_view s);

// [a-zA-Z_][a-zA-Z0-9_]*
bool is_identifier(std::string_view k);

// "A.B" for a name, A["key with spaces"] for any other key (map keys such as hyperparameter names);
// a key longer than kShowMax characters is cut: A["aaaa..."].
std::string member(const std::string& path, std::string_view key);
std::string item(const std::string& path, size_t i);

// Path order with indices compared as numbers: InputDataConfig[2] before InputDataConfig[10].
bool path_less(const std::string& a, const std::string& b);

// "must be a string, got " + describe(v): "null", "true", "number 3", "string 'x'", "an array", ...
std::string describe(const json& v);

// "; did you mean 'X'?" for `word` among `names`: a name equal but for case first (then
// " (<what> are case-sensitive)" follows), else the nearest within max(2, len/3) edits ignoring
// case; "" when none is near.
std::string did_you_mean(std::string_view word, std::span<const std::string_view> names, std::string_view what);

// ---- problems ---------------------------------------------------------------------------------

// One problem in a document: where and what.
struct Problem {
  std::string path;
  std::string message;
};

// "PATH: MESSAGE", or the message alone for the document itself.
std::string format(const Problem& p);

struct Schema;

struct Checker {
  std::vector<Problem> problems;
  std::vector<std::string> ignored;  // paths of fields accepted but not acted on
  // Every shape of the document, for "it belongs in" hints on a field nested at the wrong level.
  std::span<const Schema* const> schemas;
  void add(std::string path, std::string message) { problems.push_back({std::move(path), std::move(message)}); }
};

// A value in the document and its path; v is null when the field is absent.
struct Node {
  const json* v = nullptr;
  std::string path;
  explicit operator bool() const { return v != nullptr; }
};

Node at(const Node& obj, std::string_view key);
// at(), with a problem when the field is absent; `why` (if any) is said in parentheses.
Node need(Checker& c, const Node& obj, std::string_view key, std::string_view why = {});

// ---- typed readers: nullopt (with a problem unless absent) when the value does not fit ---------

// A string of min_len..max_len characters.
std::optional<std::string> get_string(Checker& c, const Node& n, size_t min_len, size_t max_len);
std::optional<int64_t> get_int(Checker& c, const Node& n);
std::optional<bool> get_bool(Checker& c, const Node& n);
// A list of min_items..max_items strings, each of min_len..max_len characters.
std::optional<std::vector<std::string>> get_string_list(Checker& c, const Node& n, size_t min_items, size_t max_items,
                                                        size_t min_len, size_t max_len);

// A JSON object of string values: at most max_entries, each key checked by `key_problem` (which
// returns "" when it is fine), each value at most max_value characters.
using KeyCheck = std::string (*)(const std::string& key);
std::optional<std::map<std::string, std::string>> get_string_map(Checker& c, const Node& n, size_t max_entries,
                                                                 KeyCheck key_problem, size_t max_value);

// The value of `s` in `names` (exactly, case-sensitive), else the problem message; a near miss
// gets "did you mean", `hint` (if any) follows in parentheses.
std::optional<size_t> get_choice(Checker& c, const Node& n, std::span<const std::string_view> names,
                                 std::string_view hint = {});

template <typename E>
using EnumTable = std::span<const std::pair<std::string_view, E>>;

// One of the spellings in `table`, as get_choice.
template <typename E>
std::optional<E> get_enum(Checker& c, const Node& n, EnumTable<E> table, std::string_view hint = {}) {
  std::vector<std::string_view> names;
  for (const auto& entry : table) names.push_back(entry.first);
  auto i = get_choice(c, n, names, hint);
  if (!i) return std::nullopt;
  return table[*i].second;
}

// ---- shapes -----------------------------------------------------------------------------------

enum class Loose { kObject, kArray, kString, kBool, kInteger };

struct IgnoredField {
  std::string_view name;
  Loose type;
};

struct Schema {
  std::string_view where;                // where objects of this shape live, for "it belongs in" hints
  std::vector<std::string_view> fields;  // validated and acted on (or recorded)
  std::vector<IgnoredField> ignored;     // accepted, type-checked, not acted on
};

// Checks that n is an object of shape s: unknown fields are problems, ignored ones are
// type-checked and recorded. False when n is absent or not an object.
bool open_object(Checker& c, const Node& n, const Schema& s);

// ---- syntax -----------------------------------------------------------------------------------

// Parses `text` into doc. A syntax error becomes the only problem ("invalid JSON at line L,
// column C: ..."); a key that appears twice in one object is a problem at its path.
bool parse_json(Checker& c, std::string_view text, json& doc);

}  // namespace sluice::json_check
