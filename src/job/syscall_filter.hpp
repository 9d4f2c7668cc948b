// The system calls a multi-tenant training command may not make: a seccomp filter (built with
// libseccomp, loaded by bwrap --seccomp just before the command starts) in the spirit of Docker's
// default profile, for what an unprivileged user can still do and a tenant's job never needs:
//  - new user namespaces (unshare or clone with CLONE_NEWUSER; clone3, whose flags a filter cannot
//    read, answers ENOSYS so that the C library falls back to clone): inside one the command would
//    hold every capability over fresh namespaces, the way into many kernel bugs;
//  - the kernel keyring (keyctl, add_key, request_key: not namespaced), bpf, perf_event_open,
//    userfaultfd, io_uring (io_uring_setup/enter/register), and the calls that need privileges it
//    does not have anyway (mount, umount2, pivot_root, setns, kexec_*, *_module, swapon/off,
//    reboot, acct, quotactl, open_by_handle_at, name_to_handle_at, lookup_dcookie), so that a
//    kernel bug in their permission checks is out of reach too.
// Each answers EPERM (clone3 ENOSYS). The filter covers the machine's native ABI and, on x86-64,
// the 32-bit and x32 ABIs as well (a 32-bit program is filtered the same way).
#pragma once

#include "core/unique_fd.hpp"

namespace sluice::job {

// The compiled filter (BPF) in a memfd positioned at its start, for bwrap --seccomp FD.
// Throws Error(kInternal) naming the libseccomp call that failed.
UniqueFd multi_tenant_syscall_filter();

}  // namespace sluice::job
