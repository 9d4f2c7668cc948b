// Checking a SandboxSpec before anything runs, and the path forms the sandbox works in: sandbox
// paths (absolute, lexically normal), host paths (absolute, existing), the extra binds in mount
// order. host_path() (sandbox.hpp) is in sandbox_paths.cpp too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "job/sandbox.hpp"

namespace sluice::job {

inline constexpr const char* kOptMl = "/opt/ml";

bool has_nul(std::string_view s);

// An absolute, lexically normal sandbox path without a trailing '/', or an Error(kInvalidInput)
// naming `what`.
std::string sandbox_path(std::string_view raw, std::string_view what);

// `raw` made absolute and lexically normal (no trailing '/'); throws Error naming `what` when it is
// empty or does not exist.
std::string absolute_host_path(const std::string& raw, std::string_view what);

// Throws Error(kInvalidInput) for a spec without a command, or with a NUL byte in an argument or in
// /etc/hosts, or an invalid environment variable name.
void validate_spec(const SandboxSpec& spec);

// The extra binds, validated (not at /, /opt/ml, /proc, /dev; not two at one path), host paths
// absolute, parents before children.
std::vector<Bind> checked_binds(const SandboxSpec& spec);

}  // namespace sluice::job
