// Session tags and tag keys as the JSON text the state database stores them in: tags as
// [{"Key":k,"Value":v},...] (the shape of STS and SageMaker), keys as ["k",...], order kept.
#pragma once

#include <string>
#include <vector>

#include "policy/session_tags.hpp"

namespace sluice::serve {

std::string tags_to_json(const std::vector<policy::SessionTag>& tags);
std::string keys_to_json(const std::vector<std::string>& keys);

// Throw sluice::Error(kDataLoss) with `what` as its message (e.g. "state database F: job 'x'")
// when the text is not of that shape.
std::vector<policy::SessionTag> tags_from_json(const std::string& text, const std::string& what);
std::vector<std::string> keys_from_json(const std::string& text, const std::string& what);

}  // namespace sluice::serve
