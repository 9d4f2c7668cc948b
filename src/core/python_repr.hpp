// Python's own renderings of a decoded JSON value, byte for byte, for programs that read what
// Python would have written (the SageMaker training toolkit's environment variables and arguments).
// Strings must be UTF-8: anything else throws Error(kInvalidInput) "a string is not valid UTF-8".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sluice {

// len(s) of a Python str: code points.
size_t python_len(std::string_view s);

// json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True): keys sorted by code
// point, floats as Python's repr ("1e-05", "1e+16", "100.0"), non-ASCII as \uXXXX.
std::string python_json_dumps(const nlohmann::ordered_json& v);

// repr(v): "True", "None", "[1, 'a']", "{'k': 2.5}" (dicts in document order).
std::string python_repr(const nlohmann::ordered_json& v);

// str(v): a string as it is, anything else as repr(v).
std::string python_str(const nlohmann::ordered_json& v);

// bool(v): false for None, False, 0, 0.0, [] and {}. Unlike Python, an empty string is true (nlohmann
// calls no string empty); the contract has always computed it so.
bool python_truthy(const nlohmann::ordered_json& v);

}  // namespace sluice
