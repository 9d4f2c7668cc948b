// ManifestFile and AugmentedManifestFile parsing (the formats and Sluice's choices:
// docs/manifests.md). Pure functions: no I/O. Both parsers make one pass
// over the text and keep no more than their output, so a reader that feeds them a whole object
// (or, for augmented manifests, one line at a time) stays cheap.
//
// Errors are sluice::Error(kInvalidInput) with message "invalid manifest" / "invalid augmented
// manifest" and a cause that says where (byte offset, element index, line number) and what.
// Callers add the object's URI with Error::with_context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/address.hpp"

namespace sluice::dataset {

// A parsed ManifestFile: the prefix and the entries in manifest order (duplicates kept).
// Object i is prefix.key + entries[i] in prefix's bucket (plain string append, as the API says).
struct Manifest {
  store::Address prefix;
  std::vector<std::string> entries;

  size_t size() const { return entries.size(); }
  std::string key(size_t i) const { return prefix.key + entries[i]; }
  store::Address address(size_t i) const { return store::Address{prefix.scheme, prefix.bucket, key(i)}; }
};

// Parses a ManifestFile: a JSON array whose first element is {"prefix": "<s3:// or file:// URI>"}
// and whose other elements (at least one) are non-empty strings relative to the prefix. Refused,
// with the byte offset and element index: malformed JSON (RFC 8259, UTF-8; a leading UTF-8 BOM is
// skipped), a top level that is not an array, an empty array, a first element that is not an
// object with exactly the member "prefix" holding a string URI, a prefix that is not a valid
// s3:// or file:// URI, an entry that is not a string, an empty entry, an entry containing NUL,
// an entry starting with '/' (absolute) or with "s3://" / "file://" (a full URI), and anything
// after the closing ']'.
Manifest parse_manifest(std::string_view text);

// One record of an augmented manifest line: an object to fetch (attribute name ending in "-ref")
// or bytes to send as they are.
struct AugmentedRecord {
  enum class Kind { kObjectRef, kInline };
  Kind kind = Kind::kInline;
  store::Address ref;  // kObjectRef
  std::string data;   // kInline: the value's text (see parse_augmented_line)

  bool operator==(const AugmentedRecord&) const = default;
};

// One JSON line of an augmented manifest: its records in AttributeNames order.
struct AugmentedLine {
  size_t line_number = 0;  // 1-based physical line in the file
  std::vector<AugmentedRecord> records;
};

// Parses one line (without its '\n'; a trailing '\r' is JSON whitespace and is accepted).
// Returns false, leaving `out` untouched, for a blank line (only JSON whitespace). Otherwise the
// line must be one JSON object; for each name in attribute_names, in that order:
//  - missing, or present more than once: error naming the line and the attribute;
//  - a name ending in "-ref": the value must be a string holding an s3:// (or file://) URI of an
//    object (non-empty key not ending in '/'); it becomes a kObjectRef record;
//  - otherwise a kInline record: a string value's decoded contents (no quotes, escapes resolved,
//    UTF-8); any other value's JSON text exactly as written in the line with the whitespace
//    outside strings removed (1 -> "1", true -> "true", null -> "null", [1, 2] -> "[1,2]",
//    {"a": "b c"} -> {"a":"b c"}; numbers keep their spelling: 1.50 stays "1.50").
// Members not named in attribute_names are checked for JSON syntax and otherwise ignored.
bool parse_augmented_line(std::string_view line, size_t line_number,
                          const std::vector<std::string>& attribute_names, AugmentedLine& out);

// Parses a whole augmented manifest: lines separated by '\n' (the last may lack it), blank lines
// skipped (they are not records and do not count for sharding), line numbers 1-based physical.
// attribute_names must be non-empty (the API's list is what selects the records).
std::vector<AugmentedLine> parse_augmented_manifest(std::string_view text,
                                                    const std::vector<std::string>& attribute_names);

}  // namespace sluice::dataset
