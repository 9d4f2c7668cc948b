// ListTrainingJobs' NextToken to and from its position.
#include "serve/list_token.hpp"

#include "core/error.hpp"
#include "core/hash.hpp"

namespace sluice::serve {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Error invalid_token() {
  return Error(ErrorKind::kInvalidInput, "NextToken is not valid for this request",
               "give the token of the previous page of the same query, or none");
}

}  // namespace

std::string encode_list_token(const ListPosition& position, const std::string& fingerprint) {
  nlohmann::json doc = {{"q", fingerprint}, {"k", position.key}, {"s", position.seq}};
  return hex_encode(doc.dump());
}

ListPosition decode_list_token(const std::string& token, const std::string& fingerprint) {
  if (token.size() % 2 != 0) throw invalid_token();
  std::string text;
  text.reserve(token.size() / 2);
  for (std::size_t i = 0; i < token.size(); i += 2) {
    int hi = hex_value(token[i]), lo = hex_value(token[i + 1]);
    if (hi < 0 || lo < 0) throw invalid_token();
    text.push_back(static_cast<char>(hi * 16 + lo));
  }
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("q") || doc["q"] != fingerprint || !doc.contains("s") ||
      !doc["s"].is_number_integer() || !doc.contains("k") || !(doc["k"].is_string() || doc["k"].is_number())) {
    throw invalid_token();
  }
  return {doc["k"], doc["s"].get<std::int64_t>()};
}

}  // namespace sluice::serve
