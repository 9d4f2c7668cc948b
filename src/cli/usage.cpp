#include "cli/usage.hpp"

#include <fmt/core.h>

#include "cli/exit_code.hpp"
#include "cli/suggest.hpp"

namespace sluice::cli {
namespace {

// The subcommand the user got to ("sluice policy simulate ..."): the deepest one parsed.
CLI::App* command_in_use(CLI::App& app) {
  CLI::App* cur = &app;
  for (auto subs = cur->get_subcommands(); !subs.empty(); subs = cur->get_subcommands()) cur = subs.front();
  return cur;
}

std::string command_path(const CLI::App* cmd) {
  std::string path;
  for (; cmd->get_parent() != nullptr; cmd = cmd->get_parent()) path = " " + cmd->get_name() + path;
  return "sluice" + path;
}

// The options valid here: the command's and, since they fall through, its parents'.
std::vector<std::string> option_names(const CLI::App* cmd) {
  std::vector<std::string> out;
  for (; cmd != nullptr; cmd = cmd->get_parent()) {
    for (const CLI::Option* opt : cmd->get_options()) {
      for (const auto& l : opt->get_lnames()) out.push_back("--" + l);
      for (const auto& s : opt->get_snames()) out.push_back("-" + s);
    }
  }
  return out;
}

std::vector<std::string> subcommand_names(CLI::App* cmd) {
  std::vector<std::string> out;
  for (const CLI::App* sub : cmd->get_subcommands([](CLI::App*) { return true; })) out.push_back(sub->get_name());
  return out;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates) {
  auto best = closest(typed, candidates);
  return best ? " (did you mean '" + *best + "'?)" : "";
}

// The message for an argument nobody took: an unknown option, command or extra argument.
std::string unexpected(CLI::App* cmd, const std::string& arg) {
  const std::string where = cmd->get_parent() == nullptr ? "" : " for '" + command_path(cmd) + "'";
  if (arg.size() > 1 && arg.front() == '-') {
    return "unknown option '" + arg + "'" + where + did_you_mean(arg, option_names(cmd));
  }
  if (auto subs = subcommand_names(cmd); !subs.empty()) {
    return "unknown command '" + arg + "'" + where + did_you_mean(arg, subs) + "; commands: " + join(subs);
  }
  return "unexpected argument '" + arg + "'" + where;
}

}  // namespace

int usage_error(CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
  CLI::App* cmd = command_in_use(app);
  std::vector<std::string> extras = app.remaining(true);
  std::string message = extras.empty() ? std::string(e.what()) : unexpected(cmd, extras.front());
  fmt::print(stderr, "sluice: error: {} (see '{} --help')\n", message, command_path(cmd));
  return kExitUsage;
}

}  // namespace sluice::cli
