#include "job/job_spec_fields.hpp"

namespace sluice::job {

using json_check::Loose;
using json_check::Schema;

namespace {

// The API's spelling of `value`: its entry in `table`.
template <typename E, size_t N>
std::string_view spelling(const std::pair<std::string_view, E> (&table)[N], E value) {
  for (const auto& [name, v] : table) {
    if (v == value) return name;
  }
  return "?";
}

}  // namespace

std::string_view to_string(InputMode v) { return spelling(kInputModes, v); }
std::string_view to_string(S3DataType v) { return spelling(kS3DataTypes, v); }
std::string_view to_string(Distribution v) { return spelling(kDistributions, v); }
std::string_view to_string(Compression v) { return spelling(kCompressions, v); }
std::string_view to_string(RecordWrapper v) { return spelling(kRecordWrappers, v); }
std::string_view to_string(FileSystemType v) { return spelling(kFileSystemTypes, v); }
std::string_view to_string(AccessMode v) { return spelling(kAccessModes, v); }
std::string_view to_string(OutputCompression v) { return spelling(kOutputCompressions, v); }

// ---- the shapes: which fields each object has -------------------------------------------------

const Schema kRequest{"the top level",
                      {"TrainingJobName", "HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
                       "OutputDataConfig", "ResourceConfig", "StoppingCondition", "EnableNetworkIsolation",
                       "CheckpointConfig", "Environment", "SessionChainingConfig"},
                      {{"VpcConfig", Loose::kObject},
                       {"Tags", Loose::kArray},
                       {"EnableInterContainerTrafficEncryption", Loose::kBool},
                       {"EnableManagedSpotTraining", Loose::kBool},
                       {"DebugHookConfig", Loose::kObject},
                       {"DebugRuleConfigurations", Loose::kArray},
                       {"TensorBoardOutputConfig", Loose::kObject},
                       {"ExperimentConfig", Loose::kObject},
                       {"ProfilerConfig", Loose::kObject},
                       {"ProfilerRuleConfigurations", Loose::kArray},
                       {"RetryStrategy", Loose::kObject},
                       {"RemoteDebugConfig", Loose::kObject},
                       {"InfraCheckConfig", Loose::kObject}}};

const Schema kAlgorithm{"AlgorithmSpecification",
                        {"TrainingInputMode", "TrainingImage", "AlgorithmName", "ContainerEntrypoint",
                         "ContainerArguments"},
                        {{"MetricDefinitions", Loose::kArray},
                         {"EnableSageMakerMetricsTimeSeries", Loose::kBool},
                         {"TrainingImageConfig", Loose::kObject}}};

const Schema kChannel{"InputDataConfig[]",
                      {"ChannelName", "DataSource", "ContentType", "CompressionType", "RecordWrapperType", "InputMode",
                       "ShuffleConfig"},
                      {}};

const Schema kDataSource{"InputDataConfig[].DataSource", {"S3DataSource", "FileSystemDataSource", "DatasetSource"}, {}};

const Schema kS3{"InputDataConfig[].DataSource.S3DataSource",
                 {"S3DataType", "S3Uri", "S3DataDistributionType", "AttributeNames", "InstanceGroupNames"},
                 {{"ModelAccessConfig", Loose::kObject}, {"HubAccessConfig", Loose::kObject}}};

const Schema kFileSystem{"InputDataConfig[].DataSource.FileSystemDataSource",
                         {"FileSystemId", "FileSystemAccessMode", "FileSystemType", "DirectoryPath"},
                         {}};

const Schema kShuffle{"InputDataConfig[].ShuffleConfig", {"Seed"}, {}};

const Schema kOutput{"OutputDataConfig", {"S3OutputPath", "KmsKeyId", "CompressionType"}, {}};

const Schema kResource{"ResourceConfig",
                       {"InstanceType", "InstanceCount", "VolumeSizeInGB", "InstanceGroups"},
                       {{"VolumeKmsKeyId", Loose::kString},
                        {"KeepAlivePeriodInSeconds", Loose::kInteger},
                        {"TrainingPlanArn", Loose::kString},
                        {"InstancePlacementConfig", Loose::kObject}}};

const Schema kInstanceGroup{"ResourceConfig.InstanceGroups[]", {"InstanceType", "InstanceCount", "InstanceGroupName"}, {}};

const Schema kStopping{"StoppingCondition",
                       {"MaxRuntimeInSeconds", "MaxWaitTimeInSeconds"},
                       {{"MaxPendingTimeInSeconds", Loose::kInteger}}};

const Schema kCheckpoint{"CheckpointConfig", {"S3Uri", "LocalPath"}, {}};

const Schema kChaining{"SessionChainingConfig", {"EnableSessionTagChaining"}, {}};

const Schema* const kSchemas[] = {&kRequest,  &kAlgorithm, &kChannel, &kDataSource, &kS3,        &kFileSystem, &kShuffle,
                                  &kOutput, &kResource,  &kInstanceGroup, &kStopping, &kCheckpoint, &kChaining};

const std::span<const Schema* const> kAllSchemas = kSchemas;

}  // namespace sluice::job
