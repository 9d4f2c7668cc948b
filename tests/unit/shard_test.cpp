// Sharding and per-epoch order (dataset/shard.hpp): FullyReplicated, ShardedByS3Key round robin
// by host rank, shuffle-then-deal with ShuffleConfig, and the invariants every epoch must keep.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dataset/shard.hpp"
#include "dataset/shuffle.hpp"

namespace sluice::dataset {
namespace {

std::vector<std::string> hosts_of(size_t n) {
  std::vector<std::string> hosts;
  for (size_t i = 1; i <= n; ++i) hosts.push_back("algo-" + std::to_string(i));
  return hosts;
}

ShardPlan plan(Distribution d, size_t host_count, size_t me, std::optional<int64_t> seed = std::nullopt) {
  ShardPlan p;
  p.distribution = d;
  p.hosts = hosts_of(host_count);
  p.current_host = p.hosts.at(me);
  p.shuffle_seed = seed;
  return p;
}

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), size_t{0});
  return v;
}

void expect_invalid(const std::vector<std::string>& hosts, const std::string& me, const std::string& part) {
  SCOPED_TRACE(me);
  try {
    host_rank(hosts, me);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
  ShardPlan p;
  p.hosts = hosts;
  p.current_host = me;
  EXPECT_THROW(share_for_epoch(5, p, 0), Error);
}

TEST(HostRank, IsThePositionInTheGivenList) {
  auto hosts = hosts_of(12);  // algo-1 .. algo-12, in the job layer's order
  EXPECT_EQ(host_rank(hosts, "algo-1"), 0u);
  EXPECT_EQ(host_rank(hosts, "algo-2"), 1u);
  EXPECT_EQ(host_rank(hosts, "algo-10"), 9u);  // the list's order, not a re-sort ("algo-10" < "algo-2")
  EXPECT_EQ(host_rank(hosts, "algo-12"), 11u);
  EXPECT_EQ(host_rank({"b", "a"}, "a"), 1u);
}

TEST(HostRank, RefusesBadHostLists) {
  expect_invalid({}, "algo-1", "empty");
  expect_invalid({"algo-1", "algo-2", "algo-1"}, "algo-2", "'algo-1' appears twice");
  expect_invalid({"algo-1", "algo-2"}, "algo-3", "'algo-3' is not one of the hosts (algo-1, algo-2)");
  expect_invalid({"algo-1"}, "", "is not one of the hosts");
}

TEST(Deal, RoundRobin) {
  auto order = iota(10);
  EXPECT_EQ(deal(order, 0, 3), (std::vector<size_t>{0, 3, 6, 9}));
  EXPECT_EQ(deal(order, 1, 3), (std::vector<size_t>{1, 4, 7}));
  EXPECT_EQ(deal(order, 2, 3), (std::vector<size_t>{2, 5, 8}));
  EXPECT_EQ(deal({9, 8, 7, 6, 5}, 1, 2), (std::vector<size_t>{8, 6}));
  EXPECT_TRUE(deal(iota(2), 4, 5).empty());
  EXPECT_TRUE(deal({}, 0, 1).empty());
  EXPECT_THROW(deal(order, 3, 3), Error);
  EXPECT_THROW(deal(order, 0, 0), Error);
}

TEST(Shard, FullyReplicatedGivesEveryHostEverythingInOrder) {
  for (size_t me = 0; me < 4; ++me) {
    for (uint64_t epoch = 0; epoch < 3; ++epoch) {
      EXPECT_EQ(share_for_epoch(25, plan(Distribution::kFullyReplicated, 4, me), epoch), iota(25));
    }
  }
  EXPECT_TRUE(share_for_epoch(0, plan(Distribution::kFullyReplicated, 2, 1), 0).empty());
}

TEST(Shard, FullyReplicatedWithShuffleGivesEveryHostTheSameShuffledOrder) {
  for (uint64_t epoch = 0; epoch < 3; ++epoch) {
    auto expected = shuffle_permutation(25, 9, epoch);
    for (size_t me = 0; me < 4; ++me) {
      EXPECT_EQ(share_for_epoch(25, plan(Distribution::kFullyReplicated, 4, me, 9), epoch), expected);
    }
  }
  EXPECT_NE(share_for_epoch(25, plan(Distribution::kFullyReplicated, 4, 0, 9), 0),
            share_for_epoch(25, plan(Distribution::kFullyReplicated, 4, 0, 9), 1));
}

TEST(Shard, ShardedByS3KeyDealsRoundRobinByRank) {
  EXPECT_EQ(share_for_epoch(10, plan(Distribution::kShardedByS3Key, 3, 0), 0), (std::vector<size_t>{0, 3, 6, 9}));
  EXPECT_EQ(share_for_epoch(10, plan(Distribution::kShardedByS3Key, 3, 1), 0), (std::vector<size_t>{1, 4, 7}));
  EXPECT_EQ(share_for_epoch(10, plan(Distribution::kShardedByS3Key, 3, 2), 0), (std::vector<size_t>{2, 5, 8}));
  EXPECT_EQ(share_for_epoch(7, plan(Distribution::kShardedByS3Key, 1, 0), 0), iota(7));
  // Rank 9 of 12 is algo-10.
  EXPECT_EQ(share_for_epoch(30, plan(Distribution::kShardedByS3Key, 12, 9), 0), (std::vector<size_t>{9, 21}));
}

TEST(Shard, WithoutShuffleTheEpochDoesNotMatter) {
  for (size_t me = 0; me < 3; ++me) {
    auto first = share_for_epoch(50, plan(Distribution::kShardedByS3Key, 3, me), 0);
    for (uint64_t epoch = 1; epoch < 10; ++epoch) {
      EXPECT_EQ(share_for_epoch(50, plan(Distribution::kShardedByS3Key, 3, me), epoch), first);
    }
  }
}

TEST(Shard, ShuffleThenDealGolden) {
  // Seed 42, epoch 1, 20 objects: the permutation is
  // [11,17,13,5,2,12,9,15,6,7,10,16,3,0,4,19,14,18,8,1] (shuffle_test's golden), dealt to 3 hosts.
  EXPECT_EQ(share_for_epoch(20, plan(Distribution::kShardedByS3Key, 3, 0, 42), 1), (std::vector<size_t>{11, 5, 9, 7, 3, 19, 8}));
  EXPECT_EQ(share_for_epoch(20, plan(Distribution::kShardedByS3Key, 3, 1, 42), 1), (std::vector<size_t>{17, 2, 15, 10, 0, 14, 1}));
  EXPECT_EQ(share_for_epoch(20, plan(Distribution::kShardedByS3Key, 3, 2, 42), 1), (std::vector<size_t>{13, 12, 6, 16, 4, 18}));
}

TEST(Shard, SharesAreDisjointCoverEverythingAndAreBalanced) {
  for (size_t hosts = 1; hosts <= 12; ++hosts) {
    for (size_t n = 0; n <= 100; ++n) {
      for (std::optional<int64_t> seed : {std::optional<int64_t>{}, std::optional<int64_t>{3}, std::optional<int64_t>{-99}}) {
        for (uint64_t epoch : {0u, 1u, 5u}) {
          SCOPED_TRACE("hosts " + std::to_string(hosts) + " n " + std::to_string(n) + " seed " +
                       (seed ? std::to_string(*seed) : "none") + " epoch " + std::to_string(epoch));
          std::vector<int> times(n, 0);
          for (size_t me = 0; me < hosts; ++me) {
            auto share = share_for_epoch(n, plan(Distribution::kShardedByS3Key, hosts, me, seed), epoch);
            // Balanced: the first n mod N hosts get one more.
            size_t expected_size = n / hosts + (me < n % hosts ? 1 : 0);
            ASSERT_EQ(share.size(), expected_size);
            for (size_t i : share) {
              ASSERT_LT(i, n);
              ++times[i];
            }
          }
          for (size_t i = 0; i < n; ++i) ASSERT_EQ(times[i], 1) << "object " << i;
        }
      }
    }
  }
}

TEST(Shard, MoreHostsThanObjectsLeavesSomeHostsEmpty) {
  EXPECT_EQ(share_for_epoch(2, plan(Distribution::kShardedByS3Key, 5, 0), 0), (std::vector<size_t>{0}));
  EXPECT_EQ(share_for_epoch(2, plan(Distribution::kShardedByS3Key, 5, 1), 0), (std::vector<size_t>{1}));
  for (size_t me = 2; me < 5; ++me) EXPECT_TRUE(share_for_epoch(2, plan(Distribution::kShardedByS3Key, 5, me), 0).empty());
  EXPECT_TRUE(share_for_epoch(0, plan(Distribution::kShardedByS3Key, 3, 0, 1), 0).empty());
}

TEST(Shard, ShuffleReshardsEveryEpoch) {
  const size_t n = 100, hosts = 4;
  std::set<std::vector<size_t>> shares_of_host0;
  for (uint64_t epoch = 0; epoch < 5; ++epoch) {
    auto share = share_for_epoch(n, plan(Distribution::kShardedByS3Key, hosts, 0, 2024), epoch);
    shares_of_host0.insert(share);
    // Each epoch's share is the deal of that epoch's permutation.
    EXPECT_EQ(share, deal(shuffle_permutation(n, 2024, epoch), 0, hosts));
  }
  EXPECT_EQ(shares_of_host0.size(), 5u);
  // Content moves between hosts, not only the order within a host.
  auto e0 = share_for_epoch(n, plan(Distribution::kShardedByS3Key, hosts, 0, 2024), 0);
  auto e1 = share_for_epoch(n, plan(Distribution::kShardedByS3Key, hosts, 0, 2024), 1);
  std::sort(e0.begin(), e0.end());
  std::sort(e1.begin(), e1.end());
  EXPECT_NE(e0, e1);
}

TEST(Shard, DeterministicAcrossCalls) {
  for (uint64_t epoch = 0; epoch < 4; ++epoch) {
    for (size_t me = 0; me < 3; ++me) {
      auto p = plan(Distribution::kShardedByS3Key, 3, me, 77);
      EXPECT_EQ(share_for_epoch(1000, p, epoch), share_for_epoch(1000, p, epoch));
    }
  }
}

TEST(Shard, EpochOrder) {
  EXPECT_EQ(epoch_order(5, std::nullopt, 3), iota(5));
  EXPECT_EQ(epoch_order(10, 0, 1), shuffle_permutation(10, 0, 1));
}

struct Sized {
  std::string name;
  uint64_t size;
};

TEST(Shard, SelectAndShareBytes) {
  std::vector<Sized> objects = {{"a", 10}, {"b", 20}, {"c", 5'000'000'000ULL}, {"d", 0}, {"e", 7}};
  auto share = share_for_epoch(objects.size(), plan(Distribution::kShardedByS3Key, 2, 0), 0);
  EXPECT_EQ(share, (std::vector<size_t>{0, 2, 4}));
  auto picked = select(objects, share);
  ASSERT_EQ(picked.size(), 3u);
  EXPECT_EQ(picked[1].name, "c");
  EXPECT_EQ(share_bytes(objects, share), 10u + 5'000'000'000ULL + 7u);
  EXPECT_EQ(share_bytes(objects, {}), 0u);
  EXPECT_EQ(share_bytes(objects, iota(5)), 10u + 20u + 5'000'000'000ULL + 0u + 7u);
}

}  // namespace
}  // namespace sluice::dataset
