// `sluice cp - s3://BUCKET/KEY` (standard input to an object) and `sluice cp s3://BUCKET/KEY -`
// (an object to standard output, and nothing else there).
#pragma once

#include "cli/commands.hpp"

namespace sluice::cli {

// o.source or o.destination is "-". Throws Error (kInvalidInput for what cannot go with a stream:
// another side that is not an object, --recursive, --include/--exclude, --json to standard output).
int copy_stream(const GlobalOptions& g, const CpOptions& o);

}  // namespace sluice::cli
