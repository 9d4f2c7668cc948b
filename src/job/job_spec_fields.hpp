// The fields of each object of a CreateTrainingJob request (validated ones, and those accepted
// but not acted on) and the API's spellings of the enumerated values.
#pragma once

#include <span>
#include <string_view>
#include <utility>

#include "core/json_check.hpp"
#include "job/job_spec.hpp"

namespace sluice::job {

extern const json_check::Schema kRequest;
extern const json_check::Schema kAlgorithm;
extern const json_check::Schema kChannel;
extern const json_check::Schema kDataSource;
extern const json_check::Schema kS3;
extern const json_check::Schema kFileSystem;
extern const json_check::Schema kShuffle;
extern const json_check::Schema kOutput;
extern const json_check::Schema kResource;
extern const json_check::Schema kInstanceGroup;
extern const json_check::Schema kStopping;
extern const json_check::Schema kCheckpoint;
extern const json_check::Schema kChaining;

// Every shape above, for "it belongs in" hints.
extern const std::span<const json_check::Schema* const> kAllSchemas;

// The API's spellings, in the order messages list them.
inline constexpr std::pair<std::string_view, InputMode> kInputModes[] = {
    {"Pipe", InputMode::kPipe}, {"File", InputMode::kFile}, {"FastFile", InputMode::kFastFile}};
inline constexpr std::pair<std::string_view, S3DataType> kS3DataTypes[] = {
    {"ManifestFile", S3DataType::kManifestFile},
    {"S3Prefix", S3DataType::kS3Prefix},
    {"AugmentedManifestFile", S3DataType::kAugmentedManifestFile},
    {"Converse", S3DataType::kConverse}};
inline constexpr std::pair<std::string_view, Distribution> kDistributions[] = {
    {"FullyReplicated", Distribution::kFullyReplicated}, {"ShardedByS3Key", Distribution::kShardedByS3Key}};
inline constexpr std::pair<std::string_view, Compression> kCompressions[] = {
    {"None", Compression::kNone}, {"Gzip", Compression::kGzip}};
inline constexpr std::pair<std::string_view, RecordWrapper> kRecordWrappers[] = {
    {"None", RecordWrapper::kNone}, {"RecordIO", RecordWrapper::kRecordIO}};
inline constexpr std::pair<std::string_view, FileSystemType> kFileSystemTypes[] = {
    {"EFS", FileSystemType::kEFS}, {"FSxLustre", FileSystemType::kFSxLustre}};
inline constexpr std::pair<std::string_view, AccessMode> kAccessModes[] = {
    {"rw", AccessMode::kRw}, {"ro", AccessMode::kRo}};
inline constexpr std::pair<std::string_view, OutputCompression> kOutputCompressions[] = {
    {"GZIP", OutputCompression::kGzip}, {"NONE", OutputCompression::kNone}};

inline constexpr std::string_view kChannelCompressionHint =
    "Channel.CompressionType is spelled None|Gzip, unlike OutputDataConfig.CompressionType GZIP|NONE";
inline constexpr std::string_view kOutputCompressionHint =
    "OutputDataConfig.CompressionType is spelled GZIP|NONE, unlike Channel.CompressionType None|Gzip";

}  // namespace sluice::job
