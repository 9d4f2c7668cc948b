// `sluice serve`: the control plane (docs/serve.md). One HTTP server for the SageMaker training
// API, STS and the CloudWatch Logs subset, a state database, and the job service that runs each
// accepted job as a `sluice train` process of this same binary.
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>

#include "auth/credentials.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "policy/iam_config.hpp"
#include "serve/api_server.hpp"
#include "serve/identity.hpp"
#include "serve/job_access.hpp"
#include "serve/job_records.hpp"
#include "serve/job_service.hpp"
#include "serve/local_executor.hpp"
#include "serve/slurm_executor.hpp"
#include "serve/logs_service.hpp"
#include "serve/sessions.hpp"
#include "serve/state_db.hpp"
#include "serve/sts_service.hpp"
#include "serve/training_api.hpp"

namespace sluice::cli {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "HOST:PORT" -> host, port.
std::pair<std::string, int> parse_listen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  const std::string what = "--listen " + listen;
  if (colon == std::string::npos || colon == 0) throw Error(ErrorKind::kInvalidInput, what, "expected HOST:PORT, e.g. 127.0.0.1:8080");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) throw Error(ErrorKind::kInvalidInput, what, "the port must be a number from 0 to 65535");
  return {host, port};
}

// The path of this program, for the jobs' runners.
std::string self_path() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw errno_error(ec.value(), "finding the sluice binary", "/proc/self/exe");
  return p.string();
}

std::string region_of(const GlobalOptions& g) {
  if (g.region) return *g.region;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (const char* v = std::getenv(name); v && *v) return v;
  }
  return "us-east-1";
}

// Slurm (--executor slurm): the runners' command names the endpoint and region explicitly and takes
// the store credentials from a file of the job's (serve/slurm_executor.hpp), not this environment.
std::unique_ptr<serve::Executor> slurm_executor(const GlobalOptions& g, const ServeCliOptions& o,
                                                serve::JobServiceOptions& jopts) {
  const auth::EnvLookup env = auth::with_flags(auth::process_env(), {g.profile, g.region});
  serve::SlurmOptions so;
  so.partition = o.partition;
  so.sbatch_options = o.slurm_options;
  for (const char* name : {"PATH", "HOME", "LANG", "SLURM_CONF"}) {
    if (const char* v = std::getenv(name); v && *v) so.command_env.push_back(std::string(name) + "=" + v);
  }
  for (const char* name : {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SLUICE_LOG", "AWS_CA_BUNDLE", "SSL_CERT_FILE",
                           "SSL_CERT_DIR"}) {
    if (const char* v = std::getenv(name); v && *v) so.job_env.emplace_back(name, v);
  }
  so.credentials = auth::resolve_credentials(env);
  so.node_network = o.node_network;
  jopts.runner_command = {self_path()};
  if (auto endpoint = auth::resolve_endpoint(g.endpoint_url, env)) {
    jopts.runner_command.insert(jopts.runner_command.end(), {"--endpoint-url", *endpoint});
  }
  jopts.runner_command.insert(jopts.runner_command.end(), {"--region", auth::resolve_region(env)});
  if (!g.verify_tls) jopts.runner_command.push_back("--no-verify-ssl");
  jopts.runner_command.push_back("train");
  auto executor = std::make_unique<serve::SlurmExecutor>(std::move(so));
  log::info("jobs run on Slurm{}: one task per host, the work directory {} must be on every node at that path; {} "
            "(docs/scale-out.md)",
            o.partition.empty() ? "" : " (partition " + o.partition + ")", jopts.work_dir.string(),
            o.node_network ? "jobs of several hosts run their commands on the nodes' network (--node-network)"
                           : "jobs of one host only (--node-network accepts more)");
  return executor;
}

}  // namespace

int run_serve(const GlobalOptions& g, const ServeCliOptions& o) {
  auto [host, port] = parse_listen(o.listen);
  std::string iam_file = o.iam_config;
  if (iam_file.empty()) {
    if (const char* v = std::getenv("SLUICE_IAM_CONFIG")) iam_file = v;
  }
  if (iam_file.empty()) {
    throw Error(ErrorKind::kInvalidInput, "sluice serve",
                "--iam-config FILE is required: the users (with their access keys) and roles the server knows; "
                "see docs/iam-config.md");
  }
  auto iam = std::make_shared<const policy::IamConfig>(policy::load_iam_config(iam_file));
  const std::filesystem::path work_dir = std::filesystem::absolute(o.work_dir).lexically_normal();
  std::error_code ec;
  std::filesystem::create_directories(work_dir, ec);
  if (ec) throw errno_error(ec.value(), "making --work-dir", work_dir.string());
  const std::string region = region_of(g);

  serve::JobServiceOptions jopts;
  jopts.work_dir = work_dir;
  jopts.runner_command = {self_path()};
  if (g.endpoint_url) jopts.runner_command.insert(jopts.runner_command.end(), {"--endpoint-url", *g.endpoint_url});
  if (g.region) jopts.runner_command.insert(jopts.runner_command.end(), {"--region", *g.region});
  if (g.profile) jopts.runner_command.insert(jopts.runner_command.end(), {"--profile", *g.profile});
  if (!g.verify_tls) jopts.runner_command.push_back("--no-verify-ssl");
  jopts.runner_command.push_back("train");
  jopts.runner_options = {"--iam-config", std::filesystem::absolute(iam_file).string()};
  if (!o.file_systems.empty()) {
    jopts.runner_options.insert(jopts.runner_options.end(), {"--file-systems", std::filesystem::absolute(o.file_systems).string()});
  }
  if (!o.isolation.empty()) jopts.runner_options.insert(jopts.runner_options.end(), {"--isolation", o.isolation});
  jopts.max_jobs = o.max_jobs;
  jopts.max_queued = o.max_queued;
  jopts.max_hosts = o.max_instance_count;
  jopts.stop_grace = std::chrono::milliseconds(static_cast<int64_t>(o.stop_grace_seconds * 1000));
  jopts.now = now_seconds;

  // The state database is opened (and made) before the job service makes .sluice-serve, so that its
  // default place exists.
  std::filesystem::create_directories(work_dir / ".sluice-serve", ec);
  ::chmod((work_dir / ".sluice-serve").c_str(), 0700);
  const std::filesystem::path state = o.state.empty() ? work_dir / ".sluice-serve" / "state.db" : std::filesystem::path(o.state);
  serve::StateDb db(state);
  serve::JobRecords records(db);
  serve::Sessions sessions(db);
  std::unique_ptr<serve::Executor> executor;
  if (o.executor == "slurm") {
    executor = slurm_executor(g, o, jopts);
  } else {
    if (!o.partition.empty() || !o.slurm_options.empty() || o.node_network) {
      throw Error(ErrorKind::kInvalidInput,
                  !o.partition.empty() ? "--partition" : !o.slurm_options.empty() ? "--slurm-option" : "--node-network",
                  "only with --executor slurm");
    }
    executor = std::make_unique<serve::LocalExecutor>();
  }
  serve::JobService service(records, *executor, jopts);
  serve::Identities identities(iam, sessions, now_seconds);

  serve::TrainingApiOptions topts;
  topts.region = region;
  topts.now = now_seconds;
  std::map<std::string, serve::Operation> operations = serve::training_operations(records, service, identities, topts);
  serve::StsOptions sts;
  sts.region = region;
  for (auto& [name, op] : serve::sts_operations(identities, sessions, sts)) operations[name] = op;
  serve::LogsOptions lopts;
  lopts.region = region;
  for (auto& [name, op] : serve::logs_operations(records, serve::logs_access(identities, region), lopts)) {
    operations[name] = op;
  }

  serve::ApiServerOptions sopts;
  sopts.host = host;
  sopts.port = port;
  sopts.region = region;
  serve::ApiServer server(sopts, identities.key_lookup(), std::move(operations));

  service.recover();
  service.start();
  server.start();
  fmt::print("sluice serve: listening on http://{}:{} (region {}, work dir {}, state {})\n",
             host.find(':') != std::string::npos ? "[" + host + "]" : host, server.port(), region, work_dir.string(),
             state.string());
  std::fflush(stdout);
  // Expired sessions are deleted a day after they expire: until then a request signed with one is
  // told "ExpiredToken", not "InvalidClientTokenId", as AWS does.
  constexpr double kKeepExpiredSessions = 24 * 3600;
  auto next_cleanup = std::chrono::steady_clock::now();
  while (!interrupted()) {
    if (std::chrono::steady_clock::now() >= next_cleanup) {
      next_cleanup = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      try {
        if (const auto n = sessions.delete_expired(now_seconds() - kKeepExpiredSessions); n > 0) {
          log::info("deleted {} session(s) that expired more than a day ago", n);
        }
      } catch (const Error& e) {
        log::warn("deleting expired sessions: {}", e.what());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fmt::print(stderr, "sluice serve: stopping; running jobs go on and the next `sluice serve` on {} re-attaches them\n",
             work_dir.string());
  server.stop();
  service.stop();
  return 0;
}

}  // namespace sluice::cli
