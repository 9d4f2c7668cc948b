#include "cli/cp_stream.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include "cli/exit_code.hpp"
#include "cli/interrupt_watch.hpp"
#include "core/error.hpp"
#include "store/open.hpp"
#include "transfer/stream_download.hpp"
#include "transfer/stream_upload.hpp"

namespace sluice::cli {
namespace {

// The s3:// side of a copy with a stream: one object, named whole.
Location object_location(const std::string& uri, const CpOptions& o) {
  const std::string what = "copying " + o.source + " to " + o.destination;
  if (uri == "-") throw Error(ErrorKind::kInvalidInput, what, "only one side can be - (standard input or output)");
  Location loc = parse_location(uri);
  if (!loc.is_s3()) {
    throw Error(ErrorKind::kInvalidInput, what, "- (standard input or output) is copied to or from an s3:// object only");
  }
  if (loc.key.empty() || loc.key.back() == '/') {
    throw Error(ErrorKind::kInvalidInput, what, "name the object in full (s3://BUCKET/KEY): a stream has no file name");
  }
  return loc;
}

void check_stream_options(const CpOptions& o) {
  const std::string what = "copying " + o.source + " to " + o.destination;
  if (o.recursive) throw Error(ErrorKind::kInvalidInput, what, "--recursive does not go with - (a single stream)");
  if (!o.filter.empty()) throw Error(ErrorKind::kInvalidInput, what, "--include/--exclude do not go with - (a single stream)");
  if (o.destination == "-" && o.style == OutputStyle::kJson) {
    throw Error(ErrorKind::kInvalidInput, what, "--json prints on standard output, where the object's bytes go");
  }
}

int upload_stdin(const GlobalOptions& g, const CpOptions& o, const Location& dst) {
  if (o.dryrun) {
    if (o.style != OutputStyle::kQuiet) fmt::print("(dryrun) upload: - to {}\n", o.destination);
    return kExitOk;
  }
  auto store = store::open_store(store::Address::of(dst), store_options(g, g.max_connections));
  transfer::Progress progress;
  ProgressReporter reporter(progress, o.style, "uploaded");
  transfer::StreamUploadOptions so;
  so.multipart_threshold = o.multipart_threshold;
  so.part_size = o.part_size;
  so.parts_in_parallel = std::min(8, g.max_connections);
  so.progress = &progress;
  so.cancelled = [] { return interrupted(); };
  transfer::upload_stream(*store, STDIN_FILENO, dst.key, so);
  reporter.finish(0);
  return kExitOk;
}

int download_stdout(const GlobalOptions& g, const CpOptions& o, const Location& src) {
  auto store = store::open_store(store::Address::of(src), store_options(g, g.max_connections));
  store::ObjectInfo info = store->head(src.key);
  if (o.dryrun) {
    if (o.style != OutputStyle::kQuiet) fmt::print("(dryrun) download: {} to -\n", o.source);
    return kExitOk;
  }
  transfer::Engine engine(*store, transfer::EngineOptions{g.max_connections});
  transfer::StreamDownloadOptions so;
  so.part_size = o.part_size;
  so.parts_in_flight = std::min(8, g.max_connections);
  so.verify_md5 = o.verify_md5;
  InterruptWatch watch([&engine] { engine.cancel(); });
  transfer::download_to_stream(engine, info, STDOUT_FILENO, so);
  return kExitOk;
}

}  // namespace

int copy_stream(const GlobalOptions& g, const CpOptions& o) {
  check_stream_options(o);
  if (o.source == "-") return upload_stdin(g, o, object_location(o.destination, o));
  return download_stdout(g, o, object_location(o.source, o));
}

}  // namespace sluice::cli
