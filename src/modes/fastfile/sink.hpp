// A FastFile channel as the job runner drives it (modes/channel_sink.hpp): the host's share is
// mounted by prepare() and unmounted by stop(); its objects are read while the command runs.
#pragma once

#include <memory>

#include "modes/channel_sink.hpp"
#include "modes/fastfile/channel.hpp"

namespace sluice::modes::fastfile {

class Sink final : public ChannelSink {
 public:
  // `entries`: the host's share (channel_entries); options.mount.mountpoint is the channel's
  // directory. `store` must outlive the sink.
  Sink(std::string name, store::ObjectStore& store, std::vector<Entry> entries, std::vector<store::Address> addresses,
       ChannelOptions options);
  ~Sink() override;

  const std::string& name() const override { return name_; }
  std::vector<store::Address> deferred_reads() const override { return addresses_; }
  void prepare(const std::atomic<bool>* stop) override;
  void stop() override { channel_.reset(); }
  ChannelStats stats() const override { return stats_; }
  std::string describe() const override;

 private:
  std::string name_;
  store::ObjectStore& store_;
  std::vector<Entry> entries_;  // moved into the channel by prepare()
  std::vector<store::Address> addresses_;
  ChannelOptions options_;
  ChannelStats stats_;
  std::unique_ptr<Channel> channel_;
};

}  // namespace sluice::modes::fastfile
