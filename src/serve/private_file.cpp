#include "serve/private_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.hpp"
#include "core/unique_fd.hpp"

namespace sluice::serve {

void write_private(const std::filesystem::path& file, const std::string& text, mode_t mode) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  ::unlink(tmp.c_str());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) throw errno_error(errno, "writing", tmp.string());
  size_t done = 0;
  while (done < text.size()) {
    ssize_t w = ::write(fd.get(), text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw errno_error(errno, "writing", tmp.string());
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd.get()) != 0) throw errno_error(errno, "writing", tmp.string());
  if (::rename(tmp.c_str(), file.c_str()) != 0) throw errno_error(errno, "writing", file.string());
}

}  // namespace sluice::serve
