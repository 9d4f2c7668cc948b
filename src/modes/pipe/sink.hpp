// A Pipe channel as the job runner drives it (modes/channel_sink.hpp): prepare() makes the first
// FIFO and starts feeding epochs; stop() ends the feeding; a read that failed meanwhile is the
// sink's failure(), and on_failure (ChannelSpec) tells the runner at once.
#pragma once

#include <memory>

#include "modes/channel_sink.hpp"
#include "modes/pipe/channel.hpp"

namespace sluice::modes::pipe {

class Sink final : public ChannelSink {
 public:
  explicit Sink(ChannelSpec spec);
  ~Sink() override;

  const std::string& name() const override { return spec_.name; }
  // Every epoch's share is computed when the epoch starts: every object (and every "-ref" of an
  // augmented manifest) may be read.
  std::vector<store::Address> deferred_reads() const override;
  void prepare(const std::atomic<bool>* stop) override;
  void stop() override;
  std::optional<Error> failure() const override;
  ChannelStats stats() const override;
  std::string describe() const override;

 private:
  ChannelSpec spec_;
  std::unique_ptr<Channel> channel_;
  std::optional<Error> failure_;  // kept after stop()
};

}  // namespace sluice::modes::pipe
