// The phases of one run of a training job (runner.cpp drives them in this order; each is
// unit-tested with an in-memory store, tests/unit/job_phases_test.cpp):
//   resolve    every S3 channel listed once; per host: /opt/ml and its config files, the script
//              code, one ChannelSink per channel (modes/channel_sink.hpp), checkpoint sync
//   authorize  multi-tenant: every read that happens after the command starts, file-system
//              directories and the output location, before anything is read or written
//   prepare    free space for File channels, then each channel's prepare() (download, mount,
//              first FIFO) and the checkpoints restored
//   train      every host's command at once, each in its sandbox
//   finish     the channels stopped, the verdict, the outputs uploaded
// A phase throws Error for a failure outside the training code; the runner records it.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/sts.hpp"
#include "dataset/source.hpp"
#include "job/checkpoints.hpp"
#include "job/contract.hpp"
#include "job/job_spec.hpp"
#include "job/private_network.hpp"
#include "job/runner.hpp"
#include "job/sandbox.hpp"
#include "job/script_mode.hpp"
#include "job/status.hpp"
#include "job/tenancy.hpp"
#include "modes/channel_sink.hpp"
#include "transfer/engine.hpp"
#include "transfer/memory_budget.hpp"

namespace sluice::job {

// One host of the job on this machine.
struct HostRun {
  std::string name;            // "algo-K"
  std::filesystem::path root;  // this host's /opt/ml
  std::vector<std::unique_ptr<modes::ChannelSink>> channels;
  std::unique_ptr<CheckpointSync> checkpoints;
  std::vector<Bind> binds;             // besides the channels' directories
  std::vector<std::string> writable;   // below root: what a multi-tenant command may write
  std::optional<EntryPoint> entry_point;  // script mode: how the entry point runs
  std::shared_ptr<PrivateNetwork> network;  // multi-tenant: the job's own network, shared by its hosts
  RunResult result;
};

// What the phases share. The references must outlive the run.
struct JobRun {
  JobRun(const JobSpec& spec, const TrainOptions& options, store::Registry& stores);

  const JobSpec& spec;
  const TrainOptions& options;
  store::Registry& stores;
  Tenancy* tenancy = nullptr;               // multi-tenant mode only
  std::vector<std::string> hosts;           // every host of the job (host_names(spec))
  std::vector<std::string> selected;        // the hosts this run runs (--host: one)
  std::filesystem::path job_dir;            // <work_dir>/<TrainingJobName>
  ContractOptions contract;                 // the container contract's machine facts
  std::optional<ScriptMode> script;
  HostAddresses addresses;                  // where each host is reachable (its /etc/hosts)
  Isolation isolation = Isolation::kBubblewrap;
  std::optional<uint32_t> run_as;           // multi-tenant: the job's unprivileged uid
  std::optional<auth::AssumedRole> scoped;  // multi-tenant: the job's own store credentials

  // The job's data plane: every channel of every host, and the checkpoint restore, read through
  // one engine (options.store.max_connections reads in flight, all stores together); FastFile and
  // Pipe channels hold their data within one budget (options.max_memory). Declared before
  // host_runs, whose channels use them: destroyed after.
  transfer::MemoryBudget budget;
  transfer::Engine engine;

  std::map<std::string, dataset::ResolvedSource> sources;  // S3 channels: read for as long as the job runs
  std::vector<HostRun> host_runs;                          // one per selected host
  std::atomic<bool> channel_failed{false};  // set by a Pipe channel that failed: the job stops
};

// FailureReason of a failure outside the training code; a denied access says so first
// ("ClientError: AccessDenied: s3:GetObject on ... is denied ...").
std::string client_error(const Error& e);

// resolve: lists the S3 channels, then makes every selected host's tree, config files, script
// code, channel sinks and checkpoint sync (nothing is downloaded yet).
void resolve(JobRun& run);

// authorize (multi-tenant only; nothing when run.tenancy is null): every deferred read of every
// channel, every file-system directory and the output location. Throws kAccessDenied.
void authorize(JobRun& run);

struct PrepareTotals {
  uint64_t files = 0, bytes = 0, present_files = 0;  // File channels
  double seconds = 0;
};
// prepare: free space, then every channel of every host (download, mount, FIFO), checkpoints restored.
PrepareTotals prepare(JobRun& run, const std::atomic<bool>* stop);

// isolate (multi-tenant only): hands each host's writable directories to the job's uid and makes
// the job's own network (loopback, plus a relay to a loopback store endpoint). Throws Error.
void isolate(JobRun& run);

// train: every selected host's command at once; fills each HostRun::result. The commands stop on
// *stop, when a channel fails and at a denial (multi-tenant).
void train(JobRun& run, const std::atomic<bool>* stop);

// How the run ended (DescribeTrainingJob's TrainingJobStatus, SecondaryStatus, FailureReason) and
// the exit code of `sluice train`.
struct Verdict {
  std::string status = "Completed", secondary = "Completed", reason;
  int exit_code = 0;
};
struct Outcome {
  std::vector<const HostRun*> hosts;
  std::optional<Error> denial;    // multi-tenant: the first access denied while the command ran
  std::optional<Error> channel_failure;
  int max_runtime_seconds = 0;
};
Verdict decide(const Outcome& outcome);

// finish: stops every channel, decides, and uploads the outputs (after a completed or stopped
// job; with --host only from the first host). An upload that fails makes the job Failed.
Verdict finish(JobRun& run, StatusRecord& status);

}  // namespace sluice::job
