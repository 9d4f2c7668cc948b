// One input channel of one host, whatever its input mode: what the job runner drives
// (docs/architecture.md, "Input modes"). Four implementations:
//   modes/file       File mode: the host's share downloaded before the command starts;
//   modes/fastfile   FastFile: a FUSE mount that reads objects while the command runs;
//   modes/pipe       Pipe: objects streamed into FIFOs, epoch by epoch, while the command runs;
//   modes/filesystem a directory of a shared file system, bound into the sandbox by handle.
// The runner's order: construct (no store access) -> deferred_reads()/directory() authorized ->
// prepare() -> the command runs -> stop() -> failure().
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dataset/source.hpp"

namespace sluice::modes {

struct ChannelStats {
  uint64_t files = 0;          // objects (or files) this host's share holds
  uint64_t bytes = 0;          // their size
  uint64_t present_files = 0;  // File mode: already on disk from an earlier run, not fetched again
};

// A host directory the sandbox binds at the channel's place (file-system channels).
struct DirectoryBind {
  std::filesystem::path real;  // the directory's real path (links resolved): what is authorized
  int fd = -1;                 // the open directory: what is bound (valid while the sink lives)
  bool read_only = true;
};

class ChannelSink {
 public:
  virtual ~ChannelSink() = default;

  virtual const std::string& name() const = 0;

  // Objects read after the command has started (FastFile, Pipe): multi-tenant mode authorizes
  // every one of them before it starts. File mode reads while preparing, through the job's
  // authorizing stores, and lists none.
  virtual std::vector<store::Address> deferred_reads() const { return {}; }
  // File mode: prepare() downloads the host's share to the local disk.
  virtual bool downloads() const { return false; }
  // Bytes prepare() still has to write to the local disk (checked against the free space first).
  virtual uint64_t bytes_to_write() const { return 0; }
  // File-system channels: the directory to bind; others: none.
  virtual std::optional<DirectoryBind> directory() const { return std::nullopt; }

  // Before the command starts: download (File), mount (FastFile), first FIFO and feeding (Pipe).
  // Throws Error; `stop` (may be null) set by the user makes a long prepare end with kCancelled.
  virtual void prepare(const std::atomic<bool>* stop) = 0;
  // After the command has ended: unmount, stop feeding. Never throws; safe to call twice.
  virtual void stop() {}
  // What failed while the command ran (a Pipe read), if anything; the job fails with it.
  virtual std::optional<Error> failure() const { return std::nullopt; }

  virtual ChannelStats stats() const = 0;
  // One line for the job's log after prepare(), e.g. "FastFile, 12 files, 1.0 GiB mounted at ...".
  virtual std::string describe() const = 0;
};

}  // namespace sluice::modes
