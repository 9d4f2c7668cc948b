#include "cli/options.hpp"

namespace sluice::cli {

void add_global_options(CLI::App& app, GlobalOptions& g, std::string& log_level) {
  app.fallthrough();  // inherited by the subcommands added from now on
  app.add_option("--endpoint-url", g.endpoint_url, "S3 endpoint (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS S3)");
  app.add_option("--region", g.region, "the store's region, for signing (else AWS_REGION, AWS_DEFAULT_REGION, the profile's)");
  app.add_option("--profile", g.profile,
                 "the profile of ~/.aws/credentials and ~/.aws/config to use (else AWS_PROFILE); its keys win over "
                 "AWS_ACCESS_KEY_ID");
  app.add_flag_callback("--no-verify-ssl", [&g] { g.verify_tls = false; },
                        "do not verify the TLS certificate of an https:// endpoint (a warning says so)");
  app.add_option("--max-connections", g.max_connections, "requests in flight at once")->check(CLI::Range(1, 1024));
  app.add_option("--cli-read-timeout", g.read_timeout_s,
                 "seconds without a byte before a request is abandoned and retried (0: never; default 30 for data, "
                 "60 for other requests)")
      ->check(CLI::Range(0, 86400));
  app.add_option("--cli-connect-timeout", g.connect_timeout_s,
                 "seconds a connection may take to open (0: the system's limit; default 10)")
      ->check(CLI::Range(0, 86400));
  app.add_option("--log-level", log_level, "error, warn, info, debug or trace (env SLUICE_LOG)");
}

void add_filter_options(CLI::App& cmd, FilterFlags& flags) {
  flags.exclude_option = cmd.add_option("--exclude", flags.exclude,
                                        "leave out what matches PATTERN (relative to the source directory or "
                                        "prefix; * ? [seq] as in fnmatch; repeatable, later --exclude/--include win)")
                             ->allow_extra_args(false);
  flags.include_option = cmd.add_option("--include", flags.include,
                                        "take what matches PATTERN even if an earlier --exclude left it out "
                                        "(repeatable)")
                             ->allow_extra_args(false);
}

dataset::KeyFilter filter_of(const CLI::App& cmd, const FilterFlags& flags) {
  dataset::KeyFilter filter;
  size_t excludes = 0, includes = 0;
  for (const CLI::Option* opt : cmd.parse_order()) {
    if (opt == flags.exclude_option && excludes < flags.exclude.size()) {
      filter.add(dataset::KeyFilter::Action::kExclude, flags.exclude[excludes++]);
    } else if (opt == flags.include_option && includes < flags.include.size()) {
      filter.add(dataset::KeyFilter::Action::kInclude, flags.include[includes++]);
    }
  }
  return filter;
}

}  // namespace sluice::cli
