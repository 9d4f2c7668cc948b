#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace sluice::log {

void init(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("sluice");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level.empty() ? "warn" : level));
}

}  // namespace sluice::log
