// The options of `sluice` that carry logic of their own (main.cpp declares the rest): the AWS
// CLI's global options, which may come before or after the subcommand, and cp's --exclude and
// --include, which apply in the order given.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "dataset/key_filter.hpp"

namespace sluice::cli {

// Adds --endpoint-url, --region, --profile, --no-verify-ssl, --max-connections,
// --cli-read-timeout, --cli-connect-timeout and --log-level to `app`, and makes every subcommand
// added after this call hand the options it does not know to its parent (CLI11 fallthrough), so
// `sluice cp A B --region R` is `sluice --region R cp A B`.
void add_global_options(CLI::App& app, GlobalOptions& g, std::string& log_level);

// --exclude PATTERN and --include PATTERN, each repeatable, on `cmd`.
struct FilterFlags {
  std::vector<std::string> exclude, include;
  CLI::Option* exclude_option = nullptr;
  CLI::Option* include_option = nullptr;
};
void add_filter_options(CLI::App& cmd, FilterFlags& flags);
// After parsing: the rules in the order they were given on the command line.
dataset::KeyFilter filter_of(const CLI::App& cmd, const FilterFlags& flags);

}  // namespace sluice::cli
