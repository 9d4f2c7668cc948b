// Which objects of a channel a host receives, and in what order, epoch by epoch
// (what SageMaker says, and Sluice's choices: docs/sharding-and-shuffling.md).
// Pure functions over indices into the channel's ordered list (source order: keys in UTF-8 byte
// order for S3Prefix, manifest order for ManifestFile, line order for AugmentedManifestFile), so
// they apply to objects and to augmented-manifest lines alike.
//
//   order(epoch) = the identity                                without ShuffleConfig
//                = shuffle_permutation(n, Seed, epoch)          with it (shuffle.hpp)
//   FullyReplicated: every host gets order(epoch)
//   ShardedByS3Key:  the host of rank r (its position in resourceconfig.json's "hosts") out of N
//                    gets order(epoch)[k] for every k with k mod N == r, in increasing k
//
// Shuffle first, then deal: with ShuffleConfig a host's share changes from epoch to epoch, and
// the shares of one epoch are still disjoint and cover everything. Without ShuffleConfig the
// epoch is ignored. File and FastFile channels are resolved once, as epoch 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::dataset {

// S3DataSource.S3DataDistributionType.
enum class Distribution { kFullyReplicated, kShardedByS3Key };

struct ShardPlan {
  Distribution distribution = Distribution::kFullyReplicated;
  std::vector<std::string> hosts;  // resourceconfig.json "hosts", in its order: rank = position
  std::string current_host;        // resourceconfig.json "current_host"
  std::optional<int64_t> shuffle_seed;  // ShuffleConfig.Seed
};

// The position of current_host in hosts. Throws Error(kInvalidInput) when hosts is empty, names a
// host twice, or does not contain current_host.
size_t host_rank(const std::vector<std::string>& hosts, std::string_view current_host);

// The channel's order in an epoch: the identity, or the seeded permutation.
std::vector<size_t> epoch_order(size_t n, std::optional<int64_t> shuffle_seed, uint64_t epoch);

// Round-robin deal of `order` to host `rank` of `host_count`: order[rank], order[rank + N], ...
std::vector<size_t> deal(const std::vector<size_t>& order, size_t rank, size_t host_count);

// What plan.current_host receives from a list of n items in `epoch`, in delivery order (indices
// into the list). Validates the plan like host_rank. A host with nothing to receive (more hosts
// than items with ShardedByS3Key) gets an empty share: not an error here, as in SageMaker ("some
// nodes won't get any data"); the caller may warn.
std::vector<size_t> share_for_epoch(size_t n, const ShardPlan& plan, uint64_t epoch);

// The items at `indices`, in that order.
template <class T>
std::vector<T> select(const std::vector<T>& items, const std::vector<size_t>& indices) {
  std::vector<T> out;
  out.reserve(indices.size());
  for (size_t i : indices) out.push_back(items[i]);
  return out;
}

// The total of items[i].size over a share (for the "is there room" check before a download).
template <class T>
uint64_t share_bytes(const std::vector<T>& items, const std::vector<size_t>& indices) {
  uint64_t total = 0;
  for (size_t i : indices) total += static_cast<uint64_t>(items[i].size);
  return total;
}

}  // namespace sluice::dataset
