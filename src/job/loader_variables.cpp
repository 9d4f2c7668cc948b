// Environment variables a multi-tenant job may not set or pass to a privileged start: those that
// change how programs are loaded, and locale variables that name paths (sandbox.hpp).
#include <algorithm>
#include <iterator>
#include <string_view>

#include "job/sandbox.hpp"

namespace sluice::job {

bool is_loader_variable(std::string_view name) {
  if (name.rfind("LD_", 0) == 0) return true;
  // glibc's UNSECURE_ENVVARS (sysdeps/generic/unsecvars.h): what it drops for set-uid programs.
  static constexpr std::string_view kUnsecure[] = {
      "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH",
      "MALLOC_TRACE", "NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TZDIR"};
  return std::find(std::begin(kUnsecure), std::end(kUnsecure), name) != std::end(kUnsecure);
}

bool is_unsafe_for_privileged_start(std::string_view name, std::string_view value) {
  const bool locale = name == "LANG" || name == "LANGUAGE" || name.rfind("LC_", 0) == 0;
  return is_loader_variable(name) || (locale && value.find('/') != std::string_view::npos);
}

}  // namespace sluice::job
