// A training job as CreateTrainingJob describes it (field names as the API spells them; see
// ../shared/reference/sagemaker-contract.md §1). Parsing validates everything the API validates
// and reports every problem at once, each with its JSON path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_check.hpp"

namespace sluice::job {

enum class InputMode { kFile, kFastFile, kPipe };
enum class S3DataType { kS3Prefix, kManifestFile, kAugmentedManifestFile, kConverse };
enum class Distribution { kFullyReplicated, kShardedByS3Key };
enum class Compression { kNone, kGzip };           // Channel.CompressionType: None | Gzip
enum class RecordWrapper { kNone, kRecordIO };     // Channel.RecordWrapperType
enum class FileSystemType { kEFS, kFSxLustre };
enum class AccessMode { kRo, kRw };
enum class OutputCompression { kGzip, kNone };     // OutputDataConfig.CompressionType: GZIP | NONE

// API spellings, for config files and messages.
std::string_view to_string(InputMode m);          // "File", "FastFile", "Pipe"
std::string_view to_string(S3DataType t);
std::string_view to_string(Distribution d);       // "FullyReplicated", "ShardedByS3Key"
std::string_view to_string(Compression c);        // "None", "Gzip"
std::string_view to_string(RecordWrapper r);      // "None", "RecordIO"
std::string_view to_string(FileSystemType t);
std::string_view to_string(AccessMode m);         // "ro", "rw"
std::string_view to_string(OutputCompression c);  // "GZIP", "NONE"

struct S3DataSource {
  S3DataType data_type = S3DataType::kS3Prefix;
  std::string uri;  // s3://bucket/prefix or file:///path
  Distribution distribution = Distribution::kFullyReplicated;
  std::vector<std::string> attribute_names;  // AugmentedManifestFile
  std::vector<std::string> instance_group_names;
};

struct FileSystemDataSource {
  std::string file_system_id;  // fs-0123456789abcdef0
  AccessMode access_mode = AccessMode::kRo;
  FileSystemType type = FileSystemType::kEFS;
  std::string directory_path;
};

struct Channel {
  std::string name;
  std::optional<S3DataSource> s3;            // exactly one of s3 and file_system
  std::optional<FileSystemDataSource> file_system;
  std::string content_type;                  // empty: not set
  Compression compression = Compression::kNone;
  RecordWrapper record_wrapper = RecordWrapper::kNone;
  std::optional<InputMode> input_mode;       // unset: AlgorithmSpecification.TrainingInputMode
  std::optional<int64_t> shuffle_seed;       // ShuffleConfig.Seed
};

struct AlgorithmSpecification {
  InputMode training_input_mode = InputMode::kFile;
  std::string training_image;  // recorded; images are not run (yet)
  std::string algorithm_name;
  std::vector<std::string> container_entrypoint;
  std::vector<std::string> container_arguments;
};

struct OutputDataConfig {
  std::string s3_output_path;  // s3://bucket/prefix or file:///path
  std::string kms_key_id;
  OutputCompression compression = OutputCompression::kGzip;
};

struct InstanceGroup {
  std::string name;
  std::string instance_type;
  int instance_count = 0;
};

struct ResourceConfig {
  std::string instance_type;  // e.g. ml.m5.xlarge; recorded
  int instance_count = 1;
  int volume_size_gb = 0;     // 0: not set
  std::vector<InstanceGroup> instance_groups;
};

struct StoppingCondition {
  int64_t max_runtime_seconds = 86400;  // default 1 day, at most 28 days
  std::optional<int64_t> max_wait_seconds;
};

struct CheckpointConfig {
  std::string s3_uri;
  std::string local_path = "/opt/ml/checkpoints";
};

struct SessionChainingConfig {
  bool enable_session_tag_chaining = false;
};

struct JobSpec {
  std::string training_job_name;
  std::string role_arn;
  AlgorithmSpecification algorithm;
  std::map<std::string, std::string> hyperparameters;
  std::vector<Channel> channels;
  OutputDataConfig output;
  ResourceConfig resources;
  StoppingCondition stopping;
  std::optional<CheckpointConfig> checkpoint;
  std::map<std::string, std::string> environment;
  bool enable_network_isolation = false;
  std::optional<SessionChainingConfig> session_chaining;
  // Paths of fields in the request that Sluice accepts but does not act on ("Tags",
  // "ResourceConfig.KeepAlivePeriodInSeconds"), sorted, for a notice; see docs/job-spec.md.
  std::vector<std::string> ignored_fields;

  InputMode mode_of(const Channel& c) const { return c.input_mode.value_or(algorithm.training_input_mode); }
};

// One problem in a job spec: where ("InputDataConfig[1].DataSource.S3DataSource.S3Uri") and what.
using SpecProblem = json_check::Problem;

// Parses and validates a CreateTrainingJob request body. On any problem throws
// sluice::Error(kInvalidInput) whose cause lists every problem, one per line, "PATH: MESSAGE";
// `problems` (if given) receives them too. Unknown fields are problems with a suggestion of the
// nearest known name ("did you mean 'InputDataConfig'?").
JobSpec parse_job_spec(std::string_view json_text, std::vector<SpecProblem>* problems = nullptr);

// Reads the file at `path` and parses it as parse_job_spec does; the error names the file
// ("invalid job spec jobs/train.json"). A file that cannot be read throws errno_error's kind
// (kNotFound, kAccessDenied, kIo).
JobSpec load_job_spec(const std::string& path, std::vector<SpecProblem>* problems = nullptr);

}  // namespace sluice::job
