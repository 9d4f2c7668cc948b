// Logging: spdlog to stderr. Never log a secret: credentials are not printable types here, and
// the http layer logs requests without their Authorization header or query signature.
#pragma once

#include <spdlog/spdlog.h>

namespace sluice::log {

// level: "error", "warn", "info", "debug", "trace" (from --log-level or SLUICE_LOG).
void init(const std::string& level);
// For a process that detached from its terminal (a background mount): log lines go to `path`
// (appended, with a timestamp), or to syslog (ident "sluice") when path is empty. Same level.
void redirect(const std::string& path);

using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;

}  // namespace sluice::log
