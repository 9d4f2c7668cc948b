// A job's status when each of its hosts runs in a process of its own (`sluice serve --executor
// slurm`: one `sluice train --host algo-K` per host, each keeping its own record in
// <job>/status/algo-K.json): the job is Failed as soon as one host fails (its reason, naming the
// host), Completed when every host has, Stopped when every host has ended and one was stopped;
// until then InProgress, showing the first host that has not ended.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::serve {

// `hosts`: each host's record in host order (null when it has none yet). Null when no host has one.
// `failed_first`, when known (Probe::failed_host), is the host whose failure is the job's when
// several have failed; else the first Failed host in host order.
nlohmann::json merge_host_statuses(const std::vector<std::pair<std::string, nlohmann::json>>& hosts,
                                   const std::string& failed_first = "");

// The first host whose record is missing or has not ended; empty when every host's has.
std::string first_unfinished_host(const std::vector<std::pair<std::string, nlohmann::json>>& hosts);

}  // namespace sluice::serve
