#include "policy/json_values.hpp"

#include "core/error.hpp"

namespace sluice::policy {

using nlohmann::json;

std::string describe(const json& j) {
  switch (j.type()) {
    case json::value_t::string: return j.dump();
    case json::value_t::object: return "an object";
    case json::value_t::array: return "a list";
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean (" + j.dump() + ")";
    default: return "a number (" + j.dump() + ")";
  }
}

std::vector<std::string> string_or_list(const json& j, const std::string& path, std::string_view error_prefix) {
  auto fail = [&](const std::string& p, const std::string& why) {
    throw Error(ErrorKind::kInvalidInput, std::string(error_prefix) + p + ": " + why);
  };
  std::vector<std::string> out;
  auto one = [&](const json& v, const std::string& p) {
    if (!v.is_string()) fail(p, "must be a string, got " + describe(v));
    if (v.get_ref<const std::string&>().empty()) fail(p, "must not be empty");
    out.push_back(v.get<std::string>());
  };
  if (j.is_array()) {
    if (j.empty()) fail(path, "must not be an empty list");
    for (std::size_t i = 0; i < j.size(); ++i) one(j[i], path + "[" + std::to_string(i) + "]");
  } else {
    one(j, path);
  }
  return out;
}

}  // namespace sluice::policy
