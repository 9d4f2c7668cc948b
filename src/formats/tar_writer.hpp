// Packing a directory tree into a tar archive (gzip-compressed or plain), as SageMaker does with
// /opt/ml/model and /opt/ml/output/data. Entries are relative paths ("./" stripped), in sorted
// order, regular files, directories and symlinks (kept as links); the archive is written under a
// temporary name and renamed when complete.
// The trees are written by the training code, which may be hostile (issue 12): they are walked
// and read relative to a directory handle with core/beneath, never following a symbolic link; a
// link is stored as a link (its target text), so nothing outside the tree ever enters the archive.
// The archive is written by Sluice (root) outside the tree, past any quota the tree is under, so
// what a tree costs on disk bounds what its archive costs:
//  - a regular file with several hard links is stored once: its later names (same device and
//    inode as an entry already in this archive) become hard-link entries with no contents, as
//    GNU tar writes them;
//  - a sparse file whose size is more than 64 times its allocated bytes (st_blocks * 512) plus
//    1 MiB (`truncate -s 10T`) is refused with Error(kInvalidInput) naming it, not read and
//    compressed byte for byte.
// Directories are walked at most 256 levels deep (beneath::walk); a tree that cannot be read
// completely throws rather than giving an archive with files missing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/unique_fd.hpp"

namespace sluice::formats {

struct TarSource {
  std::filesystem::path dir;  // trusted (Sluice's own directory): opened following links
  // The tree packed is `below` inside `dir` ("" : dir itself), e.g. "output/data" inside a host's
  // /opt/ml: its components are entered without following a link. Its contents become the
  // archive's top level.
  std::string below = {};
};

// Opens a source's tree (O_RDONLY | O_DIRECTORY): an empty handle when `dir` or `below` does not
// exist or is not a directory, or (with a warning) when `below` has a symbolic link on the way.
// Throws sluice::Error for other failures.
UniqueFd open_tree(const TarSource& source);

// The path of the source's tree (dir/below), for messages.
std::string tree_path(const TarSource& source);

struct TarStats {
  uint64_t files = 0;
  uint64_t bytes = 0;  // file contents, before compression
};

// Packs the contents of every source directory, in order, into one archive at `out`. When two
// sources hold the same relative path (several hosts writing /opt/ml/model), the later one wins,
// so callers list hosts in rank order; a later non-directory also hides what an earlier source
// holds below that path. TarStats::files counts hard-link entries too; bytes, the contents
// stored. Throws sluice::Error.
TarStats write_tar(const std::vector<TarSource>& sources, const std::filesystem::path& out, bool gzip);

}  // namespace sluice::formats
