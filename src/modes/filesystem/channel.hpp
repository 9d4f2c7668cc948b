// File-system channels (FileSystemDataSource: EFS, FSx for Lustre; docs/train.md): a directory of
// a file system mounted on the host, bound into the sandbox at /opt/ml/input/data/<channel>. The
// directory is opened once, when the channel is made: its real path is what gets authorized, and
// the handle itself is what gets bound (bwrap --bind-fd), so a link swapped in between changes
// neither.
#pragma once

#include "core/unique_fd.hpp"
#include "modes/channel_sink.hpp"

namespace sluice::modes::filesystem {

class Channel final : public ChannelSink {
 public:
  // Throws Error (kNotFound, kAccessDenied, ...) naming the channel and `dir` when the directory
  // cannot be opened or resolved.
  Channel(std::string name, const std::filesystem::path& dir, bool read_only);

  const std::string& name() const override { return name_; }
  std::optional<DirectoryBind> directory() const override { return DirectoryBind{real_, fd_.get(), read_only_}; }
  void prepare(const std::atomic<bool>*) override {}
  ChannelStats stats() const override { return {}; }
  std::string describe() const override;

 private:
  std::string name_;
  UniqueFd fd_;
  std::filesystem::path real_;
  bool read_only_;
};

}  // namespace sluice::modes::filesystem
