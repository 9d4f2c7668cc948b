// Session tags and tag keys to and from the state database's JSON text.
#include "serve/tags_json.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace sluice::serve {
namespace {

nlohmann::json parse(const std::string& text, const std::string& what) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_array()) {
    throw Error(ErrorKind::kDataLoss, what, "a list column is not a JSON array");
  }
  return doc;
}

}  // namespace

std::string tags_to_json(const std::vector<policy::SessionTag>& tags) {
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& t : tags) doc.push_back({{"Key", t.key}, {"Value", t.value}});
  return doc.dump();
}

std::string keys_to_json(const std::vector<std::string>& keys) { return nlohmann::json(keys).dump(); }

std::vector<policy::SessionTag> tags_from_json(const std::string& text, const std::string& what) {
  std::vector<policy::SessionTag> tags;
  for (const auto& t : parse(text, what)) {
    if (!t.is_object() || !t.contains("Key") || !t["Key"].is_string() || !t.contains("Value") ||
        !t["Value"].is_string()) {
      throw Error(ErrorKind::kDataLoss, what, "a tag is not {\"Key\":..,\"Value\":..}");
    }
    tags.push_back({t["Key"].get<std::string>(), t["Value"].get<std::string>()});
  }
  return tags;
}

std::vector<std::string> keys_from_json(const std::string& text, const std::string& what) {
  std::vector<std::string> keys;
  for (const auto& k : parse(text, what)) {
    if (!k.is_string()) throw Error(ErrorKind::kDataLoss, what, "a tag key is not a string");
    keys.push_back(k.get<std::string>());
  }
  return keys;
}

}  // namespace sluice::serve
