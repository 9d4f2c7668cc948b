// parse_job_spec: every rule of docs/job-spec.md, each violated alone (exactly that problem at
// exactly that path), several at once, JSON syntax positions, unknown-field suggestions, enum
// hints, defaults, a full round trip, and the example jobs under tests/data/jobs.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "job/job_spec.hpp"

namespace sluice::job {
namespace {

using json = nlohmann::json;
using namespace std::string_literals;

const std::filesystem::path kJobs = std::filesystem::path(__FILE__).parent_path().parent_path() / "data" / "jobs";

std::string listing(const std::vector<SpecProblem>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p.path + " | " + p.message;
  return out.empty() ? " (none)" : out;
}

// The problems parse_job_spec reports for `text` (none when it parses). Checks that the thrown Error
// is kInvalidInput and that its cause lists the same problems, one per line.
std::vector<SpecProblem> problems_of(const std::string& text) {
  std::vector<SpecProblem> problems{{"stale", "must be overwritten"}};
  try {
    parse_job_spec(text, &problems);
    EXPECT_TRUE(problems.empty()) << listing(problems);
    return {};
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_EQ(e.message(), "invalid job spec");
    std::string cause = std::to_string(problems.size()) + (problems.size() == 1 ? " problem" : " problems");
    for (const auto& p : problems) cause += "\n  " + (p.path.empty() ? "" : p.path + ": ") + p.message;
    EXPECT_EQ(e.cause(), cause);
    EXPECT_FALSE(problems.empty());
    return problems;
  }
}

std::vector<SpecProblem> problems_of(const json& j) { return problems_of(j.dump(2)); }
std::vector<SpecProblem> problems_of(const char* text) { return problems_of(std::string(text)); }

JobSpec parse_ok(const json& j) {
  std::vector<SpecProblem> problems;
  try {
    return parse_job_spec(j.dump(2), &problems);
  } catch (const Error&) {
    ADD_FAILURE() << "refused: " << listing(problems);
    return {};
  }
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A valid job touching most sections: an S3 channel, a file-system channel, two hosts.
json base() {
  return json::parse(R"js({
    "TrainingJobName": "demo-1",
    "RoleArn": "arn:aws:iam::123456789012:role/SluiceTraining",
    "AlgorithmSpecification": {"TrainingInputMode": "File", "ContainerEntrypoint": ["python3", "train.py"]},
    "InputDataConfig": [
      {"ChannelName": "train",
       "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/train/"}}},
      {"ChannelName": "fsx",
       "DataSource": {"FileSystemDataSource": {"FileSystemId": "fs-0123456789abcdef0", "FileSystemAccessMode": "ro",
                                               "FileSystemType": "FSxLustre", "DirectoryPath": "/1234abcd/ns1"}}}
    ],
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    "CheckpointConfig": {"S3Uri": "s3://bucket/ckpt/"}
  })js");
}

using Mutation = std::function<void(json&)>;

Mutation set(const std::string& pointer, json value) {
  return [=](json& j) { j[json::json_pointer(pointer)] = value; };
}

Mutation erase(const std::string& pointer) {
  return [=](json& j) {
    json::json_pointer p(pointer);
    j[p.parent_pointer()].erase(p.back());
  };
}

Mutation all(std::vector<Mutation> ms) {
  return [=](json& j) {
    for (const auto& m : ms) m(j);
  };
}

json strings(size_t n, const std::string& prefix = "a") {
  json a = json::array();
  for (size_t i = 0; i < n; ++i) a.push_back(prefix + std::to_string(i));
  return a;
}

json string_map(size_t n) {
  json m = json::object();
  for (size_t i = 0; i < n; ++i) m["K" + std::to_string(i)] = "v";
  return m;
}

json channels(size_t n) {
  json a = json::array();
  for (size_t i = 0; i < n; ++i) {
    a.push_back({{"ChannelName", "c" + std::to_string(i)},
                 {"DataSource", {{"S3DataSource", {{"S3DataType", "S3Prefix"}, {"S3Uri", "s3://bucket/c/"}}}}}});
  }
  return a;
}

const std::string kS3 = "/InputDataConfig/0/DataSource/S3DataSource";
const std::string kFs = "/InputDataConfig/1/DataSource/FileSystemDataSource";
const std::string kS3Path = "InputDataConfig[0].DataSource.S3DataSource";
const std::string kFsPath = "InputDataConfig[1].DataSource.FileSystemDataSource";

// ---- the base document and the happy paths ----------------------------------------------------

TEST(JobSpec, BaseIsValid) {
  JobSpec spec = parse_ok(base());
  EXPECT_EQ(spec.training_job_name, "demo-1");
  ASSERT_EQ(spec.channels.size(), 2u);
  EXPECT_TRUE(spec.channels[0].s3.has_value());
  EXPECT_FALSE(spec.channels[0].file_system.has_value());
  EXPECT_TRUE(spec.channels[1].file_system.has_value());
  EXPECT_FALSE(spec.channels[1].s3.has_value());
}

TEST(JobSpec, ScriptModeNeedsNoCommand) {
  // What the SageMaker Python SDK sends: no ContainerEntrypoint, the program as a hyperparameter
  // (or SAGEMAKER_PROGRAM in Environment); job/script_mode.hpp runs it.
  json j = base();
  j["AlgorithmSpecification"].erase("ContainerEntrypoint");
  j["AlgorithmSpecification"].erase("ContainerArguments");
  j["HyperParameters"] = {{"sagemaker_program", "\"train.py\""}};
  JobSpec spec = parse_ok(j);
  EXPECT_TRUE(spec.algorithm.container_entrypoint.empty());
  j.erase("HyperParameters");
  j["Environment"] = {{"SAGEMAKER_PROGRAM", "train.py"}};
  parse_ok(j);
  j.erase("Environment");
  EXPECT_EQ(problems_of(j).size(), 1u);
}

TEST(JobSpec, MinimalSpecAndDefaults) {
  JobSpec spec = parse_ok(json::parse(R"js({
    "TrainingJobName": "m",
    "RoleArn": "arn:aws:iam::123456789012:role/r",
    "AlgorithmSpecification": {"TrainingInputMode": "Pipe", "ContainerArguments": ["./run"]},
    "OutputDataConfig": {"S3OutputPath": "s3://bucket"}
  })js"));
  EXPECT_EQ(spec.training_job_name, "m");
  EXPECT_EQ(spec.role_arn, "arn:aws:iam::123456789012:role/r");
  EXPECT_EQ(spec.algorithm.training_input_mode, InputMode::kPipe);
  EXPECT_TRUE(spec.algorithm.container_entrypoint.empty());
  EXPECT_EQ(spec.algorithm.container_arguments, std::vector<std::string>{"./run"});
  EXPECT_TRUE(spec.algorithm.training_image.empty());
  EXPECT_TRUE(spec.channels.empty());
  EXPECT_TRUE(spec.hyperparameters.empty());
  EXPECT_TRUE(spec.environment.empty());
  EXPECT_EQ(spec.output.s3_output_path, "s3://bucket");
  EXPECT_EQ(spec.output.compression, OutputCompression::kGzip);
  EXPECT_TRUE(spec.output.kms_key_id.empty());
  EXPECT_EQ(spec.resources.instance_count, 1);
  EXPECT_TRUE(spec.resources.instance_type.empty());
  EXPECT_EQ(spec.resources.volume_size_gb, 0);
  EXPECT_TRUE(spec.resources.instance_groups.empty());
  EXPECT_EQ(spec.stopping.max_runtime_seconds, 86400);
  EXPECT_FALSE(spec.stopping.max_wait_seconds.has_value());
  EXPECT_FALSE(spec.checkpoint.has_value());
  EXPECT_FALSE(spec.enable_network_isolation);
  EXPECT_FALSE(spec.session_chaining.has_value());
  EXPECT_TRUE(spec.ignored_fields.empty());
}

TEST(JobSpec, ChannelDefaults) {
  json j = base();
  j["AlgorithmSpecification"]["TrainingInputMode"] = "FastFile";
  j["InputDataConfig"][1]["InputMode"] = "File";
  JobSpec spec = parse_ok(j);
  ASSERT_EQ(spec.channels.size(), 2u);
  const Channel& train = spec.channels[0];
  EXPECT_FALSE(train.input_mode.has_value());
  EXPECT_EQ(spec.mode_of(train), InputMode::kFastFile);  // from AlgorithmSpecification
  EXPECT_EQ(train.s3->distribution, Distribution::kFullyReplicated);
  EXPECT_EQ(train.s3->data_type, S3DataType::kS3Prefix);
  EXPECT_EQ(train.compression, Compression::kNone);
  EXPECT_EQ(train.record_wrapper, RecordWrapper::kNone);
  EXPECT_TRUE(train.content_type.empty());
  EXPECT_FALSE(train.shuffle_seed.has_value());
  EXPECT_TRUE(train.s3->attribute_names.empty());
  EXPECT_EQ(spec.mode_of(spec.channels[1]), InputMode::kFile);
  ASSERT_TRUE(spec.checkpoint.has_value());
  EXPECT_EQ(spec.checkpoint->local_path, "/opt/ml/checkpoints");
  EXPECT_EQ(spec.checkpoint->s3_uri, "s3://bucket/ckpt/");
}

TEST(JobSpec, FullSpecRoundTrips) {
  JobSpec spec = parse_ok(json::parse(R"js({
    "TrainingJobName": "resnet-50-run-7",
    "RoleArn": "arn:aws:iam::123456789012:role/service-role/SageMakerRole",
    "AlgorithmSpecification": {
      "TrainingInputMode": "File",
      "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1.4",
      "ContainerEntrypoint": ["python3", "-u", "train.py"],
      "ContainerArguments": ["--epochs", "3", ""],
      "MetricDefinitions": [{"Name": "loss", "Regex": "loss=(\\S+)"}],
      "EnableSageMakerMetricsTimeSeries": false,
      "TrainingImageConfig": {"TrainingRepositoryAccessMode": "Platform"}
    },
    "HyperParameters": {"epochs": "3", "lr": "0.01", "model.depth": "50"},
    "InputDataConfig": [
      {"ChannelName": "train", "ContentType": "application/x-image", "CompressionType": "None",
       "RecordWrapperType": "None", "InputMode": "File", "ShuffleConfig": {"Seed": -9007199254740993},
       "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://training-data/imagenet/train/",
                                       "S3DataDistributionType": "ShardedByS3Key",
                                       "ModelAccessConfig": {"AcceptEula": true}}}},
      {"ChannelName": "aug.v2", "InputMode": "Pipe", "CompressionType": "Gzip", "RecordWrapperType": "RecordIO",
       "DataSource": {"S3DataSource": {"S3DataType": "AugmentedManifestFile",
                                       "S3Uri": "s3://training-data/manifests/train.jsonl",
                                       "AttributeNames": ["source-ref", "class"],
                                       "S3DataDistributionType": "FullyReplicated"}}},
      {"ChannelName": "Ref_Data-1",
       "DataSource": {"FileSystemDataSource": {"FileSystemId": "fs-0123456789abcdef0", "FileSystemAccessMode": "rw",
                                               "FileSystemType": "EFS", "DirectoryPath": "/tensorflow"}}},
      {"ChannelName": "local", "InputMode": "FastFile",
       "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "file:///srv/data/validation"}}},
      {"ChannelName": "manifest",
       "DataSource": {"S3DataSource": {"S3DataType": "ManifestFile", "S3Uri": "s3://training-data/m/train.manifest"}}}
    ],
    "OutputDataConfig": {"S3OutputPath": "file:///srv/models", "KmsKeyId": "alias/training", "CompressionType": "NONE"},
    "ResourceConfig": {"InstanceType": "ml.p4de.24xlarge", "InstanceCount": 3, "VolumeSizeInGB": 100,
                       "VolumeKmsKeyId": "alias/volume", "KeepAlivePeriodInSeconds": 600,
                       "TrainingPlanArn": "arn:aws:sagemaker:us-east-1:123456789012:training-plan/p",
                       "InstancePlacementConfig": {}},
    "StoppingCondition": {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 7200, "MaxPendingTimeInSeconds": 7200},
    "CheckpointConfig": {"S3Uri": "s3://model-artifacts/ckpt/run-7/", "LocalPath": "/opt/ml/checkpoints/run-7"},
    "Environment": {"OMP_NUM_THREADS": "4", "_LOG": "", "LongValue": "x"},
    "EnableNetworkIsolation": true,
    "SessionChainingConfig": {"EnableSessionTagChaining": true},
    "Tags": [{"Key": "team", "Value": "ml"}],
    "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
    "EnableManagedSpotTraining": true,
    "EnableInterContainerTrafficEncryption": false,
    "RetryStrategy": {"MaximumRetryAttempts": 2},
    "TensorBoardOutputConfig": {"S3OutputPath": "s3://b/tb"},
    "DebugHookConfig": {"S3OutputPath": "s3://b/debug"},
    "DebugRuleConfigurations": [],
    "ExperimentConfig": {"ExperimentName": "e"},
    "ProfilerConfig": {"DisableProfiler": true},
    "ProfilerRuleConfigurations": [],
    "RemoteDebugConfig": {"EnableRemoteDebug": false},
    "InfraCheckConfig": {"EnableInfraCheck": false}
  })js"));
  EXPECT_EQ(spec.training_job_name, "resnet-50-run-7");
  EXPECT_EQ(spec.role_arn, "arn:aws:iam::123456789012:role/service-role/SageMakerRole");
  EXPECT_EQ(spec.algorithm.training_input_mode, InputMode::kFile);
  EXPECT_EQ(spec.algorithm.training_image, "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1.4");
  EXPECT_TRUE(spec.algorithm.algorithm_name.empty());
  EXPECT_EQ(spec.algorithm.container_entrypoint, (std::vector<std::string>{"python3", "-u", "train.py"}));
  EXPECT_EQ(spec.algorithm.container_arguments, (std::vector<std::string>{"--epochs", "3", ""}));
  EXPECT_EQ(spec.hyperparameters,
            (std::map<std::string, std::string>{{"epochs", "3"}, {"lr", "0.01"}, {"model.depth", "50"}}));

  ASSERT_EQ(spec.channels.size(), 5u);
  const Channel& train = spec.channels[0];
  EXPECT_EQ(train.name, "train");
  EXPECT_EQ(train.content_type, "application/x-image");
  EXPECT_EQ(train.compression, Compression::kNone);
  EXPECT_EQ(train.record_wrapper, RecordWrapper::kNone);
  EXPECT_EQ(train.input_mode, InputMode::kFile);
  EXPECT_EQ(train.shuffle_seed, -9007199254740993LL);
  ASSERT_TRUE(train.s3.has_value());
  EXPECT_EQ(train.s3->data_type, S3DataType::kS3Prefix);
  EXPECT_EQ(train.s3->uri, "s3://training-data/imagenet/train/");
  EXPECT_EQ(train.s3->distribution, Distribution::kShardedByS3Key);

  const Channel& aug = spec.channels[1];
  EXPECT_EQ(aug.name, "aug.v2");
  EXPECT_EQ(aug.input_mode, InputMode::kPipe);
  EXPECT_EQ(aug.compression, Compression::kGzip);
  EXPECT_EQ(aug.record_wrapper, RecordWrapper::kRecordIO);
  EXPECT_EQ(aug.s3->data_type, S3DataType::kAugmentedManifestFile);
  EXPECT_EQ(aug.s3->attribute_names, (std::vector<std::string>{"source-ref", "class"}));
  EXPECT_EQ(aug.s3->distribution, Distribution::kFullyReplicated);

  const Channel& ref = spec.channels[2];
  EXPECT_EQ(ref.name, "Ref_Data-1");
  ASSERT_TRUE(ref.file_system.has_value());
  EXPECT_FALSE(ref.s3.has_value());
  EXPECT_EQ(ref.file_system->file_system_id, "fs-0123456789abcdef0");
  EXPECT_EQ(ref.file_system->access_mode, AccessMode::kRw);
  EXPECT_EQ(ref.file_system->type, FileSystemType::kEFS);
  EXPECT_EQ(ref.file_system->directory_path, "/tensorflow");
  EXPECT_EQ(spec.mode_of(ref), InputMode::kFile);

  EXPECT_EQ(spec.channels[3].s3->uri, "file:///srv/data/validation");
  EXPECT_EQ(spec.channels[3].input_mode, InputMode::kFastFile);
  EXPECT_EQ(spec.channels[4].s3->data_type, S3DataType::kManifestFile);

  EXPECT_EQ(spec.output.s3_output_path, "file:///srv/models");
  EXPECT_EQ(spec.output.kms_key_id, "alias/training");
  EXPECT_EQ(spec.output.compression, OutputCompression::kNone);
  EXPECT_EQ(spec.resources.instance_type, "ml.p4de.24xlarge");
  EXPECT_EQ(spec.resources.instance_count, 3);
  EXPECT_EQ(spec.resources.volume_size_gb, 100);
  EXPECT_EQ(spec.stopping.max_runtime_seconds, 7200);
  EXPECT_EQ(spec.stopping.max_wait_seconds, 7200);
  ASSERT_TRUE(spec.checkpoint.has_value());
  EXPECT_EQ(spec.checkpoint->s3_uri, "s3://model-artifacts/ckpt/run-7/");
  EXPECT_EQ(spec.checkpoint->local_path, "/opt/ml/checkpoints/run-7");
  EXPECT_EQ(spec.environment,
            (std::map<std::string, std::string>{{"OMP_NUM_THREADS", "4"}, {"_LOG", ""}, {"LongValue", "x"}}));
  EXPECT_TRUE(spec.enable_network_isolation);
  ASSERT_TRUE(spec.session_chaining.has_value());
  EXPECT_TRUE(spec.session_chaining->enable_session_tag_chaining);

  EXPECT_EQ(spec.ignored_fields, (std::vector<std::string>{
                                     "AlgorithmSpecification.EnableSageMakerMetricsTimeSeries",
                                     "AlgorithmSpecification.MetricDefinitions",
                                     "AlgorithmSpecification.TrainingImageConfig",
                                     "DebugHookConfig",
                                     "DebugRuleConfigurations",
                                     "EnableInterContainerTrafficEncryption",
                                     "EnableManagedSpotTraining",
                                     "ExperimentConfig",
                                     "InfraCheckConfig",
                                     "InputDataConfig[0].DataSource.S3DataSource.ModelAccessConfig",
                                     "ProfilerConfig",
                                     "ProfilerRuleConfigurations",
                                     "RemoteDebugConfig",
                                     "ResourceConfig.InstancePlacementConfig",
                                     "ResourceConfig.KeepAlivePeriodInSeconds",
                                     "ResourceConfig.TrainingPlanArn",
                                     "ResourceConfig.VolumeKmsKeyId",
                                     "RetryStrategy",
                                     "StoppingCondition.MaxPendingTimeInSeconds",
                                     "Tags",
                                     "TensorBoardOutputConfig",
                                     "VpcConfig",
                                 }));
}

TEST(JobSpec, AcceptedEdgeValues) {
  struct Ok {
    std::string name;
    Mutation mutate;
  };
  std::vector<Ok> cases = {
      {"only ContainerArguments", all({erase("/AlgorithmSpecification/ContainerEntrypoint"),
                                        set("/AlgorithmSpecification/ContainerArguments", {"./train.sh"})})},
      {"100 entrypoint entries", set("/AlgorithmSpecification/ContainerEntrypoint", strings(100))},
      {"entry of 256 characters", set("/AlgorithmSpecification/ContainerArguments", {std::string(256, 'x')})},
      {"job name of 63", set("/TrainingJobName", "a" + std::string(61, '-') + "b")},
      {"job name of 1 digit", set("/TrainingJobName", "7")},
      {"MaxRuntime at 28 days", set("/StoppingCondition/MaxRuntimeInSeconds", 2419200)},
      {"MaxWait equal to MaxRuntime", set("/StoppingCondition/MaxWaitTimeInSeconds", 3600)},
      {"hyperparameter value of 2500", set("/HyperParameters", {{"text", std::string(2500, 'v')}})},
      {"hyperparameter key of 256", set("/HyperParameters", {{std::string(256, 'k'), "v"}})},
      {"100 hyperparameters", set("/HyperParameters", string_map(100))},
      {"100 environment variables", set("/Environment", string_map(100))},
      {"environment key and value of 512",
       set("/Environment", {{std::string(512, 'K'), std::string(512, 'v')}})},
      {"GovCloud role", set("/RoleArn", "arn:aws-us-gov:iam::123456789012:role/x")},
      {"role with path", set("/RoleArn", "arn:aws:iam::123456789012:role/a/b+c=d,e.f@g-h_i")},
      {"20 channels", set("/InputDataConfig", channels(20))},
      {"channel name of 64", set("/InputDataConfig/0/ChannelName", std::string(64, 'c'))},
      {"file system id of 21", set(kFs + "/FileSystemId", "fs-012345678901234567")},
      {"file system id of 11", set(kFs + "/FileSystemId", "fs-01234567")},
      {"S3Uri of 1024", set(kS3 + "/S3Uri", "s3://bucket/" + std::string(1012, 'k'))},
      {"S3Uri of a whole bucket", set(kS3 + "/S3Uri", "s3://bucket")},
      {"file:// source", set(kS3 + "/S3Uri", "file:///data/train")},
      {"file:// output", set("/OutputDataConfig/S3OutputPath", "file:///srv/out")},
      {"file:// checkpoints", set("/CheckpointConfig/S3Uri", "file:///srv/ckpt")},
      {"Gzip and RecordIO in Pipe", all({set("/InputDataConfig/0/InputMode", "Pipe"),
                                         set("/InputDataConfig/0/CompressionType", "Gzip"),
                                         set("/InputDataConfig/0/RecordWrapperType", "RecordIO")})},
      {"None compression in File", all({set("/InputDataConfig/0/CompressionType", "None"),
                                        set("/InputDataConfig/0/RecordWrapperType", "None")})},
      {"augmented manifest in Pipe", all({set("/InputDataConfig/0/InputMode", "Pipe"),
                                          set(kS3 + "/S3DataType", "AugmentedManifestFile"),
                                          set(kS3 + "/S3Uri", "s3://bucket/m.jsonl"),
                                          set(kS3 + "/AttributeNames", strings(16))})},
      {"augmented manifest with a Pipe job", all({set("/AlgorithmSpecification/TrainingInputMode", "Pipe"),
                                                  set("/InputDataConfig/1/InputMode", "File"),
                                                  set(kS3 + "/S3DataType", "AugmentedManifestFile"),
                                                  set(kS3 + "/S3Uri", "s3://bucket/m.jsonl")})},
      {"manifest in File", all({set(kS3 + "/S3DataType", "ManifestFile"), set(kS3 + "/S3Uri", "s3://bucket/m")})},
      {"manifest in FastFile (a Sluice extension)",
       all({set("/InputDataConfig/0/InputMode", "FastFile"), set(kS3 + "/S3DataType", "ManifestFile"),
            set(kS3 + "/S3Uri", "s3://bucket/train.manifest")})},
      {"shuffle on an S3 channel", set("/InputDataConfig/0/ShuffleConfig", {{"Seed", 0}})},
      {"algorithm name", all({set("/AlgorithmSpecification/AlgorithmName", "my-algo-1")})},
      {"algorithm ARN", set("/AlgorithmSpecification/AlgorithmName",
                            "arn:aws:sagemaker:us-east-1:123456789012:algorithm/my-algo")},
      {"null-free ignored fields", set("/Tags", json::array())},
      {"volume 0", set("/ResourceConfig/VolumeSizeInGB", 0)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json j = base();
    c.mutate(j);
    EXPECT_EQ(problems_of(j).size(), 0u);
  }
}

// ---- each rule violated alone -----------------------------------------------------------------

struct RuleCase {
  std::string name;
  Mutation mutate;
  std::string path;
  std::string message_part;
};

void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.name; }

std::vector<RuleCase> rule_cases() {
  std::string long_key(513, 'A');
  std::string long_key_path = "Environment[\"" + std::string(100, 'A') + "...\"]";
  return {
      // Required fields.
      {"MissingTrainingJobName", erase("/TrainingJobName"), "TrainingJobName", "required field is missing"},
      {"MissingRoleArn", erase("/RoleArn"), "RoleArn", "required field is missing"},
      {"MissingOutputDataConfig", erase("/OutputDataConfig"), "OutputDataConfig", "required field is missing"},
      {"MissingAlgorithmSpecification", erase("/AlgorithmSpecification"), "AlgorithmSpecification",
       "required field is missing (Sluice needs its TrainingInputMode and its ContainerEntrypoint or "
       "ContainerArguments)"},
      {"MissingTrainingInputMode", erase("/AlgorithmSpecification/TrainingInputMode"),
       "AlgorithmSpecification.TrainingInputMode", "required field is missing"},
      {"MissingChannelName", erase("/InputDataConfig/0/ChannelName"), "InputDataConfig[0].ChannelName",
       "required field is missing"},
      {"MissingDataSource", erase("/InputDataConfig/1/DataSource"), "InputDataConfig[1].DataSource",
       "required field is missing"},
      {"MissingS3DataType", erase(kS3 + "/S3DataType"), kS3Path + ".S3DataType", "required field is missing"},
      {"MissingS3Uri", erase(kS3 + "/S3Uri"), kS3Path + ".S3Uri", "required field is missing"},
      {"MissingFileSystemId", erase(kFs + "/FileSystemId"), kFsPath + ".FileSystemId", "required field is missing"},
      {"MissingFileSystemAccessMode", erase(kFs + "/FileSystemAccessMode"), kFsPath + ".FileSystemAccessMode",
       "required field is missing"},
      {"MissingFileSystemType", erase(kFs + "/FileSystemType"), kFsPath + ".FileSystemType",
       "required field is missing"},
      {"MissingDirectoryPath", erase(kFs + "/DirectoryPath"), kFsPath + ".DirectoryPath", "required field is missing"},
      {"MissingSeed", set("/InputDataConfig/0/ShuffleConfig", json::object()), "InputDataConfig[0].ShuffleConfig.Seed",
       "required field is missing"},
      {"MissingCheckpointS3Uri", set("/CheckpointConfig", {{"LocalPath", "/opt/ml/checkpoints"}}),
       "CheckpointConfig.S3Uri", "required field is missing"},
      {"MissingS3OutputPath", set("/OutputDataConfig", {{"KmsKeyId", "alias/k"}}), "OutputDataConfig.S3OutputPath",
       "required field is missing"},
      {"MissingInstanceGroupName",
       all({erase("/ResourceConfig/InstanceType"), erase("/ResourceConfig/InstanceCount"),
            set("/ResourceConfig/InstanceGroups", {{{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}}})}),
       "ResourceConfig.InstanceGroups[0].InstanceGroupName", "required field is missing"},

      // JSON types.
      {"JobNameNumber", set("/TrainingJobName", 5), "TrainingJobName", "must be a string, got number 5"},
      {"HyperParameterNumber", set("/HyperParameters", {{"epochs", 3}}), "HyperParameters.epochs",
       "must be a string, got number 3 (values are strings: write \"3\")"},
      {"EnvironmentBoolean", set("/Environment", {{"DEBUG", true}}), "Environment.DEBUG",
       "must be a string, got true (values are strings: write \"true\")"},
      {"InputDataConfigObject", set("/InputDataConfig", json::object()), "InputDataConfig",
       "must be an array of channels, got an object"},
      {"InstanceCountString", set("/ResourceConfig/InstanceCount", "2"), "ResourceConfig.InstanceCount",
       "must be an integer, got string '2'"},
      {"NetworkIsolationString", set("/EnableNetworkIsolation", "true"), "EnableNetworkIsolation",
       "must be true or false, got string 'true'"},
      {"SessionTagChainingNumber", set("/SessionChainingConfig", {{"EnableSessionTagChaining", 1}}),
       "SessionChainingConfig.EnableSessionTagChaining", "must be true or false, got number 1"},
      {"EntrypointString", set("/AlgorithmSpecification/ContainerEntrypoint", "python3 train.py"),
       "AlgorithmSpecification.ContainerEntrypoint", "must be an array of strings, got string 'python3 train.py'"},
      {"ArgumentNotString", set("/AlgorithmSpecification/ContainerArguments", {"--epochs", 3}),
       "AlgorithmSpecification.ContainerArguments[1]", "must be a string, got number 3"},
      {"SeedFloat", set("/InputDataConfig/0/ShuffleConfig", {{"Seed", 1.5}}), "InputDataConfig[0].ShuffleConfig.Seed",
       "must be an integer, got number 1.5"},
      {"SeedTooLarge", set("/InputDataConfig/0/ShuffleConfig", {{"Seed", 18446744073709551615ULL}}),
       "InputDataConfig[0].ShuffleConfig.Seed", "is too large, got 18446744073709551615"},
      {"MaxRuntimeFloat", set("/StoppingCondition/MaxRuntimeInSeconds", 3600.5),
       "StoppingCondition.MaxRuntimeInSeconds", "must be an integer, got number 3600.5"},
      {"MaxRuntimeNull", set("/StoppingCondition/MaxRuntimeInSeconds", nullptr),
       "StoppingCondition.MaxRuntimeInSeconds", "must be an integer, got null"},
      {"EnvironmentArray", set("/Environment", {{{"Key", "A"}, {"Value", "b"}}}), "Environment",
       "must be an object of string values, got an array"},
      {"ChannelNotObject", set("/InputDataConfig/0", "train"), "InputDataConfig[0]",
       "must be an object, got string 'train'"},
      {"OutputDataConfigString", set("/OutputDataConfig", "s3://bucket/out"), "OutputDataConfig",
       "must be an object, got string 's3://bucket/out'"},
      {"EnumNotString", set("/AlgorithmSpecification/TrainingInputMode", 1), "AlgorithmSpecification.TrainingInputMode",
       "must be a string, one of Pipe|File|FastFile, got number 1"},
      {"InstanceGroupsObject", set("/ResourceConfig/InstanceGroups", json::object()), "ResourceConfig.InstanceGroups",
       "must be an array of instance groups, got an object"},

      // Lengths.
      {"JobName64", set("/TrainingJobName", std::string(64, 'a')), "TrainingJobName",
       "must be 1 to 63 characters long, got 64"},
      {"JobNameEmpty", set("/TrainingJobName", ""), "TrainingJobName", "must not be empty"},
      {"ChannelName65", set("/InputDataConfig/0/ChannelName", std::string(65, 'c')), "InputDataConfig[0].ChannelName",
       "must be 1 to 64 characters long, got 65"},
      {"ChannelNameEmpty", set("/InputDataConfig/0/ChannelName", ""), "InputDataConfig[0].ChannelName",
       "must not be empty"},
      {"FileSystemIdTooLong", set(kFs + "/FileSystemId", "fs-0123456789012345678"), kFsPath + ".FileSystemId",
       "must be 11 to 21 characters long, got 22"},
      {"FileSystemIdTooShort", set(kFs + "/FileSystemId", "fs-0123456"), kFsPath + ".FileSystemId",
       "must be 11 to 21 characters long, got 10"},
      {"EnvironmentKeyTooLong", set("/Environment", {{long_key, "v"}}), long_key_path,
       "variable name must be at most 512 characters long, got 513"},
      {"EnvironmentValueTooLong", set("/Environment", {{"MODE", std::string(513, 'x')}}), "Environment.MODE",
       "must be at most 512 characters long, got 513"},
      {"HyperParameterKeyTooLong", set("/HyperParameters", {{std::string(257, 'k'), "v"}}),
       "HyperParameters[\"" + std::string(100, 'k') + "...\"]",
       "hyperparameter name must be at most 256 characters long, got 257"},
      {"HyperParameterValueTooLong", set("/HyperParameters", {{"lr", std::string(2501, '1')}}), "HyperParameters.lr",
       "must be at most 2500 characters long, got 2501"},
      {"RoleArnTooShort", set("/RoleArn", "arn:aws:iam::1:role"), "RoleArn",
       "must be 20 to 2048 characters long, got 19"},
      {"RoleArnTooLong", set("/RoleArn", "arn:aws:iam::123456789012:role/" + std::string(2020, 'r')), "RoleArn",
       "must be 20 to 2048 characters long, got 2051"},
      {"S3UriTooLong", set(kS3 + "/S3Uri", "s3://bucket/" + std::string(1013, 'k')), kS3Path + ".S3Uri",
       "must be at most 1024 characters long, got 1025"},
      {"ContentTypeTooLong", set("/InputDataConfig/0/ContentType", std::string(257, 't')),
       "InputDataConfig[0].ContentType", "must be at most 256 characters long, got 257"},
      {"TrainingImageTooLong", set("/AlgorithmSpecification/TrainingImage", std::string(256, 'i')),
       "AlgorithmSpecification.TrainingImage", "must be at most 255 characters long, got 256"},
      {"DirectoryPathTooLong", set(kFs + "/DirectoryPath", "/" + std::string(4096, 'd')), kFsPath + ".DirectoryPath",
       "must be at most 4096 characters long, got 4097"},
      {"AttributeNameEmpty",
       all({set("/InputDataConfig/0/InputMode", "Pipe"), set(kS3 + "/S3DataType", "AugmentedManifestFile"),
            set(kS3 + "/S3Uri", "s3://bucket/m.jsonl"), set(kS3 + "/AttributeNames", {"a", ""})}),
       kS3Path + ".AttributeNames[1]", "must not be empty"},

      // Patterns.
      {"JobNameUnderscore", set("/TrainingJobName", "bad_name"), "TrainingJobName",
       "must match [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (letters, digits and hyphens, starting and ending with a letter "
       "or digit), got 'bad_name'"},
      {"JobNameLeadingHyphen", set("/TrainingJobName", "-demo"), "TrainingJobName", "got '-demo'"},
      {"JobNameTrailingHyphen", set("/TrainingJobName", "demo-"), "TrainingJobName", "got 'demo-'"},
      {"ChannelNameSpace", set("/InputDataConfig/0/ChannelName", "my train"), "InputDataConfig[0].ChannelName",
       "must match [A-Za-z0-9.\\-_]+ (letters, digits, '.', '-' and '_'), got 'my train'"},
      {"ChannelNameSlash", set("/InputDataConfig/0/ChannelName", "../etc"), "InputDataConfig[0].ChannelName",
       "got '../etc'"},
      {"FileSystemIdUpperCase", set(kFs + "/FileSystemId", "fs-0123456789ABCDEF0"), kFsPath + ".FileSystemId",
       "must match fs-[0-9a-f]{8,} (lower-case hex), as in fs-0123456789abcdef0, got 'fs-0123456789ABCDEF0'"},
      {"FileSystemIdPrefix", set(kFs + "/FileSystemId", "fsx-0123456789ab"), kFsPath + ".FileSystemId",
       "must match fs-[0-9a-f]{8,}"},
      {"EnvironmentKeyDigit", set("/Environment", {{"1VAR", "v"}}), "Environment[\"1VAR\"]",
       "variable name must match [a-zA-Z_][a-zA-Z0-9_]*, got '1VAR'"},
      {"EnvironmentKeyHyphen", set("/Environment", {{"MY-VAR", "v"}}), "Environment[\"MY-VAR\"]",
       "variable name must match [a-zA-Z_][a-zA-Z0-9_]*, got 'MY-VAR'"},
      {"RoleArnUser", set("/RoleArn", "arn:aws:iam::123456789012:user/bob"), "RoleArn",
       "must be an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME"},
      {"RoleArnShortAccount", set("/RoleArn", "arn:aws:iam::12345:role/training"), "RoleArn",
       "must be an IAM role ARN"},
      {"RoleArnNotArn", set("/RoleArn", "SageMakerExecutionRole-1"), "RoleArn",
       "got 'SageMakerExecutionRole-1'"},
      {"AlgorithmNameUnderscore", set("/AlgorithmSpecification/AlgorithmName", "my_algo"),
       "AlgorithmSpecification.AlgorithmName", "must be an algorithm name"},
      {"TrainingImageWhitespace", set("/AlgorithmSpecification/TrainingImage", "my image:latest"),
       "AlgorithmSpecification.TrainingImage", "must not contain white space, got 'my image:latest'"},
      {"InstanceTypeShape", set("/ResourceConfig/InstanceType", "m5.xlarge"), "ResourceConfig.InstanceType",
       "must be an instance type such as ml.m5.xlarge, got 'm5.xlarge'"},

      // Enums: exact spellings, with hints.
      {"InputModeCase", set("/AlgorithmSpecification/TrainingInputMode", "file"),
       "AlgorithmSpecification.TrainingInputMode",
       "must be one of Pipe|File|FastFile, got 'file'; did you mean 'File'? (values are case-sensitive)"},
      {"ChannelInputModeUnknown", set("/InputDataConfig/0/InputMode", "Streaming"), "InputDataConfig[0].InputMode",
       "must be one of Pipe|File|FastFile, got 'Streaming'"},
      {"ChannelCompressionUpper", set("/InputDataConfig/0/CompressionType", "GZIP"),
       "InputDataConfig[0].CompressionType",
       "must be one of None|Gzip, got 'GZIP'; did you mean 'Gzip'? (values are case-sensitive) "
       "(Channel.CompressionType is spelled None|Gzip, unlike OutputDataConfig.CompressionType GZIP|NONE)"},
      {"ChannelCompressionNONE", set("/InputDataConfig/0/CompressionType", "NONE"),
       "InputDataConfig[0].CompressionType", "did you mean 'None'?"},
      {"OutputCompressionMixed", set("/OutputDataConfig/CompressionType", "Gzip"), "OutputDataConfig.CompressionType",
       "must be one of GZIP|NONE, got 'Gzip'; did you mean 'GZIP'? (values are case-sensitive) "
       "(OutputDataConfig.CompressionType is spelled GZIP|NONE, unlike Channel.CompressionType None|Gzip)"},
      {"OutputCompressionNone", set("/OutputDataConfig/CompressionType", "None"), "OutputDataConfig.CompressionType",
       "did you mean 'NONE'?"},
      {"DistributionTypo", set(kS3 + "/S3DataDistributionType", "FullyReplicate"), kS3Path + ".S3DataDistributionType",
       "must be one of FullyReplicated|ShardedByS3Key, got 'FullyReplicate'; did you mean 'FullyReplicated'?"},
      {"AccessModeUpper", set(kFs + "/FileSystemAccessMode", "RO"), kFsPath + ".FileSystemAccessMode",
       "must be one of rw|ro, got 'RO'; did you mean 'ro'?"},
      {"FileSystemTypeCase", set(kFs + "/FileSystemType", "FsxLustre"), kFsPath + ".FileSystemType",
       "must be one of EFS|FSxLustre, got 'FsxLustre'; did you mean 'FSxLustre'?"},
      {"RecordWrapperCase", set("/InputDataConfig/0/RecordWrapperType", "recordio"),
       "InputDataConfig[0].RecordWrapperType", "did you mean 'RecordIO'?"},
      {"S3DataTypeTypo", set(kS3 + "/S3DataType", "S3Prefx"), kS3Path + ".S3DataType",
       "must be one of ManifestFile|S3Prefix|AugmentedManifestFile|Converse, got 'S3Prefx'; did you mean 'S3Prefix'?"},

      // Counts.
      {"NoChannels", set("/InputDataConfig", json::array()), "InputDataConfig",
       "must have 1 to 20 channels, got 0 (leave InputDataConfig out for a job without input)"},
      {"TwentyOneChannels", set("/InputDataConfig", channels(21)), "InputDataConfig",
       "must have 1 to 20 channels, got 21"},
      {"DuplicateChannel", set("/InputDataConfig/1/ChannelName", "train"), "InputDataConfig[1].ChannelName",
       "duplicate channel name 'train' (InputDataConfig[0] has it)"},
      {"ChannelNamesDifferingInCase", set("/InputDataConfig/1/ChannelName", "Train"), "InputDataConfig[1].ChannelName",
       "channel name 'Train' differs from InputDataConfig[0] 'train' only in case; both would be SM_CHANNEL_TRAIN"},
      {"EntrypointEmpty", set("/AlgorithmSpecification/ContainerEntrypoint", json::array()),
       "AlgorithmSpecification.ContainerEntrypoint", "must have 1 to 100 entries, got 0"},
      {"ArgumentsTooMany", set("/AlgorithmSpecification/ContainerArguments", strings(101)),
       "AlgorithmSpecification.ContainerArguments", "must have 1 to 100 entries, got 101"},
      {"EntrypointEntryTooLong", set("/AlgorithmSpecification/ContainerEntrypoint", {"python3", std::string(257, 'x')}),
       "AlgorithmSpecification.ContainerEntrypoint[1]", "must be at most 256 characters long, got 257"},
      {"TooManyHyperParameters", set("/HyperParameters", string_map(101)), "HyperParameters",
       "must have at most 100 entries, got 101"},
      {"TooManyEnvironmentVariables", set("/Environment", string_map(101)), "Environment",
       "must have at most 100 entries, got 101"},
      {"TooManyAttributeNames",
       all({set("/InputDataConfig/0/InputMode", "Pipe"), set(kS3 + "/S3DataType", "AugmentedManifestFile"),
            set(kS3 + "/S3Uri", "s3://bucket/m.jsonl"), set(kS3 + "/AttributeNames", strings(17))}),
       kS3Path + ".AttributeNames", "must have 0 to 16 entries, got 17"},
      {"TooManyInstanceGroupNames", set(kS3 + "/InstanceGroupNames", strings(6)), kS3Path + ".InstanceGroupNames",
       "must have 0 to 5 entries, got 6"},

      // Something to run.
      {"NothingToRun", erase("/AlgorithmSpecification/ContainerEntrypoint"), "AlgorithmSpecification",
       "needs ContainerEntrypoint or ContainerArguments (a command Sluice runs on this machine; TrainingImage is "
       "recorded, not run), or script mode: HyperParameters.sagemaker_program naming the script, as the SageMaker "
       "Python SDK sets it"},

      // URIs.
      {"S3UriHttp", set(kS3 + "/S3Uri", "http://bucket/x"), kS3Path + ".S3Uri",
       "must match (https|s3)://BUCKET/PREFIX or file:///PATH, got 'http://bucket/x'"},
      {"S3UriNoBucket", set(kS3 + "/S3Uri", "s3:///train"), kS3Path + ".S3Uri", "must match (https|s3)://"},
      {"S3UriEmpty", set(kS3 + "/S3Uri", ""), kS3Path + ".S3Uri", "must match (https|s3)://BUCKET/PREFIX or "
                                                                  "file:///PATH, got ''"},
      {"S3UriUpperScheme", set(kS3 + "/S3Uri", "S3://bucket/x"), kS3Path + ".S3Uri", "got 'S3://bucket/x'"},
      {"S3UriHttps", set(kS3 + "/S3Uri", "https://bucket.s3.amazonaws.com/train"), kS3Path + ".S3Uri",
       "https:// URIs match the API's pattern but Sluice cannot read them; write s3://BUCKET/PREFIX"},
      {"FileUriRelative", set(kS3 + "/S3Uri", "file://data/train"), kS3Path + ".S3Uri",
       "a file:// URI needs an absolute path with no host, as in file:///data/train, got 'file://data/train'"},
      {"BucketTooShort", set(kS3 + "/S3Uri", "s3://ab/train"), kS3Path + ".S3Uri",
       "bucket name must be 3 to 63 characters long, got 's3://ab/train'"},
      {"S3OutputPathBare", set("/OutputDataConfig/S3OutputPath", "bucket/out"), "OutputDataConfig.S3OutputPath",
       "must match (https|s3)://BUCKET/PREFIX or file:///PATH, got 'bucket/out'"},
      {"CheckpointUriBad", set("/CheckpointConfig/S3Uri", "ckpt"), "CheckpointConfig.S3Uri", "got 'ckpt'"},
      {"ManifestTrailingSlash",
       all({set(kS3 + "/S3DataType", "ManifestFile"), set(kS3 + "/S3Uri", "s3://bucket/train/")}),
       kS3Path + ".S3Uri",
       "names the manifest object itself (S3DataType ManifestFile), so it cannot end in '/', got "
       "'s3://bucket/train/'"},

      // Time limits.
      {"MaxRuntimeZero", set("/StoppingCondition/MaxRuntimeInSeconds", 0), "StoppingCondition.MaxRuntimeInSeconds",
       "must be 1 to 2419200 seconds (28 days), got 0"},
      {"MaxRuntimeOver28Days", set("/StoppingCondition/MaxRuntimeInSeconds", 2419201),
       "StoppingCondition.MaxRuntimeInSeconds", "must be 1 to 2419200 seconds (28 days), got 2419201"},
      {"MaxWaitBelowMaxRuntime", set("/StoppingCondition/MaxWaitTimeInSeconds", 1800),
       "StoppingCondition.MaxWaitTimeInSeconds", "must be at least MaxRuntimeInSeconds (3600), got 1800"},
      {"MaxWaitBelowDefaultMaxRuntime", set("/StoppingCondition", {{"MaxWaitTimeInSeconds", 3600}}),
       "StoppingCondition.MaxWaitTimeInSeconds",
       "must be at least MaxRuntimeInSeconds (86400, the default), got 3600"},
      {"MaxWaitZero", set("/StoppingCondition/MaxWaitTimeInSeconds", 0), "StoppingCondition.MaxWaitTimeInSeconds",
       "must be at least 1 second, got 0"},

      // Hosts.
      {"InstanceCountZero", set("/ResourceConfig/InstanceCount", 0), "ResourceConfig.InstanceCount",
       "must be at least 1, got 0 (the API allows 0, but a job without hosts cannot run)"},
      {"InstanceCountNegative", set("/ResourceConfig/InstanceCount", -1), "ResourceConfig.InstanceCount",
       "must be at least 1, got -1"},
      {"InstanceCountHuge", set("/ResourceConfig/InstanceCount", 4294967296LL), "ResourceConfig.InstanceCount",
       "is too large, got 4294967296"},
      {"VolumeNegative", set("/ResourceConfig/VolumeSizeInGB", -5), "ResourceConfig.VolumeSizeInGB",
       "must be a size in GB, 0 or more, got -5"},
      {"InstanceGroupsWithCount",
       set("/ResourceConfig/InstanceGroups",
           {{{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}, {"InstanceGroupName", "cpu"}}}),
       "ResourceConfig",
       "InstanceGroups cannot be combined with InstanceType or InstanceCount: a heterogeneous cluster is described "
       "by its groups alone"},
      {"InstanceGroupNamesWithoutGroups", set(kS3 + "/InstanceGroupNames", {"gpu"}),
       kS3Path + ".InstanceGroupNames[0]", "instance group 'gpu' does not exist: ResourceConfig has no InstanceGroups"},

      // Data sources.
      {"BothSources",
       set("/InputDataConfig/0/DataSource/FileSystemDataSource",
           {{"FileSystemId", "fs-0123456789abcdef0"}, {"FileSystemAccessMode", "ro"}, {"FileSystemType", "EFS"},
            {"DirectoryPath", "/x"}}),
       "InputDataConfig[0].DataSource",
       "must have exactly one data source, got S3DataSource and FileSystemDataSource"},
      {"NoSource", set("/InputDataConfig/0/DataSource", json::object()), "InputDataConfig[0].DataSource",
       "needs S3DataSource or FileSystemDataSource"},
      {"DatasetSource", set("/InputDataConfig/0/DataSource", {{"DatasetSource", {{"DatasetArn", "arn:x"}}}}),
       "InputDataConfig[0].DataSource.DatasetSource",
       "DatasetSource (SageMaker hub datasets) is not supported by Sluice; use S3DataSource or FileSystemDataSource"},
      {"Converse", set(kS3 + "/S3DataType", "Converse"), kS3Path + ".S3DataType",
       "Converse (conversation data for foundation-model fine-tuning) is not supported by Sluice"},
      {"DirectoryPathRelative", set(kFs + "/DirectoryPath", "data/train"), kFsPath + ".DirectoryPath",
       "must be an absolute path, as in /1234abcd/ns1 or /tensorflow, got 'data/train'"},
      {"DirectoryPathEmpty", set(kFs + "/DirectoryPath", ""), kFsPath + ".DirectoryPath",
       "must be an absolute path"},
      {"DirectoryPathDotDot", set(kFs + "/DirectoryPath", "/data/../../etc"), kFsPath + ".DirectoryPath",
       "must not contain '..' segments"},

      // Mode and source combinations.
      {"AugmentedManifestInFileJob",
       all({set(kS3 + "/S3DataType", "AugmentedManifestFile"), set(kS3 + "/S3Uri", "s3://bucket/m.jsonl")}),
       kS3Path + ".S3DataType",
       "AugmentedManifestFile is allowed only in Pipe input mode (the API's rule); channel 'train' uses File mode "
       "(from AlgorithmSpecification.TrainingInputMode)"},
      {"AugmentedManifestInFastFileChannel",
       all({set("/InputDataConfig/0/InputMode", "FastFile"), set(kS3 + "/S3DataType", "AugmentedManifestFile"),
            set(kS3 + "/S3Uri", "s3://bucket/m.jsonl")}),
       kS3Path + ".S3DataType",
       "AugmentedManifestFile is allowed only in Pipe input mode (the API's rule); channel 'train' uses FastFile "
       "mode"},
      {"AugmentedManifestInFileChannelOfPipeJob",
       all({set("/AlgorithmSpecification/TrainingInputMode", "Pipe"), set("/InputDataConfig/0/InputMode", "File"),
            set("/InputDataConfig/1/InputMode", "File"), set(kS3 + "/S3DataType", "AugmentedManifestFile"),
            set(kS3 + "/S3Uri", "s3://bucket/m.jsonl")}),
       kS3Path + ".S3DataType", "channel 'train' uses File mode"},
      {"GzipInFile", set("/InputDataConfig/0/CompressionType", "Gzip"), "InputDataConfig[0].CompressionType",
       "Gzip is used only in Pipe input mode; in File and FastFile mode the API says to leave CompressionType unset "
       "or None (channel 'train' uses File mode (from AlgorithmSpecification.TrainingInputMode))"},
      {"RecordIOInFastFile",
       all({set("/InputDataConfig/0/InputMode", "FastFile"), set("/InputDataConfig/0/RecordWrapperType", "RecordIO")}),
       "InputDataConfig[0].RecordWrapperType",
       "RecordIO is used only in Pipe input mode; in File and FastFile mode the API says to leave RecordWrapperType "
       "unset or None (channel 'train' uses FastFile mode)"},
      {"FileSystemInPipeJob", set("/AlgorithmSpecification/TrainingInputMode", "Pipe"), kFsPath,
       "FileSystemDataSource channels must use File input mode (the directory is mounted, not streamed); channel "
       "'fsx' uses Pipe mode (from AlgorithmSpecification.TrainingInputMode); set \"InputMode\": \"File\" on this "
       "channel"},
      {"FileSystemFastFileChannel", set("/InputDataConfig/1/InputMode", "FastFile"), "InputDataConfig[1].InputMode",
       "FileSystemDataSource channels must use File input mode (the directory is mounted, not streamed); channel "
       "'fsx' uses FastFile mode"},
      {"AttributeNamesWithS3Prefix", set(kS3 + "/AttributeNames", {"source-ref"}), kS3Path + ".AttributeNames",
       "applies only to S3DataType AugmentedManifestFile, but S3DataType is S3Prefix"},
      {"ShuffleOnFileSystem", set("/InputDataConfig/1/ShuffleConfig", {{"Seed", 7}}), "InputDataConfig[1].ShuffleConfig",
       "has no effect on a FileSystemDataSource channel"},
      {"ImageAndAlgorithmName",
       all({set("/AlgorithmSpecification/TrainingImage", "img:1"), set("/AlgorithmSpecification/AlgorithmName", "algo")}),
       "AlgorithmSpecification", "TrainingImage and AlgorithmName are mutually exclusive; set one of them"},
      {"LocalPathRelative", set("/CheckpointConfig/LocalPath", "checkpoints"), "CheckpointConfig.LocalPath",
       "must be an absolute path (the default is /opt/ml/checkpoints), got 'checkpoints'"},
      {"LocalPathOptMl", set("/CheckpointConfig/LocalPath", "/opt/ml/model/.."), "CheckpointConfig.LocalPath",
       "must not be /opt/ml itself nor inside /opt/ml/input, where Sluice writes (the default is /opt/ml/checkpoints), "
       "got '/opt/ml/model/..'"},
      {"LocalPathOptMlSlash", set("/CheckpointConfig/LocalPath", "/opt/ml/"), "CheckpointConfig.LocalPath",
       "must not be /opt/ml itself nor inside /opt/ml/input, where Sluice writes (the default is /opt/ml/checkpoints), "
       "got '/opt/ml/'"},
      {"LocalPathInput", set("/CheckpointConfig/LocalPath", "/opt/ml/input/data/train"), "CheckpointConfig.LocalPath",
       "must not be /opt/ml itself nor inside /opt/ml/input, where Sluice writes (the default is /opt/ml/checkpoints), "
       "got '/opt/ml/input/data/train'"},

      // Unknown fields.
      {"UnknownTopLevel", set("/InputDataConfigs", json::array()), "InputDataConfigs",
       "unknown field 'InputDataConfigs'; did you mean 'InputDataConfig'?"},
      {"UnknownTopLevelCase", set("/trainingJobName", "x"), "trainingJobName",
       "unknown field 'trainingJobName'; did you mean 'TrainingJobName'? (field names are case-sensitive)"},
      {"UnknownNestedCase", set(kS3 + "/S3URI", "s3://bucket/x"), kS3Path + ".S3URI",
       "unknown field 'S3URI'; did you mean 'S3Uri'? (field names are case-sensitive)"},
      {"UnknownNestedTypo", set("/InputDataConfig/0/ShuffleConfig", {{"Seed", 1}, {"Sead", 2}}),
       "InputDataConfig[0].ShuffleConfig.Sead", "unknown field 'Sead'; did you mean 'Seed'?"},
      {"UnknownStoppingTypo", set("/StoppingCondition/MaxRuntimeInSecs", 5), "StoppingCondition.MaxRuntimeInSecs",
       "did you mean 'MaxRuntimeInSeconds'?"},
      {"FieldAtWrongLevel", set("/InputDataConfig/0/S3Uri", "s3://bucket/x"), "InputDataConfig[0].S3Uri",
       "unknown field 'S3Uri'; it belongs in InputDataConfig[].DataSource.S3DataSource or CheckpointConfig"},
      {"InputModeAtTopLevel", set("/TrainingInputMode", "File"), "TrainingInputMode",
       "unknown field 'TrainingInputMode'; it belongs in AlgorithmSpecification"},
      {"UnknownWithFieldList", set("/CheckpointConfig/Bucket", "x"), "CheckpointConfig.Bucket",
       "unknown field 'Bucket' (fields here: S3Uri, LocalPath)"},
      {"IgnoredFieldWrongType", set("/Tags", "team=ml"), "Tags",
       "must be an array, got string 'team=ml' (Sluice accepts this field but does not act on it)"},
      {"IgnoredNestedWrongType", set("/ResourceConfig/KeepAlivePeriodInSeconds", "600"),
       "ResourceConfig.KeepAlivePeriodInSeconds", "must be an integer, got string '600'"},
  };
}

class OneRule : public ::testing::TestWithParam<RuleCase> {};

TEST_P(OneRule, GivesExactlyThatProblem) {
  const RuleCase& c = GetParam();
  json j = base();
  c.mutate(j);
  std::vector<SpecProblem> problems = problems_of(j);
  ASSERT_EQ(problems.size(), 1u) << listing(problems);
  EXPECT_EQ(problems[0].path, c.path);
  EXPECT_TRUE(contains(problems[0].message, c.message_part))
      << "message: " << problems[0].message << "\nexpected to contain: " << c.message_part;
}

INSTANTIATE_TEST_SUITE_P(JobSpec, OneRule, ::testing::ValuesIn(rule_cases()),
                         [](const ::testing::TestParamInfo<RuleCase>& info) { return info.param.name; });

// ---- more than one problem, order, messages ---------------------------------------------------

TEST(JobSpec, ReportsEveryProblemSortedByPath) {
  json j = base();
  j.erase("RoleArn");
  j["TrainingJobName"] = "bad_name";
  j["InputDataConfig"][0]["CompressionType"] = "Gzip";
  j["InputDataConfig"][1]["DataSource"]["FileSystemDataSource"]["FileSystemType"] = "NFS";
  j["OutputDataConfig"]["CompressionType"] = "zip";
  j["StoppingCondition"]["MaxRuntimeInSeconds"] = 0;
  j["Foo"] = 1;
  std::vector<SpecProblem> problems = problems_of(j);
  std::vector<std::string> paths;
  for (const auto& p : problems) paths.push_back(p.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"Foo", "InputDataConfig[0].CompressionType",
                                             "InputDataConfig[1].DataSource.FileSystemDataSource.FileSystemType",
                                             "OutputDataConfig.CompressionType", "RoleArn",
                                             "StoppingCondition.MaxRuntimeInSeconds", "TrainingJobName"}))
      << listing(problems);
  EXPECT_EQ(problems[0].message, "unknown field 'Foo'");  // no near name, and too many fields to list
}

TEST(JobSpec, ErrorCauseHasOneProblemPerLine) {
  json j = base();
  j.erase("RoleArn");
  j["TrainingJobName"] = "";
  try {
    parse_job_spec(j.dump());
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_EQ(e.message(), "invalid job spec");
    EXPECT_EQ(e.cause(), "2 problems\n  RoleArn: required field is missing\n  TrainingJobName: must not be empty");
    EXPECT_EQ(std::string(e.what()),
              "invalid job spec: 2 problems\n  RoleArn: required field is missing\n  TrainingJobName: must not be empty");
  }
}

TEST(JobSpec, IndicesSortAsNumbers) {
  json j = base();
  j["InputDataConfig"] = channels(12);
  j["InputDataConfig"][10]["ChannelName"] = "bad name";
  j["InputDataConfig"][2]["ChannelName"] = "bad name";
  j["InputDataConfig"][1]["ChannelName"] = "";
  std::vector<SpecProblem> problems = problems_of(j);
  ASSERT_EQ(problems.size(), 3u) << listing(problems);
  EXPECT_EQ(problems[0].path, "InputDataConfig[1].ChannelName");
  EXPECT_EQ(problems[1].path, "InputDataConfig[2].ChannelName");
  EXPECT_EQ(problems[2].path, "InputDataConfig[10].ChannelName");
}

TEST(JobSpec, ModeChecksWaitForAValidMode) {
  // An invalid TrainingInputMode is one problem; the channels that inherit it are not judged on top.
  json j = base();
  j["AlgorithmSpecification"]["TrainingInputMode"] = "Stream";
  j["InputDataConfig"][0]["CompressionType"] = "Gzip";
  std::vector<SpecProblem> problems = problems_of(j);
  ASSERT_EQ(problems.size(), 1u) << listing(problems);
  EXPECT_EQ(problems[0].path, "AlgorithmSpecification.TrainingInputMode");
}

TEST(JobSpec, ChannelProblemsNameTheChannelOrItsPath) {
  json j = base();
  j["InputDataConfig"][0]["ChannelName"] = "bad name";
  j["InputDataConfig"][0]["CompressionType"] = "Gzip";
  std::vector<SpecProblem> problems = problems_of(j);
  ASSERT_EQ(problems.size(), 2u) << listing(problems);
  EXPECT_EQ(problems[0].path, "InputDataConfig[0].ChannelName");
  EXPECT_EQ(problems[1].path, "InputDataConfig[0].CompressionType");
  EXPECT_TRUE(contains(problems[1].message, "channel InputDataConfig[0] uses File mode")) << problems[1].message;
}

TEST(JobSpec, LongValuesAreCut) {
  json j = base();
  std::string uri = "gs://bucket/" + std::string(1000, 'k');
  j["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = uri;
  j["TrainingJobName"] = "line\nbreak";
  std::vector<SpecProblem> problems = problems_of(j);
  ASSERT_EQ(problems.size(), 2u) << listing(problems);
  const std::string& m = problems[0].message;
  EXPECT_FALSE(contains(m, uri));
  EXPECT_TRUE(contains(m, "got '" + uri.substr(0, 100) + "'... (1012 characters)")) << m;
  EXPECT_LT(m.size(), 250u);
  EXPECT_TRUE(contains(problems[1].message, "got 'line\\nbreak'")) << problems[1].message;
}

TEST(JobSpec, MultibyteCharactersCountAsOne) {
  json j = base();
  std::string name;
  for (int i = 0; i < 64; ++i) name += "\xc3\xa9";  // é, 2 bytes each
  j["InputDataConfig"][0]["ChannelName"] = name;   // 64 characters (128 bytes): the length is fine
  std::vector<SpecProblem> problems = problems_of(j);
  ASSERT_EQ(problems.size(), 1u) << listing(problems);
  EXPECT_TRUE(problems[0].message.starts_with("must match [A-Za-z0-9.\\-_]+")) << problems[0].message;
  j["InputDataConfig"][0]["ChannelName"] = name + "\xc3\xa9";  // 65 characters
  problems = problems_of(j);
  ASSERT_EQ(problems.size(), 1u) << listing(problems);
  EXPECT_EQ(problems[0].message, "must be 1 to 64 characters long, got 65");
}

// ---- JSON syntax ------------------------------------------------------------------------------

TEST(JobSpec, SyntaxErrorHasLineAndColumn) {
  std::vector<SpecProblem> problems = problems_of("{\n  \"TrainingJobName\": \"a\",\n  \"RoleArn\": ,\n}");
  ASSERT_EQ(problems.size(), 1u) << listing(problems);
  EXPECT_EQ(problems[0].path, "");
  EXPECT_TRUE(problems[0].message.starts_with("invalid JSON at line 3, column 14: ")) << problems[0].message;
  EXPECT_TRUE(contains(problems[0].message, "unexpected ','")) << problems[0].message;
  EXPECT_FALSE(contains(problems[0].message, "json.exception")) << problems[0].message;
}

TEST(JobSpec, SyntaxErrorColumnsCountCharacters) {
  // "é" is two bytes but one column.
  std::vector<SpecProblem> problems = problems_of("{\"Environment\": {\"A\": \"\xc3\xa9\"  x}}");
  ASSERT_EQ(problems.size(), 1u) << listing(problems);
  EXPECT_TRUE(problems[0].message.starts_with("invalid JSON at line 1, column 28: ")) << problems[0].message;
}

TEST(JobSpec, SyntaxErrorAtEndOfInput) {
  std::vector<SpecProblem> problems = problems_of("{\n  \"TrainingJobName\": \"a\"\n");
  ASSERT_EQ(problems.size(), 1u) << listing(problems);
  EXPECT_TRUE(problems[0].message.starts_with("invalid JSON at line 3, column 1: ")) << problems[0].message;
}

TEST(JobSpec, EmptyInputAndTrailingGarbage) {
  std::vector<SpecProblem> empty = problems_of("");
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_TRUE(empty[0].message.starts_with("invalid JSON at line 1, column 1: ")) << empty[0].message;
  std::vector<SpecProblem> trailing = problems_of(base().dump() + "\n}");
  ASSERT_EQ(trailing.size(), 1u);
  EXPECT_TRUE(trailing[0].message.starts_with("invalid JSON at line 2, column 1: ")) << trailing[0].message;
}

TEST(JobSpec, DocumentMustBeAnObject) {
  std::vector<SpecProblem> problems = problems_of("[{\"TrainingJobName\": \"a\"}]");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "");
  EXPECT_EQ(problems[0].message, "a job spec must be a JSON object (a CreateTrainingJob request body), got an array");
}

TEST(JobSpec, DuplicateKeysAreProblems) {
  std::string text = base().dump();
  // A second TrainingJobName at the top and a second S3Uri in channel 0; the last one of each wins.
  text.insert(1, "\"TrainingJobName\": \"first\", ");
  auto at = text.find("\"S3Uri\":\"s3://bucket/train/\"");
  ASSERT_NE(at, std::string::npos);
  text.insert(at, "\"S3Uri\":\"s3://bucket/other/\",");
  std::vector<SpecProblem> problems = problems_of(text);
  ASSERT_EQ(problems.size(), 2u) << listing(problems);
  EXPECT_EQ(problems[0].path, "InputDataConfig[0].DataSource.S3DataSource.S3Uri");
  EXPECT_EQ(problems[0].message, "duplicate field 'S3Uri'; JSON parsers keep only one of them");
  EXPECT_EQ(problems[1].path, "TrainingJobName");
}

TEST(JobSpec, DuplicateKeyPathsCountArrayItems) {
  std::string text = R"js({"InputDataConfig": [1, [2, 3], {"a": 1}, {"ChannelName": "x", "ChannelName": "y"}]})js";
  std::vector<SpecProblem> problems;
  EXPECT_THROW(parse_job_spec(text, &problems), Error);
  bool found = false;
  for (const auto& p : problems) found |= p.path == "InputDataConfig[3].ChannelName" && contains(p.message, "duplicate");
  EXPECT_TRUE(found) << listing(problems);
}

// ---- unknown fields and ignored ones ----------------------------------------------------------

TEST(JobSpec, UnknownFieldWithoutNearNameGetsNoSuggestion) {
  json j = base();
  j["InputDataConfig"][0]["Zzzzzz"] = 1;
  std::vector<SpecProblem> problems = problems_of(j);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "InputDataConfig[0].Zzzzzz");
  EXPECT_EQ(problems[0].message,
            "unknown field 'Zzzzzz' (fields here: ChannelName, DataSource, ContentType, CompressionType, "
            "RecordWrapperType, InputMode, ShuffleConfig)");
}

TEST(JobSpec, IgnoredFieldsAreListed) {
  json j = base();
  j["Tags"] = json::array();
  j["EnableManagedSpotTraining"] = true;
  j["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 600;
  JobSpec spec = parse_ok(j);
  EXPECT_EQ(spec.ignored_fields,
            (std::vector<std::string>{"EnableManagedSpotTraining", "ResourceConfig.KeepAlivePeriodInSeconds", "Tags"}));
}

TEST(JobSpec, ProblemsOutParameterIsClearedOnSuccess) {
  std::vector<SpecProblem> problems{{"x", "y"}};
  parse_job_spec(base().dump(), &problems);
  EXPECT_TRUE(problems.empty());
}

// ---- heterogeneous clusters -------------------------------------------------------------------

json with_groups() {
  json j = base();
  j["ResourceConfig"] = json::parse(R"js({"InstanceGroups": [
      {"InstanceType": "ml.p3.2xlarge", "InstanceCount": 2, "InstanceGroupName": "gpu"},
      {"InstanceType": "ml.c5.xlarge", "InstanceCount": 3, "InstanceGroupName": "cpu"}]})js");
  return j;
}

TEST(JobSpec, InstanceGroupsGiveTheHostCount) {
  json j = with_groups();
  j["InputDataConfig"][0]["DataSource"]["S3DataSource"]["InstanceGroupNames"] = {"gpu"};
  JobSpec spec = parse_ok(j);
  EXPECT_EQ(spec.resources.instance_count, 5);
  ASSERT_EQ(spec.resources.instance_groups.size(), 2u);
  EXPECT_EQ(spec.resources.instance_groups[0].name, "gpu");
  EXPECT_EQ(spec.resources.instance_groups[0].instance_type, "ml.p3.2xlarge");
  EXPECT_EQ(spec.resources.instance_groups[0].instance_count, 2);
  EXPECT_EQ(spec.resources.instance_groups[1].name, "cpu");
  EXPECT_EQ(spec.channels[0].s3->instance_group_names, std::vector<std::string>{"gpu"});
}

TEST(JobSpec, InstanceGroupRules) {
  json j = with_groups();
  j["ResourceConfig"]["InstanceGroups"][1]["InstanceGroupName"] = "gpu";
  j["ResourceConfig"]["InstanceGroups"][0]["InstanceCount"] = 0;
  j["InputDataConfig"][0]["DataSource"]["S3DataSource"]["InstanceGroupNames"] = {"gpu", "tpu"};
  std::vector<SpecProblem> problems = problems_of(j);
  ASSERT_EQ(problems.size(), 3u) << listing(problems);
  EXPECT_EQ(problems[0].path, "InputDataConfig[0].DataSource.S3DataSource.InstanceGroupNames[1]");
  EXPECT_EQ(problems[0].message, "instance group 'tpu' is not in ResourceConfig.InstanceGroups");
  EXPECT_EQ(problems[1].path, "ResourceConfig.InstanceGroups[0].InstanceCount");
  EXPECT_EQ(problems[2].path, "ResourceConfig.InstanceGroups[1].InstanceGroupName");
  EXPECT_EQ(problems[2].message, "duplicate instance group name 'gpu'");

  json many = with_groups();
  for (int i = 0; i < 4; ++i) {
    many["ResourceConfig"]["InstanceGroups"].push_back(
        {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}, {"InstanceGroupName", "g" + std::to_string(i)}});
  }
  std::vector<SpecProblem> too_many = problems_of(many);
  ASSERT_EQ(too_many.size(), 1u) << listing(too_many);
  EXPECT_EQ(too_many[0].path, "ResourceConfig.InstanceGroups");
  EXPECT_EQ(too_many[0].message, "must have at most 5 instance groups, got 6");
}

// ---- enum spellings ---------------------------------------------------------------------------

TEST(JobSpec, ToStringUsesTheApiSpellings) {
  EXPECT_EQ(to_string(InputMode::kFile), "File");
  EXPECT_EQ(to_string(InputMode::kFastFile), "FastFile");
  EXPECT_EQ(to_string(InputMode::kPipe), "Pipe");
  EXPECT_EQ(to_string(S3DataType::kS3Prefix), "S3Prefix");
  EXPECT_EQ(to_string(S3DataType::kManifestFile), "ManifestFile");
  EXPECT_EQ(to_string(S3DataType::kAugmentedManifestFile), "AugmentedManifestFile");
  EXPECT_EQ(to_string(S3DataType::kConverse), "Converse");
  EXPECT_EQ(to_string(Distribution::kFullyReplicated), "FullyReplicated");
  EXPECT_EQ(to_string(Distribution::kShardedByS3Key), "ShardedByS3Key");
  EXPECT_EQ(to_string(Compression::kNone), "None");
  EXPECT_EQ(to_string(Compression::kGzip), "Gzip");
  EXPECT_EQ(to_string(RecordWrapper::kNone), "None");
  EXPECT_EQ(to_string(RecordWrapper::kRecordIO), "RecordIO");
  EXPECT_EQ(to_string(FileSystemType::kEFS), "EFS");
  EXPECT_EQ(to_string(FileSystemType::kFSxLustre), "FSxLustre");
  EXPECT_EQ(to_string(AccessMode::kRo), "ro");
  EXPECT_EQ(to_string(AccessMode::kRw), "rw");
  EXPECT_EQ(to_string(OutputCompression::kGzip), "GZIP");
  EXPECT_EQ(to_string(OutputCompression::kNone), "NONE");
}

// ---- the example jobs in tests/data/jobs ------------------------------------------------------

TEST(JobSpecExamples, FileModeJob) {
  JobSpec spec = load_job_spec((kJobs / "file-mode.json").string());
  EXPECT_EQ(spec.training_job_name, "iris-linear-2024-06-01");
  EXPECT_EQ(spec.algorithm.container_entrypoint, (std::vector<std::string>{"python3", "/opt/ml/code/train.py"}));
  EXPECT_EQ(spec.algorithm.training_image, "python:3.11-slim");
  ASSERT_EQ(spec.channels.size(), 2u);
  EXPECT_EQ(spec.channels[0].name, "train");
  EXPECT_EQ(spec.mode_of(spec.channels[0]), InputMode::kFile);
  EXPECT_EQ(spec.channels[0].s3->uri, "s3://sluice-demo/datasets/iris/train/");
  EXPECT_EQ(spec.channels[0].content_type, "text/csv");
  EXPECT_EQ(spec.channels[1].name, "reference");
  ASSERT_TRUE(spec.channels[1].file_system.has_value());
  EXPECT_EQ(spec.channels[1].file_system->access_mode, AccessMode::kRo);
  EXPECT_EQ(spec.channels[1].file_system->directory_path, "/shared/iris/reference");
  EXPECT_EQ(spec.resources.instance_count, 1);
  EXPECT_EQ(spec.stopping.max_runtime_seconds, 1800);
  EXPECT_EQ(spec.output.compression, OutputCompression::kGzip);
  ASSERT_TRUE(spec.checkpoint.has_value());
  EXPECT_EQ(spec.checkpoint->local_path, "/opt/ml/checkpoints");
  EXPECT_EQ(spec.environment.at("PYTHONUNBUFFERED"), "1");
  EXPECT_EQ(spec.ignored_fields, std::vector<std::string>{"Tags"});
}

TEST(JobSpecExamples, ShardedTwoHostJob) {
  JobSpec spec = load_job_spec((kJobs / "sharded-2-host.json").string());
  EXPECT_EQ(spec.resources.instance_count, 2);
  EXPECT_EQ(spec.resources.instance_type, "ml.p3.2xlarge");
  ASSERT_EQ(spec.channels.size(), 2u);
  EXPECT_EQ(spec.channels[0].s3->distribution, Distribution::kShardedByS3Key);
  EXPECT_EQ(spec.channels[0].shuffle_seed, 1234);
  EXPECT_EQ(spec.channels[1].s3->data_type, S3DataType::kManifestFile);
  EXPECT_EQ(spec.channels[1].s3->distribution, Distribution::kFullyReplicated);
  EXPECT_EQ(spec.output.compression, OutputCompression::kNone);
  EXPECT_EQ(spec.stopping.max_runtime_seconds, 172800);
  EXPECT_TRUE(spec.enable_network_isolation);
  EXPECT_FALSE(spec.checkpoint.has_value());
}

TEST(JobSpecExamples, InvalidJobListsEveryProblem) {
  std::string path = (kJobs / "invalid.json").string();
  std::vector<SpecProblem> problems;
  try {
    load_job_spec(path, &problems);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_EQ(e.message(), "invalid job spec " + path);
  }
  std::vector<std::pair<std::string, std::string>> expected = {
      {"AlgorithmSpecification.TrainingInputMode", "did you mean 'File'?"},
      {"InputDataConfig[0].CompressionType", "Gzip is used only in Pipe input mode"},
      {"InputDataConfig[0].DataSource.S3DataSource.S3DataType", "allowed only in Pipe input mode"},
      {"InputDataConfig[1].ChannelName", "duplicate channel name 'train'"},
      {"InputDataConfig[1].DataSource.S3DataSource.S3Uri", "got 'gs://training-data/validation/'"},
      {"InputDataConfigs", "did you mean 'InputDataConfig'?"},
      {"OutputDataConfig.CompressionType", "did you mean 'GZIP'?"},
      {"RoleArn", "required field is missing"},
      {"StoppingCondition.MaxRuntimeInSeconds", "must be 1 to 2419200 seconds (28 days), got 3000000"},
      {"TrainingJobName", "got 'resnet_50'"},
  };
  ASSERT_EQ(problems.size(), expected.size()) << listing(problems);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(problems[i].path, expected[i].first);
    EXPECT_TRUE(contains(problems[i].message, expected[i].second)) << problems[i].message;
  }
}

TEST(JobSpecExamples, MissingFileIsNotFound) {
  std::string path = (kJobs / "no-such-job.json").string();
  try {
    load_job_spec(path);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_TRUE(contains(e.what(), path)) << e.what();
  }
}

TEST(JobSpecExamples, DirectoryIsAnError) {
  try {
    load_job_spec(kJobs.string());
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.kind(), ErrorKind::kInvalidInput) << e.what();
    EXPECT_TRUE(contains(e.what(), kJobs.string())) << e.what();
  }
}

}  // namespace
}  // namespace sluice::job
