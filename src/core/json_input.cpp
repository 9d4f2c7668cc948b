#include "core/json_input.hpp"

#include <stdexcept>

#include "core/error.hpp"

namespace sluice {
namespace {

struct TooDeep {};

// nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
// -> "syntax error ..." (the position is given separately).
std::string reason_of(const std::string& what) {
  if (auto col = what.find("column "); col != std::string::npos) {
    if (auto colon = what.find(": ", col); colon != std::string::npos) return what.substr(colon + 2);
  }
  if (auto p = what.find("] "); p != std::string::npos) return what.substr(p + 2);
  return what;
}

}  // namespace

nlohmann::json parse_json_input(std::string_view text, const std::string& prefix) {
  try {
    return nlohmann::json::parse(text.begin(), text.end(), [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      if (depth > kMaxJsonDepth) throw TooDeep{};
      return true;
    });
  } catch (const TooDeep&) {
    throw Error(ErrorKind::kInvalidInput, prefix + "malformed JSON",
                "values nested more than " + std::to_string(kMaxJsonDepth) + " deep");
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is the 1-based index of the last byte read (the end of the offending token, or the
    // end of the input); reported 0-based with its 1-based line:column.
    std::size_t offset = e.byte == 0 ? 0 : e.byte - 1;
    if (offset > text.size()) offset = text.size();
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') ++line, column = 1;
      else ++column;
    }
    throw Error(ErrorKind::kInvalidInput,
                prefix + "malformed JSON at byte " + std::to_string(offset) + " (line " + std::to_string(line) +
                    ", column " + std::to_string(column) + ")",
                reason_of(e.what()));
  } catch (const nlohmann::json::exception& e) {  // out_of_range 406: a number such as 1e999
    throw Error(ErrorKind::kInvalidInput, prefix + "malformed JSON", reason_of(e.what()));
  }
}

}  // namespace sluice
