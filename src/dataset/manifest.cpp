#include "dataset/manifest.hpp"

#include <optional>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "core/strings.hpp"

namespace sluice::dataset {
namespace {

constexpr int kMaxDepth = 512;  // nesting limit for values we only check or copy
constexpr std::string_view kBom = "\xEF\xBB\xBF";

// A JSON syntax or shape problem at a byte offset of the scanned text.
struct ScanError {
  size_t offset;
  std::string what;
};

// A strict RFC 8259 scanner over one text. It validates as it goes and reports byte offsets.
class Scanner {
 public:
  explicit Scanner(std::string_view text, size_t pos = 0) : t_(text), pos_(pos) {}

  size_t pos() const { return pos_; }
  bool at_end() const { return pos_ >= t_.size(); }
  char peek() const { return t_[pos_]; }

  void skip_ws() {
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r')) ++pos_;
  }

  [[noreturn]] void fail(std::string what) const { throw ScanError{pos_, std::move(what)}; }
  [[noreturn]] void fail_at(size_t at, std::string what) const { throw ScanError{at, std::move(what)}; }

  // What the value starting here looks like, for messages ("a number", "the end of the text").
  std::string describe_next() const {
    if (at_end()) return "the end of the text";
    switch (peek()) {
      case '"': return "a string";
      case '{': return "an object";
      case '[': return "an array";
      case 't':
      case 'f': return "a boolean";
      case 'n': return "null";
      case ']': return "']'";
      case '}': return "'}'";
      case ',': return "','";
      case ':': return "':'";
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return "a number";
        return "'" + escaped(t_.substr(pos_, 1)) + "'";
    }
  }

  void expect(char c, std::string_view what) {
    if (at_end() || peek() != c) fail("expected " + std::string(what) + ", found " + describe_next());
    ++pos_;
  }

  // An object's member name at '"', decoded, and the ':' after it; leaves the scanner at the value.
  std::string member_name() {
    if (at_end() || peek() != '"') fail("expected a member name (a string), found " + describe_next());
    std::string name;
    string(&name);
    skip_ws();
    expect(':', "':' after a member name");
    skip_ws();
    return name;
  }

  // After an object's member: true past a ',' (another member follows), false past the closing '}'.
  bool next_member() {
    skip_ws();
    if (!at_end() && peek() == ',') {
      ++pos_;
      return true;
    }
    expect('}', "',' or '}'");
    return false;
  }

  // A string starting at '"'. Decodes into *decoded when given. Returns the raw text, quotes included.
  std::string_view string(std::string* decoded) {
    size_t start = pos_;
    if (at_end() || peek() != '"') fail("expected a string, found " + describe_next());
    ++pos_;
    for (;;) {
      if (at_end()) fail_at(start, "unterminated string");
      unsigned char c = static_cast<unsigned char>(t_[pos_]);
      if (c == '"') {
        ++pos_;
        return t_.substr(start, pos_ - start);
      }
      if (c < 0x20) fail("control character (byte 0x" + hex2(c) + ") inside a string; it must be escaped");
      if (c == '\\') {
        escape(decoded);
        continue;
      }
      if (c < 0x80) {
        if (decoded) *decoded += static_cast<char>(c);
        ++pos_;
        continue;
      }
      size_t n = utf8_sequence();
      if (decoded) decoded->append(t_.substr(pos_, n));
      pos_ += n;
    }
  }

  // Any value; checks it and, when compact is given, appends its text without the whitespace
  // outside strings.
  void value(std::string* compact, int depth = 0) {
    if (depth > kMaxDepth) fail("values nested more than " + std::to_string(kMaxDepth) + " deep");
    if (at_end()) fail("expected a value, found the end of the text");
    char c = peek();
    if (c == '"') {
      std::string_view raw = string(nullptr);
      if (compact) compact->append(raw);
    } else if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++pos_;
      if (compact) *compact += c;
      skip_ws();
      if (!at_end() && peek() == close) {
        ++pos_;
        if (compact) *compact += close;
        return;
      }
      for (;;) {
        if (c == '{') {
          skip_ws();
          if (at_end() || peek() != '"') fail("expected a member name (a string), found " + describe_next());
          std::string_view raw = string(nullptr);
          if (compact) compact->append(raw);
          skip_ws();
          expect(':', "':' after a member name");
          if (compact) *compact += ':';
        }
        skip_ws();
        value(compact, depth + 1);
        skip_ws();
        if (!at_end() && peek() == ',') {
          ++pos_;
          if (compact) *compact += ',';
          skip_ws();
          continue;
        }
        expect(close, c == '{' ? "',' or '}'" : "',' or ']'");
        if (compact) *compact += close;
        return;
      }
    } else if (c == 't' || c == 'f' || c == 'n') {
      std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
      if (t_.substr(pos_, word.size()) != word) fail("invalid literal (expected '" + std::string(word) + "')");
      pos_ += word.size();
      if (compact) compact->append(word);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos_;
      number();
      if (compact) compact->append(t_.substr(start, pos_ - start));
    } else {
      fail("expected a value, found " + describe_next());
    }
  }

 private:
  static std::string hex2(unsigned char c) {
    static const char* hex = "0123456789abcdef";
    return {hex[c >> 4], hex[c & 15]};
  }

  bool digit() const { return !at_end() && peek() >= '0' && peek() <= '9'; }

  void number() {
    if (peek() == '-') ++pos_;
    if (!digit()) fail("invalid number: a digit must follow '-'");
    if (peek() == '0') {
      ++pos_;
      if (digit()) fail("invalid number: leading zero");
    } else {
      while (digit()) ++pos_;
    }
    if (!at_end() && peek() == '.') {
      ++pos_;
      if (!digit()) fail("invalid number: a digit must follow '.'");
      while (digit()) ++pos_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
      if (!digit()) fail("invalid number: the exponent has no digits");
      while (digit()) ++pos_;
    }
  }

  uint32_t hex4() {
    if (pos_ + 4 > t_.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char h = t_[pos_ + i];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
      else fail("invalid \\u escape: '" + escaped(t_.substr(pos_, 4)) + "' is not 4 hex digits");
    }
    pos_ += 4;
    return v;
  }

  void escape(std::string* decoded) {
    size_t at = pos_;
    ++pos_;  // backslash
    if (at_end()) fail_at(at, "unterminated escape");
    char e = t_[pos_++];
    char out;
    switch (e) {
      case '"': out = '"'; break;
      case '\\': out = '\\'; break;
      case '/': out = '/'; break;
      case 'b': out = '\b'; break;
      case 'f': out = '\f'; break;
      case 'n': out = '\n'; break;
      case 'r': out = '\r'; break;
      case 't': out = '\t'; break;
      case 'u': {
        uint32_t cp = hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at(at, "lone low surrogate \\u" + escaped(t_.substr(at + 2, 4)));
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (t_.substr(pos_, 2) != "\\u") fail_at(at, "high surrogate without a following low surrogate");
          pos_ += 2;
          uint32_t lo = hex4();
          if (lo < 0xDC00 || lo > 0xDFFF) fail_at(at, "high surrogate without a following low surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (decoded) append_utf8(*decoded, cp);
        return;
      }
      default: fail_at(at, "invalid escape '\\" + escaped(std::string_view(&e, 1)) + "'");
    }
    if (decoded) *decoded += out;
  }

  // Length of the valid UTF-8 sequence (2-4 bytes) at pos_; fails on anything else.
  size_t utf8_sequence() const {
    auto b = [&](size_t i) { return pos_ + i < t_.size() ? static_cast<unsigned char>(t_[pos_ + i]) : 0u; };
    unsigned c = b(0);
    auto cont = [&](size_t i) { return (b(i) & 0xC0) == 0x80; };
    size_t n = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      n = cont(1) ? 2 : 0;
    } else if (c >= 0xE0 && c <= 0xEF) {
      unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;  // no overlongs, no surrogates
      n = b(1) >= lo && b(1) <= hi && cont(2) ? 3 : 0;
    } else if (c >= 0xF0 && c <= 0xF4) {
      unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;  // U+10000..U+10FFFF
      n = b(1) >= lo && b(1) <= hi && cont(2) && cont(3) ? 4 : 0;
    }
    if (n == 0) throw ScanError{pos_, "invalid UTF-8 (byte 0x" + hex2(static_cast<unsigned char>(c)) + ")"};
    return n;
  }

  std::string_view t_;
  size_t pos_;
};

constexpr size_t kNoElement = SIZE_MAX;

Error manifest_error(const ScanError& e, size_t element) {
  std::string where = "byte " + std::to_string(e.offset);
  if (element != kNoElement) where += " (element " + std::to_string(element) + ")";
  return Error(ErrorKind::kInvalidInput, "invalid manifest", where + ": " + e.what);
}

bool ends_with_ref(std::string_view name) { return name.size() >= 4 && name.substr(name.size() - 4) == "-ref"; }

}  // namespace

Manifest parse_manifest(std::string_view text) {
  Manifest m;
  size_t start = text.starts_with(kBom) ? kBom.size() : 0;
  Scanner s(text, start);
  size_t element = kNoElement;  // the element being scanned, for messages
  try {
    s.skip_ws();
    if (s.at_end()) s.fail("the manifest is empty; expected a JSON array [{\"prefix\": \"s3://...\"}, \"key\", ...]");
    if (s.peek() != '[') s.fail("the manifest must be a JSON array, found " + s.describe_next());
    s.expect('[', "'['");
    s.skip_ws();
    element = 0;
    if (!s.at_end() && s.peek() == ']') s.fail("the array is empty; its first element must be {\"prefix\": \"s3://...\"}");
    if (s.at_end() || s.peek() != '{') {
      s.fail("the first element must be an object {\"prefix\": \"s3://bucket/prefix/\"}, found " + s.describe_next());
    }
    // The prefix object: exactly one member, "prefix", a string.
    s.expect('{', "'{'");
    std::optional<std::string> prefix;
    size_t prefix_at = 0;
    s.skip_ws();
    if (!s.at_end() && s.peek() == '}') s.fail("the first element has no \"prefix\" member");
    for (;;) {
      s.skip_ws();
      size_t name_at = s.pos();
      const std::string name = s.member_name();
      if (name != "prefix") s.fail_at(name_at, "unexpected member \"" + escaped(name) + "\" in the first element (only \"prefix\" is allowed)");
      if (prefix) s.fail_at(name_at, "\"prefix\" appears twice in the first element");
      prefix_at = s.pos();
      if (s.at_end() || s.peek() != '"') s.fail("\"prefix\" must be a string (an s3:// URI), found " + s.describe_next());
      prefix.emplace();
      s.string(&*prefix);
      if (s.next_member()) continue;
      break;
    }
    if (prefix->empty()) s.fail_at(prefix_at, "\"prefix\" is empty; it must be an s3:// URI such as s3://bucket/prefix/");
    try {
      m.prefix = store::parse_address(*prefix);
    } catch (const Error& e) {
      s.fail_at(prefix_at, "\"prefix\" '" + escaped(*prefix) + "' is not a valid s3:// or file:// URI: " + e.cause());
    }
    // The entries.
    size_t close_at = 0;
    for (size_t i = 1;; ++i) {
      s.skip_ws();
      if (!s.at_end() && s.peek() == ']') {
        close_at = s.pos();
        s.expect(']', "']'");
        break;
      }
      element = i - 1;
      s.expect(',', "',' or ']' after element " + std::to_string(i - 1));
      s.skip_ws();
      element = i;
      if (!s.at_end() && s.peek() == ']') s.fail("trailing comma: expected a string after ','");
      size_t at = s.pos();
      if (s.at_end() || s.peek() != '"') {
        s.fail("expected a string (an object key relative to the prefix), found " + s.describe_next());
      }
      std::string entry;
      s.string(&entry);
      if (entry.empty()) s.fail_at(at, "empty string; every entry names an object under the prefix");
      if (entry.find('\0') != std::string::npos) s.fail_at(at, "the entry contains a NUL character");
      if (entry.front() == '/') {
        s.fail_at(at, "entry '" + escaped(entry) + "' is absolute (starts with '/'); entries are relative to the prefix");
      }
      if (entry.starts_with("s3://") || entry.starts_with("file://")) {
        s.fail_at(at, "entry '" + escaped(entry) + "' is a full URI; entries are keys relative to the prefix");
      }
      m.entries.push_back(std::move(entry));
    }
    element = kNoElement;
    s.skip_ws();
    if (!s.at_end()) s.fail("unexpected " + s.describe_next() + " after the closing ']'");
    if (m.entries.empty()) s.fail_at(close_at, "the manifest lists no objects after the prefix");
  } catch (const ScanError& e) {
    throw manifest_error(e, element);
  }
  return m;
}

bool parse_augmented_line(std::string_view line, size_t line_number, const std::vector<std::string>& attribute_names,
                          AugmentedLine& out) {
  auto fail = [&](size_t offset, const std::string& what) {
    return Error(ErrorKind::kInvalidInput, "invalid augmented manifest",
                 "line " + std::to_string(line_number) + ", column " + std::to_string(offset + 1) + ": " + what);
  };
  auto fail_attr = [&](const std::string& attr, const std::string& what) {
    return Error(ErrorKind::kInvalidInput, "invalid augmented manifest",
                 "line " + std::to_string(line_number) + ": attribute '" + escaped(attr) + "' " + what);
  };
  Scanner s(line);
  std::vector<std::optional<AugmentedRecord>> found(attribute_names.size());
  try {
    s.skip_ws();
    if (s.at_end()) return false;
    if (s.peek() != '{') s.fail("each line must be a JSON object, found " + s.describe_next());
    s.expect('{', "'{'");
    s.skip_ws();
    bool empty = !s.at_end() && s.peek() == '}';
    if (empty) s.expect('}', "'}'");
    while (!empty) {
      s.skip_ws();
      const std::string name = s.member_name();
      // Which requested attributes this member is (the list may name one attribute twice).
      std::optional<AugmentedRecord> record;
      bool wanted = false;
      for (size_t i = 0; i < attribute_names.size(); ++i) {
        if (attribute_names[i] != name) continue;
        if (found[i]) throw fail_attr(name, "appears more than once in the line");
        wanted = true;
      }
      if (!wanted) {
        s.value(nullptr);
      } else if (ends_with_ref(name)) {
        if (s.at_end() || s.peek() != '"') {
          throw fail_attr(name, "must be a string holding an s3:// URI (its name ends in \"-ref\"), found " + s.describe_next());
        }
        std::string uri;
        s.string(&uri);
        AugmentedRecord r;
        r.kind = AugmentedRecord::Kind::kObjectRef;
        try {
          r.ref = store::parse_address(uri);
        } catch (const Error& e) {
          throw fail_attr(name, "holds '" + escaped(uri) + "', which is not an s3:// URI: " + e.cause());
        }
        if (r.ref.key.empty() || r.ref.key.back() == '/') {
          throw fail_attr(name, "holds '" + escaped(uri) + "', which names no object (the key is empty or ends in '/')");
        }
        record = std::move(r);
      } else {
        AugmentedRecord r;
        r.kind = AugmentedRecord::Kind::kInline;
        if (!s.at_end() && s.peek() == '"') {
          s.string(&r.data);
        } else {
          s.value(&r.data);
        }
        record = std::move(r);
      }
      if (wanted) {
        for (size_t i = 0; i < attribute_names.size(); ++i) {
          if (attribute_names[i] == name) found[i] = *record;
        }
      }
      if (s.next_member()) continue;
      break;
    }
    s.skip_ws();
    if (!s.at_end()) s.fail("unexpected " + s.describe_next() + " after the JSON object (one object per line)");
  } catch (const ScanError& e) {
    throw fail(e.offset, e.what);
  }
  // Counted, not judged from the text: an empty attribute name adds nothing to `missing`.
  std::string missing;
  size_t missing_count = 0;
  for (size_t i = 0; i < attribute_names.size(); ++i) {
    if (found[i]) continue;
    if (missing_count++ > 0) missing += "', '";
    missing += escaped(attribute_names[i]);
  }
  if (missing_count > 0) {
    bool several = missing_count > 1;
    throw Error(ErrorKind::kInvalidInput, "invalid augmented manifest",
                "line " + std::to_string(line_number) + ": " + (several ? "attributes '" : "attribute '") + missing +
                    (several ? "' are missing" : "' is missing"));
  }
  out.line_number = line_number;
  out.records.clear();
  for (auto& r : found) out.records.push_back(std::move(*r));
  return true;
}

std::vector<AugmentedLine> parse_augmented_manifest(std::string_view text,
                                                    const std::vector<std::string>& attribute_names) {
  if (attribute_names.empty()) {
    throw Error(ErrorKind::kInvalidInput, "invalid augmented manifest channel",
                "AttributeNames is empty; it must name the attributes to send, in order");
  }
  if (text.starts_with(kBom)) text.remove_prefix(kBom.size());
  std::vector<AugmentedLine> lines;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    AugmentedLine parsed;
    if (parse_augmented_line(line, number, attribute_names, parsed)) lines.push_back(std::move(parsed));
  }
  return lines;
}

}  // namespace sluice::dataset
