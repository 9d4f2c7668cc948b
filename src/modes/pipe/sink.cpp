#include "modes/pipe/sink.hpp"

#include <fmt/core.h>

namespace sluice::modes::pipe {

Sink::Sink(ChannelSpec spec) : spec_(std::move(spec)) {}

Sink::~Sink() { stop(); }

std::vector<store::Address> Sink::deferred_reads() const {
  std::vector<store::Address> out;
  for (const auto& obj : spec_.source->objects) out.push_back(obj.address);
  for (const auto& line : spec_.source->lines) {
    for (const auto& r : line.records) {
      if (r.kind == dataset::AugmentedRecord::Kind::kObjectRef) out.push_back(r.ref);
    }
  }
  return out;
}

void Sink::prepare(const std::atomic<bool>*) { channel_ = std::make_unique<Channel>(spec_); }

void Sink::stop() {
  if (!channel_) return;
  channel_->stop();
  failure_ = channel_->failure();
  channel_.reset();
}

std::optional<Error> Sink::failure() const { return channel_ ? channel_->failure() : failure_; }

ChannelStats Sink::stats() const {
  ChannelStats s;
  s.files = spec_.source->size();
  for (const auto& obj : spec_.source->objects) s.bytes += obj.size;
  return s;
}

std::string Sink::describe() const {
  return fmt::format("Pipe, {} {}, FIFOs {}_0, _1, ...", spec_.source->size(),
                     spec_.source->type == dataset::SourceType::kAugmentedManifestFile ? "lines" : "objects",
                     (spec_.dir / spec_.name).string());
}

}  // namespace sluice::modes::pipe
