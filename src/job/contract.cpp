#include "job/contract.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <set>
#include <system_error>

#include "core/beneath.hpp"
#include "core/error.hpp"
#include "core/python_repr.hpp"
#include "core/strings.hpp"

namespace sluice::job {
namespace {

namespace fs = std::filesystem;

std::string host_name(int index_from_1) { return "algo-" + std::to_string(index_from_1); }

// current_instance_type for an instance type the request left empty: what the toolkit assumes
// when the key is missing, and what the SDK's local mode writes.
std::string instance_type_or_local(const std::string& t) { return t.empty() ? std::string("local") : t; }

std::string strip_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The toolkit's reserved hyperparameters [TK params.py SAGEMAKER_HYPERPARAMETERS].
const std::set<std::string, std::less<>>& reserved_hyperparameters() {
  static const std::set<std::string, std::less<>> kReserved = {
      "sagemaker_program",     "sagemaker_submit_directory", "sagemaker_enable_cloudwatch_metrics",
      "sagemaker_region",      "sagemaker_container_log_level", "sagemaker_job_name",
      "default_user_module_name", "_tuning_objective_metric", "sagemaker_s3_output",
  };
  return kReserved;
}

// Framework parameters that turn distribution on for the current group
// [TK environment.py get_distribution_instance_groups_from_resource_config].
constexpr std::string_view kDistributionFlags[] = {
    "sagemaker_mpi_enabled",
    "sagemaker_parameter_server_enabled",
    "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_pytorch_ddp_enabled",
    "sagemaker_pytorch_xla_multi_worker_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled",
};

const std::string* env_entry(const JobSpec& spec, const std::string& name) {
  auto it = spec.environment.find(name);
  return it == spec.environment.end() ? nullptr : &it->second;
}

// Everything the toolkit's Environment computes, from which both SM_TRAINING_ENV and the SM_*
// variables are built.
struct ToolkitView {
  ContractJson resource_config;
  ContractJson input_data_config;
  ContractJson hyperparameters = ContractJson::object();       // user hyperparameters, decoded
  ContractJson framework_params = ContractJson::object();      // other sagemaker_* ones
  ContractJson sagemaker_hps = ContractJson::object();         // all reserved/sagemaker_* ones
  ContractJson training_env;                                   // dict(Environment)
};

ToolkitView toolkit_view(const JobSpec& spec, const std::string& current_host, const ContractOptions& options) {
  ToolkitView t;
  const std::string root = strip_trailing_slashes(options.opt_ml_root);
  const std::string base = root == "/" ? "" : root;
  t.resource_config = resourceconfig_json(spec, current_host, options.network_interface_name);
  t.input_data_config = inputdataconfig_json(spec, current_host);

  for (const auto& [k, v] : spec.hyperparameters) {  // file order: sorted, as hyperparameters.json
    ContractJson decoded = decode_hyperparameter(v);
    bool reserved = reserved_hyperparameters().count(k) > 0 || k.starts_with("sagemaker_");
    if (reserved) {
      t.sagemaker_hps[k] = decoded;
      if (reserved_hyperparameters().count(k) == 0) t.framework_params[k] = decoded;
    } else {
      t.hyperparameters[k] = decoded;
    }
  }

  const std::vector<HostGroup> groups = host_groups(spec);
  const HostGroup& group = group_of(groups, current_host);

  // module name and entry point [TK environment.py __init__]
  const std::string* env_program = env_entry(spec, "SAGEMAKER_PROGRAM");
  std::string module_name;
  if (env_program) {
    module_name = *env_program;
  } else {
    module_name = t.sagemaker_hps.contains("sagemaker_program") ? python_str(t.sagemaker_hps["sagemaker_program"])
                                                                : std::string("None");
  }
  if (module_name.ends_with(".py")) module_name.resize(module_name.size() - 3);
  ContractJson user_entry_point = nullptr;
  if (env_program && !env_program->empty()) {
    user_entry_point = *env_program;
  } else if (t.sagemaker_hps.contains("sagemaker_program")) {
    user_entry_point = t.sagemaker_hps["sagemaker_program"];
  }

  ContractJson distribution_groups = ContractJson::array();
  if (t.framework_params.contains("sagemaker_distribution_instance_groups")) {
    distribution_groups = t.framework_params["sagemaker_distribution_instance_groups"];
  } else {
    for (std::string_view flag : kDistributionFlags) {
      auto it = t.framework_params.find(std::string(flag));
      if (it != t.framework_params.end() && python_truthy(*it)) {
        distribution_groups.push_back(group.name);
        break;
      }
    }
  }
  auto distributed = [&](const std::string& name) {  // `name in distribution_instance_groups`
    if (distribution_groups.is_array()) {
      return std::any_of(distribution_groups.begin(), distribution_groups.end(),
                         [&](const ContractJson& g) { return g.is_string() && g.get<std::string>() == name; });
    }
    if (distribution_groups.is_string()) return distribution_groups.get<std::string>().find(name) != std::string::npos;
    return false;
  };
  ContractJson distribution_hosts = ContractJson::array();
  ContractJson instance_group_names = ContractJson::array();
  ContractJson instance_groups_dict = ContractJson::object();
  for (const auto& g : groups) {
    if (distributed(g.name)) {
      for (const auto& h : g.hosts) distribution_hosts.push_back(h);
    }
    instance_group_names.push_back(g.name);
  }
  for (const auto& g : t.resource_config["instance_groups"]) {
    instance_groups_dict[g["instance_group_name"].get<std::string>()] = g;
  }
  const std::vector<std::string> hosts = host_names(spec);
  const std::string master = distribution_hosts.empty() ? hosts.front() : distribution_hosts.front().get<std::string>();

  ContractJson mp_enabled = nullptr;  // `mp and mp != "{}"` over os.environ["SM_HP_MP_PARAMETERS"]
  if (const std::string* mp = env_entry(spec, "SM_HP_MP_PARAMETERS")) {
    if (mp->empty()) {
      mp_enabled = "";
    } else {
      mp_enabled = *mp != "{}";
    }
  }
  const std::string* framework_module = env_entry(spec, "SAGEMAKER_TRAINING_MODULE");

  ContractJson channel_dirs = ContractJson::object();
  for (auto it = t.input_data_config.begin(); it != t.input_data_config.end(); ++it) {
    channel_dirs[it.key()] = base + "/input/data/" + it.key();
  }

  ContractJson& e = t.training_env;
  e = ContractJson::object();
  e["additional_framework_parameters"] = t.framework_params;
  e["channel_input_dirs"] = channel_dirs;
  e["current_host"] = current_host;
  e["current_instance_group"] = group.name;
  e["current_instance_group_hosts"] = group.hosts;
  e["current_instance_type"] = instance_type_or_local(group.instance_type);
  e["distribution_hosts"] = distribution_hosts;
  e["distribution_instance_groups"] = distribution_groups;
  e["framework_module"] = framework_module ? ContractJson(*framework_module) : ContractJson(nullptr);
  e["hosts"] = hosts;
  e["hyperparameters"] = t.hyperparameters;
  e["input_config_dir"] = base + "/input/config";
  e["input_data_config"] = t.input_data_config;
  e["input_dir"] = base + "/input";
  e["instance_groups"] = instance_group_names;
  e["instance_groups_dict"] = instance_groups_dict;
  e["is_hetero"] = groups.size() > 1;
  e["is_master"] = current_host == master;
  e["is_modelparallel_enabled"] = mp_enabled;
  e["job_name"] = spec.training_job_name;
  e["log_level"] = t.sagemaker_hps.contains("sagemaker_container_log_level")
                       ? t.sagemaker_hps["sagemaker_container_log_level"]
                       : ContractJson(20);
  e["master_hostname"] = master;
  e["model_dir"] = base + "/model";
  e["module_dir"] = t.sagemaker_hps.contains("sagemaker_submit_directory")
                        ? python_str(t.sagemaker_hps["sagemaker_submit_directory"])
                        : base + "/code";
  e["module_name"] = module_name;
  e["network_interface_name"] = options.network_interface_name;
  e["num_cpus"] = options.num_cpus;
  e["num_gpus"] = options.num_gpus;
  e["num_neurons"] = options.num_neurons;
  e["output_data_dir"] = base + "/output/data";
  e["output_dir"] = base + "/output";
  e["output_intermediate_dir"] = base + "/output/intermediate";
  e["resource_config"] = t.resource_config;
  e["user_entry_point"] = user_entry_point;
  return t;
}

bool valid_env_name(std::string_view name) {
  return !name.empty() && name.find('=') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

// `name` in the directory `dir` (shown as `dir_path`), written under a temporary name and renamed
// into place, relative to the handle: a link planted at either name is replaced, never followed.
void write_file_atomically(int dir, const fs::path& dir_path, const std::string& name, const std::string& text) {
  const std::string tmp_name = ".sluice-partial-" + name;
  const fs::path tmp = dir_path / tmp_name, path = dir_path / name;
  if (::unlinkat(dir, tmp_name.c_str(), 0) != 0 && errno != ENOENT) throw errno_error(errno, "removing", tmp.string());
  int fd = ::openat(dir, tmp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw errno_error(errno, "writing", tmp.string());
  auto fail = [&](int err, std::string_view what) {
    ::close(fd);
    ::unlinkat(dir, tmp_name.c_str(), 0);
    return errno_error(err, what, tmp.string());
  };
  if (::fchmod(fd, 0644) != 0) throw fail(errno, "setting the mode of");
  size_t done = 0;
  while (done < text.size()) {
    ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw fail(errno, "writing");
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) throw fail(errno, "syncing");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlinkat(dir, tmp_name.c_str(), 0);
    throw errno_error(err, "writing", tmp.string());
  }
  if (::renameat(dir, tmp_name.c_str(), dir, name.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dir, tmp_name.c_str(), 0);
    throw errno_error(err, "renaming into place", path.string());
  }
}

std::string config_text(const ContractJson& doc) {
  try {
    return doc.dump(-1, ' ', false, ContractJson::error_handler_t::strict) + "\n";
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kInvalidInput, "a config file value is not valid UTF-8", e.what());
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Hosts

std::vector<std::string> host_names(int instance_count) {
  std::vector<std::string> hosts;
  for (int i = 1; i <= instance_count; ++i) hosts.push_back(host_name(i));
  return hosts;
}

std::vector<std::string> host_names(const JobSpec& spec) {
  std::vector<std::string> hosts;
  for (const auto& g : host_groups(spec)) hosts.insert(hosts.end(), g.hosts.begin(), g.hosts.end());
  return hosts;
}

std::vector<HostGroup> host_groups(const JobSpec& spec) {
  std::vector<HostGroup> groups;
  if (spec.resources.instance_groups.empty()) {
    groups.push_back({std::string(kHomogeneousGroup), spec.resources.instance_type,
                      host_names(spec.resources.instance_count)});
    return groups;
  }
  int next = 1;
  for (const auto& g : spec.resources.instance_groups) {
    HostGroup hg{g.name, g.instance_type, {}};
    for (int i = 0; i < g.instance_count; ++i) hg.hosts.push_back(host_name(next++));
    groups.push_back(std::move(hg));
  }
  return groups;
}

const HostGroup& group_of(const std::vector<HostGroup>& groups, std::string_view host) {
  for (const auto& g : groups) {
    if (std::find(g.hosts.begin(), g.hosts.end(), host) != g.hosts.end()) return g;
  }
  size_t count = 0;
  for (const auto& g : groups) count += g.hosts.size();
  throw Error(ErrorKind::kInvalidInput, "'" + std::string(host) + "' is not a host of this job",
              count == 0 ? std::string("the job has no hosts")
                         : "its hosts are algo-1.." + host_name(static_cast<int>(count)));
}

int host_rank(const JobSpec& spec, std::string_view host) {
  const auto hosts = host_names(spec);
  auto it = std::find(hosts.begin(), hosts.end(), host);
  if (it == hosts.end()) group_of(host_groups(spec), host);  // throws with the message
  return static_cast<int>(it - hosts.begin());
}

bool channel_on_host(const JobSpec& spec, const Channel& channel, std::string_view host) {
  const auto groups = host_groups(spec);
  const HostGroup& g = group_of(groups, host);
  if (!channel.s3 || channel.s3->instance_group_names.empty()) return true;
  const auto& names = channel.s3->instance_group_names;
  return std::find(names.begin(), names.end(), g.name) != names.end();
}

// ---------------------------------------------------------------------------------------------
// Config files

ContractJson hyperparameters_json(const JobSpec& spec) {
  ContractJson doc = ContractJson::object();
  for (const auto& [k, v] : spec.hyperparameters) doc[k] = v;
  return doc;
}

ContractJson inputdataconfig_json(const JobSpec& spec, std::string_view current_host) {
  ContractJson doc = ContractJson::object();
  for (const auto& c : spec.channels) {
    if (!current_host.empty() && !channel_on_host(spec, c, current_host)) continue;
    ContractJson ch = ContractJson::object();
    if (!c.content_type.empty()) ch["ContentType"] = c.content_type;
    ch["TrainingInputMode"] = to_string(spec.mode_of(c));
    ch["S3DistributionType"] = (c.s3 && !c.file_system) ? to_string(c.s3->distribution) : "FullyReplicated";
    ch["RecordWrapperType"] = to_string(c.record_wrapper);
    doc[c.name] = std::move(ch);
  }
  return doc;
}

ContractJson resourceconfig_json(const JobSpec& spec, const std::string& current_host,
                                 std::string_view network_interface_name) {
  const auto groups = host_groups(spec);
  const HostGroup& current = group_of(groups, current_host);
  ContractJson doc = ContractJson::object();
  doc["current_host"] = current_host;
  doc["current_instance_type"] = instance_type_or_local(current.instance_type);
  doc["current_group_name"] = current.name;
  doc["hosts"] = host_names(spec);
  ContractJson list = ContractJson::array();
  for (const auto& g : groups) {
    ContractJson entry = ContractJson::object();
    entry["instance_group_name"] = g.name;
    entry["instance_type"] = instance_type_or_local(g.instance_type);
    entry["hosts"] = g.hosts;
    list.push_back(std::move(entry));
  }
  doc["instance_groups"] = std::move(list);
  doc["network_interface_name"] = network_interface_name;
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Environment

std::string training_job_arn(const JobSpec& spec, const ContractOptions& options) {
  std::string partition = "aws";
  std::string account = options.account_id;
  // arn:PARTITION:iam::ACCOUNT:role/NAME
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = spec.role_arn.find(':', start);
    if (colon == std::string::npos) break;
    parts.push_back(spec.role_arn.substr(start, colon - start));
    start = colon + 1;
  }
  if (parts.size() == 5 && parts[0] == "arn" && !parts[1].empty()) {
    bool digits12 = parts[4].size() == 12 && std::all_of(parts[4].begin(), parts[4].end(), [](char c) {
                      return c >= '0' && c <= '9';
                    });
    if (digits12) {
      partition = parts[1];
      if (account.empty()) account = parts[4];
    }
  }
  if (account.empty()) account = std::string(kFakeAccountId);
  return "arn:" + partition + ":sagemaker:" + options.region + ":" + account + ":training-job/" +
         spec.training_job_name;
}

ContractJson training_env_json(const JobSpec& spec, const std::string& current_host, const ContractOptions& options) {
  return toolkit_view(spec, current_host, options).training_env;
}

std::map<std::string, std::string> container_environment(const JobSpec& spec, const std::string& current_host,
                                                         const ContractOptions& options) {
  ToolkitView t = toolkit_view(spec, current_host, options);
  const ContractJson& e = t.training_env;
  std::map<std::string, std::string> env;
  auto set = [&env](const std::string& name, const std::string& value) {
    if (valid_env_name(name) && value.find('\0') == std::string::npos) env[name] = value;
  };

  // 1. The request's Environment [DG running-container].
  for (const auto& [k, v] : spec.environment) set(k, v);
  // 2. The platform's own variables.
  set("TRAINING_JOB_NAME", spec.training_job_name);
  set("TRAINING_JOB_ARN", training_job_arn(spec, options));
  // 3. What the toolkit's Environment() writes into os.environ [TK environment.py __init__].
  set("CURRENT_HOST", current_host);
  set("SAGEMAKER_JOB_NAME", t.sagemaker_hps.contains("sagemaker_job_name")
                                ? python_str(t.sagemaker_hps["sagemaker_job_name"])
                                : std::string());
  if (t.sagemaker_hps.contains("sagemaker_region")) {
    const ContractJson& r = t.sagemaker_hps["sagemaker_region"];
    set("SAGEMAKER_REGION", python_truthy(r) ? python_str(r) : std::string());
  } else {
    set("SAGEMAKER_REGION", options.region);
  }
  // 4. Environment.to_env_vars() [TK environment.py, mapping.py]: "SM_" + key.upper(), values
  //    through python_env_value; channel_* then hp_* entries come last and win a name clash.
  const std::pair<const char*, ContractJson> base[] = {
      {"hosts", e.at("hosts")},
      {"network_interface_name", e.at("network_interface_name")},
      {"hps", t.hyperparameters},
      {"user_entry_point", e.at("user_entry_point")},
      {"framework_params", t.framework_params},
      {"resource_config", t.resource_config},
      {"input_data_config", t.input_data_config},
      {"output_data_dir", e.at("output_data_dir")},
      {"channels", [&] {
         ContractJson names = ContractJson::array();
         for (auto it = t.input_data_config.begin(); it != t.input_data_config.end(); ++it) names.push_back(it.key());
         std::sort(names.begin(), names.end());
         return names;
       }()},
      {"current_host", e.at("current_host")},
      {"current_instance_type", e.at("current_instance_type")},
      {"current_instance_group", e.at("current_instance_group")},
      {"current_instance_group_hosts", e.at("current_instance_group_hosts")},
      {"instance_groups", e.at("instance_groups")},
      {"instance_groups_dict", e.at("instance_groups_dict")},
      {"distribution_instance_groups", e.at("distribution_instance_groups")},
      {"is_hetero", e.at("is_hetero")},
      {"module_name", e.at("module_name")},
      {"log_level", e.at("log_level")},
      {"framework_module", e.at("framework_module")},
      {"input_dir", e.at("input_dir")},
      {"input_config_dir", e.at("input_config_dir")},
      {"output_dir", e.at("output_dir")},
      {"num_cpus", e.at("num_cpus")},
      {"num_gpus", e.at("num_gpus")},
      {"num_neurons", e.at("num_neurons")},
      {"model_dir", e.at("model_dir")},
      {"module_dir", e.at("module_dir")},
      {"training_env", e},
      {"user_args", ContractJson(python_cmd_args(t.hyperparameters))},
      {"output_intermediate_dir", e.at("output_intermediate_dir")},
  };
  for (const auto& [key, value] : base) set("SM_" + ascii_upper(key), python_env_value(value));
  const ContractJson& dirs = e.at("channel_input_dirs");
  for (auto it = dirs.begin(); it != dirs.end(); ++it) {
    set("SM_CHANNEL_" + ascii_upper(it.key()), it.value().get<std::string>());
  }
  for (auto it = t.hyperparameters.begin(); it != t.hyperparameters.end(); ++it) {
    set("SM_HP_" + ascii_upper(it.key()), python_env_value(it.value()));
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// Encodings

ContractJson decode_hyperparameter(const std::string& value) {
  // Python's json.loads refuses a str that starts with a BOM; nlohmann would skip it.
  if (value.starts_with("\xEF\xBB\xBF")) return value;
  // Python also accepts the constants NaN, Infinity and -Infinity.
  std::string_view core = trim(value, " \t\n\r");
  if (core == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (core == "Infinity") return std::numeric_limits<double>::infinity();
  if (core == "-Infinity") return -std::numeric_limits<double>::infinity();
  try {
    return ContractJson::parse(value);
  } catch (const nlohmann::json::exception&) {
    return value;
  }
}

std::string python_env_value(const ContractJson& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return python_json_dumps(v);
}

std::vector<std::string> python_cmd_args(const ContractJson& hyperparameters) {
  std::vector<std::string> keys;
  for (auto it = hyperparameters.begin(); it != hyperparameters.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> args;
  for (const auto& k : keys) {
    size_t n = python_len(k);
    args.push_back(n == 0 ? std::string() : (n > 1 ? "--" : "-") + k);
    const ContractJson& v = hyperparameters.at(k);
    if (v.is_object()) {
      std::vector<std::string> sub;
      for (auto it = v.begin(); it != v.end(); ++it) sub.push_back(it.key());
      std::sort(sub.begin(), sub.end());
      std::string joined;
      for (const auto& s : sub) {
        if (!joined.empty()) joined += ",";
        joined += s + "=" + python_str(v.at(s));
      }
      args.push_back(joined);
    } else if (v.is_null()) {
      args.emplace_back();
    } else {
      args.push_back(python_str(v));
    }
  }
  return args;
}

// ---------------------------------------------------------------------------------------------
// Disk

std::optional<fs::path> path_under_root(std::string_view container_path, const fs::path& opt_ml_root) {
  fs::path p = fs::path(strip_trailing_slashes(std::string(container_path))).lexically_normal();
  if (!p.is_absolute()) return std::nullopt;
  fs::path rel = p.lexically_relative(fs::path(kContainerRoot));
  if (rel.empty()) return std::nullopt;
  auto first = rel.begin();
  if (first != rel.end() && *first == "..") return std::nullopt;
  if (rel == ".") return opt_ml_root;
  return opt_ml_root / rel;
}

void write_config_files(const fs::path& opt_ml_root, const JobSpec& spec, const std::string& current_host,
                        std::string_view network_interface_name) {
  // Everything is computed before the disk is touched: an unknown host changes nothing.
  const std::string hyperparameters = config_text(hyperparameters_json(spec));
  const std::string inputdataconfig = config_text(inputdataconfig_json(spec, current_host));
  const std::string resourceconfig = config_text(resourceconfig_json(spec, current_host, network_interface_name));
  std::vector<fs::path> channel_dirs;
  for (const auto& c : spec.channels) {
    if (!channel_on_host(spec, c, current_host) || spec.mode_of(c) == InputMode::kPipe) continue;
    if (c.name.empty() || c.name == "." || c.name == ".." || c.name.find('/') != std::string::npos) {
      throw Error(ErrorKind::kInvalidInput, "channel name '" + c.name + "' cannot name a directory under input/data");
    }
    channel_dirs.push_back(opt_ml_root / "input" / "data" / c.name);
  }
  std::vector<std::string> dirs = {"input/config", "input/data", "model", "output/data", "output/intermediate", "code"};
  for (const auto& dir : channel_dirs) dirs.push_back(dir.lexically_relative(opt_ml_root).generic_string());
  if (spec.checkpoint) {
    if (auto checkpoints = path_under_root(spec.checkpoint->local_path, opt_ml_root)) {
      dirs.push_back(checkpoints->lexically_relative(opt_ml_root).generic_string());
    }
  }

  // The root is Sluice's own; below it the training code of an earlier run may have left links:
  // every directory is made and entered without following one (core/beneath.hpp).
  std::error_code ec;
  fs::create_directories(opt_ml_root, ec);
  if (ec) throw errno_error(ec.value(), "creating directory", opt_ml_root.string());
  UniqueFd root = beneath::open_root(opt_ml_root.string());
  for (const auto& dir : dirs) beneath::make_dirs(root.get(), dir, 0755, opt_ml_root.string());
  UniqueFd config = beneath::make_dirs(root.get(), "input/config", 0755, opt_ml_root.string());
  const fs::path config_path = opt_ml_root / "input" / "config";
  write_file_atomically(config.get(), config_path, "hyperparameters.json", hyperparameters);
  write_file_atomically(config.get(), config_path, "inputdataconfig.json", inputdataconfig);
  write_file_atomically(config.get(), config_path, "resourceconfig.json", resourceconfig);
}

}  // namespace sluice::job
