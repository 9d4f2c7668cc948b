// The JSON values of IAM documents (identity policies, trust policies): how a value is named in an
// error, and the "a string or a list of strings" shape of Action, Resource and Principal entries.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::policy {

// `"text"`, "an object", "a list", "null", "a boolean (true)", "a number (3)".
std::string describe(const nlohmann::json& j);

// A non-empty string, or a non-empty list of non-empty strings. A wrong value throws kInvalidInput
// "<error_prefix><path>: <why>" naming the element's path (path[i] inside a list).
std::vector<std::string> string_or_list(const nlohmann::json& j, const std::string& path, std::string_view error_prefix);

}  // namespace sluice::policy
