#include "modes/fastfile/sink.hpp"

#include <fmt/core.h>

#include "core/human_size.hpp"

namespace sluice::modes::fastfile {

Sink::Sink(std::string name, store::ObjectStore& store, std::vector<Entry> entries,
           std::vector<store::Address> addresses, ChannelOptions options)
    : name_(std::move(name)), store_(store), entries_(std::move(entries)), addresses_(std::move(addresses)),
      options_(std::move(options)) {
  stats_.files = entries_.size();
  for (const auto& e : entries_) stats_.bytes += e.size;
}

Sink::~Sink() = default;

void Sink::prepare(const std::atomic<bool>*) {
  std::filesystem::create_directories(options_.mount.mountpoint);
  channel_ = std::make_unique<Channel>(store_, std::move(entries_), options_);
}

std::string Sink::describe() const {
  return fmt::format("FastFile, {} files, {} mounted at {}", stats_.files, human_size(static_cast<double>(stats_.bytes)),
                     options_.mount.mountpoint.string());
}

}  // namespace sluice::modes::fastfile
