// parse_job_spec: a CreateTrainingJob request body becomes a JobSpec, or every problem in it is
// reported at once, each with its JSON path. The rules are those of the SageMaker API model
// (../shared/reference/sagemaker-contract.md §1) plus Sluice's own, listed in docs/job-spec.md.
#include "job/job_spec.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/json_check.hpp"
#include "core/strings.hpp"
#include "core/utf8.hpp"
#include "job/job_spec_fields.hpp"
#include "job/job_spec_values.hpp"

namespace sluice::job {
namespace {

using namespace json_check;

constexpr int64_t kMaxRuntimeLimit = 28 * 24 * 3600;  // 2419200 s, the API's maximum

// ---- sections ---------------------------------------------------------------------------------

struct ChannelSeen {
  size_t index = 0;
  std::string name;
  std::string path;  // of its ChannelName
};

struct GroupRef {
  std::string path;  // of InstanceGroupNames
  std::vector<std::string> names;
};

void check_algorithm(Checker& c, const Node& root, JobSpec& spec, std::optional<InputMode>& job_mode, bool& has_command) {
  Node alg = need(c, root, "AlgorithmSpecification",
                  "Sluice needs its TrainingInputMode and its ContainerEntrypoint or ContainerArguments");
  if (!open_object(c, alg, kAlgorithm)) return;
  AlgorithmSpecification& a = spec.algorithm;
  job_mode = get_enum<InputMode>(c, need(c, alg, "TrainingInputMode"), kInputModes);
  if (job_mode) a.training_input_mode = *job_mode;

  Node image = at(alg, "TrainingImage");
  if (auto s = get_string(c, image, 0, 255)) {
    if (std::any_of(s->begin(), s->end(), [](char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); })) {
      c.add(image.path, "must not contain white space, got " + show(*s));
    } else {
      a.training_image = *s;
    }
  }
  Node algorithm_name = at(alg, "AlgorithmName");
  if (auto s = get_string(c, algorithm_name, 1, 170)) {
    if (!valid_algorithm_name(*s)) {
      c.add(algorithm_name.path, "must be an algorithm name (letters, digits and hyphens, at most 63) or its "
                                 "arn:aws:sagemaker:...:algorithm/NAME ARN, got " + show(*s));
    } else {
      a.algorithm_name = *s;
    }
  }
  if (image && algorithm_name) {
    c.add(alg.path, "TrainingImage and AlgorithmName are mutually exclusive; set one of them");
  }

  Node entrypoint = at(alg, "ContainerEntrypoint");
  Node arguments = at(alg, "ContainerArguments");
  if (auto v = get_string_list(c, entrypoint, 1, 100, 0, 256)) a.container_entrypoint = *v;
  if (auto v = get_string_list(c, arguments, 1, 100, 0, 256)) a.container_arguments = *v;
  has_command = entrypoint || arguments;
}

void check_s3_source(Checker& c, const Node& n, S3DataSource& out, std::optional<S3DataType>& type,
                     std::vector<GroupRef>& group_refs) {
  if (!open_object(c, n, kS3)) return;
  Node type_node = need(c, n, "S3DataType");
  type = get_enum<S3DataType>(c, type_node, kS3DataTypes);
  if (type == S3DataType::kConverse) {
    c.add(type_node.path, "Converse (conversation data for foundation-model fine-tuning) is not supported by "
                          "Sluice; use S3Prefix, ManifestFile or AugmentedManifestFile");
    type.reset();
  }
  if (type) out.data_type = *type;

  Node uri = need(c, n, "S3Uri");
  if (auto s = get_uri(c, uri)) {
    bool names_object = type == S3DataType::kManifestFile || type == S3DataType::kAugmentedManifestFile;
    if (names_object && s->back() == '/') {
      c.add(uri.path, "names the manifest object itself (S3DataType " + std::string(to_string(*type)) +
                          "), so it cannot end in '/', got " + show(*s));
    } else {
      out.uri = *s;
    }
  }
  if (auto d = get_enum<Distribution>(c, at(n, "S3DataDistributionType"), kDistributions)) out.distribution = *d;

  Node attributes = at(n, "AttributeNames");
  if (auto v = get_string_list(c, attributes, 0, 16, 1, 256)) out.attribute_names = *v;
  if (attributes && type && *type != S3DataType::kAugmentedManifestFile) {
    c.add(attributes.path, "applies only to S3DataType AugmentedManifestFile, but S3DataType is " +
                               std::string(to_string(*type)));
  }
  Node groups = at(n, "InstanceGroupNames");
  if (auto v = get_string_list(c, groups, 0, 5, 1, 64)) {
    out.instance_group_names = *v;
    group_refs.push_back({groups.path, *v});
  }
}

void check_file_system_source(Checker& c, const Node& n, FileSystemDataSource& out) {
  if (!open_object(c, n, kFileSystem)) return;
  Node id = need(c, n, "FileSystemId");
  if (auto s = get_string(c, id, 11, 21)) {
    if (!valid_file_system_id(*s)) {
      c.add(id.path, "must match fs-[0-9a-f]{8,} (lower-case hex), as in fs-0123456789abcdef0, got " + show(*s));
    } else {
      out.file_system_id = *s;
    }
  }
  if (auto m = get_enum<AccessMode>(c, need(c, n, "FileSystemAccessMode"), kAccessModes)) out.access_mode = *m;
  if (auto t = get_enum<FileSystemType>(c, need(c, n, "FileSystemType"), kFileSystemTypes)) out.type = *t;
  Node dir = need(c, n, "DirectoryPath");
  if (auto s = get_string(c, dir, 0, 4096)) {
    if (s->empty() || s->front() != '/') {
      c.add(dir.path, "must be an absolute path, as in /1234abcd/ns1 or /tensorflow, got " + show(*s));
    } else if (has_dot_dot_segment(*s)) {
      c.add(dir.path, "must not contain '..' segments (the path is resolved under the file system's mount), got " +
                          show(*s));
    } else {
      out.directory_path = *s;
    }
  }
}

void check_channel(Checker& c, const Node& n, std::optional<InputMode> job_mode, Channel& ch,
                   std::vector<ChannelSeen>& seen, std::vector<GroupRef>& group_refs, size_t index) {
  if (!open_object(c, n, kChannel)) return;
  Node name = need(c, n, "ChannelName");
  if (auto s = get_string(c, name, 1, 64)) {
    if (!valid_channel_name(*s)) {
      c.add(name.path, "must match [A-Za-z0-9.\\-_]+ (letters, digits, '.', '-' and '_'), got " + show(*s));
    } else if (*s == "." || *s == "..") {
      // The API pattern allows them, but /opt/ml/input/data/<channel> must be a directory of its own.
      c.add(name.path, "must not be '.' or '..': the channel is the directory /opt/ml/input/data/" + *s);
    } else {
      ch.name = *s;
      seen.push_back({index, *s, name.path});
    }
  }
  std::string label = ch.name.empty() ? n.path : "'" + ch.name + "'";

  if (auto s = get_string(c, at(n, "ContentType"), 0, 256)) ch.content_type = *s;
  Node compression = at(n, "CompressionType");
  std::optional<Compression> comp = get_enum<Compression>(c, compression, kCompressions, kChannelCompressionHint);
  if (comp) ch.compression = *comp;
  Node wrapper = at(n, "RecordWrapperType");
  std::optional<RecordWrapper> wrap = get_enum<RecordWrapper>(c, wrapper, kRecordWrappers);
  if (wrap) ch.record_wrapper = *wrap;
  Node mode_node = at(n, "InputMode");
  ch.input_mode = get_enum<InputMode>(c, mode_node, kInputModes);
  Node shuffle = at(n, "ShuffleConfig");
  if (open_object(c, shuffle, kShuffle)) {
    if (auto seed = get_int(c, need(c, shuffle, "Seed"))) ch.shuffle_seed = *seed;
  }

  Node ds = need(c, n, "DataSource");
  Node s3 = at(ds, "S3DataSource");
  Node fs = at(ds, "FileSystemDataSource");
  std::optional<S3DataType> s3_type;
  if (open_object(c, ds, kDataSource)) {
    Node dataset = at(ds, "DatasetSource");
    if (dataset) {
      c.add(dataset.path, "DatasetSource (SageMaker hub datasets) is not supported by Sluice; use S3DataSource or "
                          "FileSystemDataSource");
    }
    int present = (s3 ? 1 : 0) + (fs ? 1 : 0) + (dataset ? 1 : 0);
    if (present == 0) {
      c.add(ds.path, "needs S3DataSource or FileSystemDataSource");
    } else if (present > 1) {
      std::string which;
      for (const Node* x : {&s3, &fs, &dataset}) {
        if (*x) which += (which.empty() ? "" : " and ") + x->path.substr(ds.path.size() + 1);
      }
      c.add(ds.path, "must have exactly one data source, got " + which);
    }
    if (s3) {
      ch.s3.emplace();
      check_s3_source(c, s3, *ch.s3, s3_type, group_refs);
    }
    if (fs) {
      ch.file_system.emplace();
      check_file_system_source(c, fs, *ch.file_system);
    }
  }

  // Mode/source combinations. The channel's mode is its InputMode, else the job's TrainingInputMode;
  // when the one that applies is invalid or missing, its own problem says so and these checks wait.
  std::optional<InputMode> mode = mode_node ? ch.input_mode : job_mode;
  if (!mode) return;
  std::string uses = "channel " + label + " uses " + std::string(to_string(*mode)) + " mode" +
                     (mode_node ? "" : " (from AlgorithmSpecification.TrainingInputMode)");
  if (*mode != InputMode::kPipe) {
    if (comp == Compression::kGzip) {
      c.add(compression.path, "Gzip is used only in Pipe input mode; in File and FastFile mode the API says to leave "
                              "CompressionType unset or None (" + uses + ")");
    }
    if (wrap == RecordWrapper::kRecordIO) {
      c.add(wrapper.path, "RecordIO is used only in Pipe input mode; in File and FastFile mode the API says to leave "
                          "RecordWrapperType unset or None (" + uses + ")");
    }
    if (s3_type == S3DataType::kAugmentedManifestFile) {
      c.add(s3.path + ".S3DataType", "AugmentedManifestFile is allowed only in Pipe input mode (the API's rule); " +
                                         uses);
    }
  }
  // ManifestFile in FastFile mode: SageMaker reads only S3Prefix there; Sluice mounts a
  // manifest's objects too (docs/fastfile.md), so it is accepted.
  if (fs && *mode != InputMode::kFile) {
    c.add(mode_node ? mode_node.path : fs.path,
          "FileSystemDataSource channels must use File input mode (the directory is mounted, not streamed); " + uses +
              (mode_node ? "" : "; set \"InputMode\": \"File\" on this channel"));
  }
  if (fs && shuffle) {
    c.add(shuffle.path, "has no effect on a FileSystemDataSource channel (the directory is mounted as it is, nothing "
                        "is listed or copied); remove it");
  }
}

void check_channels(Checker& c, const Node& root, JobSpec& spec, std::optional<InputMode> job_mode,
                    std::vector<GroupRef>& group_refs) {
  Node list = at(root, "InputDataConfig");
  if (!list) return;
  if (!list.v->is_array()) {
    c.add(list.path, "must be an array of channels, got " + describe(*list.v));
    return;
  }
  if (list.v->empty() || list.v->size() > 20) {
    c.add(list.path, "must have 1 to 20 channels, got " + std::to_string(list.v->size()) +
                         (list.v->empty() ? " (leave InputDataConfig out for a job without input)" : ""));
  }
  std::vector<ChannelSeen> seen;
  for (size_t i = 0; i < list.v->size(); ++i) {
    Channel ch;
    check_channel(c, Node{&(*list.v)[i], item(list.path, i)}, job_mode, ch, seen, group_refs, i);
    spec.channels.push_back(std::move(ch));
  }
  // Unique names. Names that differ only in case collide too: the toolkit's SM_CHANNEL_<NAME> is upper case.
  for (size_t j = 0; j < seen.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      if (seen[i].name == seen[j].name) {
        c.add(seen[j].path, "duplicate channel name " + show(seen[j].name) + " (InputDataConfig[" +
                                std::to_string(seen[i].index) + "] has it)");
        break;
      }
      if (iequals(seen[i].name, seen[j].name)) {
        c.add(seen[j].path, "channel name " + show(seen[j].name) + " differs from InputDataConfig[" +
                                std::to_string(seen[i].index) + "] " + show(seen[i].name) +
                                " only in case; both would be SM_CHANNEL_" + ascii_upper(seen[j].name));
        break;
      }
    }
  }
}

void check_output(Checker& c, const Node& root, JobSpec& spec) {
  Node out = need(c, root, "OutputDataConfig");
  if (!open_object(c, out, kOutput)) return;
  if (auto s = get_uri(c, need(c, out, "S3OutputPath"))) spec.output.s3_output_path = *s;
  if (auto s = get_string(c, at(out, "KmsKeyId"), 0, 2048)) spec.output.kms_key_id = *s;
  if (auto v = get_enum<OutputCompression>(c, at(out, "CompressionType"), kOutputCompressions, kOutputCompressionHint)) {
    spec.output.compression = *v;
  }
}

std::optional<int> get_count(Checker& c, const Node& n) {
  auto v = get_int(c, n);
  if (!v) return std::nullopt;
  if (*v < 1) {
    c.add(n.path, "must be at least 1, got " + std::to_string(*v) +
                      (*v == 0 ? " (the API allows 0, but a job without hosts cannot run)" : ""));
    return std::nullopt;
  }
  if (*v > std::numeric_limits<int>::max()) {
    c.add(n.path, "is too large, got " + std::to_string(*v));
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

void check_resources(Checker& c, const Node& root, JobSpec& spec, std::set<std::string>& group_names) {
  Node res = at(root, "ResourceConfig");
  if (!open_object(c, res, kResource)) return;
  ResourceConfig& r = spec.resources;
  Node type = at(res, "InstanceType");
  if (auto s = get_string(c, type, 1, 64)) {
    if (!valid_instance_type(*s)) {
      c.add(type.path, "must be an instance type such as ml.m5.xlarge, got " + show(*s));
    } else {
      r.instance_type = *s;
    }
  }
  Node count = at(res, "InstanceCount");
  if (auto v = get_count(c, count)) r.instance_count = *v;
  Node volume = at(res, "VolumeSizeInGB");
  if (auto v = get_int(c, volume)) {
    if (*v < 0 || *v > std::numeric_limits<int>::max()) {
      c.add(volume.path, "must be a size in GB, 0 or more, got " + std::to_string(*v));
    } else {
      r.volume_size_gb = static_cast<int>(*v);
    }
  }

  Node groups = at(res, "InstanceGroups");
  if (!groups) return;
  if (!groups.v->is_array()) {
    c.add(groups.path, "must be an array of instance groups, got " + describe(*groups.v));
    return;
  }
  if (groups.v->size() > 5) {
    c.add(groups.path, "must have at most 5 instance groups, got " + std::to_string(groups.v->size()));
  }
  if (!groups.v->empty() && (type || count)) {
    c.add(res.path, "InstanceGroups cannot be combined with InstanceType or InstanceCount: a heterogeneous cluster "
                    "is described by its groups alone");
  }
  int total = 0;
  bool all_ok = true;
  for (size_t i = 0; i < groups.v->size(); ++i) {
    Node g{&(*groups.v)[i], item(groups.path, i)};
    if (!open_object(c, g, kInstanceGroup)) {
      all_ok = false;
      continue;
    }
    InstanceGroup out;
    Node gtype = need(c, g, "InstanceType");
    if (auto s = get_string(c, gtype, 1, 64)) {
      if (!valid_instance_type(*s)) {
        c.add(gtype.path, "must be an instance type such as ml.m5.xlarge, got " + show(*s));
        all_ok = false;
      } else {
        out.instance_type = *s;
      }
    } else {
      all_ok = false;
    }
    if (auto v = get_count(c, need(c, g, "InstanceCount"))) {
      out.instance_count = *v;
    } else {
      all_ok = false;
    }
    Node gname = need(c, g, "InstanceGroupName");
    if (auto s = get_string(c, gname, 1, 64)) {
      if (!group_names.insert(*s).second) {
        c.add(gname.path, "duplicate instance group name " + show(*s));
        all_ok = false;
      }
      out.name = *s;
    } else {
      all_ok = false;
    }
    total += out.instance_count;
    r.instance_groups.push_back(std::move(out));
  }
  if (all_ok && !groups.v->empty()) r.instance_count = total;
}

void check_stopping(Checker& c, const Node& root, JobSpec& spec) {
  Node stop = at(root, "StoppingCondition");
  if (!open_object(c, stop, kStopping)) return;
  Node runtime = at(stop, "MaxRuntimeInSeconds");
  bool runtime_ok = true;
  if (auto v = get_int(c, runtime)) {
    if (*v < 1 || *v > kMaxRuntimeLimit) {
      c.add(runtime.path, "must be 1 to " + std::to_string(kMaxRuntimeLimit) + " seconds (28 days), got " +
                              std::to_string(*v));
      runtime_ok = false;
    } else {
      spec.stopping.max_runtime_seconds = *v;
    }
  } else if (runtime) {
    runtime_ok = false;
  }
  Node wait = at(stop, "MaxWaitTimeInSeconds");
  if (auto v = get_int(c, wait)) {
    if (*v < 1) {
      c.add(wait.path, "must be at least 1 second, got " + std::to_string(*v));
    } else if (runtime_ok && *v < spec.stopping.max_runtime_seconds) {
      c.add(wait.path, "must be at least MaxRuntimeInSeconds (" + std::to_string(spec.stopping.max_runtime_seconds) +
                           (runtime ? "" : ", the default") + "), got " + std::to_string(*v));
    } else {
      spec.stopping.max_wait_seconds = *v;
    }
  }
}

void check_checkpoint(Checker& c, const Node& root, JobSpec& spec) {
  Node cp = at(root, "CheckpointConfig");
  if (!open_object(c, cp, kCheckpoint)) return;
  CheckpointConfig out;
  if (auto s = get_uri(c, need(c, cp, "S3Uri"))) out.s3_uri = *s;
  Node local = at(cp, "LocalPath");
  if (auto s = get_string(c, local, 0, 4096)) {
    // Below /opt/ml: never /opt/ml itself nor /opt/ml/input, where Sluice writes the config files,
    // the channels and the FIFOs (and which the training code must not own).
    const std::string rel = std::filesystem::path(*s).lexically_normal().lexically_relative("/opt/ml").generic_string();
    const bool reserved = rel == "." || rel == "input" || rel.rfind("input/", 0) == 0;
    if (s->empty() || s->front() != '/') {
      c.add(local.path, "must be an absolute path (the default is /opt/ml/checkpoints), got " + show(*s));
    } else if (reserved) {
      c.add(local.path, "must not be /opt/ml itself nor inside /opt/ml/input, where Sluice writes (the default is "
                        "/opt/ml/checkpoints), got " + show(*s));
    } else {
      out.local_path = *s;
    }
  }
  spec.checkpoint = std::move(out);
}

std::string environment_key_problem(const std::string& k) {
  size_t len = utf8_char_count(k);
  if (len > 512) return "variable name must be at most 512 characters long, got " + std::to_string(len);
  if (!is_identifier(k)) return "variable name must match [a-zA-Z_][a-zA-Z0-9_]*, got " + show(k);
  return "";
}

std::string hyperparameter_key_problem(const std::string& k) {
  size_t len = utf8_char_count(k);
  if (len > 256) return "hyperparameter name must be at most 256 characters long, got " + std::to_string(len);
  return "";
}

void check_request(Checker& c, const json& doc, JobSpec& spec) {
  Node root{&doc, ""};
  open_object(c, root, kRequest);

  Node name = need(c, root, "TrainingJobName");
  if (auto s = get_string(c, name, 1, 63)) {
    if (!valid_job_name(*s)) {
      c.add(name.path, "must match [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (letters, digits and hyphens, starting and "
                       "ending with a letter or digit), got " + show(*s));
    } else {
      spec.training_job_name = *s;
    }
  }
  Node role = need(c, root, "RoleArn");
  if (auto s = get_string(c, role, 20, 2048)) {
    if (!valid_role_arn(*s)) {
      c.add(role.path, "must be an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME (pattern "
                       "arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+), got " + show(*s));
    } else {
      spec.role_arn = *s;
    }
  }

  std::optional<InputMode> job_mode;
  bool has_command = false;
  check_algorithm(c, root, spec, job_mode, has_command);

  if (auto hp = get_string_map(c, at(root, "HyperParameters"), 100, hyperparameter_key_problem, 2500)) {
    spec.hyperparameters = *hp;
  }
  if (auto env = get_string_map(c, at(root, "Environment"), 100, environment_key_problem, 512)) {
    spec.environment = *env;
  }
  // Without a command, the job runs in script mode (job/script_mode.hpp), which needs its program.
  if (!has_command && at(root, "AlgorithmSpecification") && !spec.hyperparameters.count("sagemaker_program") &&
      !spec.environment.count("SAGEMAKER_PROGRAM")) {
    c.add("AlgorithmSpecification",
          "needs ContainerEntrypoint or ContainerArguments (a command Sluice runs on this machine; TrainingImage is "
          "recorded, not run), or script mode: HyperParameters.sagemaker_program naming the script, as the "
          "SageMaker Python SDK sets it");
  }

  std::set<std::string> group_names;
  check_resources(c, root, spec, group_names);
  std::vector<GroupRef> group_refs;
  check_channels(c, root, spec, job_mode, group_refs);
  for (const GroupRef& ref : group_refs) {
    for (size_t i = 0; i < ref.names.size(); ++i) {
      if (group_names.count(ref.names[i]) == 0) {
        c.add(item(ref.path, i), "instance group " + show(ref.names[i]) +
                                     (group_names.empty() ? " does not exist: ResourceConfig has no InstanceGroups"
                                                          : " is not in ResourceConfig.InstanceGroups"));
      }
    }
  }

  check_output(c, root, spec);
  check_stopping(c, root, spec);
  check_checkpoint(c, root, spec);

  if (auto v = get_bool(c, at(root, "EnableNetworkIsolation"))) spec.enable_network_isolation = *v;
  Node chaining = at(root, "SessionChainingConfig");
  if (open_object(c, chaining, kChaining)) {
    SessionChainingConfig out;
    if (auto v = get_bool(c, at(chaining, "EnableSessionTagChaining"))) out.enable_session_tag_chaining = *v;
    spec.session_chaining = out;
  }
}

JobSpec parse(std::string_view text, std::string_view source, std::vector<SpecProblem>* problems) {
  Checker c;
  c.schemas = kAllSchemas;
  JobSpec spec;
  json doc;
  if (parse_json(c, text, doc)) {
    if (!doc.is_object()) {
      c.add("", "a job spec must be a JSON object (a CreateTrainingJob request body), got " + describe(doc));
    } else {
      check_request(c, doc, spec);
    }
  }
  std::stable_sort(c.problems.begin(), c.problems.end(),
                   [](const Problem& a, const Problem& b) { return path_less(a.path, b.path); });
  if (problems) *problems = c.problems;
  if (!c.problems.empty()) {
    // One problem per line, indented under the message, with a count first.
    std::string cause = std::to_string(c.problems.size()) + (c.problems.size() == 1 ? " problem" : " problems");
    for (const Problem& p : c.problems) cause += "\n  " + format(p);
    throw Error(ErrorKind::kInvalidInput,
                "invalid job spec" + (source.empty() ? std::string() : " " + std::string(source)), cause);
  }
  std::sort(c.ignored.begin(), c.ignored.end(), path_less);
  spec.ignored_fields = std::move(c.ignored);
  return spec;
}

}  // namespace

JobSpec parse_job_spec(std::string_view json_text, std::vector<SpecProblem>* problems) {
  return parse(json_text, {}, problems);
}

JobSpec load_job_spec(const std::string& path, std::vector<SpecProblem>* problems) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw errno_error(errno, "reading job spec", path);
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
  if (std::ferror(f.get())) throw errno_error(errno, "reading job spec", path);
  return parse(text, path, problems);
}

}  // namespace sluice::job
