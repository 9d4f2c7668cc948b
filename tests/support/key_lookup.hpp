// A server-side key lookup (auth::KeyLookup) that knows one long-term key, for tests that run a
// serve::ApiServer. Header-only, for the tests.
#pragma once

#include <string>

#include "auth/sigv4_verify.hpp"

namespace sluice::testing {

inline auth::KeyLookup one_key_lookup(std::string key, std::string secret, std::string principal) {
  return [key, secret, principal](std::string_view id) {
    auth::KeyLookupResult r;
    if (id == key) {
      r.status = auth::KeyLookupResult::Status::kFound;
      r.secret_access_key = secret;
      r.principal = principal;
    }
    return r;
  };
}

}  // namespace sluice::testing
