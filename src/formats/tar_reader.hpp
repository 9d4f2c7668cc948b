// Unpacking a tar archive (plain, gzip, or any compression libarchive reads) into a directory, as
// the SageMaker training toolkit unpacks a script-mode sourcedir.tar.gz into /opt/ml/code.
// The archive comes from a job spec (hostile in multi-tenant mode) and Sluice unpacks it as root,
// so every entry is written relative to the destination's handle with core/beneath, following no
// link, and never outside it:
//  - an absolute name or one with a ".." component is refused (Error kInvalidInput naming it);
//  - directories and regular files are made (mode bits & 0777, never set-id), symbolic links are
//    made as links (their target is not followed here; it means something only inside the
//    sandbox), hard links become copies of the file already unpacked; device nodes, FIFOs and
//    sockets are skipped with a warning;
//  - an archive past UnpackLimits (bytes, entries, depth) is refused: a gzip bomb or a file
//    copied through thousands of hard links stops at the limit;
//  - an entry that exists is replaced (a file) or entered (a directory); a link on the way to an
//    entry fails (ELOOP) rather than being followed.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::formats {

// What one archive may put on disk: it is unpacked by root, past any quota the job's tree has.
struct UnpackLimits {
  uint64_t max_bytes = 4ull << 30;  // file contents, hard-link copies included
  uint64_t max_entries = 100'000;
  int max_depth = 64;               // directory levels of a name
};

struct UnpackResult {
  uint64_t files = 0;  // regular files and links made
  uint64_t bytes = 0;  // bytes of regular files written
};

// Unpacks the archive file `archive` (a trusted path) into the directory open as `dir`
// (`shown` names it in messages). Only tar read by libarchive itself, plain or compressed with
// gzip, bzip2 or xz: no external decompressor is ever started. Throws sluice::Error:
// kInvalidInput for an archive that cannot be read, has an unsafe name or goes past `limits`
// (kNoSpace for max_bytes), errno errors for the destination.
UnpackResult unpack_tar(const std::string& archive, int dir, const std::string& shown, const UnpackLimits& limits = {});

}  // namespace sluice::formats
