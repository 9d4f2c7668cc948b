// A job's directory on this machine (<work-dir>/<TrainingJobName>/) and who may use it.
//
//  - It is made 0700: local users see nothing of a job (its inputs, models, FastFile mounts and
//    FIFOs are all below it).
//  - Multi-tenant: it belongs to the session that created it (its role and the tags of the caller),
//    recorded in `.sluice-owner` when it is made. Another session that names the same job is
//    refused before anything in the directory is read or written, and so is a directory that
//    exists without that record (made by hand, or by a single-tenant run): the job must not start
//    on a tree it did not make.
//  - Each host of the job is held by one `sluice train` at a time (an flock on
//    `.sluice-lock-<host>`): a second run of the same host is refused while the first is running.
//  - The training command of a multi-tenant job runs as the job's own uid (JobDirectory::uid), which owns
//    only what the command may write: model/, output/, code/ and the checkpoint directory. /opt/ml
//    itself and input/ stay root's, so the command cannot put a link where Sluice writes on the
//    next run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"
#include "policy/session_tags.hpp"

namespace sluice::job {

// What a run does when the job's name was used before on this machine (SageMaker refuses a
// duplicate TrainingJobName; a rerun never trains on what a previous run left).
enum class Rerun {
  kRefuse,   // Error(kInvalidInput) "ResourceInUse: ... already exists (<status>) ..."
  kReplace,  // --replace: everything of the hosts run (inputs, model, output, code, checkpoints,
             // logs, the status record) is deleted first; the audit log is kept (a line marks the
             // new run)
  kResume,   // --resume: only a Stopped, Failed or interrupted job, and only with the same spec;
             // model/, output/ and code/ are emptied, inputs and checkpoints kept (the runner
             // verifies and prunes the inputs against the new listing)
};

struct JobOwner {
  std::string role_arn;
  std::vector<policy::SessionTag> tags;  // the caller's session tags
};

class JobDirectory {
 public:
  // Makes (or, single-tenant or for the same owner, reuses) work_dir/name, 0700, locks the given
  // hosts, then applies `rerun` when one of them ran before (a `.sluice-run-<host>` record or its
  // directory exists). Throws Error(kInvalidInput) naming the job when another session owns it (or
  // it has no owner record in multi-tenant mode), when the job exists and `rerun` is kRefuse, or
  // when kResume finds a Completed job or a spec (`request`, the job spec's JSON text) that
  // differs from the one it ran with; Error(kNotFound) for kResume with no previous run;
  // Error(kConflict) when a host is being run by another `sluice train`; errno errors otherwise.
  // `owner` is set in multi-tenant mode.
  // `whole_job`: `hosts` are all of the job's (no --host), so --replace also removes the trees
  // and records of hosts an earlier run had that this spec has not. `prepare` runs once the
  // directory is known to be this session's and the hosts are locked, before anything of an
  // earlier run is touched (the runner cleans stale FastFile mounts there).
  JobDirectory(const std::filesystem::path& work_dir, const std::string& name, const std::optional<JobOwner>& owner,
               const std::vector<std::string>& hosts, Rerun rerun = Rerun::kRefuse, std::string_view request = {},
               bool whole_job = false, const std::function<void(const std::filesystem::path&)>& prepare = {});

  const std::filesystem::path& path() const { return path_; }

  // The status of the run before this one ("Completed", "Failed", "Stopped", "InProgress" for one
  // that was interrupted, "unknown" without a status record), or empty when there was none.
  const std::string& previous_status() const { return previous_status_; }

  // Multi-tenant: the uid (and gid) the job's command runs as, one of 2^28 ids from 0x60000000
  // (far above any login, system, subordinate or systemd dynamic id). Drawn at random when the
  // directory is made, unique among the jobs of the work directory (a registry, `.sluice-uids`,
  // under an flock; entries of job directories that are gone are dropped), and kept in the job
  // directory (`.sluice-uid`) for its reruns. Not derived from the job's name: a tenant cannot
  // choose a name that shares another job's uid. nullopt single-tenant.
  std::optional<uint32_t> uid() const { return uid_; }

 private:
  std::filesystem::path path_;
  std::vector<UniqueFd> locks_;
  std::optional<uint32_t> uid_;
  std::string previous_status_;
};

// Gives the job's uid what its command may write in one host's tree, without following a link:
// each of `writable` (relative to host_root, e.g. "model", "output", "code"; made when missing)
// and everything below it is chowned to uid; host_root itself and input/ stay as they are (root's,
// 0755): "", "." and anything below input/ are refused (Error kInvalidInput).
void hand_over(const std::filesystem::path& host_root, const std::vector<std::string>& writable, uint32_t uid);

// Whether the job directory `dir` was made for `owner`: the same role and session tags
// (multi-tenant), or, for no owner, by a single-tenant run (no owner record). A directory that
// cannot be read is not.
bool made_for(const std::filesystem::path& dir, const std::optional<JobOwner>& owner);

}  // namespace sluice::job
