#include "store/s3_errors.hpp"

#include <array>
#include <utility>

namespace sluice::store {
namespace {

using Entry = std::pair<std::string_view, ErrorKind>;

// The error codes of the Amazon S3 API reference ("List of error codes") that stores send, with
// the RGW-specific ones; kinds as in core/error.hpp.
constexpr std::array kKinds = {
    // The thing named does not exist.
    Entry{"NoSuchBucket", ErrorKind::kNotFound},
    Entry{"NoSuchKey", ErrorKind::kNotFound},
    Entry{"NoSuchUpload", ErrorKind::kNotFound},
    Entry{"NoSuchVersion", ErrorKind::kNotFound},
    Entry{"NoSuchBucketPolicy", ErrorKind::kNotFound},
    Entry{"NoSuchLifecycleConfiguration", ErrorKind::kNotFound},
    Entry{"NoSuchCORSConfiguration", ErrorKind::kNotFound},
    Entry{"NoSuchTagSet", ErrorKind::kNotFound},
    Entry{"NoSuchTagSetError", ErrorKind::kNotFound},
    Entry{"NoSuchWebsiteConfiguration", ErrorKind::kNotFound},
    Entry{"NoSuchObjectLockConfiguration", ErrorKind::kNotFound},
    Entry{"NoSuchPublicAccessBlockConfiguration", ErrorKind::kNotFound},
    Entry{"ServerSideEncryptionConfigurationNotFoundError", ErrorKind::kNotFound},
    Entry{"NotFound", ErrorKind::kNotFound},
    // The credentials are refused, or not allowed to do this.
    Entry{"AccessDenied", ErrorKind::kAccessDenied},
    Entry{"AccountProblem", ErrorKind::kAccessDenied},
    Entry{"AllAccessDisabled", ErrorKind::kAccessDenied},
    Entry{"InvalidAccessKeyId", ErrorKind::kAccessDenied},
    Entry{"SignatureDoesNotMatch", ErrorKind::kAccessDenied},
    Entry{"ExpiredToken", ErrorKind::kAccessDenied},
    Entry{"InvalidToken", ErrorKind::kAccessDenied},
    Entry{"TokenRefreshRequired", ErrorKind::kAccessDenied},
    Entry{"InvalidSecurity", ErrorKind::kAccessDenied},
    Entry{"NotSignedUp", ErrorKind::kAccessDenied},
    Entry{"UserSuspended", ErrorKind::kAccessDenied},
    Entry{"RequestTimeTooSkewed", ErrorKind::kAccessDenied},
    Entry{"CrossLocationLoggingProhibited", ErrorKind::kAccessDenied},
    // The request, as the user asked for it, is not valid.
    Entry{"InvalidBucketName", ErrorKind::kInvalidInput},
    Entry{"InvalidArgument", ErrorKind::kInvalidInput},
    Entry{"InvalidRequest", ErrorKind::kInvalidInput},
    Entry{"InvalidRange", ErrorKind::kInvalidInput},
    Entry{"InvalidPart", ErrorKind::kInvalidInput},
    Entry{"InvalidPartOrder", ErrorKind::kInvalidInput},
    Entry{"InvalidDigest", ErrorKind::kInvalidInput},
    Entry{"InvalidURI", ErrorKind::kInvalidInput},
    Entry{"InvalidStorageClass", ErrorKind::kInvalidInput},
    Entry{"InvalidTag", ErrorKind::kInvalidInput},
    Entry{"InvalidLocationConstraint", ErrorKind::kInvalidInput},
    Entry{"IllegalLocationConstraintException", ErrorKind::kInvalidInput},
    Entry{"InvalidPolicyDocument", ErrorKind::kInvalidInput},
    Entry{"InvalidEncryptionAlgorithmError", ErrorKind::kInvalidInput},
    Entry{"InvalidTargetBucketForLogging", ErrorKind::kInvalidInput},
    Entry{"InvalidPayer", ErrorKind::kInvalidInput},
    Entry{"EntityTooLarge", ErrorKind::kInvalidInput},
    Entry{"EntityTooSmall", ErrorKind::kInvalidInput},
    Entry{"KeyTooLongError", ErrorKind::kInvalidInput},
    Entry{"MetadataTooLarge", ErrorKind::kInvalidInput},
    Entry{"InlineDataTooLarge", ErrorKind::kInvalidInput},
    Entry{"MaxMessageLengthExceeded", ErrorKind::kInvalidInput},
    Entry{"MaxPostPreDataLengthExceededError", ErrorKind::kInvalidInput},
    Entry{"MalformedXML", ErrorKind::kInvalidInput},
    Entry{"MalformedACLError", ErrorKind::kInvalidInput},
    Entry{"MalformedPOSTRequest", ErrorKind::kInvalidInput},
    Entry{"MalformedPolicy", ErrorKind::kInvalidInput},
    Entry{"UnexpectedContent", ErrorKind::kInvalidInput},
    Entry{"UnresolvableGrantByEmailAddress", ErrorKind::kInvalidInput},
    Entry{"UserKeyMustBeSpecified", ErrorKind::kInvalidInput},
    Entry{"MissingContentLength", ErrorKind::kInvalidInput},
    Entry{"MissingRequestBodyError", ErrorKind::kInvalidInput},
    Entry{"MissingSecurityHeader", ErrorKind::kInvalidInput},
    Entry{"MethodNotAllowed", ErrorKind::kInvalidInput},
    Entry{"NotImplemented", ErrorKind::kInvalidInput},  // 501: the store does not do this; retrying will not help
    Entry{"TooManyBuckets", ErrorKind::kInvalidInput},
    Entry{"AuthorizationHeaderMalformed", ErrorKind::kInvalidInput},
    Entry{"PermanentRedirect", ErrorKind::kInvalidInput},
    Entry{"TemporaryRedirect", ErrorKind::kInvalidInput},
    Entry{"Redirect", ErrorKind::kInvalidInput},
    Entry{"IncorrectEndpoint", ErrorKind::kInvalidInput},
    // The request is valid but collides with the state of the bucket or object.
    Entry{"BucketAlreadyExists", ErrorKind::kConflict},
    Entry{"BucketAlreadyOwnedByYou", ErrorKind::kConflict},
    Entry{"BucketNotEmpty", ErrorKind::kConflict},
    Entry{"OperationAborted", ErrorKind::kConflict},
    Entry{"InvalidBucketState", ErrorKind::kConflict},
    Entry{"InvalidObjectState", ErrorKind::kConflict},
    Entry{"ConditionalRequestConflict", ErrorKind::kConflict},
    Entry{"RestoreAlreadyInProgress", ErrorKind::kConflict},
    // Bytes were lost or changed on the way, or the object changed under a pinned read.
    Entry{"BadDigest", ErrorKind::kDataLoss},
    Entry{"IncompleteBody", ErrorKind::kDataLoss},
    Entry{"XAmzContentSHA256Mismatch", ErrorKind::kDataLoss},
    Entry{"PreconditionFailed", ErrorKind::kDataLoss},
    // Transient: the store is busy or failing (what is left after the retries).
    Entry{"SlowDown", ErrorKind::kRetryable},
    Entry{"InternalError", ErrorKind::kRetryable},
    Entry{"ServiceUnavailable", ErrorKind::kRetryable},
    Entry{"RequestTimeout", ErrorKind::kRetryable},
    Entry{"Throttling", ErrorKind::kRetryable},
    Entry{"ThrottlingException", ErrorKind::kRetryable},
    Entry{"RequestLimitExceeded", ErrorKind::kRetryable},
};

constexpr std::string_view kWrongRegion =
    "the bucket is in another region, or at another endpoint: set --region (or AWS_REGION) to the bucket's "
    "region, or --endpoint-url";

constexpr std::pair<std::string_view, std::string_view> kHints[] = {
    {"PermanentRedirect", kWrongRegion},
    {"TemporaryRedirect", kWrongRegion},
    {"Redirect", kWrongRegion},
    {"AuthorizationHeaderMalformed", kWrongRegion},
    {"IncorrectEndpoint", kWrongRegion},
    {"IllegalLocationConstraintException", kWrongRegion},
    {"InvalidBucketName",
     "bucket names are 3 to 63 characters: lower-case letters, digits, '-' and '.', starting and ending with a "
     "letter or digit"},
    {"BucketAlreadyExists", "bucket names are shared by every account of the store, and another one has it"},
    {"BucketNotEmpty", "the bucket still holds objects (or incomplete multipart uploads)"},
    {"RequestTimeTooSkewed", "this machine's clock differs from the store's by more than 15 minutes"},
    {"EntityTooLarge", "a single PUT takes at most 5 GiB and a part at most 5 GiB"},
};

}  // namespace

ErrorKind s3_error_kind(std::string_view code, long status) {
  for (const auto& [c, kind] : kKinds) {
    if (c == code) return kind;
  }
  if (status == 401 || status == 403) return ErrorKind::kAccessDenied;
  if (status == 404) return ErrorKind::kNotFound;
  if (status == 409) return ErrorKind::kConflict;
  if (status == 412) return ErrorKind::kDataLoss;
  if (status >= 500 && status < 600) return ErrorKind::kRetryable;
  if (status >= 300 && status < 500) return ErrorKind::kInvalidInput;
  return ErrorKind::kInternal;
}

std::string_view s3_error_hint(std::string_view code) {
  for (const auto& [c, hint] : kHints) {
    if (c == code) return hint;
  }
  return {};
}

}  // namespace sluice::store
