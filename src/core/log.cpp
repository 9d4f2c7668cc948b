#include "core/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <syslog.h>

namespace sluice::log {

void init(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("sluice");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level.empty() ? "warn" : level));
}

void redirect(const std::string& path) {
  auto level = spdlog::get_level();
  spdlog::drop("sluice");
  std::shared_ptr<spdlog::logger> logger;
  if (path.empty()) {
    logger = spdlog::syslog_logger_mt("sluice", "sluice", LOG_PID, LOG_DAEMON);
    logger->set_pattern("%l: %v");
  } else {
    logger = spdlog::basic_logger_mt("sluice", path);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l [%P] %v");
    logger->flush_on(spdlog::level::info);
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
}

}  // namespace sluice::log
