#include "job/warm_inputs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "transfer/download_record.hpp"

namespace fs = std::filesystem;

namespace sluice::job {

size_t adopt_warm_inputs(const fs::path& from, const fs::path& to, const std::vector<std::string>& hosts,
                         const std::vector<std::string>& channels, const std::optional<JobOwner>& owner) {
  if (!made_for(from, owner)) {
    log::warn("warm pool: {} was not made for this job's session; its inputs are not taken over", from.string());
    return 0;
  }
  UniqueFd from_dir = beneath::open_root(from.string());
  UniqueFd to_dir = beneath::open_root(to.string());
  size_t taken = 0;
  for (const auto& host : hosts) {
    const std::string data = host + "/input/data";
    UniqueFd src(beneath::open_at(from_dir.get(), data, O_RDONLY | O_DIRECTORY));
    if (!src) continue;  // the earlier job had no such host
    UniqueFd dst = beneath::make_dirs(to_dir.get(), data, 0755, (to / data).string());
    for (const auto& ch : channels) {
      struct stat st;
      if (::fstatat(src.get(), ch.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
      if (::renameat(src.get(), ch.c_str(), dst.get(), ch.c_str()) != 0) {
        log::warn("warm pool: cannot take over {}/{} ({}); it is downloaded again", (from / data).string(), ch,
                  std::strerror(errno));
        continue;
      }
      const std::string record = fmt::format(".sluice-downloads-{}-{}", host, ch);
      const size_t files = transfer::rebase_record((from / record).string(), (to / record).string(),
                                                   (from / host).string() + "/", (to / host).string() + "/");
      ::unlink((from / record).c_str());
      log::info("warm pool: channel '{}' of {}: {} files taken over from {}", ch, host, files, from.string());
      taken++;
    }
  }
  return taken;
}

}  // namespace sluice::job
