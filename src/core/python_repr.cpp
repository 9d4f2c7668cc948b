#include "core/python_repr.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace sluice {
namespace {

using Json = nlohmann::ordered_json;

// Decodes one code point at s[i], advancing i. Throws for malformed input (overlong forms,
// surrogates, truncation, > U+10FFFF).
char32_t next_code_point(std::string_view s, size_t& i) {
  if (auto cp = decode_utf8_at(s, i)) return *cp;
  throw Error(ErrorKind::kInvalidInput, "a string is not valid UTF-8",
              "byte " + std::to_string(i) + " of \"" + std::string(s.substr(0, 64)) + "\"");
}

void append_hex(std::string& out, unsigned value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.push_back(kHex[(value >> shift) & 0xF]);
}

// ---------------------------------------------------------------------------------------------
// Python's float repr (the 'r' format: shortest round-trip digits; positional notation when the
// decimal exponent is in [-4, 16), else d.ddde+XX with at least two exponent digits).

std::string python_float_repr(double d, bool json) {
  if (std::isnan(d)) return json ? "NaN" : "nan";
  if (std::isinf(d)) return d > 0 ? (json ? "Infinity" : "inf") : (json ? "-Infinity" : "-inf");
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  if (ec != std::errc()) throw Error(ErrorKind::kInternal, "formatting a float");
  std::string_view sci(buf, static_cast<size_t>(end - buf));  // "-1.2345e+02"
  bool negative = !sci.empty() && sci[0] == '-';
  if (negative) sci.remove_prefix(1);
  size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = std::stoi(std::string(sci.substr(e_pos + 1)));
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();

  std::string out = negative ? "-" : "";
  int decpt = exponent + 1;  // digits before the decimal point
  auto n = static_cast<int>(digits.size());
  if (exponent >= -4 && exponent < 16) {
    if (decpt <= 0) {
      out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    } else if (decpt >= n) {
      out += digits + std::string(static_cast<size_t>(decpt - n), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(static_cast<size_t>(decpt));
    }
  } else {
    out += digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    out += exponent < 0 ? "e-" : "e+";
    std::string e = std::to_string(std::abs(exponent));
    if (e.size() < 2) e.insert(0, "0");
    out += e;
  }
  return out;
}

// json.dumps(s, ensure_ascii=True)
void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    char32_t cp = next_code_point(s, i);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp <= 0x7E) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x10000) {
      out += "\\u";
      append_hex(out, static_cast<unsigned>(cp), 4);
    } else {
      char32_t v = cp - 0x10000;
      out += "\\u";
      append_hex(out, static_cast<unsigned>(0xD800 + (v >> 10)), 4);
      out += "\\u";
      append_hex(out, static_cast<unsigned>(0xDC00 + (v & 0x3FF)), 4);
    }
  }
  out.push_back('"');
}

void append_dumps(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: out += "null"; return;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case Json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); return;
    case Json::value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); return;
    case Json::value_t::number_float: out += python_float_repr(v.get<double>(), true); return;
    case Json::value_t::string: append_json_string(out, v.get_ref<const std::string&>()); return;
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v) {
        if (!first) out.push_back(',');
        first = false;
        append_dumps(out, e);
      }
      out.push_back(']');
      return;
    }
    case Json::value_t::object: {
      // sort_keys=True: Python orders str keys by code point, which is byte order in UTF-8.
      std::vector<std::pair<const std::string*, const Json*>> items;
      for (auto it = v.begin(); it != v.end(); ++it) items.emplace_back(&it.key(), &it.value());
      std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
      out.push_back('{');
      bool first = true;
      for (const auto& [k, val] : items) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, *k);
        out.push_back(':');
        append_dumps(out, *val);
      }
      out.push_back('}');
      return;
    }
    default: throw Error(ErrorKind::kInternal, "a JSON value of an unexpected type");
  }
}

// str.isprintable() for a non-ASCII code point. An approximation of the Unicode database: the
// C1 controls, the separators (Zs, Zl, Zp), the common format characters (Cf), surrogates,
// private use and noncharacters are not printable; everything else is.
bool python_printable(char32_t cp) {
  if (cp <= 0xA0) return false;                     // C1 controls and NO-BREAK SPACE
  if (cp == 0xAD || cp == 0x1680 || cp == 0x180E) return false;
  if (cp >= 0x2000 && cp <= 0x200F) return false;  // spaces, ZWSP, ZWNJ, ZWJ, LRM, RLM
  if (cp >= 0x2028 && cp <= 0x202F) return false;  // LS, PS, embeddings, NNBSP
  if (cp >= 0x205F && cp <= 0x206F) return false;
  if (cp == 0x3000 || cp == 0xFEFF) return false;
  if (cp >= 0xE000 && cp <= 0xF8FF) return false;  // private use
  if (cp >= 0xFFF9 && cp <= 0xFFFB) return false;
  if ((cp & 0xFFFE) == 0xFFFE) return false;       // noncharacters
  if (cp >= 0xF0000) return false;                 // supplementary private use
  return true;
}

// repr(s) for a Python str.
std::string python_str_repr(std::string_view s) {
  char quote = (s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    char32_t cp = next_code_point(s, i);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x20 || cp == 0x7F) {
      out += "\\x";
      append_hex(out, static_cast<unsigned>(cp), 2);
    } else if (cp < 0x7F || python_printable(cp)) {
      out.append(s.substr(start, i - start));
    } else if (cp <= 0xFF) {
      out += "\\x";
      append_hex(out, static_cast<unsigned>(cp), 2);
    } else if (cp <= 0xFFFF) {
      out += "\\u";
      append_hex(out, static_cast<unsigned>(cp), 4);
    } else {
      out += "\\U";
      append_hex(out, static_cast<unsigned>(cp), 8);
    }
  }
  out.push_back(quote);
  return out;
}

}  // namespace

std::string python_repr(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "None";
    case Json::value_t::boolean: return v.get<bool>() ? "True" : "False";
    case Json::value_t::number_integer: return std::to_string(v.get<int64_t>());
    case Json::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
    case Json::value_t::number_float: return python_float_repr(v.get<double>(), false);
    case Json::value_t::string: return python_str_repr(v.get_ref<const std::string&>());
    case Json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ", ";
        first = false;
        out += python_repr(e);
      }
      return out + "]";
    }
    case Json::value_t::object: {  // dicts keep insertion (document) order
      std::string out = "{";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        out += python_str_repr(it.key()) + ": " + python_repr(it.value());
      }
      return out + "}";
    }
    default: throw Error(ErrorKind::kInternal, "a JSON value of an unexpected type");
  }
}

size_t python_len(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) next_code_point(s, i);
  return n;
}

std::string python_json_dumps(const Json& v) {
  std::string out;
  append_dumps(out, v);
  return out;
}

std::string python_str(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return python_repr(v);
}

bool python_truthy(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return false;
    case Json::value_t::boolean: return v.get<bool>();
    case Json::value_t::number_integer: return v.get<int64_t>() != 0;
    case Json::value_t::number_unsigned: return v.get<uint64_t>() != 0;
    case Json::value_t::number_float: return v.get<double>() != 0.0;
    case Json::value_t::string:
    case Json::value_t::array:
    case Json::value_t::object: return !v.empty();
    default: return false;
  }
}

}  // namespace sluice
