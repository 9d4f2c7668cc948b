// `sluice mount SOURCE MOUNTPOINT` and `sluice unmount MOUNTPOINT` (docs/fastfile.md).
//
// Without --foreground the command forks before any thread exists; the child resolves the
// listing, mounts, and tells the parent through a pipe whether it worked, so the parent exits 0
// only once the mount answers, or prints the child's error with its exit code. The child then
// detaches (setsid, standard streams to /dev/null, log to --log-file or syslog) and serves until
// the file system is unmounted or it gets SIGINT/SIGTERM, which unmount it.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "cli/progress_reporter.hpp"
#include "core/error.hpp"
#include "core/location.hpp"
#include "core/log.hpp"
#include "dataset/source.hpp"
#include "modes/fastfile/channel.hpp"
#include "modes/fastfile/mount.hpp"

namespace sluice::cli {
namespace fs = std::filesystem;
namespace ff = modes::fastfile;

namespace {

void check_mountpoint(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOTCONN) return;  // a stale mount: cleaned when mounting
    if (err == ENOENT) throw Error(ErrorKind::kInvalidInput, "mount point " + path.string(), "it does not exist; create an empty directory first");
    throw errno_error(err, "mount point", path.string());
  }
  if (!S_ISDIR(st.st_mode)) throw Error(ErrorKind::kInvalidInput, "mount point " + path.string(), "it is not a directory");
}

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void detach(const std::string& log_file) {
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (null > 2) ::close(null);
  }
  log::redirect(log_file);
}

// Everything after the fork: resolve, mount, report, serve. `ready` is called once the mount
// answers (or never, when this throws).
int serve(const GlobalOptions& g, const MountCliOptions& o, const std::function<void(const std::string&)>& ready) {
  store::StoreOptions so = store_options(g, g.max_connections);
  store::Registry stores(so);
  dataset::ResolveOptions ro;
  ro.file_paths = true;
  std::vector<Error> skipped;
  if (!o.manifest) ro.skipped = &skipped;
  auto type = o.manifest ? dataset::SourceType::kManifestFile : dataset::SourceType::kS3Prefix;
  std::string uri = o.source;
  Location loc = parse_location(uri);
  if (!loc.is_s3()) {
    // A local directory is the prefix "DIR/" (not every name starting with DIR).
    uri = "file://" + loc.path;
    if (!o.manifest && fs::is_directory(loc.path) && !uri.ends_with("/")) uri += "/";
  }
  dataset::ResolvedSource src = dataset::resolve_source(stores.store_for(), type, uri, {}, ro);
  store::ObjectStore& store = stores(src.objects.front().address);

  ff::ChannelOptions co;
  co.reader.max_memory = o.max_memory;
  co.reader.max_in_flight = g.max_connections;
  co.mount.mountpoint = fs::absolute(o.mountpoint);
  co.mount.source = "sluice:" + o.source;
  co.mount.direct_io = o.direct_io;
  co.mount.uid = ::getuid();
  co.mount.gid = ::getgid();
  if (!o.cache_dir.empty()) co.cache_dir = fs::absolute(o.cache_dir);
  co.cache_max_bytes = o.max_cache_size;
  ff::Channel channel(store, ff::channel_entries(src.objects), co);

  const auto& tree = channel.tree();
  // Objects that cannot be shown (unsafe keys, a file where a directory must be) are named,
  // not shown.
  std::string warnings;
  for (size_t i = 0; i < skipped.size(); ++i) {
    if (i < 10) warnings += fmt::format("\nsluice: warning: not shown: {}", skipped[i].what());
  }
  if (skipped.size() > 10) warnings += fmt::format("\nsluice: warning: ... and {} more objects not shown", skipped.size() - 10);
  ready(fmt::format("mounted {} at {} ({} files, {}, read-only){}", o.source, co.mount.mountpoint.string(),
                    tree.file_count(), human_bytes(static_cast<double>(tree.total_bytes())), warnings));
  // Once detached, the log gets every one of them (the terminal got the first ten).
  if (!o.foreground) {
    for (const auto& e : skipped) log::warn("not shown: {}", e.what());
  }

  // SIGINT/SIGTERM (flag set by the handlers in signals.cpp) unmount; so does `sluice unmount`.
  std::atomic<bool> done{false};
  std::thread watch([&] {
    while (!done) {
      if (interrupted()) {
        log::info("signal received: unmounting {}", co.mount.mountpoint.string());
        channel.unmount();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  channel.wait();
  done = true;
  watch.join();
  auto s = channel.stats();
  log::info("unmounted {}: {} requests, {} fetched, {} served, peak memory {}", co.mount.mountpoint.string(), s.requests,
            human_bytes(static_cast<double>(s.bytes_fetched)), human_bytes(static_cast<double>(s.bytes_served)),
            human_bytes(static_cast<double>(s.memory_peak)));
  return kExitOk;
}

}  // namespace

int run_mount(const GlobalOptions& g, const MountCliOptions& o) {
  parse_location(o.source);  // a bad SOURCE fails here, in the foreground
  check_mountpoint(o.mountpoint);
  ff::check_not_mounted(o.mountpoint);
  if (!o.cache_dir.empty() && o.cache_dir == o.mountpoint) {
    throw Error(ErrorKind::kInvalidInput, "--cache " + o.cache_dir, "the cache cannot be the mount point");
  }
  if (o.foreground) {
    return serve(g, o, [&](const std::string& line) {
      size_t nl = line.find('\n');
      if (!o.quiet) fmt::print(stderr, "sluice: {} (Ctrl-C or `sluice unmount` to stop){}\n", line.substr(0, nl), nl == std::string::npos ? "" : line.substr(nl));
    });
  }

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw errno_error(errno, "pipe", "for the mount process");
  pid_t pid = ::fork();
  if (pid < 0) throw errno_error(errno, "fork", "for the mount process");
  if (pid == 0) {
    ::close(fds[0]);
    ::setsid();
    int code;
    try {
      code = serve(g, o, [&](const std::string& line) {
        write_all(fds[1], "OK " + line);
        ::close(fds[1]);
        fds[1] = -1;
        detach(o.log_file);
      });
    } catch (const Error& e) {
      code = exit_code_for(e.kind());
      if (fds[1] >= 0) {
        write_all(fds[1], fmt::format("ERR {} {}", code, e.what()));
      } else {
        log::error("{}", e.what());
      }
    } catch (const std::exception& e) {
      code = 70;
      if (fds[1] >= 0) write_all(fds[1], fmt::format("ERR 70 internal error: {}", e.what()));
    }
    ::_exit(code);
  }
  ::close(fds[1]);
  std::string msg = read_all(fds[0]);
  ::close(fds[0]);
  if (msg.starts_with("OK ")) {
    std::string line = msg.substr(3);
    size_t nl = line.find('\n');
    std::string rest = nl == std::string::npos ? "" : line.substr(nl);
    // Warnings are printed even with --quiet.
    if (!o.quiet) {
      fmt::print(stderr, "sluice: {} (pid {}; `sluice unmount {}` to stop){}\n", line.substr(0, nl), pid, o.mountpoint, rest);
    } else if (!rest.empty()) {
      fmt::print(stderr, "{}\n", rest.substr(1));
    }
    return kExitOk;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (msg.starts_with("ERR ")) {
    size_t sp = msg.find(' ', 4);
    int code = std::atoi(msg.substr(4, sp - 4).c_str());
    fmt::print(stderr, "sluice: error: {}\n", sp == std::string::npos ? msg : msg.substr(sp + 1));
    return code ? code : 70;
  }
  fmt::print(stderr, "sluice: error: the mount process ended without mounting ({})\n",
             WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status)) : fmt::format("exit {}", WEXITSTATUS(status)));
  return 70;
}

int run_unmount(const std::string& mountpoint) {
  ff::unmount_path(fs::absolute(mountpoint));
  return kExitOk;
}

}  // namespace sluice::cli
