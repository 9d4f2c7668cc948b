#include "modes/file/channel.hpp"

#include <fmt/core.h>

#include "core/human_size.hpp"
#include "core/log.hpp"

namespace fs = std::filesystem;

namespace sluice::modes::file {

Channel::Channel(transfer::Engine& engine, store::ObjectStore* store, ChannelOptions options)
    : engine_(engine), store_(store), options_(std::move(options)) {
  stats_.files = options_.items.size();
  for (const auto& item : options_.items) stats_.bytes += item.object.size;
}

uint64_t Channel::bytes_to_write() const {
  uint64_t missing = 0;
  for (const auto& item : options_.items) {
    std::error_code ec;
    auto size = fs::file_size(item.path, ec);
    if (!ec && size == item.object.size) continue;
    // A partial file left by an interrupted run is rewritten in place: its bytes are free.
    auto partial = fs::file_size(transfer::partial_path(item.path), ec);
    missing += item.object.size - (ec ? 0 : std::min<uint64_t>(partial, item.object.size));
  }
  return missing;
}

void Channel::prepare(const std::atomic<bool>* stop) {
  // Nothing of an earlier run that this one did not list stays in the channel's directory (also
  // when this host's share is empty now).
  if (size_t n = transfer::remove_others(options_.root.string(), dir().string(), options_.items)) {
    log::info("[{}] channel '{}': removed {} files an earlier run left that this one does not list", options_.host,
              options_.name, n);
  }
  if (options_.items.empty()) return;
  if (stop && *stop) throw Error(ErrorKind::kCancelled, "downloading", "stopped by the user");
  transfer::DownloadOptions dopts;
  dopts.root = options_.root.string();
  dopts.record = options_.record.string();
  auto result = transfer::download(engine_, *store_, options_.items, dopts);
  if (!result.failures.empty()) {
    throw result.failures.front().with_context(
        fmt::format("downloading channel '{}' for {}", options_.name, options_.host));
  }
  stats_.present_files = result.skipped_files;
}

std::string Channel::describe() const {
  return fmt::format("{} files, {} ({} already present)", stats_.files, human_size(static_cast<double>(stats_.bytes)),
                     stats_.present_files);
}

}  // namespace sluice::modes::file
