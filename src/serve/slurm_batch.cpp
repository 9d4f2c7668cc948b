#include "serve/slurm_batch.hpp"

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "core/strings.hpp"

namespace sluice::serve {

std::string batch_script(const SlurmScript& s) {
  const std::string files = shell_quote(s.files.string());
  const std::string creds = shell_quote((s.files / "credentials").string());
  std::string runner;
  for (const auto& a : s.runner) runner += " " + shell_quote(a);
  if (s.hosts > 1) {
    // Hosts on other machines reach each other on the nodes' network (docs/scale-out.md).
    runner += " --hosts-file " + shell_quote((s.files / "hosts").string()) + " --host-network";
  }
  std::ostringstream out;
  out << "#!/bin/bash\n"
      << "# A training job, written by `sluice serve --executor slurm`: one task per host, task K-1 runs algo-K.\n"
      << "set -u\n"
      // --export=NONE may still load the user's login environment on the node: no AWS setting of it
      // may change where the runners' credentials come from.
      << "for v in ${!AWS_@}; do unset \"$v\"; done\n";
  for (const auto& [name, value] : s.env) out << "export " << name << "=" << shell_quote(value) << "\n";
  out << "export AWS_SHARED_CREDENTIALS_FILE=" << creds << " AWS_CONFIG_FILE=/dev/null\n"
      << "cd " << files << " || exit 1\n"
      // A stop (scancel --signal=TERM --full) reaches the tasks through Slurm; the script itself
      // only must not start them after it.
      << "stop=0\n"
      << "trap 'stop=1' TERM\n"
      << "# Where each task landed: its node's address, as \"ADDRESS algo-K\" lines (--hosts-file).\n"
      << shell_quote(s.srun) << " --export=ALL --ntasks=" << s.hosts
      << " --kill-on-bad-exit=1 --label printenv SLURMD_NODENAME > tasks \\\n"
      << "  || { echo \"sluice: could not list where the job's tasks run\" >&2; rm -f " << creds << "; exit 1; }\n"
      << ": > hosts.tmp\n"
      << "declare -A addr\n"
      << "while read -r rank node; do\n"
      << "  if [[ -z ${addr[$node]+set} ]]; then\n"
      << "    addr[$node]=$(" << shell_quote(s.scontrol)
      << " show node -o \"$node\" | sed -n 's/.* NodeAddr=\\([^ ]*\\).*/\\1/p')\n"
      << "  fi\n"
      << "  echo \"${addr[$node]:-$node} algo-$((${rank%:} + 1))\" >> hosts.tmp\n"
      << "done < tasks\n"
      << "mv hosts.tmp hosts\n"
      << "if ((stop)); then rm -f " << creds << "; exit 143; fi\n"
      << shell_quote(s.srun) << " --export=ALL --ntasks=" << s.hosts
      // A host that stopped (130: a StopTrainingJob) or reached MaxRuntimeInSeconds (124) has ended
      // as asked: srun must not end the others, which may still be in their grace period or upload.
      // The wrapper waits for its runner through a TERM (trapped, so the runner gets it as is).
      << " --kill-on-bad-exit=1 /bin/sh -c 'trap : TERM INT; \"$@\" --host \"algo-$((SLURM_PROCID + 1))\"; rc=$?; "
         "case $rc in 124|130) exit 0 ;; esac; exit $rc' sluice-task"
      << runner << "\n"
      << "rc=$?\n"
      << "rm -f " << creds << "\n"
      << "exit $rc\n";
  return out.str();
}

std::vector<std::string> sbatch_args(const SbatchRequest& r) {
  std::vector<std::string> args = {"--parsable",
                                    "--job-name=sluice-" + r.training_job,
                                    fmt::format("--ntasks={}", r.hosts),
                                    "--output=" + (r.files / "runner.log").string(),
                                    "--open-mode=append",
                                    "--chdir=" + r.files.string(),
                                    "--export=NONE",
                                    "--no-requeue"};
  if (r.time_limit.count() > 0) args.push_back(fmt::format("--time={}", r.time_limit.count() / 60));
  if (!r.partition.empty()) args.push_back("--partition=" + r.partition);
  args.insert(args.end(), r.extra.begin(), r.extra.end());
  args.push_back((r.files / "slurm-job.sh").string());
  return args;
}

std::chrono::seconds slurm_time_limit(std::chrono::seconds max_runtime, std::chrono::milliseconds stop_grace) {
  if (max_runtime.count() <= 0) return std::chrono::seconds(0);
  const int64_t total = max_runtime.count() + (stop_grace.count() + 999) / 1000 + 1800;
  return std::chrono::seconds((total + 59) / 60 * 60);
}

std::optional<std::map<std::string, std::string>> parse_scontrol_job(const std::string& text) {
  // One line of space-separated KEY=VALUE fields; a value with spaces (Command=, Comment=) runs to
  // the next " KEY=", which is what the fields read here never hold.
  const size_t start = text.find("JobId=");
  if (start == std::string::npos) return std::nullopt;
  std::string line = text.substr(start);
  line = line.substr(0, line.find('\n'));
  std::map<std::string, std::string> fields;
  std::istringstream words(line);
  std::string word;
  while (words >> word) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    fields.emplace(word.substr(0, eq), word.substr(eq + 1));
  }
  if (!fields.count("JobState")) return std::nullopt;
  return fields;
}

SlurmJobState job_state(const std::map<std::string, std::string>& fields) {
  SlurmJobState st;
  auto get = [&](const char* key) {
    auto it = fields.find(key);
    return it == fields.end() ? std::string() : it->second;
  };
  const std::string state = get("JobState");
  // Only the states a job ends in count as ended: any other (and the flag states some Slurm
  // versions print, e.g. POWER_UP_NODE) is a job still there.
  static const char* const kEnded[] = {"COMPLETED", "FAILED",    "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
                                       "PREEMPTED", "BOOT_FAIL", "DEADLINE",  "REVOKED", "SPECIAL_EXIT"};
  st.running = true;
  for (const char* ended : kEnded) st.running = st.running && state != ended;
  if (st.running) return st;
  // ExitCode=CODE:SIGNAL
  const std::string exit = get("ExitCode");
  int code = 0, signal = 0;
  if (std::sscanf(exit.c_str(), "%d:%d", &code, &signal) == 2) st.exit_code = signal != 0 ? 128 + signal : code;
  const std::string nodes = get("NodeList");
  const std::string id = get("JobId");
  if (state == "NODE_FAIL") {
    st.failure = fmt::format("node {} failed (Slurm job {}: NODE_FAIL)", nodes, id);
  } else if (state == "TIMEOUT") {
    st.failure = fmt::format("Slurm's time limit of the job ran out (Slurm job {}: TIMEOUT, TimeLimit={})", id,
                             get("TimeLimit"));
  } else if (state == "OUT_OF_MEMORY") {
    st.failure = fmt::format("a task ran out of memory on {} (Slurm job {}: OUT_OF_MEMORY)", nodes, id);
  } else if (state == "PREEMPTED" || state == "BOOT_FAIL" || state == "DEADLINE") {
    st.failure = fmt::format("Slurm ended the job on {} (Slurm job {}: {})", nodes, id, state);
  } else if (state == "CANCELLED") {
    st.failure = fmt::format("the Slurm job was cancelled (Slurm job {}: CANCELLED)", id);
  }
  return st;
}

std::vector<TaskFailure> task_failures(const std::string& runner_log) {
  // Only srun's own lines: the training command's are prefixed "[algo-K] " by its runner, so a
  // command cannot forge one. At most kMax, and one task per line (the first of a range).
  constexpr size_t kMax = 16;
  static const std::regex line(R"(^srun: error: (\S+): tasks? ([0-9]+)[0-9,\-]*: (.*)$)");
  std::vector<TaskFailure> out;
  std::istringstream in(runner_log);
  std::string text;
  while (out.size() < kMax && std::getline(in, text)) {
    if (text.rfind("srun: error: ", 0) != 0 || text.size() > 1000) continue;
    std::smatch m;
    if (!std::regex_match(text, m, line)) continue;
    const std::string node = m[1], what = std::string(trim(m[3].str()));
    const long task = std::strtol(m[2].str().c_str(), nullptr, 10);
    if (task < 0 || task > 100000) continue;
    TaskFailure f;
    f.host = fmt::format("algo-{}", task + 1);
    f.text = fmt::format("algo-{} (task {} on node {}): {}", task + 1, task, node, what);
    int code = 0;
    if (std::sscanf(what.c_str(), "Exited with exit code %d", &code) == 1) {
      f.exit_code = code;
      // The task's shell reports a runner killed by signal N as 128+N.
      if (code > 128 && code < 160) f.text += fmt::format(" (killed by signal {})", code - 128);
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace sluice::serve
