// The phases of a training job run (job/phases/job_run.hpp) against an in-memory store: resolve
// gives each host its channel sinks and share, prepare downloads File channels (a rerun fetches
// nothing again and removes what the new listing lacks), Pipe channels make their FIFO, decide
// orders the reasons a job did not complete, train runs every host's command, and finish stops
// the channels and uploads the model. FUSE mounts and the sandbox are tested end to end
// (tests/e2e/train_*_test.sh).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "formats/tar_reader.hpp"
#include "job/phases/job_run.hpp"
#include "store/fault_store.hpp"
#include "store/forwarding_store.hpp"
#include "store/memory_store.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "sluice-phases-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Every bucket opens as a view of one MemoryStore (the bucket is not part of the key: the tests
// use one bucket).
class View final : public store::ForwardingStore {
 public:
  explicit View(store::ObjectStore& inner) : ForwardingStore(inner) {}
};

json job(const std::string& mode, int hosts = 1) {
  json j = json::parse(R"js({
    "TrainingJobName": "phases-1",
    "RoleArn": "arn:aws:iam::123456789012:role/SluiceTraining",
    "AlgorithmSpecification": {"TrainingInputMode": "File", "ContainerEntrypoint": ["sh", "-c", "exit 0"]},
    "InputDataConfig": [
      {"ChannelName": "train",
       "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/train/",
                                       "S3DataDistributionType": "ShardedByS3Key"}}}
    ],
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600}
  })js");
  j["ResourceConfig"]["InstanceCount"] = hosts;
  j["AlgorithmSpecification"]["TrainingInputMode"] = mode;
  return j;
}

// One run of `spec` with its own job directory, over `memory`.
struct Fixture {
  store::MemoryStore& memory;
  TempDir dir;
  JobSpec spec;
  TrainOptions options;
  store::Registry stores;
  JobRun run;

  Fixture(store::MemoryStore& memory, const json& j)
      : memory(memory), spec(parse_job_spec(j.dump())),
        stores({}, {}, [&memory](const store::Address&) { return std::make_unique<View>(memory); }),
        run(spec, options, stores) {
    run.hosts = host_names(spec);
    run.selected = run.hosts;
    run.job_dir = dir.path / spec.training_job_name;
    run.isolation = Isolation::kNone;
    fs::create_directories(run.job_dir / "logs");
  }
};

void put(store::MemoryStore& s, const std::string& key, const std::string& data) {
  s.put(key, store::Body::from_string(data));
}

TEST(JobPhases, ResolveGivesEachHostItsShareOfAFileChannel) {
  store::MemoryStore memory;
  for (int i = 0; i < 7; ++i) put(memory, "train/f" + std::to_string(i), std::string(100 + i, 'x'));
  Fixture f(memory, job("File", 3));
  resolve(f.run);
  ASSERT_EQ(f.run.host_runs.size(), 3u);
  uint64_t files = 0, bytes = 0;
  for (const auto& host : f.run.host_runs) {
    ASSERT_EQ(host.channels.size(), 1u);
    const auto& channel = *host.channels.front();
    EXPECT_EQ(channel.name(), "train");
    EXPECT_TRUE(channel.downloads());
    EXPECT_TRUE(channel.deferred_reads().empty()) << "File mode reads while preparing, through the job's stores";
    EXPECT_FALSE(channel.directory());
    EXPECT_EQ(channel.bytes_to_write(), channel.stats().bytes) << "nothing is on disk yet";
    files += channel.stats().files;
    bytes += channel.stats().bytes;
    EXPECT_TRUE(fs::exists(host.root / "input" / "config" / "resourceconfig.json")) << host.name;
  }
  EXPECT_EQ(files, 7u) << "ShardedByS3Key: every object on exactly one host";
  EXPECT_EQ(bytes, 7u * 100 + 21);
}

TEST(JobPhases, PrepareDownloadsThenARerunFetchesNothingAndDropsWhatIsNoLongerListed) {
  store::MemoryStore memory;
  put(memory, "train/a.txt", "alpha");
  put(memory, "train/sub/b.txt", "beta");
  put(memory, "train/c.txt", "gamma");
  {
    Fixture f(memory, job("File"));
    resolve(f.run);
    const PrepareTotals totals = prepare(f.run, nullptr);
    EXPECT_EQ(totals.files, 3u);
    EXPECT_EQ(totals.bytes, 14u);
    EXPECT_EQ(totals.present_files, 0u);
    const fs::path data = f.run.job_dir / "algo-1" / "input" / "data" / "train";
    EXPECT_EQ(read(data / "a.txt"), "alpha");
    EXPECT_EQ(read(data / "sub" / "b.txt"), "beta");
    EXPECT_EQ(f.run.host_runs[0].channels[0]->bytes_to_write(), 0u);

    // The same job directory again, with one object gone and one changed.
    memory.remove("train/c.txt");
    put(memory, "train/a.txt", "ALPHA!");
    JobRun again(f.spec, f.options, f.stores);
    again.hosts = again.selected = f.run.hosts;
    again.job_dir = f.run.job_dir;
    resolve(again);
    const PrepareTotals second = prepare(again, nullptr);
    EXPECT_EQ(second.files, 2u);
    EXPECT_EQ(second.present_files, 1u) << "b.txt is unchanged: not fetched again";
    EXPECT_EQ(read(data / "a.txt"), "ALPHA!") << "a changed object is fetched again";
    EXPECT_FALSE(fs::exists(data / "c.txt")) << "a file the listing no longer has is removed";
  }
}

TEST(JobPhases, AStoreThatFailsEveryReadFailsPrepareNamingTheChannel) {
  store::MemoryStore memory;
  put(memory, "train/a", "alpha");
  put(memory, "train/b", "beta");
  store::FaultStore faulty(memory, {.ops = static_cast<unsigned>(store::Op::kGet), .fail_from = 0, .fail_count = -1});
  TempDir dir;
  const JobSpec spec = parse_job_spec(job("File").dump());
  TrainOptions options;
  store::Registry stores({}, {}, [&faulty](const store::Address&) { return std::make_unique<View>(faulty); });
  JobRun run(spec, options, stores);
  run.hosts = run.selected = host_names(spec);
  run.job_dir = dir.path / "job";
  resolve(run);  // listing works: only reads fail
  try {
    prepare(run, nullptr);
    FAIL() << "prepare succeeded although every read failed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kRetryable);
    EXPECT_NE(std::string(e.what()).find("downloading channel 'train' for algo-1"), std::string::npos) << e.what();
  }
  EXPECT_GT(faulty.injected(), 0);
  // Nothing half-written under a final name.
  const fs::path data = run.job_dir / "algo-1" / "input" / "data" / "train";
  EXPECT_FALSE(fs::exists(data / "a"));
  EXPECT_FALSE(fs::exists(data / "b"));
}

TEST(JobPhases, PrepareStoppedByTheUserIsCancelled) {
  store::MemoryStore memory;
  put(memory, "train/a", "x");
  Fixture f(memory, job("File"));
  resolve(f.run);
  std::atomic<bool> stop{true};
  try {
    prepare(f.run, &stop);
    FAIL() << "prepare ran although the user stopped the job";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCancelled);
  }
}

TEST(JobPhases, AMissingPrefixIsAnErrorOfResolve) {
  store::MemoryStore memory;
  put(memory, "elsewhere/a", "x");
  Fixture f(memory, job("File"));
  try {
    resolve(f.run);
    FAIL() << "an empty channel resolved";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("s3://bucket/train/"), std::string::npos) << e.what();
  }
}

TEST(JobPhases, PipeAndFastFileChannelsDeferTheirReads) {
  store::MemoryStore memory;
  for (int i = 0; i < 4; ++i) put(memory, "train/r" + std::to_string(i), "record");
  {
    Fixture f(memory, job("Pipe", 2));
    resolve(f.run);
    for (const auto& host : f.run.host_runs) {
      const auto& channel = *host.channels.front();
      EXPECT_FALSE(channel.downloads());
      // Each epoch's share is computed when the epoch starts: every object may be read.
      EXPECT_EQ(channel.deferred_reads().size(), 4u);
      EXPECT_EQ(channel.deferred_reads().front().uri(), "s3://bucket/train/r0");
    }
    const PrepareTotals totals = prepare(f.run, nullptr);
    EXPECT_EQ(totals.files, 0u) << "nothing is downloaded for a Pipe channel";
    struct stat st;
    const fs::path fifo = f.run.host_runs[0].root / "input" / "data" / "train_0";
    ASSERT_EQ(::lstat(fifo.c_str(), &st), 0) << fifo;
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    Verdict v = finish(f.run, *std::make_unique<StatusRecord>(f.run.job_dir / "status.json", "phases-1", "arn", json{}));
    EXPECT_EQ(v.status, "Completed");
  }
  {
    Fixture f(memory, job("FastFile", 2));
    resolve(f.run);
    size_t reads = 0;
    for (const auto& host : f.run.host_runs) {
      EXPECT_FALSE(host.channels.front()->downloads());
      reads += host.channels.front()->deferred_reads().size();
    }
    EXPECT_EQ(reads, 4u) << "FastFile: each host's share, read while the command runs";
  }
}

HostRun host_with(int exit_code, bool timed_out = false, bool stopped = false) {
  HostRun h;
  h.name = "algo-1";
  h.result.exit_code = exit_code;
  h.result.timed_out = timed_out;
  h.result.stopped_by_user = stopped;
  h.result.how = "exited with status " + std::to_string(exit_code);
  return h;
}

TEST(JobPhases, DecideOrdersTheReasons) {
  TempDir dir;
  HostRun ok = host_with(0), failed = host_with(3), timed = host_with(137, true), stopped = host_with(143, false, true);
  failed.name = "algo-2";
  failed.root = dir.path / "algo-2";
  const Error denial(ErrorKind::kAccessDenied, "s3:GetObject on s3://b/k is denied", "no statement allows it");
  const Error pipe(ErrorKind::kRetryable, "reading s3://b/k", "connection reset");

  auto expect = [](const Verdict& v, const char* status, const char* secondary, int code, const std::string& reason) {
    EXPECT_EQ(v.status, status);
    EXPECT_EQ(v.secondary, secondary);
    EXPECT_EQ(v.exit_code, code);
    EXPECT_EQ(v.reason, reason);
  };
  Outcome o;
  o.hosts = {&ok};
  expect(decide(o), "Completed", "Completed", 0, "");

  o.hosts = {&ok, &failed};
  expect(decide(o), "Failed", "Failed", 1, "AlgorithmError: exited with status 3 (algo-2)");
  // The failure file of the host that failed is the reason.
  fs::create_directories(failed.root / "output");
  std::ofstream(failed.root / "output" / "failure") << "loss was NaN";
  EXPECT_EQ(decide(o).reason, "loss was NaN");

  o.max_runtime_seconds = 60;
  o.hosts = {&ok, &timed, &failed};
  expect(decide(o), "Stopped", "MaxRuntimeExceeded", 124,
         "MaxRuntimeExceeded: the job ran past MaxRuntimeInSeconds (60 s)");

  // The user stopping comes before the run time.
  o.hosts = {&timed, &stopped};
  expect(decide(o), "Stopped", "Stopped", 130, "Stopped by the user");

  o.channel_failure = pipe;
  Verdict v = decide(o);
  EXPECT_EQ(v.status, "Failed");
  EXPECT_EQ(v.reason, "ClientError: reading s3://b/k: connection reset");

  o.denial = denial;
  v = decide(o);
  EXPECT_EQ(v.status, "Failed");
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_EQ(v.reason.rfind("ClientError: AccessDenied: s3:GetObject on s3://b/k is denied", 0), 0u) << v.reason;
}

TEST(JobPhases, TrainRunsEveryHostAndFinishUploadsTheModel) {
  store::MemoryStore memory;
  put(memory, "train/a.txt", "alpha");
  json j = job("File", 2);
  // Each host writes its model file; algo-2 fails unless it sees its share (FullyReplicated).
  j["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "FullyReplicated";
  j["AlgorithmSpecification"]["ContainerEntrypoint"] = {
      "sh", "-c", "cat \"$SM_CHANNEL_TRAIN/a.txt\" > \"$SM_MODEL_DIR/$SM_CURRENT_HOST.txt\""};
  Fixture f(memory, j);
  resolve(f.run);
  prepare(f.run, nullptr);
  train(f.run, nullptr);
  for (const auto& host : f.run.host_runs) EXPECT_EQ(host.result.exit_code, 0) << host.name << ": " << host.result.how;
  StatusRecord status(f.run.job_dir / "status.json", "phases-1", "arn", json{});
  const Verdict v = finish(f.run, status);
  EXPECT_EQ(v.status, "Completed") << v.reason;
  EXPECT_EQ(status.snapshot()["ModelArtifacts"]["S3ModelArtifacts"], "s3://bucket/out/phases-1/output/model.tar.gz");
  const auto archive = memory.contents("out/phases-1/output/model.tar.gz");
  ASSERT_TRUE(archive) << "no model uploaded";
  EXPECT_GT(archive->size(), 0u);
}

// A one-host File job whose command is `sh -c script`, over one object, resolved and prepared.
json shell_job(store::MemoryStore& memory, const std::string& script) {
  put(memory, "train/a.txt", "alpha");
  json j = job("File");
  j["AlgorithmSpecification"]["ContainerEntrypoint"] = {"sh", "-c", script};
  return j;
}

TEST(JobPhases, AFailedCommandUploadsNothing) {
  store::MemoryStore memory;
  Fixture f(memory, shell_job(memory, "echo m > \"$SM_MODEL_DIR/m\"; exit 5"));
  resolve(f.run);
  prepare(f.run, nullptr);
  train(f.run, nullptr);
  StatusRecord status(f.run.job_dir / "status.json", "phases-1", "arn", json{});
  const Verdict v = finish(f.run, status);
  EXPECT_EQ(v.status, "Failed");
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_FALSE(memory.contents("out/phases-1/output/model.tar.gz")) << "a failed job's model was uploaded";
}

TEST(JobPhases, AStopBeforeTheCommandEndsItAsStopped) {
  store::MemoryStore memory;
  Fixture f(memory, shell_job(memory, "sleep 30"));
  f.options.stop_grace = std::chrono::milliseconds(500);
  resolve(f.run);
  prepare(f.run, nullptr);
  std::atomic<bool> stop{true};
  const auto start = std::chrono::steady_clock::now();
  train(f.run, &stop);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  Outcome o;
  o.hosts = {&f.run.host_runs[0]};
  EXPECT_EQ(decide(o).exit_code, 130) << f.run.host_runs[0].result.how;
}

}  // namespace
}  // namespace sluice::job
