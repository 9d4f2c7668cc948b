#include "core/json_check.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <set>

#include "core/did_you_mean.hpp"
#include "core/strings.hpp"
#include "core/utf8.hpp"

namespace sluice::json_check {
namespace {

std::string length_message(size_t n, size_t min_len, size_t max_len) {
  if (n == 0 && min_len > 0) return "must not be empty";
  if (min_len == 0) return "must be at most " + std::to_string(max_len) + " characters long, got " + std::to_string(n);
  return "must be " + std::to_string(min_len) + " to " + std::to_string(max_len) + " characters long, got " +
         std::to_string(n);
}

// String-map values are often meant as strings but written as 3 or true.
std::string string_hint(const json& v) {
  if (v.is_number() || v.is_boolean()) return " (values are strings: write \"" + v.dump() + "\")";
  return "";
}

bool loose_type_ok(const json& v, Loose t) {
  switch (t) {
    case Loose::kObject: return v.is_object();
    case Loose::kArray: return v.is_array();
    case Loose::kString: return v.is_string();
    case Loose::kBool: return v.is_boolean();
    case Loose::kInteger: return v.is_number_integer();
  }
  return false;
}

std::string_view loose_type_name(Loose t) {
  switch (t) {
    case Loose::kObject: return "an object";
    case Loose::kArray: return "an array";
    case Loose::kString: return "a string";
    case Loose::kBool: return "true or false";
    case Loose::kInteger: return "an integer";
  }
  return "?";
}

std::string unknown_field_message(const Checker& c, std::string_view key, const Schema& here) {
  std::vector<std::string_view> names = here.fields;
  for (const auto& f : here.ignored) names.push_back(f.name);
  std::string message = "unknown field " + show(key);
  if (std::string hint = did_you_mean(key, names, "field names"); !hint.empty()) return message + hint;
  // A field of another object: probably nested at the wrong level.
  std::vector<std::string_view> homes;
  for (const Schema* s : c.schemas) {
    if (s == &here) continue;
    bool has = std::find(s->fields.begin(), s->fields.end(), key) != s->fields.end() ||
               std::any_of(s->ignored.begin(), s->ignored.end(), [&](const IgnoredField& f) { return f.name == key; });
    if (has) homes.push_back(s->where);
  }
  if (!homes.empty()) {
    message += "; it belongs in ";
    for (size_t i = 0; i < homes.size(); ++i) message += (i == 0 ? "" : " or ") + std::string(homes[i]);
    return message;
  }
  if (names.size() <= 8) {
    message += " (fields here: ";
    for (size_t i = 0; i < names.size(); ++i) message += (i == 0 ? "" : ", ") + std::string(names[i]);
    message += ")";
  }
  return message;
}

// "line L, column C" of the character at 0-based byte offset `pos` (columns count UTF-8 characters).
std::string position(std::string_view text, size_t pos) {
  pos = std::min(pos, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  size_t column = utf8_char_count(text.substr(line_start, pos - line_start)) + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Tracks where the parser is, to name the path of a duplicate key (nlohmann keeps the last one silently).
class DuplicateKeys {
 public:
  explicit DuplicateKeys(Checker& c) : c_(c) {}

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: frames_.push_back({false, 0, {}, {}}); break;
      case json::parse_event_t::array_start: frames_.push_back({true, 0, {}, {}}); break;
      case json::parse_event_t::key: {
        Frame& top = frames_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second) {
          c_.add(path(), "duplicate field " + show(top.key) + "; JSON parsers keep only one of them");
        }
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        next();
        break;
      case json::parse_event_t::value: next(); break;
    }
    return true;
  }

 private:
  struct Frame {
    bool array;
    size_t index;
    std::string key;
    std::set<std::string> keys;
  };

  void next() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }

  std::string path() const {
    std::string p;
    for (const Frame& f : frames_) p = f.array ? item(p, f.index) : member(p, f.key);
    return p;
  }

  Checker& c_;
  std::vector<Frame> frames_;
};

}  // namespace

// 'value' for a message: control characters escaped, cut after kShowMax characters.
std::string show(std::string_view s) {
  std::string out = "'";
  size_t chars = 0;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && chars++ == kShowMax) break;
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += "'";
  if (i < s.size()) out += "... (" + std::to_string(utf8_char_count(s)) + " characters)";
  return out;
}

bool is_identifier(std::string_view k) {
  if (k.empty() || ascii_isdigit(k[0])) return false;
  return std::all_of(k.begin(), k.end(), [](char c) { return ascii_isalnum(c) || c == '_'; });
}

// ---- paths ------------------------------------------------------------------------------------

// "A.B" for a name, A["key with spaces"] for any other key (map keys such as hyperparameter names);
// a key longer than kShowMax characters is cut: A["aaaa..."].
std::string member(const std::string& path, std::string_view key) {
  if (utf8_char_count(key) <= kShowMax) {
    if (is_identifier(key)) return path.empty() ? std::string(key) : path + "." + std::string(key);
    return path + "[" + json(std::string(key)).dump(-1, ' ', false, json::error_handler_t::replace) + "]";
  }
  size_t cut = 0;
  for (size_t chars = 0; cut < key.size(); ++cut) {
    if ((static_cast<unsigned char>(key[cut]) & 0xC0) != 0x80 && chars++ == kShowMax) break;
  }
  std::string shown = json(std::string(key.substr(0, cut))).dump(-1, ' ', false, json::error_handler_t::replace);
  return path + "[" + shown.substr(0, shown.size() - 1) + "...\"]";
}

std::string item(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// Path order with indices compared as numbers: InputDataConfig[2] before InputDataConfig[10].
bool path_less(const std::string& a, const std::string& b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (ascii_isdigit(a[i]) && ascii_isdigit(b[j])) {
      size_t ei = i;
      size_t ej = j;
      while (ei < a.size() && ascii_isdigit(a[ei])) ++ei;
      while (ej < b.size() && ascii_isdigit(b[ej])) ++ej;
      std::string_view na = std::string_view(a).substr(i, ei - i);
      std::string_view nb = std::string_view(b).substr(j, ej - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ei;
      j = ej;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

// ---- problems ---------------------------------------------------------------------------------

Node at(const Node& obj, std::string_view key) {
  Node n;
  n.path = member(obj.path, key);
  if (obj.v && obj.v->is_object()) {
    auto it = obj.v->find(std::string(key));
    if (it != obj.v->end()) n.v = &*it;
  }
  return n;
}

Node need(Checker& c, const Node& obj, std::string_view key, std::string_view why) {
  Node n = at(obj, key);
  if (!n) c.add(n.path, "required field is missing" + (why.empty() ? std::string() : " (" + std::string(why) + ")"));
  return n;
}

std::string describe(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number " + v.dump();
    case json::value_t::string: return "string " + show(v.get_ref<const std::string&>());
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a binary value";
  }
}

// A string of min_len..max_len characters; nullopt (with a problem unless absent) otherwise.
std::optional<std::string> get_string(Checker& c, const Node& n, size_t min_len, size_t max_len) {
  if (!n) return std::nullopt;
  if (!n.v->is_string()) {
    c.add(n.path, "must be a string, got " + describe(*n.v));
    return std::nullopt;
  }
  const std::string& s = n.v->get_ref<const std::string&>();
  size_t len = utf8_char_count(s);
  if (len < min_len || len > max_len) {
    c.add(n.path, length_message(len, min_len, max_len));
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> get_int(Checker& c, const Node& n) {
  if (!n) return std::nullopt;
  if (n.v->is_number_unsigned() && n.v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    c.add(n.path, "is too large, got " + n.v->dump());
    return std::nullopt;
  }
  if (!n.v->is_number_integer()) {
    c.add(n.path, "must be an integer, got " + describe(*n.v));
    return std::nullopt;
  }
  return n.v->get<int64_t>();
}

std::optional<bool> get_bool(Checker& c, const Node& n) {
  if (!n) return std::nullopt;
  if (!n.v->is_boolean()) {
    c.add(n.path, "must be true or false, got " + describe(*n.v));
    return std::nullopt;
  }
  return n.v->get<bool>();
}

std::optional<size_t> get_choice(Checker& c, const Node& n, std::span<const std::string_view> names,
                                 std::string_view hint) {
  if (!n) return std::nullopt;
  std::string allowed;
  for (std::string_view name : names) allowed += (allowed.empty() ? "" : "|") + std::string(name);
  if (!n.v->is_string()) {
    c.add(n.path, "must be a string, one of " + allowed + ", got " + describe(*n.v));
    return std::nullopt;
  }
  const std::string& s = n.v->get_ref<const std::string&>();
  auto exact = std::find(names.begin(), names.end(), s);
  if (exact != names.end()) return static_cast<size_t>(exact - names.begin());
  std::string message = "must be one of " + allowed + ", got " + show(s) + did_you_mean(s, names, "values");
  if (!hint.empty()) message += " (" + std::string(hint) + ")";
  c.add(n.path, message);
  return std::nullopt;
}

// A list of min_items..max_items strings, each at most max_len characters.
std::optional<std::vector<std::string>> get_string_list(Checker& c, const Node& n, size_t min_items, size_t max_items,
                                                        size_t min_len, size_t max_len) {
  if (!n) return std::nullopt;
  if (!n.v->is_array()) {
    c.add(n.path, "must be an array of strings, got " + describe(*n.v));
    return std::nullopt;
  }
  bool ok = true;
  if (n.v->size() < min_items || n.v->size() > max_items) {
    c.add(n.path, "must have " + std::to_string(min_items) + " to " + std::to_string(max_items) + " entries, got " +
                      std::to_string(n.v->size()));
    ok = false;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < n.v->size(); ++i) {
    auto s = get_string(c, Node{&(*n.v)[i], item(n.path, i)}, min_len, max_len);
    if (s) {
      out.push_back(*s);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

// A JSON object of string values: at most max_entries, each key checked by `key_problem`
// (empty: fine), each value at most max_value characters.
std::optional<std::map<std::string, std::string>> get_string_map(Checker& c, const Node& n, size_t max_entries,
                                                                 KeyCheck key_problem, size_t max_value) {
  if (!n) return std::nullopt;
  if (!n.v->is_object()) {
    c.add(n.path, "must be an object of string values, got " + describe(*n.v));
    return std::nullopt;
  }
  bool ok = true;
  if (n.v->size() > max_entries) {
    c.add(n.path, "must have at most " + std::to_string(max_entries) + " entries, got " + std::to_string(n.v->size()));
    ok = false;
  }
  std::map<std::string, std::string> out;
  for (auto it = n.v->begin(); it != n.v->end(); ++it) {
    std::string path = member(n.path, it.key());
    std::string why = key_problem(it.key());
    if (!why.empty()) {
      c.add(path, why);
      ok = false;
    }
    if (!it.value().is_string()) {
      c.add(path, "must be a string, got " + describe(it.value()) + string_hint(it.value()));
      ok = false;
      continue;
    }
    auto value = get_string(c, Node{&it.value(), path}, 0, max_value);
    if (!value) {
      ok = false;
      continue;
    }
    out[it.key()] = *value;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> names, std::string_view what) {
  auto same_but_case = std::find_if(names.begin(), names.end(), [&](std::string_view x) { return iequals(x, word); });
  if (same_but_case != names.end()) {
    return "; did you mean '" + std::string(*same_but_case) + "'? (" + std::string(what) + " are case-sensitive)";
  }
  // Near enough to be a likely typo: distance <= max(2, len/3).
  if (auto i = nearest(word, names, std::max<size_t>(2, word.size() / 3), {.ignore_case = true})) {
    return "; did you mean '" + std::string(names[*i]) + "'?";
  }
  return "";
}

std::string format(const Problem& p) { return p.path.empty() ? p.message : p.path + ": " + p.message; }

// ---- shapes -----------------------------------------------------------------------------------

// Checks that n is an object of shape s: unknown fields are problems, ignored ones are
// type-checked and recorded. False when n is absent or not an object.
bool open_object(Checker& c, const Node& n, const Schema& s) {
  if (!n) return false;
  if (!n.v->is_object()) {
    c.add(n.path, "must be an object, got " + describe(*n.v));
    return false;
  }
  for (auto it = n.v->begin(); it != n.v->end(); ++it) {
    const std::string& key = it.key();
    if (std::find(s.fields.begin(), s.fields.end(), key) != s.fields.end()) continue;
    auto ignored = std::find_if(s.ignored.begin(), s.ignored.end(), [&](const IgnoredField& f) { return f.name == key; });
    std::string path = member(n.path, key);
    if (ignored != s.ignored.end()) {
      if (!loose_type_ok(it.value(), ignored->type)) {
        c.add(path, "must be " + std::string(loose_type_name(ignored->type)) + ", got " + describe(it.value()) +
                        " (Sluice accepts this field but does not act on it)");
      } else {
        c.ignored.push_back(path);
      }
      continue;
    }
    c.add(path, unknown_field_message(c, key, s));
  }
  return true;
}

// ---- syntax -----------------------------------------------------------------------------------

bool parse_json(Checker& c, std::string_view text, json& doc) {
  DuplicateKeys duplicates(c);
  try {
    doc = json::parse(text.begin(), text.end(), std::ref(duplicates));
    return true;
  } catch (const json::parse_error& e) {
    std::string reason = e.what();
    auto colon = reason.find(": ");
    if (colon != std::string::npos) reason = reason.substr(colon + 2);
    size_t offset = e.byte == 0 ? 0 : e.byte - 1;  // e.byte is 1-based: the last character read
    c.problems.clear();                              // duplicates seen before the error would only confuse
    c.add("", "invalid JSON at " + position(text, offset) + ": " + reason);
    return false;
  } catch (const json::out_of_range& e) {  // 406: a number too large for a double, e.g. 1e999
    std::string reason = e.what();
    if (auto p = reason.find("] "); p != std::string::npos) reason.erase(0, p + 2);
    c.problems.clear();
    c.add("", "invalid JSON: " + reason);
    return false;
  }
}

}  // namespace sluice::json_check
