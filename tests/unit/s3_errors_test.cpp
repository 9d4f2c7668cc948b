// s3_error_kind / s3_error_hint: every common S3 error code has its own kind (and so its own exit
// code), an unknown code falls back on the HTTP status, and no 3xx/4xx answer is "internal".
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "store/s3_errors.hpp"

namespace sluice::store {
namespace {

struct Case {
  const char* code;
  long status;
  ErrorKind kind;
};

TEST(S3Errors, CommonCodesHaveTheirKind) {
  const Case cases[] = {
      {"InvalidBucketName", 400, ErrorKind::kInvalidInput},
      {"InvalidArgument", 400, ErrorKind::kInvalidInput},
      {"EntityTooLarge", 400, ErrorKind::kInvalidInput},
      {"EntityTooSmall", 400, ErrorKind::kInvalidInput},
      {"InvalidRange", 416, ErrorKind::kInvalidInput},
      {"InvalidPart", 400, ErrorKind::kInvalidInput},
      {"MalformedXML", 400, ErrorKind::kInvalidInput},
      {"KeyTooLongError", 400, ErrorKind::kInvalidInput},
      {"AuthorizationHeaderMalformed", 400, ErrorKind::kInvalidInput},
      {"PermanentRedirect", 301, ErrorKind::kInvalidInput},
      {"MethodNotAllowed", 405, ErrorKind::kInvalidInput},
      {"NotImplemented", 501, ErrorKind::kInvalidInput},  // a 5xx that no retry fixes
      {"NoSuchBucket", 404, ErrorKind::kNotFound},
      {"NoSuchKey", 404, ErrorKind::kNotFound},
      {"NoSuchUpload", 404, ErrorKind::kNotFound},
      {"NoSuchVersion", 404, ErrorKind::kNotFound},
      {"AccessDenied", 403, ErrorKind::kAccessDenied},
      {"InvalidAccessKeyId", 403, ErrorKind::kAccessDenied},
      {"SignatureDoesNotMatch", 403, ErrorKind::kAccessDenied},
      {"ExpiredToken", 400, ErrorKind::kAccessDenied},  // 400, yet a refusal of the credentials
      {"InvalidToken", 400, ErrorKind::kAccessDenied},
      {"RequestTimeTooSkewed", 403, ErrorKind::kAccessDenied},
      {"BucketAlreadyOwnedByYou", 409, ErrorKind::kConflict},
      {"BucketAlreadyExists", 409, ErrorKind::kConflict},
      {"BucketNotEmpty", 409, ErrorKind::kConflict},
      {"OperationAborted", 409, ErrorKind::kConflict},
      {"InvalidObjectState", 403, ErrorKind::kConflict},  // 403, yet not about the credentials
      {"BadDigest", 400, ErrorKind::kDataLoss},
      {"IncompleteBody", 400, ErrorKind::kDataLoss},
      {"XAmzContentSHA256Mismatch", 400, ErrorKind::kDataLoss},
      {"PreconditionFailed", 412, ErrorKind::kDataLoss},
      {"SlowDown", 503, ErrorKind::kRetryable},
      {"InternalError", 500, ErrorKind::kRetryable},
      {"ServiceUnavailable", 503, ErrorKind::kRetryable},
      {"RequestTimeout", 400, ErrorKind::kRetryable},  // 400, yet transient
  };
  for (const auto& c : cases) {
    EXPECT_EQ(s3_error_kind(c.code, c.status), c.kind) << c.code << " (HTTP " << c.status << ")";
  }
}

TEST(S3Errors, TheCodeDecidesOverTheStatus) {
  EXPECT_EQ(s3_error_kind("NoSuchKey", 400), ErrorKind::kNotFound);
  EXPECT_EQ(s3_error_kind("InvalidBucketName", 404), ErrorKind::kInvalidInput);
  EXPECT_EQ(s3_error_kind("SlowDown", 400), ErrorKind::kRetryable);
}

TEST(S3Errors, UnknownOrMissingCodeFallsBackOnTheStatus) {
  const std::pair<long, ErrorKind> by_status[] = {
      {400, ErrorKind::kInvalidInput}, {401, ErrorKind::kAccessDenied}, {403, ErrorKind::kAccessDenied},
      {404, ErrorKind::kNotFound},     {405, ErrorKind::kInvalidInput}, {409, ErrorKind::kConflict},
      {411, ErrorKind::kInvalidInput}, {412, ErrorKind::kDataLoss},     {416, ErrorKind::kInvalidInput},
      {301, ErrorKind::kInvalidInput}, {500, ErrorKind::kRetryable},    {503, ErrorKind::kRetryable},
  };
  for (const char* code : {"", "SomethingNew"}) {
    for (const auto& [status, kind] : by_status) {
      EXPECT_EQ(s3_error_kind(code, status), kind) << "code '" << code << "', HTTP " << status;
    }
  }
}

TEST(S3Errors, NoClientErrorIsInternal) {
  for (long status = 300; status < 500; ++status) {
    for (const char* code : {"", "Unheard", "InvalidBucketName", "AccessDenied", "NoSuchBucket"}) {
      EXPECT_NE(s3_error_kind(code, status), ErrorKind::kInternal) << "'" << code << "' HTTP " << status;
    }
  }
  // Only an answer that is no error status at all, with a code Sluice does not know, is.
  EXPECT_EQ(s3_error_kind("Unheard", 200), ErrorKind::kInternal);
}

TEST(S3Errors, HintsNameTheUsualCause) {
  EXPECT_NE(std::string(s3_error_hint("PermanentRedirect")).find("--region"), std::string::npos);
  EXPECT_NE(std::string(s3_error_hint("AuthorizationHeaderMalformed")).find("--region"), std::string::npos);
  EXPECT_NE(std::string(s3_error_hint("InvalidBucketName")).find("3 to 63"), std::string::npos);
  EXPECT_NE(std::string(s3_error_hint("RequestTimeTooSkewed")).find("clock"), std::string::npos);
  EXPECT_TRUE(s3_error_hint("NoSuchKey").empty());
  EXPECT_TRUE(s3_error_hint("").empty());
}

}  // namespace
}  // namespace sluice::store
