// Multi-tenant mode of a job (`sluice train --iam-config FILE`, docs/multi-tenant.md): the job runs
// as a session of its execution role (RoleArn), with the session tags SageMaker would give it, and
// every storage access it makes is authorized against the role's policies before it is sent
// (docs/policy.md, docs/multi-tenant.md; policy/authorizing_store.hpp).
//
//  - The role must be in the IAM configuration and its trust policy must let the SageMaker service
//    principal (sagemaker.amazonaws.com) call sts:AssumeRole, and sts:TagSession when session tags
//    are chained (SessionChainingConfig.EnableSessionTagChaining); otherwise the job fails before
//    anything is read.
//  - Session tags: with chaining, the tags of the session that created the job (--session-tag)
//    override the role's tags of the same key; without it, only the role's own tags
//    (policy::chained_tags).
//  - Every access goes through the job's stores (store::Registry with store_wrap()), and is
//    written to the audit log (<job dir>/audit.jsonl). The first denial is kept (first_denial) so
//    that a job denied while it runs fails with a FailureReason naming it.
//  - File-system channels are authorized as EFS clients are: elasticfilesystem:ClientMount to
//    bind a directory, plus elasticfilesystem:ClientWrite when it is bound read-write, on the
//    resource arn:aws:elasticfilesystem:REGION:ACCOUNT:file-system/FS-ID/DIR/ where DIR is the
//    directory's real path (symbolic links resolved) below the file system's mount root.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/credentials.hpp"
#include "auth/sts.hpp"
#include "core/error.hpp"
#include "dataset/source.hpp"
#include "job/file_systems.hpp"
#include "job/job_spec.hpp"
#include "policy/authorizing_store.hpp"
#include "policy/iam_config.hpp"
#include "policy/session_tags.hpp"
#include "store/open.hpp"

namespace sluice::job {

// The principal that assumes a training job's execution role.
inline constexpr const char* kSageMakerPrincipal = "sagemaker.amazonaws.com";

class Tenancy {
 public:
  // Throws Error(kAccessDenied) when RoleArn is not a role of `iam` or its trust policy refuses;
  // Error(kInvalidInput) when the chained tags break the STS limits; errno errors when the audit
  // log cannot be opened.
  Tenancy(const policy::IamConfig& iam, const JobSpec& spec, const std::vector<policy::SessionTag>& caller_tags,
          const std::filesystem::path& audit_log, const std::string& region);

  // Store-side enforcement: when the role has a StoreRoleArn, asks the store's STS (AssumeRole)
  // for temporary credentials of that role narrowed by the concrete session policy of this
  // session (policy/session_policy.hpp); the job's stores and its training code use them. nullopt
  // (and a log line) when the role has none. Throws the STS error with context.
  std::optional<auth::AssumedRole> assume_store_role(const store::StoreOptions& options) const;

  // The decorator store::Registry puts around each store it opens.
  store::Registry::Wrap store_wrap();

  // s3:GetObject on one object, checked ahead of the reads FastFile and Pipe channels make while
  // the command runs, so that a denial fails the job before it starts. Throws Error(kAccessDenied).
  void authorize_read(const store::Address& object) const;

  // s3:PutObject on an object the job will write when it ends (model.tar.gz), checked before the
  // command starts so that a job is not run for hours to be refused its output.
  void authorize_write(const store::Address& object) const;

  // elasticfilesystem:ClientMount (+ ClientWrite for rw) on the channel's directory; `real_dir`
  // is the real path (no link left in it) of the directory the caller has opened and will bind by
  // that handle, so what is authorized is what is bound. Throws Error(kAccessDenied), or
  // Error(kInvalidInput) when it lies outside the file system's mount root.
  void authorize_file_system(const Channel& channel, const std::filesystem::path& real_dir,
                             const FileSystemMap& map) const;

  // The first access denied since the job started or since clear_denials(), if any. (A denied
  // listing that resolving a manifest falls back from is one; the runner clears them before the
  // command starts.)
  std::optional<Error> first_denial() const;
  void clear_denials();

  const std::string& role_arn() const { return role_arn_; }
  const std::vector<policy::SessionTag>& tags() const { return tags_; }
  // "role arn:... with session tags {tenant-id=a}" (or "with no session tags"), for messages.
  std::string describe() const;

 private:
  void record(const policy::AuditRecord& r);

  const policy::Role* role_ = nullptr;
  policy::Context context_;
  std::string role_arn_, account_, region_, session_name_;
  std::vector<policy::SessionTag> tags_;
  std::unique_ptr<policy::AuditLog> audit_;
  std::unique_ptr<policy::Authorizer> authorizer_;
  mutable std::mutex mu_;
  std::optional<Error> first_denial_;
};

// `base` with the AWS credential variables replaced by `credentials` (and AWS_PROFILE unset), for
// the StoreOptions of a job that runs with scoped credentials.
auth::EnvLookup with_credentials(const auth::Credentials& credentials, auth::EnvLookup base);

}  // namespace sluice::job
