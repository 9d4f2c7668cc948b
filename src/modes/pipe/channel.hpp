// A Pipe channel of one host: FIFOs <dir>/<channel>_0, _1, ... fed epoch after epoch
// (docs/pipe.md).
//
//  - <channel>_0 exists when the constructor returns; <channel>_<n+1> is created as soon as
//    <channel>_<n> has been opened by its reader, so a reader never waits long for the next one.
//  - Each epoch's order comes from dataset::share_for_epoch (the same order every epoch without
//    ShuffleConfig; a new deterministic order per epoch with it; ShardedByS3Key recomputes the
//    host's share every epoch). The epoch's data is prefetched while the FIFO waits for its
//    reader, so the first byte does not depend on the dataset size.
//  - The pipe buffer is enlarged to 1 MiB (F_SETPIPE_SZ) and written in large pieces.
//  - A reader that closes early ends that epoch (EPIPE is expected); the next epoch starts as usual.
//  - An object that cannot be fetched after the retry policy makes the channel fail: the FIFO is
//    left open (so the reader does not take a truncated stream for a finished epoch), failure()
//    says why, and the job is stopped as Failed by the runner.
//  - stop() (after the training command ended) stops waiting for readers that never came, cancels
//    the prefetch and removes the FIFOs that were never opened.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "dataset/shard.hpp"
#include "dataset/source.hpp"
#include "modes/pipe/epoch_stream.hpp"

namespace sluice::modes::pipe {

struct ChannelSpec {
  std::string name;                  // the channel name
  std::filesystem::path dir;         // the host's .../input/data
  const dataset::ResolvedSource* source = nullptr;  // must outlive the channel
  store::StoreFor store_for;         // the store of an address (objects, "-ref" objects)
  dataset::ShardPlan plan;           // hosts, current host, distribution, shuffle seed
  StreamOptions stream;              // stream.engine, stream.budget: the process's (else the stream's own)
  std::function<void()> on_failure;  // called once, from the channel's thread, when it fails
};

class Channel {
 public:
  explicit Channel(ChannelSpec spec);  // throws Error when <channel>_0 cannot be created
  ~Channel();                          // stop()
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  void stop();
  std::optional<Error> failure() const;
  uint64_t epochs_opened() const { return opened_.load(); }

 private:
  void run();
  std::filesystem::path fifo(uint64_t epoch) const;
  std::vector<Record> records_for(uint64_t epoch);

  ChannelSpec spec_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> opened_{0};
  mutable std::mutex mu_;
  std::optional<Error> failure_;
  std::unique_ptr<EpochStream> current_;  // the epoch being prefetched or written (under mu_)
  std::thread thread_;
};

}  // namespace sluice::modes::pipe
