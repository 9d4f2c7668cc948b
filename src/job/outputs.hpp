// Uploading what a job produced, as SageMaker does (docs/train.md, step 8):
//   /opt/ml/model of every host        -> <S3OutputPath>/<TrainingJobName>/output/model.tar.gz
//   /opt/ml/output/data of every host  -> <S3OutputPath>/<TrainingJobName>/output/output.tar.gz
// Hosts are merged in rank order (a later host's file wins on a name clash). With
// OutputDataConfig.CompressionType NONE the trees are uploaded uncompressed under
// .../output/model/ and .../output/data/ instead (docs/train.md). The output path may be s3://
// or file:// (local mode).
// The training code writes these trees and may be hostile (issue 12): they are walked and read
// relative to a directory handle (core/beneath), following no symbolic link; an archive keeps a
// link as a link, an uncompressed upload leaves it out with a warning.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "dataset/source.hpp"
#include "job/job_spec.hpp"

namespace sluice::job {

struct OutputResult {
  std::string model_artifacts;  // the URI DescribeTrainingJob reports as S3ModelArtifacts
  uint64_t files = 0;
  uint64_t bytes = 0;
};

// host_opt_ml: each host's /opt/ml directory on this machine, in rank order. staging: a local
// directory for the archives (removed by the caller). store_for: the job's stores (the same
// store::Registry as its inputs, so that a multi-tenant job's writes are authorized like its reads).
OutputResult upload_outputs(const JobSpec& spec, const std::vector<std::filesystem::path>& host_opt_ml,
                            const std::filesystem::path& staging, const store::StoreFor& store_for);

// "<S3OutputPath>/<TrainingJobName>/output/": the URI of the output prefix.
std::string output_prefix_uri(const JobSpec& spec);

}  // namespace sluice::job
