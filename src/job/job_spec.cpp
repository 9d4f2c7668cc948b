// parse_job_spec: a CreateTrainingJob request body becomes a JobSpec, or every problem in it is
// reported at once, each with its JSON path. The rules are those of the SageMaker API model
// (../shared/reference/sagemaker-contract.md §1) plus Sluice's own, listed in docs/job-spec.md.
#include "job/job_spec.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <regex>
#include <set>
#include <span>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/location.hpp"

namespace sluice::job {

std::string_view to_string(InputMode m) {
  switch (m) {
    case InputMode::kFile: return "File";
    case InputMode::kFastFile: return "FastFile";
    case InputMode::kPipe: return "Pipe";
  }
  return "?";
}

std::string_view to_string(S3DataType t) {
  switch (t) {
    case S3DataType::kS3Prefix: return "S3Prefix";
    case S3DataType::kManifestFile: return "ManifestFile";
    case S3DataType::kAugmentedManifestFile: return "AugmentedManifestFile";
    case S3DataType::kConverse: return "Converse";
  }
  return "?";
}

std::string_view to_string(Distribution d) {
  switch (d) {
    case Distribution::kFullyReplicated: return "FullyReplicated";
    case Distribution::kShardedByS3Key: return "ShardedByS3Key";
  }
  return "?";
}

std::string_view to_string(Compression c) {
  switch (c) {
    case Compression::kNone: return "None";
    case Compression::kGzip: return "Gzip";
  }
  return "?";
}

std::string_view to_string(RecordWrapper r) {
  switch (r) {
    case RecordWrapper::kNone: return "None";
    case RecordWrapper::kRecordIO: return "RecordIO";
  }
  return "?";
}

std::string_view to_string(FileSystemType t) {
  switch (t) {
    case FileSystemType::kEFS: return "EFS";
    case FileSystemType::kFSxLustre: return "FSxLustre";
  }
  return "?";
}

std::string_view to_string(AccessMode m) {
  switch (m) {
    case AccessMode::kRo: return "ro";
    case AccessMode::kRw: return "rw";
  }
  return "?";
}

std::string_view to_string(OutputCompression c) {
  switch (c) {
    case OutputCompression::kGzip: return "GZIP";
    case OutputCompression::kNone: return "NONE";
  }
  return "?";
}

namespace {

using json = nlohmann::json;

constexpr size_t kShowMax = 100;                      // characters of a value echoed in a message
constexpr int64_t kMaxRuntimeLimit = 28 * 24 * 3600;  // 2419200 s, the API's maximum

// ---- text helpers -----------------------------------------------------------------------------

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// 'value' for a message: control characters escaped, cut after kShowMax characters.
std::string show(std::string_view s) {
  std::string out = "'";
  size_t chars = 0;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && chars++ == kShowMax) break;
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += "'";
  if (i < s.size()) out += "... (" + std::to_string(utf8_length(s)) + " characters)";
  return out;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower(x) == lower(y);
         });
}

// Levenshtein distance, ignoring ASCII case.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The candidate nearest to `word` when it is near enough to be a likely typo:
// distance <= max(2, len/3). Ties go to the earlier candidate.
std::optional<std::string_view> nearest(std::string_view word, std::span<const std::string_view> candidates) {
  size_t limit = std::max<size_t>(2, word.size() / 3);
  std::optional<std::string_view> best;
  size_t best_distance = limit + 1;
  for (std::string_view c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool is_identifier(std::string_view k) {
  if (k.empty() || is_digit(k[0])) return false;
  return std::all_of(k.begin(), k.end(), [](char c) { return is_alnum(c) || c == '_'; });
}

// ---- paths ------------------------------------------------------------------------------------

// "A.B" for a name, A["key with spaces"] for any other key (map keys such as hyperparameter names);
// a key longer than kShowMax characters is cut: A["aaaa..."].
std::string member(const std::string& path, std::string_view key) {
  if (utf8_length(key) <= kShowMax) {
    if (is_identifier(key)) return path.empty() ? std::string(key) : path + "." + std::string(key);
    return path + "[" + json(std::string(key)).dump(-1, ' ', false, json::error_handler_t::replace) + "]";
  }
  size_t cut = 0;
  for (size_t chars = 0; cut < key.size(); ++cut) {
    if ((static_cast<unsigned char>(key[cut]) & 0xC0) != 0x80 && chars++ == kShowMax) break;
  }
  std::string shown = json(std::string(key.substr(0, cut))).dump(-1, ' ', false, json::error_handler_t::replace);
  return path + "[" + shown.substr(0, shown.size() - 1) + "...\"]";
}

std::string item(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// Path order with indices compared as numbers: InputDataConfig[2] before InputDataConfig[10].
bool path_less(const std::string& a, const std::string& b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      size_t ei = i;
      size_t ej = j;
      while (ei < a.size() && is_digit(a[ei])) ++ei;
      while (ej < b.size() && is_digit(b[ej])) ++ej;
      std::string_view na = std::string_view(a).substr(i, ei - i);
      std::string_view nb = std::string_view(b).substr(j, ej - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ei;
      j = ej;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

// ---- problems ---------------------------------------------------------------------------------

struct Ctx {
  std::vector<SpecProblem> problems;
  std::vector<std::string> ignored;
  void add(std::string path, std::string message) { problems.push_back({std::move(path), std::move(message)}); }
};

// A value in the document and its path; v is null when the field is absent.
struct Node {
  const json* v = nullptr;
  std::string path;
  explicit operator bool() const { return v != nullptr; }
};

Node at(const Node& obj, std::string_view key) {
  Node n;
  n.path = member(obj.path, key);
  if (obj.v && obj.v->is_object()) {
    auto it = obj.v->find(std::string(key));
    if (it != obj.v->end()) n.v = &*it;
  }
  return n;
}

Node need(Ctx& c, const Node& obj, std::string_view key, std::string_view why = {}) {
  Node n = at(obj, key);
  if (!n) c.add(n.path, "required field is missing" + (why.empty() ? std::string() : " (" + std::string(why) + ")"));
  return n;
}

std::string describe(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number " + v.dump();
    case json::value_t::string: return "string " + show(v.get_ref<const std::string&>());
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a binary value";
  }
}

std::string length_message(size_t n, size_t min_len, size_t max_len) {
  if (n == 0 && min_len > 0) return "must not be empty";
  if (min_len == 0) return "must be at most " + std::to_string(max_len) + " characters long, got " + std::to_string(n);
  return "must be " + std::to_string(min_len) + " to " + std::to_string(max_len) + " characters long, got " +
         std::to_string(n);
}

// A string of min_len..max_len characters; nullopt (with a problem unless absent) otherwise.
std::optional<std::string> get_string(Ctx& c, const Node& n, size_t min_len, size_t max_len) {
  if (!n) return std::nullopt;
  if (!n.v->is_string()) {
    c.add(n.path, "must be a string, got " + describe(*n.v));
    return std::nullopt;
  }
  const std::string& s = n.v->get_ref<const std::string&>();
  size_t len = utf8_length(s);
  if (len < min_len || len > max_len) {
    c.add(n.path, length_message(len, min_len, max_len));
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> get_int(Ctx& c, const Node& n) {
  if (!n) return std::nullopt;
  if (n.v->is_number_unsigned() && n.v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    c.add(n.path, "is too large, got " + n.v->dump());
    return std::nullopt;
  }
  if (!n.v->is_number_integer()) {
    c.add(n.path, "must be an integer, got " + describe(*n.v));
    return std::nullopt;
  }
  return n.v->get<int64_t>();
}

std::optional<bool> get_bool(Ctx& c, const Node& n) {
  if (!n) return std::nullopt;
  if (!n.v->is_boolean()) {
    c.add(n.path, "must be true or false, got " + describe(*n.v));
    return std::nullopt;
  }
  return n.v->get<bool>();
}

template <typename E>
using EnumTable = std::span<const std::pair<std::string_view, E>>;

// One of the API's spellings, exactly (case-sensitive). A near miss gets "did you mean".
template <typename E>
std::optional<E> get_enum(Ctx& c, const Node& n, EnumTable<E> table, std::string_view hint = {}) {
  if (!n) return std::nullopt;
  std::string allowed;
  std::vector<std::string_view> names;
  for (const auto& [name, value] : table) {
    allowed += (allowed.empty() ? "" : "|") + std::string(name);
    names.push_back(name);
  }
  if (!n.v->is_string()) {
    c.add(n.path, "must be a string, one of " + allowed + ", got " + describe(*n.v));
    return std::nullopt;
  }
  const std::string& s = n.v->get_ref<const std::string&>();
  for (const auto& [name, value] : table) {
    if (name == s) return value;
  }
  std::string message = "must be one of " + allowed + ", got " + show(s);
  auto same_but_case = std::find_if(names.begin(), names.end(), [&](std::string_view x) { return iequals(x, s); });
  if (same_but_case != names.end()) {
    message += "; did you mean '" + std::string(*same_but_case) + "'? (values are case-sensitive)";
  } else if (auto near = nearest(s, names)) {
    message += "; did you mean '" + std::string(*near) + "'?";
  }
  if (!hint.empty()) message += " (" + std::string(hint) + ")";
  c.add(n.path, message);
  return std::nullopt;
}

// A list of min_items..max_items strings, each at most max_len characters.
std::optional<std::vector<std::string>> get_string_list(Ctx& c, const Node& n, size_t min_items, size_t max_items,
                                                        size_t min_len, size_t max_len) {
  if (!n) return std::nullopt;
  if (!n.v->is_array()) {
    c.add(n.path, "must be an array of strings, got " + describe(*n.v));
    return std::nullopt;
  }
  bool ok = true;
  if (n.v->size() < min_items || n.v->size() > max_items) {
    c.add(n.path, "must have " + std::to_string(min_items) + " to " + std::to_string(max_items) + " entries, got " +
                      std::to_string(n.v->size()));
    ok = false;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < n.v->size(); ++i) {
    auto s = get_string(c, Node{&(*n.v)[i], item(n.path, i)}, min_len, max_len);
    if (s) {
      out.push_back(*s);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

// Hyperparameters and environment values are strings in the API; 3 or true is a common slip.
std::string string_hint(const json& v) {
  if (v.is_number() || v.is_boolean()) return " (values are strings: write \"" + v.dump() + "\")";
  return "";
}

// A JSON object of string values: at most max_entries, each key checked by `key_problem`
// (empty: fine), each value at most max_value characters.
template <typename KeyCheck>
std::optional<std::map<std::string, std::string>> get_string_map(Ctx& c, const Node& n, size_t max_entries,
                                                                 KeyCheck key_problem, size_t max_value) {
  if (!n) return std::nullopt;
  if (!n.v->is_object()) {
    c.add(n.path, "must be an object of string values, got " + describe(*n.v));
    return std::nullopt;
  }
  bool ok = true;
  if (n.v->size() > max_entries) {
    c.add(n.path, "must have at most " + std::to_string(max_entries) + " entries, got " + std::to_string(n.v->size()));
    ok = false;
  }
  std::map<std::string, std::string> out;
  for (auto it = n.v->begin(); it != n.v->end(); ++it) {
    std::string path = member(n.path, it.key());
    std::string why = key_problem(it.key());
    if (!why.empty()) {
      c.add(path, why);
      ok = false;
    }
    if (!it.value().is_string()) {
      c.add(path, "must be a string, got " + describe(it.value()) + string_hint(it.value()));
      ok = false;
      continue;
    }
    auto value = get_string(c, Node{&it.value(), path}, 0, max_value);
    if (!value) {
      ok = false;
      continue;
    }
    out[it.key()] = *value;
  }
  if (!ok) return std::nullopt;
  return out;
}

// ---- the shapes: which fields each object has -------------------------------------------------

enum class Loose { kObject, kArray, kString, kBool, kInteger };

struct IgnoredField {
  std::string_view name;
  Loose type;
};

struct Schema {
  std::string_view where;                // where objects of this shape live, for "it belongs in" hints
  std::vector<std::string_view> fields;  // validated and acted on (or recorded)
  std::vector<IgnoredField> ignored;     // accepted, type-checked, not acted on
};

const Schema kRequest{"the top level",
                      {"TrainingJobName", "HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
                       "OutputDataConfig", "ResourceConfig", "StoppingCondition", "EnableNetworkIsolation",
                       "CheckpointConfig", "Environment", "SessionChainingConfig"},
                      {{"VpcConfig", Loose::kObject},
                       {"Tags", Loose::kArray},
                       {"EnableInterContainerTrafficEncryption", Loose::kBool},
                       {"EnableManagedSpotTraining", Loose::kBool},
                       {"DebugHookConfig", Loose::kObject},
                       {"DebugRuleConfigurations", Loose::kArray},
                       {"TensorBoardOutputConfig", Loose::kObject},
                       {"ExperimentConfig", Loose::kObject},
                       {"ProfilerConfig", Loose::kObject},
                       {"ProfilerRuleConfigurations", Loose::kArray},
                       {"RetryStrategy", Loose::kObject},
                       {"RemoteDebugConfig", Loose::kObject},
                       {"InfraCheckConfig", Loose::kObject}}};

const Schema kAlgorithm{"AlgorithmSpecification",
                        {"TrainingInputMode", "TrainingImage", "AlgorithmName", "ContainerEntrypoint",
                         "ContainerArguments"},
                        {{"MetricDefinitions", Loose::kArray},
                         {"EnableSageMakerMetricsTimeSeries", Loose::kBool},
                         {"TrainingImageConfig", Loose::kObject}}};

const Schema kChannel{"InputDataConfig[]",
                      {"ChannelName", "DataSource", "ContentType", "CompressionType", "RecordWrapperType", "InputMode",
                       "ShuffleConfig"},
                      {}};

const Schema kDataSource{"InputDataConfig[].DataSource", {"S3DataSource", "FileSystemDataSource", "DatasetSource"}, {}};

const Schema kS3{"InputDataConfig[].DataSource.S3DataSource",
                 {"S3DataType", "S3Uri", "S3DataDistributionType", "AttributeNames", "InstanceGroupNames"},
                 {{"ModelAccessConfig", Loose::kObject}, {"HubAccessConfig", Loose::kObject}}};

const Schema kFileSystem{"InputDataConfig[].DataSource.FileSystemDataSource",
                         {"FileSystemId", "FileSystemAccessMode", "FileSystemType", "DirectoryPath"},
                         {}};

const Schema kShuffle{"InputDataConfig[].ShuffleConfig", {"Seed"}, {}};

const Schema kOutput{"OutputDataConfig", {"S3OutputPath", "KmsKeyId", "CompressionType"}, {}};

const Schema kResource{"ResourceConfig",
                       {"InstanceType", "InstanceCount", "VolumeSizeInGB", "InstanceGroups"},
                       {{"VolumeKmsKeyId", Loose::kString},
                        {"KeepAlivePeriodInSeconds", Loose::kInteger},
                        {"TrainingPlanArn", Loose::kString},
                        {"InstancePlacementConfig", Loose::kObject}}};

const Schema kInstanceGroup{"ResourceConfig.InstanceGroups[]", {"InstanceType", "InstanceCount", "InstanceGroupName"}, {}};

const Schema kStopping{"StoppingCondition",
                       {"MaxRuntimeInSeconds", "MaxWaitTimeInSeconds"},
                       {{"MaxPendingTimeInSeconds", Loose::kInteger}}};

const Schema kCheckpoint{"CheckpointConfig", {"S3Uri", "LocalPath"}, {}};

const Schema kChaining{"SessionChainingConfig", {"EnableSessionTagChaining"}, {}};

const Schema* const kSchemas[] = {&kRequest,  &kAlgorithm, &kChannel, &kDataSource, &kS3,        &kFileSystem, &kShuffle,
                                  &kOutput, &kResource,  &kInstanceGroup, &kStopping, &kCheckpoint, &kChaining};

std::string unknown_field_message(std::string_view key, const Schema& here) {
  std::vector<std::string_view> names = here.fields;
  for (const auto& f : here.ignored) names.push_back(f.name);
  std::string message = "unknown field " + show(key);
  auto same_but_case = std::find_if(names.begin(), names.end(), [&](std::string_view x) { return iequals(x, key); });
  if (same_but_case != names.end()) {
    return message + "; did you mean '" + std::string(*same_but_case) + "'? (field names are case-sensitive)";
  }
  if (auto near = nearest(key, names)) return message + "; did you mean '" + std::string(*near) + "'?";
  // A field of another object: probably nested at the wrong level.
  std::vector<std::string_view> homes;
  for (const Schema* s : kSchemas) {
    if (s == &here) continue;
    bool has = std::find(s->fields.begin(), s->fields.end(), key) != s->fields.end() ||
               std::any_of(s->ignored.begin(), s->ignored.end(), [&](const IgnoredField& f) { return f.name == key; });
    if (has) homes.push_back(s->where);
  }
  if (!homes.empty()) {
    message += "; it belongs in ";
    for (size_t i = 0; i < homes.size(); ++i) message += (i == 0 ? "" : " or ") + std::string(homes[i]);
    return message;
  }
  if (names.size() <= 8) {
    message += " (fields here: ";
    for (size_t i = 0; i < names.size(); ++i) message += (i == 0 ? "" : ", ") + std::string(names[i]);
    message += ")";
  }
  return message;
}

bool loose_type_ok(const json& v, Loose t) {
  switch (t) {
    case Loose::kObject: return v.is_object();
    case Loose::kArray: return v.is_array();
    case Loose::kString: return v.is_string();
    case Loose::kBool: return v.is_boolean();
    case Loose::kInteger: return v.is_number_integer();
  }
  return false;
}

std::string_view loose_type_name(Loose t) {
  switch (t) {
    case Loose::kObject: return "an object";
    case Loose::kArray: return "an array";
    case Loose::kString: return "a string";
    case Loose::kBool: return "true or false";
    case Loose::kInteger: return "an integer";
  }
  return "?";
}

// Checks that n is an object of shape s: unknown fields are problems, ignored ones are
// type-checked and recorded. False when n is absent or not an object.
bool open_object(Ctx& c, const Node& n, const Schema& s) {
  if (!n) return false;
  if (!n.v->is_object()) {
    c.add(n.path, "must be an object, got " + describe(*n.v));
    return false;
  }
  for (auto it = n.v->begin(); it != n.v->end(); ++it) {
    const std::string& key = it.key();
    if (std::find(s.fields.begin(), s.fields.end(), key) != s.fields.end()) continue;
    auto ignored = std::find_if(s.ignored.begin(), s.ignored.end(), [&](const IgnoredField& f) { return f.name == key; });
    std::string path = member(n.path, key);
    if (ignored != s.ignored.end()) {
      if (!loose_type_ok(it.value(), ignored->type)) {
        c.add(path, "must be " + std::string(loose_type_name(ignored->type)) + ", got " + describe(it.value()) +
                        " (Sluice accepts this field but does not act on it)");
      } else {
        c.ignored.push_back(path);
      }
      continue;
    }
    c.add(path, unknown_field_message(key, s));
  }
  return true;
}

// ---- value rules ------------------------------------------------------------------------------

// [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}: letters, digits and hyphens, starting and ending with a letter or digit.
bool valid_job_name(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+
bool valid_role_arn(std::string_view s) {
  if (!s.starts_with("arn:aws")) return false;
  s.remove_prefix(7);
  while (!s.empty() && ((s[0] >= 'a' && s[0] <= 'z') || s[0] == '-')) s.remove_prefix(1);
  if (!s.starts_with(":iam::")) return false;
  s.remove_prefix(6);
  if (s.size() < 12 || !std::all_of(s.begin(), s.begin() + 12, is_digit)) return false;
  s.remove_prefix(12);
  if (!s.starts_with(":role")) return false;
  s.remove_prefix(5);
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || std::string_view("_+=,.@-/").find(c) != std::string_view::npos;
  });
}

bool valid_channel_name(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '.' || c == '-' || c == '_'; });
}

// fs-[0-9a-f]{8,}
bool valid_file_system_id(std::string_view s) {
  if (!s.starts_with("fs-") || s.size() < 11) return false;
  return std::all_of(s.begin() + 3, s.end(), [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); });
}

// The API's ArnOrName for AlgorithmName.
bool valid_algorithm_name(const std::string& s) {
  static const std::regex re(
      "(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*/)?[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?");
  return std::regex_match(s, re);
}

// ml.<family>.<size>, e.g. ml.m5.xlarge. The API's enum grows every few months; Sluice checks the shape.
bool valid_instance_type(std::string_view s) {
  if (!s.starts_with("ml.")) return false;
  s.remove_prefix(3);
  auto dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == s.size()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '.' || c == '-'; });
}

bool has_dot_dot_segment(std::string_view p) {
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    if (p.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

// An S3Uri or S3OutputPath: the API's (https|s3)://([^/]+)/?(.*) of at most 1024 characters, or
// file:///ABSOLUTE/PATH (Sluice's local-mode extension). Returns the problem, or "" when fine.
std::string uri_problem(const std::string& s) {
  size_t len = utf8_length(s);
  if (len > 1024) return "must be at most 1024 characters long, got " + std::to_string(len);
  if (s.starts_with("file://")) {
    std::string_view rest = std::string_view(s).substr(7);
    if (rest.empty() || rest.front() != '/') {
      return "a file:// URI needs an absolute path with no host, as in file:///data/train, got " + show(s);
    }
  } else {
    size_t scheme_end = s.starts_with("s3://") ? 5 : s.starts_with("https://") ? 8 : 0;
    if (scheme_end == 0 || scheme_end == s.size() || s[scheme_end] == '/') {
      return "must match (https|s3)://BUCKET/PREFIX or file:///PATH, got " + show(s);
    }
    if (scheme_end == 8) {
      return "https:// URIs match the API's pattern but Sluice cannot read them; write s3://BUCKET/PREFIX, got " +
             show(s);
    }
  }
  try {
    (void)sluice::parse_location(s);
  } catch (const Error& e) {
    return e.cause() + ", got " + show(s);
  }
  return "";
}

std::optional<std::string> get_uri(Ctx& c, const Node& n) {
  auto s = get_string(c, n, 0, std::numeric_limits<size_t>::max());
  if (!s) return std::nullopt;
  std::string why = uri_problem(*s);
  if (!why.empty()) {
    c.add(n.path, why);
    return std::nullopt;
  }
  return s;
}

constexpr std::pair<std::string_view, InputMode> kInputModes[] = {
    {"Pipe", InputMode::kPipe}, {"File", InputMode::kFile}, {"FastFile", InputMode::kFastFile}};
constexpr std::pair<std::string_view, S3DataType> kS3DataTypes[] = {
    {"ManifestFile", S3DataType::kManifestFile},
    {"S3Prefix", S3DataType::kS3Prefix},
    {"AugmentedManifestFile", S3DataType::kAugmentedManifestFile},
    {"Converse", S3DataType::kConverse}};
constexpr std::pair<std::string_view, Distribution> kDistributions[] = {
    {"FullyReplicated", Distribution::kFullyReplicated}, {"ShardedByS3Key", Distribution::kShardedByS3Key}};
constexpr std::pair<std::string_view, Compression> kCompressions[] = {{"None", Compression::kNone},
                                                                      {"Gzip", Compression::kGzip}};
constexpr std::pair<std::string_view, RecordWrapper> kRecordWrappers[] = {{"None", RecordWrapper::kNone},
                                                                          {"RecordIO", RecordWrapper::kRecordIO}};
constexpr std::pair<std::string_view, FileSystemType> kFileSystemTypes[] = {{"EFS", FileSystemType::kEFS},
                                                                            {"FSxLustre", FileSystemType::kFSxLustre}};
constexpr std::pair<std::string_view, AccessMode> kAccessModes[] = {{"rw", AccessMode::kRw}, {"ro", AccessMode::kRo}};
constexpr std::pair<std::string_view, OutputCompression> kOutputCompressions[] = {{"GZIP", OutputCompression::kGzip},
                                                                                  {"NONE", OutputCompression::kNone}};

constexpr std::string_view kChannelCompressionHint =
    "Channel.CompressionType is spelled None|Gzip, unlike OutputDataConfig.CompressionType GZIP|NONE";
constexpr std::string_view kOutputCompressionHint =
    "OutputDataConfig.CompressionType is spelled GZIP|NONE, unlike Channel.CompressionType None|Gzip";

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

void check_algorithm(Ctx& c, const Node& root, JobSpec& spec, std::optional<InputMode>& job_mode, bool& has_command) {
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

void check_s3_source(Ctx& c, const Node& n, S3DataSource& out, std::optional<S3DataType>& type,
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

void check_file_system_source(Ctx& c, const Node& n, FileSystemDataSource& out) {
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

void check_channel(Ctx& c, const Node& n, std::optional<InputMode> job_mode, Channel& ch,
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

void check_channels(Ctx& c, const Node& root, JobSpec& spec, std::optional<InputMode> job_mode,
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
        std::string upper;
        for (char ch : seen[j].name) upper += ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch;
        c.add(seen[j].path, "channel name " + show(seen[j].name) + " differs from InputDataConfig[" +
                                std::to_string(seen[i].index) + "] " + show(seen[i].name) +
                                " only in case; both would be SM_CHANNEL_" + upper);
        break;
      }
    }
  }
}

void check_output(Ctx& c, const Node& root, JobSpec& spec) {
  Node out = need(c, root, "OutputDataConfig");
  if (!open_object(c, out, kOutput)) return;
  if (auto s = get_uri(c, need(c, out, "S3OutputPath"))) spec.output.s3_output_path = *s;
  if (auto s = get_string(c, at(out, "KmsKeyId"), 0, 2048)) spec.output.kms_key_id = *s;
  if (auto v = get_enum<OutputCompression>(c, at(out, "CompressionType"), kOutputCompressions, kOutputCompressionHint)) {
    spec.output.compression = *v;
  }
}

std::optional<int> get_count(Ctx& c, const Node& n) {
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

void check_resources(Ctx& c, const Node& root, JobSpec& spec, std::set<std::string>& group_names) {
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

void check_stopping(Ctx& c, const Node& root, JobSpec& spec) {
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

void check_checkpoint(Ctx& c, const Node& root, JobSpec& spec) {
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
  size_t len = utf8_length(k);
  if (len > 512) return "variable name must be at most 512 characters long, got " + std::to_string(len);
  if (!is_identifier(k)) return "variable name must match [a-zA-Z_][a-zA-Z0-9_]*, got " + show(k);
  return "";
}

std::string hyperparameter_key_problem(const std::string& k) {
  size_t len = utf8_length(k);
  if (len > 256) return "hyperparameter name must be at most 256 characters long, got " + std::to_string(len);
  return "";
}

void check_request(Ctx& c, const json& doc, JobSpec& spec) {
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

// ---- JSON syntax and duplicate keys -----------------------------------------------------------

// "line L, column C" of the character at 0-based byte offset `pos` (columns count UTF-8 characters).
std::string position(std::string_view text, size_t pos) {
  pos = std::min(pos, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  size_t column = utf8_length(text.substr(line_start, pos - line_start)) + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Tracks where the parser is, to name the path of a duplicate key (nlohmann keeps the last one silently).
class DuplicateKeys {
 public:
  explicit DuplicateKeys(Ctx& c) : c_(c) {}

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: frames_.push_back({false, 0, {}, {}}); break;
      case json::parse_event_t::array_start: frames_.push_back({true, 0, {}, {}}); break;
      case json::parse_event_t::key: {
        Frame& top = frames_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second) {
          c_.add(path(), "duplicate field " + show(top.key) + "; JSON parsers keep only one of them");
        }
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        next();
        break;
      case json::parse_event_t::value: next(); break;
    }
    return true;
  }

 private:
  struct Frame {
    bool array;
    size_t index;
    std::string key;
    std::set<std::string> keys;
  };

  void next() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }

  std::string path() const {
    std::string p;
    for (const Frame& f : frames_) p = f.array ? item(p, f.index) : member(p, f.key);
    return p;
  }

  Ctx& c_;
  std::vector<Frame> frames_;
};

bool parse_json(Ctx& c, std::string_view text, json& doc) {
  DuplicateKeys duplicates(c);
  try {
    doc = json::parse(text.begin(), text.end(), std::ref(duplicates));
    return true;
  } catch (const json::parse_error& e) {
    std::string reason = e.what();
    auto colon = reason.find(": ");
    if (colon != std::string::npos) reason = reason.substr(colon + 2);
    size_t offset = e.byte == 0 ? 0 : e.byte - 1;  // e.byte is 1-based: the last character read
    c.problems.clear();                              // duplicates seen before the error would only confuse
    c.add("", "invalid JSON at " + position(text, offset) + ": " + reason);
    return false;
  } catch (const json::out_of_range& e) {  // 406: a number too large for a double, e.g. 1e999
    std::string reason = e.what();
    if (auto p = reason.find("] "); p != std::string::npos) reason.erase(0, p + 2);
    c.problems.clear();
    c.add("", "invalid JSON: " + reason);
    return false;
  }
}

std::string format(const SpecProblem& p) { return p.path.empty() ? p.message : p.path + ": " + p.message; }

JobSpec parse(std::string_view text, std::string_view source, std::vector<SpecProblem>* problems) {
  Ctx c;
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
                   [](const SpecProblem& a, const SpecProblem& b) { return path_less(a.path, b.path); });
  if (problems) *problems = c.problems;
  if (!c.problems.empty()) {
    // One problem per line, indented under the message, with a count first.
    std::string cause = std::to_string(c.problems.size()) + (c.problems.size() == 1 ? " problem" : " problems");
    for (const SpecProblem& p : c.problems) cause += "\n  " + format(p);
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
