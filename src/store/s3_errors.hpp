// What an S3 error answer means: the ErrorKind of each <Code> that S3 and S3-compatible stores
// send, else of the HTTP status, so that every refusal becomes its own exit code (docs/cli.md)
// and none is taken for a bug in Sluice.
#pragma once

#include <string_view>

#include "core/error.hpp"

namespace sluice::store {

// `code`: the <Code> of the error body (empty when none, as for HEAD); `status`: the HTTP status.
// A code listed in s3_errors.cpp decides; else the status: 401/403 kAccessDenied, 404 kNotFound,
// 409 kConflict, 412 kDataLoss, 5xx kRetryable, any other 3xx/4xx kInvalidInput (the store
// refused the request as it was asked); anything else kInternal.
ErrorKind s3_error_kind(std::string_view code, long status);

// What usually causes `code` when the store's message does not say it (the region, the clock, the
// bucket naming rules ...); empty when nothing is worth adding.
std::string_view s3_error_hint(std::string_view code);

}  // namespace sluice::store
