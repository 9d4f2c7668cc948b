// Parsing a JSON input the user gave (a policy, the IAM configuration, a file-system map, a policy
// simulation input): any problem is an Error(kInvalidInput) whose message starts with the caller's
// prefix and says where, e.g.
//   "invalid IAM config cfg.json: malformed JSON at byte 11 (line 1, column 12)" (cause: the reason).
// Values nested more than kMaxJsonDepth deep are refused too: nlohmann's parser is iterative, but
// copying, dumping and comparing a value recurse, and input nested 100,000 deep (a few hundred KB
// of '[') exhausted the stack later (under AddressSanitizer). Every JSON input Sluice reads is a
// few levels deep.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sluice {

inline constexpr int kMaxJsonDepth = 256;

// `prefix` is put before "malformed JSON ..." as is (end it with ": " or a space).
nlohmann::json parse_json_input(std::string_view text, const std::string& prefix);

}  // namespace sluice
