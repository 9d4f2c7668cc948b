#include "job/syscall_filter.hpp"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/core.h>

#include "core/error.hpp"

namespace sluice::job {
namespace {

struct Release {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, Release>;

void check(int rc, const char* what) {
  if (rc < 0) {
    throw Error(ErrorKind::kInternal, "building the training command's system call filter",
                fmt::format("{}: {}", what, std::strerror(-rc)));
  }
}

// Calls refused outright (EPERM). A name this libseccomp does not know is skipped.
constexpr const char* kRefused[] = {
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "mount", "umount2", "pivot_root", "setns", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
    "open_tree", "mount_setattr",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "swapon", "swapoff", "reboot", "acct", "quotactl", "quotactl_fd",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
};

}  // namespace

UniqueFd multi_tenant_syscall_filter() {
  Filter ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) throw Error(ErrorKind::kInternal, "building the training command's system call filter", "seccomp_init failed");
  if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
    for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
      int rc = seccomp_arch_add(ctx.get(), arch);
      if (rc != -EEXIST) check(rc, "seccomp_arch_add");
    }
  }
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kRefused) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    check(seccomp_rule_add(ctx.get(), eperm, nr, 0), name);
  }
  // New user namespaces: refused by flag. clone's flags are its first argument on every ABI here.
  const scmp_datum_t newuser = CLONE_NEWUSER;
  check(seccomp_rule_add(ctx.get(), eperm, SCMP_SYS(unshare), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, newuser, newuser)),
        "unshare");
  check(seccomp_rule_add(ctx.get(), eperm, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, newuser, newuser)),
        "clone");
  if (int nr = seccomp_syscall_resolve_name("clone3"); nr != __NR_SCMP_ERROR) {
    check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), nr, 0), "clone3");
  }
  UniqueFd fd(::memfd_create("sluice-seccomp", MFD_CLOEXEC));
  if (!fd) throw errno_error(errno, "creating the training command's system call filter", "memfd");
  check(seccomp_export_bpf(ctx.get(), fd.get()), "seccomp_export_bpf");
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) throw errno_error(errno, "rewinding the system call filter", "memfd");
  return fd;
}

}  // namespace sluice::job
