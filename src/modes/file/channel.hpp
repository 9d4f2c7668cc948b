// File mode (docs/architecture.md): the host's share of the channel is downloaded into
// /opt/ml/input/data/<channel> before the command starts. Nothing below the host's directory is
// followed (transfer/download.hpp, `root`); what was written is recorded outside it, so a rerun
// fetches again any file whose object changed or whose bytes were touched; files an earlier run
// left that this listing lacks are removed first.
#pragma once

#include "modes/channel_sink.hpp"
#include "store/object_store.hpp"
#include "transfer/download.hpp"
#include "transfer/engine.hpp"

namespace sluice::modes::file {

struct ChannelOptions {
  std::string name;                   // the channel
  std::string host;                   // for log lines, e.g. "algo-1"
  std::filesystem::path root;         // the host's directory (its /opt/ml); nothing below is followed
  std::filesystem::path record;       // the download record, outside root
  std::vector<transfer::DownloadItem> items;  // this host's share, paths below root/input/data/<name>
};

class Channel final : public ChannelSink {
 public:
  // `engine` and `store` (which holds the channel's objects) must outlive the channel; `store`
  // may be null when options.items is empty.
  Channel(transfer::Engine& engine, store::ObjectStore* store, ChannelOptions options);

  const std::string& name() const override { return options_.name; }
  bool downloads() const override { return true; }
  uint64_t bytes_to_write() const override;
  void prepare(const std::atomic<bool>* stop) override;
  ChannelStats stats() const override { return stats_; }
  std::string describe() const override;

 private:
  std::filesystem::path dir() const { return options_.root / "input" / "data" / options_.name; }

  transfer::Engine& engine_;
  store::ObjectStore* store_;
  ChannelOptions options_;
  ChannelStats stats_;
};

}  // namespace sluice::modes::file
