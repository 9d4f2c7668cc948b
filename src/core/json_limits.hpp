// JSON parsing with a nesting limit. nlohmann's parser is iterative, but copying, dumping and
// comparing a value recurse: input nested 100,000 deep (a few hundred KB of '[') would exhaust the
// stack later, and did under AddressSanitizer. Every JSON input Sluice reads is at most a few
// levels deep, so anything deeper than kMaxJsonDepth is refused at parse time.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice {

inline constexpr int kMaxJsonDepth = 256;

// Thrown by parse_json_limited; callers turn it into their own kInvalidInput error.
class JsonTooDeep : public std::runtime_error {
 public:
  JsonTooDeep() : std::runtime_error("values nested more than " + std::to_string(kMaxJsonDepth) + " deep") {}
};

// nlohmann::json::parse (which throws nlohmann::json::exception for malformed text), refusing
// values nested more than kMaxJsonDepth deep with JsonTooDeep.
inline nlohmann::json parse_json_limited(std::string_view text) {
  return nlohmann::json::parse(text.begin(), text.end(),
                               [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                 if (depth > kMaxJsonDepth) throw JsonTooDeep();
                                 return true;
                               });
}

}  // namespace sluice
