// ListTrainingJobs' NextToken: where the next page starts (the sort key and insertion order of the
// last record returned) and a fingerprint of the query it belongs to. Opaque to the client: hex of
// a small JSON document. Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace sluice::serve {

struct ListPosition {
  nlohmann::json key;  // the sort column's value: a string (Name, Status) or a number (CreationTime)
  std::int64_t seq = 0;  // the record's insertion order, which breaks ties
};

std::string encode_list_token(const ListPosition& position, const std::string& fingerprint);

// Throws sluice::Error(kInvalidInput) "NextToken is not valid for this request" when the token is
// damaged or was made for a query with another fingerprint.
ListPosition decode_list_token(const std::string& token, const std::string& fingerprint);

}  // namespace sluice::serve
