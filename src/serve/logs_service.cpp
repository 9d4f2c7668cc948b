// CloudWatch Logs' DescribeLogStreams, GetLogEvents and FilterLogEvents over training jobs' host logs.
#include "serve/logs_service.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "serve/log_streams.hpp"

namespace sluice::serve {
namespace {

using nlohmann::json;

ApiFailure invalid(const std::string& message) { return ApiFailure(ApiError{"InvalidParameterException", 400, message}); }
ApiFailure invalid_token() { return invalid("The specified nextToken is invalid."); }
ApiFailure group_not_found() {
  return ApiFailure(ApiError{"ResourceNotFoundException", 400, "The specified log group does not exist."});
}
ApiFailure stream_not_found() {
  return ApiFailure(ApiError{"ResourceNotFoundException", 400, "The specified log stream does not exist."});
}

std::optional<std::string> string_field(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw invalid(fmt::format("{} must be a string", key));
  return it->get<std::string>();
}

std::optional<std::int64_t> int_field(const json& in, const char* key, std::int64_t min, std::int64_t max) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw invalid(fmt::format("{} must be a whole number", key));
  const auto v = it->get<std::int64_t>();
  if (v < min || v > max) throw invalid(fmt::format("{} must be between {} and {}", key, min, max));
  return v;
}

std::optional<bool> bool_field(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw invalid(fmt::format("{} must be true or false", key));
  return it->get<bool>();
}

// logGroupName, or logGroupIdentifier (the name or its ARN): only the training jobs' group exists.
void check_group(const json& in) {
  auto name = string_field(in, "logGroupName");
  auto id = string_field(in, "logGroupIdentifier");
  if (name.has_value() == id.has_value()) {
    throw invalid("Exactly one of logGroupName or logGroupIdentifier must be given.");
  }
  std::string group = name ? *name : *id;
  if (id && group.rfind("arn:", 0) == 0) {
    if (group.size() > 2 && group.substr(group.size() - 2) == ":*") group.resize(group.size() - 2);
    const std::string marker = ":log-group:";
    const std::size_t at = group.find(marker);
    group = at == std::string::npos ? std::string() : group.substr(at + marker.size());
  }
  if (group != kTrainingJobsLogGroup) throw group_not_found();
}

// startTime and endTime: GetLogEvents leaves out events at endTime, FilterLogEvents keeps them.
ReadLimits time_limits(const json& in, bool end_exclusive) {
  ReadLimits limits;
  limits.start_ms = int_field(in, "startTime", 0, INT64_MAX);
  limits.end_ms = int_field(in, "endTime", 0, INT64_MAX);
  if (limits.end_ms && end_exclusive) --*limits.end_ms;
  limits.max_events = static_cast<std::size_t>(int_field(in, "limit", 1, 10000).value_or(10000));
  return limits;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Whether the caller may see a job's logs (`access` throws ApiFailure when not).
bool may_see(const LogsAccess& access, const Caller& caller, const JobRecord& job) {
  try {
    access(caller, job);
    return true;
  } catch (const ApiFailure&) {
    return false;
  }
}

// The jobs whose streams can start with `prefix`: the one job a prefix "<job>/..." names, or all
// whose name starts with it.
std::vector<JobRecord> jobs_for_prefix(const JobRecords& records, const std::string& prefix) {
  std::vector<JobRecord> out;
  const std::size_t slash = prefix.find('/');
  if (slash != std::string::npos) {
    auto job = records.get(prefix.substr(0, slash));
    if (job && job->name == prefix.substr(0, slash)) out.push_back(std::move(*job));
    return out;
  }
  ListQuery query;
  if (!prefix.empty()) query.name_contains = prefix;
  query.sort_by = SortBy::kName;
  query.sort_order = SortOrder::kAscending;
  query.max_results = 100;
  for (;;) {
    ListPage page = records.list(query);
    for (auto& job : page.jobs) {
      if (starts_with(job.name, prefix)) out.push_back(std::move(job));
    }
    if (page.next_token.empty()) return out;
    query.next_token = page.next_token;
  }
}

// A visible stream and the job it belongs to.
struct Listed {
  StreamInfo info;
  std::string account;
  std::string work_dir;
  std::int64_t order_time = 0;  // LastEventTime ordering: the last event's time, else creation
};

std::vector<Listed> visible_streams(const JobRecords& records, const LogsAccess& access, const Caller& caller,
                                    const std::string& prefix) {
  std::vector<Listed> out;
  for (const JobRecord& job : jobs_for_prefix(records, prefix)) {
    if (!may_see(access, caller, job)) continue;
    for (StreamInfo& info : job_streams(job.work_dir, job.name)) {
      if (!starts_with(info.stream, prefix)) continue;
      const std::int64_t t = info.last_event_ms.value_or(info.creation_ms);
      out.push_back(Listed{std::move(info), job.owner.account, job.work_dir, t});
    }
  }
  return out;
}

OperationResult describe_log_streams(const JobRecords& records, const LogsAccess& access, const LogsOptions& options,
                                     const ApiCall& call, const Caller& caller) {
  const json& in = call.input;
  check_group(in);
  const auto prefix = string_field(in, "logStreamNamePrefix");
  const std::string order = string_field(in, "orderBy").value_or("LogStreamName");
  if (order != "LogStreamName" && order != "LastEventTime") {
    throw invalid("orderBy must be LogStreamName or LastEventTime");
  }
  const bool by_time = order == "LastEventTime";
  if (by_time && prefix) throw invalid("Cannot order by LastEventTime with a logStreamNamePrefix.");
  const bool descending = bool_field(in, "descending").value_or(false);
  const auto limit = static_cast<std::size_t>(int_field(in, "limit", 1, 50).value_or(50));

  std::vector<Listed> streams = visible_streams(records, access, caller, prefix.value_or(""));
  auto key = [&](const Listed& s) { return std::make_tuple(by_time ? s.order_time : 0, s.info.stream); };
  std::sort(streams.begin(), streams.end(), [&](const Listed& a, const Listed& b) {
    return descending ? key(b) < key(a) : key(a) < key(b);
  });

  const std::string context = fmt::format("describe|{}|{}|{}", order, descending, prefix.value_or(""));
  std::size_t begin = 0;
  if (auto token = string_field(in, "nextToken")) {
    auto payload = unseal(*token, context);
    const std::size_t comma = payload ? payload->find(',') : std::string::npos;
    if (comma == std::string::npos) throw invalid_token();
    std::int64_t t = 0;
    try {
      t = std::stoll(payload->substr(0, comma));
    } catch (const std::exception&) {
      throw invalid_token();
    }
    const auto after = std::make_tuple(t, payload->substr(comma + 1));
    while (begin < streams.size() && (descending ? !(key(streams[begin]) < after) : !(after < key(streams[begin])))) {
      ++begin;
    }
  }

  json out = json::object();
  json list = json::array();
  const std::size_t end = std::min(streams.size(), begin + limit);
  for (std::size_t i = begin; i < end; ++i) {
    const StreamInfo& s = streams[i].info;
    json row = {{"logStreamName", s.stream},
                {"creationTime", s.creation_ms},
                {"lastIngestionTime", s.last_ingestion_ms},
                {"arn", fmt::format("arn:aws:logs:{}:{}:log-group:{}:log-stream:{}", options.region,
                                    streams[i].account, kTrainingJobsLogGroup, s.stream)},
                {"storedBytes", 0}};
    if (s.first_event_ms) row["firstEventTimestamp"] = *s.first_event_ms;
    if (s.last_event_ms) row["lastEventTimestamp"] = *s.last_event_ms;
    list.push_back(std::move(row));
  }
  out["logStreams"] = std::move(list);
  if (end < streams.size()) {
    const Listed& last = streams[end - 1];
    out["nextToken"] = seal(fmt::format("{},{}", by_time ? last.order_time : 0, last.info.stream), context);
  }
  return OperationResult{std::move(out), {}};
}

// The stream a request names, its job checked with `access`, opened: or ResourceNotFoundException.
std::pair<StreamName, HostLog> open_stream(const JobRecords& records, const LogsAccess& access, const Caller& caller,
                                           const std::string& stream) {
  auto name = parse_stream_name(stream);
  if (!name) throw stream_not_found();
  auto job = records.get(name->job);
  if (!job || job->name != name->job) throw stream_not_found();
  access(caller, *job);
  auto log = HostLog::open(job->work_dir, name->host);
  if (!log || log->epoch() != name->epoch) throw stream_not_found();
  return {std::move(*name), std::move(*log)};
}

std::uint64_t token_offset(const HostLog& log, std::string_view payload) {
  std::uint64_t offset = 0;
  try {
    std::size_t used = 0;
    offset = std::stoull(std::string(payload), &used);
    if (used != payload.size() || payload.empty() || !std::isdigit(static_cast<unsigned char>(payload[0]))) {
      throw invalid_token();
    }
  } catch (const std::logic_error&) {
    throw invalid_token();
  }
  if (!log.valid_position(offset)) throw invalid_token();
  return offset;
}

json event_json(const LogEvent& ev) {
  return {{"timestamp", ev.timestamp}, {"message", ev.message}, {"ingestionTime", ev.timestamp}};
}

OperationResult get_log_events(const JobRecords& records, const LogsAccess& access, const ApiCall& call,
                               const Caller& caller) {
  const json& in = call.input;
  check_group(in);
  const auto stream = string_field(in, "logStreamName");
  if (!stream || stream->empty()) throw invalid("logStreamName is required");
  auto [name, log] = open_stream(records, access, caller, *stream);
  const ReadLimits limits = time_limits(in, true);

  bool forward = bool_field(in, "startFromHead").value_or(false);
  std::uint64_t offset = 0;
  if (auto token = string_field(in, "nextToken")) {
    if (token->size() < 3 || (token->rfind("f/", 0) != 0 && token->rfind("b/", 0) != 0)) throw invalid_token();
    auto payload = unseal(std::string_view(*token).substr(2), *stream);
    if (!payload) throw invalid_token();
    forward = (*token)[0] == 'f';
    offset = token_offset(log, *payload);
  } else if (forward) {
    offset = limits.start_ms ? log.seek_time(*limits.start_ms) : 0;
  } else {
    offset = log.complete_end();
  }

  ReadPage page = forward ? log.read_forward(offset, limits) : log.read_backward(offset, limits);
  std::uint64_t next_forward = 0, next_backward = 0;
  if (forward) {
    next_forward = page.next;
    next_backward = page.events.empty() ? offset : page.events.front().offset;
  } else {
    next_forward = offset;
    next_backward = page.next;
  }
  json events = json::array();
  for (const LogEvent& ev : page.events) events.push_back(event_json(ev));
  json out = {{"events", std::move(events)},
              {"nextForwardToken", "f/" + seal(std::to_string(next_forward), *stream)},
              {"nextBackwardToken", "b/" + seal(std::to_string(next_backward), *stream)}};
  return OperationResult{std::move(out), {}};
}


// FilterLogEvents: one cursor per stream searched, merged in time order.
struct Cursor {
  std::string stream;
  HostLog log;
  LineReader reader;
  std::string id_prefix;          // the eventIds' first digits: the stream's
  std::optional<LogEvent> head;   // the next event that matches
  std::uint64_t resume = 0;       // where this stream's search goes on
  bool complete = false;          // read to its end (or past endTime)
};

void advance(Cursor& c, const ReadLimits& limits, const FilterPattern& pattern, std::uint64_t& budget) {
  c.head.reset();
  for (;;) {
    c.resume = c.reader.position();
    if (budget == 0) return;  // the answer goes out with what was found; the token resumes here
    auto line = c.reader.next();
    if (!line) {
      c.complete = true;
      return;
    }
    const std::uint64_t size = line->end - line->offset;
    budget = budget > size ? budget - size : 0;
    auto ev = make_event(line->text, line->offset, line->end, c.log.host());
    if (!ev) continue;
    if (limits.end_ms && ev->timestamp > *limits.end_ms) {
      c.complete = true;
      return;
    }
    if (limits.start_ms && ev->timestamp < *limits.start_ms) continue;
    if (!pattern.matches(ev->message)) continue;
    c.head = std::move(ev);
    return;
  }
}

// The streams a FilterLogEvents names (logStreamNames, or a prefix), those of jobs the caller may
// not see left out, in name order.
std::vector<std::pair<std::string, HostLog>> filter_streams(const JobRecords& records, const LogsAccess& access,
                                                            const Caller& caller, const json& in,
                                                            const std::optional<std::string>& prefix) {
  std::vector<std::pair<std::string, HostLog>> out;
  auto names = in.find("logStreamNames");
  if (names != in.end() && !names->is_null()) {
    if (!names->is_array() || names->empty() || names->size() > 100) {
      throw invalid("logStreamNames must be a list of 1 to 100 names");
    }
    std::set<std::string> seen;
    for (const json& n : *names) {
      if (!n.is_string()) throw invalid("logStreamNames must be a list of 1 to 100 names");
      const std::string stream = n.get<std::string>();
      if (!seen.insert(stream).second) continue;
      try {
        auto [name, log] = open_stream(records, access, caller, stream);
        out.emplace_back(stream, std::move(log));
      } catch (const ApiFailure&) {
        // not there, or not the caller's to see: searched as an empty stream
      }
    }
  } else {
    for (Listed& s : visible_streams(records, access, caller, prefix.value_or(""))) {
      auto log = HostLog::open(s.work_dir, s.info.name.host);
      if (log && log->epoch() == s.info.name.epoch) out.emplace_back(s.info.stream, std::move(*log));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

OperationResult filter_log_events(const JobRecords& records, const LogsAccess& access, const LogsOptions& options,
                                  const ApiCall& call, const Caller& caller) {
  const json& in = call.input;
  check_group(in);
  const auto prefix = string_field(in, "logStreamNamePrefix");
  if (prefix && in.contains("logStreamNames") && !in["logStreamNames"].is_null()) {
    throw invalid("logStreamNames and logStreamNamePrefix cannot both be given.");
  }
  const ReadLimits limits = time_limits(in, false);
  const std::string pattern_text = string_field(in, "filterPattern").value_or("");
  FilterPattern pattern;
  try {
    pattern = parse_filter_pattern(pattern_text);
  } catch (const Error& e) {
    throw invalid(e.message());
  }
  json query = {{"names", in.value("logStreamNames", json())}, {"prefix", prefix.value_or("")},
                {"start", limits.start_ms.value_or(-1)}, {"end", limits.end_ms.value_or(-1)},
                {"pattern", pattern_text}};
  const std::string context = "filter|" + query.dump();

  auto streams = filter_streams(records, access, caller, in, prefix);
  if (streams.size() > options.max_filter_streams) {
    throw invalid(fmt::format("this search would read {} log streams, more than the {} one call may: name them "
                              "with logStreamNames or narrow logStreamNamePrefix",
                              streams.size(), options.max_filter_streams));
  }
  // The token: "<stream>@<offset>,..." for every stream searched before.
  std::map<std::string, std::string> resumed;
  if (auto token = string_field(in, "nextToken")) {
    auto payload = unseal(*token, context);
    if (!payload) throw invalid_token();
    std::string_view rest = *payload;
    while (!rest.empty()) {
      const std::size_t comma = std::min(rest.find(','), rest.size());
      std::string_view item = rest.substr(0, comma);
      const std::size_t at = item.rfind('@');
      if (at == std::string_view::npos) throw invalid_token();
      resumed[std::string(item.substr(0, at))] = std::string(item.substr(at + 1));
      rest.remove_prefix(std::min(comma + 1, rest.size()));
    }
  }
  std::uint64_t budget = options.filter_scan_bytes;
  std::vector<Cursor> cursors;
  cursors.reserve(streams.size());
  for (auto& [stream, log] : streams) {
    auto r = resumed.find(stream);
    const std::uint64_t from = r != resumed.end()      ? token_offset(log, r->second)
                               : limits.start_ms ? log.seek_time(*limits.start_ms)
                                                 : 0;
    const std::string digest = hex_encode(sha256(stream).substr(0, 6));
    LineReader reader(log.fd(), from, 8192);
    cursors.push_back(Cursor{stream, std::move(log), std::move(reader), fmt::format("{:015d}", std::stoull(digest, nullptr, 16)), {}, from, false});
    advance(cursors.back(), limits, pattern, budget);
  }

  json events = json::array();
  std::size_t bytes = 0;
  while (events.size() < limits.max_events) {
    Cursor* next = nullptr;
    for (Cursor& c : cursors) {
      if (c.head && (!next || c.head->timestamp < next->head->timestamp)) next = &c;
    }
    if (!next) break;
    const std::size_t cost = next->head->message.size() + kEventOverhead;
    if (!events.empty() && bytes + cost > kMaxResponseBytes) break;
    bytes += cost;
    json ev = event_json(*next->head);
    ev["logStreamName"] = next->stream;
    ev["eventId"] = fmt::format("{}{:020d}", next->id_prefix, next->head->offset);
    events.push_back(std::move(ev));
    advance(*next, limits, pattern, budget);
  }

  json searched = json::array();
  std::string payload;
  bool more = false;
  for (const Cursor& c : cursors) {
    const bool done = c.complete && !c.head;
    more = more || !done;
    searched.push_back({{"logStreamName", c.stream}, {"searchedCompletely", done}});
    if (!payload.empty()) payload += ',';
    payload += fmt::format("{}@{}", c.stream, c.head ? c.head->offset : c.resume);
  }
  json out = {{"events", std::move(events)}, {"searchedLogStreams", std::move(searched)}};
  if (more) out["nextToken"] = seal(payload, context);
  return OperationResult{std::move(out), {}};
}

}  // namespace

std::map<std::string, Operation> logs_operations(JobRecords& records, LogsAccess access, LogsOptions options) {
  std::map<std::string, Operation> ops;
  ops["logs.DescribeLogStreams"] = [&records, access, options](const ApiCall& call, const Caller& caller) {
    return describe_log_streams(records, access, options, call, caller);
  };
  ops["logs.GetLogEvents"] = [&records, access](const ApiCall& call, const Caller& caller) {
    return get_log_events(records, access, call, caller);
  };
  ops["logs.FilterLogEvents"] = [&records, access, options](const ApiCall& call, const Caller& caller) {
    return filter_log_events(records, access, options, call, caller);
  };
  return ops;
}

}  // namespace sluice::serve
