#include "dataset/shard.hpp"

#include <algorithm>
#include <numeric>

#include "core/error.hpp"
#include "dataset/shuffle.hpp"

namespace sluice::dataset {

size_t host_rank(const std::vector<std::string>& hosts, std::string_view current_host) {
  if (hosts.empty()) throw Error(ErrorKind::kInvalidInput, "invalid host list", "it is empty");
  std::vector<std::string_view> sorted(hosts.begin(), hosts.end());
  std::sort(sorted.begin(), sorted.end());
  if (auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end()) {
    throw Error(ErrorKind::kInvalidInput, "invalid host list", "host '" + std::string(*dup) + "' appears twice");
  }
  auto it = std::find(hosts.begin(), hosts.end(), current_host);
  if (it == hosts.end()) {
    std::string list;
    for (const auto& h : hosts) list += (list.empty() ? "" : ", ") + h;
    throw Error(ErrorKind::kInvalidInput, "invalid host list",
                "the current host '" + std::string(current_host) + "' is not one of the hosts (" + list + ")");
  }
  return static_cast<size_t>(it - hosts.begin());
}

std::vector<size_t> epoch_order(size_t n, std::optional<int64_t> shuffle_seed, uint64_t epoch) {
  if (shuffle_seed) return shuffle_permutation(n, *shuffle_seed, epoch);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  return order;
}

std::vector<size_t> deal(const std::vector<size_t>& order, size_t rank, size_t host_count) {
  if (host_count == 0 || rank >= host_count) {
    throw Error(ErrorKind::kInternal, "deal: rank " + std::to_string(rank) + " out of " + std::to_string(host_count));
  }
  std::vector<size_t> share;
  if (rank < order.size()) share.reserve((order.size() - rank + host_count - 1) / host_count);
  for (size_t k = rank; k < order.size(); k += host_count) share.push_back(order[k]);
  return share;
}

std::vector<size_t> share_for_epoch(size_t n, const ShardPlan& plan, uint64_t epoch) {
  size_t rank = host_rank(plan.hosts, plan.current_host);
  std::vector<size_t> order = epoch_order(n, plan.shuffle_seed, epoch);
  if (plan.distribution == Distribution::kFullyReplicated) return order;
  return deal(order, rank, plan.hosts.size());
}

}  // namespace sluice::dataset
