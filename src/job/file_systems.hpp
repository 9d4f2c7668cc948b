// Where a FileSystemDataSource channel lives on this machine (the EFS / FSx for Lustre analogue).
// A small JSON file maps file system ids to the directory where that file system is mounted
// here (NFS, Lustre, or any directory):
//     {"fs-0123456789abcdef0": "/mnt/fsx", "fs-00000000deadbeef": "/srv/shared"}
// given with --file-systems FILE or SLUICE_FILE_SYSTEMS. The channel's directory is then
// <mount root>/<DirectoryPath>. An id that the file does not list (or no file) means
// DirectoryPath is itself a directory on this machine. Nothing is copied: the directory is bound
// into the job at /opt/ml/input/data/<channel>, read-only for "ro".
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "job/job_spec.hpp"

namespace sluice::job {

class FileSystemMap {
 public:
  FileSystemMap() = default;
  // Throws Error(kInvalidInput) naming the file and the problem.
  static FileSystemMap load(const std::filesystem::path& file);

  // The host directory of a channel; throws Error(kNotFound) naming the channel when it does not
  // exist or is not a directory.
  std::filesystem::path resolve(const Channel& channel) const;

  const std::map<std::string, std::filesystem::path>& roots() const { return roots_; }

 private:
  std::map<std::string, std::filesystem::path> roots_;
};

// Whether `path` is `dir` or below it, comparing whole components ("/mnt/fsx2" is not below
// "/mnt/fsx"). Both should be lexically normal.
bool path_within(const std::filesystem::path& path, const std::filesystem::path& dir);

}  // namespace sluice::job
