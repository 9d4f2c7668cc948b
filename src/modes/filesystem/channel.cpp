#include "modes/filesystem/channel.hpp"

#include <fcntl.h>
#include <fmt/core.h>

#include "core/beneath.hpp"

namespace fs = std::filesystem;

namespace sluice::modes::filesystem {

Channel::Channel(std::string name, const fs::path& dir, bool read_only) : name_(std::move(name)), read_only_(read_only) {
  fd_ = UniqueFd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd_) throw errno_error(errno, fmt::format("opening the directory of channel '{}'", name_), dir.string());
  std::error_code ec;
  real_ = fs::read_symlink(beneath::fd_path(fd_.get()), ec);
  if (ec) throw errno_error(ec.value(), fmt::format("resolving the directory of channel '{}'", name_), dir.string());
}

std::string Channel::describe() const {
  return fmt::format("file system, {} bound {}", real_.string(), read_only_ ? "read-only" : "read-write");
}

}  // namespace sluice::modes::filesystem
