#include "job/job_spec_fields.hpp"

namespace sluice::job {

std::string_view to_string(InputMode m) {
  switch (m) {
    case InputMode::kFile: return "File";
    case InputMode::kFastFile: return "FastFile";
    case InputMode::kPipe: return "Pipe";
  }
  return "?";
}

std::string_view to_string(S3DataType t) {
  switch (t) {
    case S3DataType::kS3Prefix: return "S3Prefix";
    case S3DataType::kManifestFile: return "ManifestFile";
    case S3DataType::kAugmentedManifestFile: return "AugmentedManifestFile";
    case S3DataType::kConverse: return "Converse";
  }
  return "?";
}

std::string_view to_string(Distribution d) {
  switch (d) {
    case Distribution::kFullyReplicated: return "FullyReplicated";
    case Distribution::kShardedByS3Key: return "ShardedByS3Key";
  }
  return "?";
}

std::string_view to_string(Compression c) {
  switch (c) {
    case Compression::kNone: return "None";
    case Compression::kGzip: return "Gzip";
  }
  return "?";
}

std::string_view to_string(RecordWrapper r) {
  switch (r) {
    case RecordWrapper::kNone: return "None";
    case RecordWrapper::kRecordIO: return "RecordIO";
  }
  return "?";
}

std::string_view to_string(FileSystemType t) {
  switch (t) {
    case FileSystemType::kEFS: return "EFS";
    case FileSystemType::kFSxLustre: return "FSxLustre";
  }
  return "?";
}

std::string_view to_string(AccessMode m) {
  switch (m) {
    case AccessMode::kRo: return "ro";
    case AccessMode::kRw: return "rw";
  }
  return "?";
}

std::string_view to_string(OutputCompression c) {
  switch (c) {
    case OutputCompression::kGzip: return "GZIP";
    case OutputCompression::kNone: return "NONE";
  }
  return "?";
}

// ---- the shapes: which fields each object has -------------------------------------------------

const json_check::Schema kRequest{"the top level",
                      {"TrainingJobName", "HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
                       "OutputDataConfig", "ResourceConfig", "StoppingCondition", "EnableNetworkIsolation",
                       "CheckpointConfig", "Environment", "SessionChainingConfig"},
                      {{"VpcConfig", json_check::Loose::kObject},
                       {"Tags", json_check::Loose::kArray},
                       {"EnableInterContainerTrafficEncryption", json_check::Loose::kBool},
                       {"EnableManagedSpotTraining", json_check::Loose::kBool},
                       {"DebugHookConfig", json_check::Loose::kObject},
                       {"DebugRuleConfigurations", json_check::Loose::kArray},
                       {"TensorBoardOutputConfig", json_check::Loose::kObject},
                       {"ExperimentConfig", json_check::Loose::kObject},
                       {"ProfilerConfig", json_check::Loose::kObject},
                       {"ProfilerRuleConfigurations", json_check::Loose::kArray},
                       {"RetryStrategy", json_check::Loose::kObject},
                       {"RemoteDebugConfig", json_check::Loose::kObject},
                       {"InfraCheckConfig", json_check::Loose::kObject}}};

const json_check::Schema kAlgorithm{"AlgorithmSpecification",
                        {"TrainingInputMode", "TrainingImage", "AlgorithmName", "ContainerEntrypoint",
                         "ContainerArguments"},
                        {{"MetricDefinitions", json_check::Loose::kArray},
                         {"EnableSageMakerMetricsTimeSeries", json_check::Loose::kBool},
                         {"TrainingImageConfig", json_check::Loose::kObject}}};

const json_check::Schema kChannel{"InputDataConfig[]",
                      {"ChannelName", "DataSource", "ContentType", "CompressionType", "RecordWrapperType", "InputMode",
                       "ShuffleConfig"},
                      {}};

const json_check::Schema kDataSource{"InputDataConfig[].DataSource", {"S3DataSource", "FileSystemDataSource", "DatasetSource"}, {}};

const json_check::Schema kS3{"InputDataConfig[].DataSource.S3DataSource",
                 {"S3DataType", "S3Uri", "S3DataDistributionType", "AttributeNames", "InstanceGroupNames"},
                 {{"ModelAccessConfig", json_check::Loose::kObject}, {"HubAccessConfig", json_check::Loose::kObject}}};

const json_check::Schema kFileSystem{"InputDataConfig[].DataSource.FileSystemDataSource",
                         {"FileSystemId", "FileSystemAccessMode", "FileSystemType", "DirectoryPath"},
                         {}};

const json_check::Schema kShuffle{"InputDataConfig[].ShuffleConfig", {"Seed"}, {}};

const json_check::Schema kOutput{"OutputDataConfig", {"S3OutputPath", "KmsKeyId", "CompressionType"}, {}};

const json_check::Schema kResource{"ResourceConfig",
                       {"InstanceType", "InstanceCount", "VolumeSizeInGB", "InstanceGroups"},
                       {{"VolumeKmsKeyId", json_check::Loose::kString},
                        {"KeepAlivePeriodInSeconds", json_check::Loose::kInteger},
                        {"TrainingPlanArn", json_check::Loose::kString},
                        {"InstancePlacementConfig", json_check::Loose::kObject}}};

const json_check::Schema kInstanceGroup{"ResourceConfig.InstanceGroups[]", {"InstanceType", "InstanceCount", "InstanceGroupName"}, {}};

const json_check::Schema kStopping{"StoppingCondition",
                       {"MaxRuntimeInSeconds", "MaxWaitTimeInSeconds"},
                       {{"MaxPendingTimeInSeconds", json_check::Loose::kInteger}}};

const json_check::Schema kCheckpoint{"CheckpointConfig", {"S3Uri", "LocalPath"}, {}};

const json_check::Schema kChaining{"SessionChainingConfig", {"EnableSessionTagChaining"}, {}};

const json_check::Schema* const kSchemas[] = {&kRequest,  &kAlgorithm, &kChannel, &kDataSource, &kS3,        &kFileSystem, &kShuffle,
                                  &kOutput, &kResource,  &kInstanceGroup, &kStopping, &kCheckpoint, &kChaining};

const std::span<const json_check::Schema* const> kAllSchemas = kSchemas;

}  // namespace sluice::job
