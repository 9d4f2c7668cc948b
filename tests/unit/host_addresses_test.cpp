// Host addresses (job/host_addresses.hpp): what algo-K resolves to inside a job.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "core/error.hpp"
#include "job/host_addresses.hpp"

namespace sluice::job {
namespace {

using ::testing::HasSubstr;

TEST(HostAddresses, EveryHostOnThisMachineGetsItsOwnLoopbackAddress) {
  std::vector<std::string> hosts;
  for (int k = 1; k <= 300; ++k) hosts.push_back("algo-" + std::to_string(k));
  auto a = loopback_addresses(hosts);
  EXPECT_EQ(a.at("algo-1"), "127.0.1.1");
  EXPECT_EQ(a.at("algo-2"), "127.0.1.2");
  EXPECT_EQ(a.at("algo-255"), "127.0.1.255");
  EXPECT_EQ(a.at("algo-256"), "127.0.2.0");
  EXPECT_EQ(a.at("algo-300"), "127.0.2.44");
  std::set<std::string> distinct;
  for (const auto& [h, addr] : a) distinct.insert(addr);
  EXPECT_EQ(distinct.size(), hosts.size());
}

TEST(HostAddresses, HostsFileInTheEtcHostsFormat) {
  auto a = parse_hosts_file("# the cluster\n10.0.0.5  algo-1 head\n\n10.0.0.6\talgo-2   # worker\nfe80::1 algo-3\n10.9.9.9 algo-1\n",
                            "hosts.txt");
  EXPECT_EQ(a.at("algo-1"), "10.0.0.5");  // the first line naming a host wins
  EXPECT_EQ(a.at("head"), "10.0.0.5");
  EXPECT_EQ(a.at("algo-2"), "10.0.0.6");
  EXPECT_EQ(a.at("algo-3"), "fe80::1");
  try {
    parse_hosts_file("10.0.0.5 algo-1\nnode7 algo-2\n", "hosts.txt");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_THAT(e.what(), HasSubstr("hosts.txt line 2"));
    EXPECT_THAT(e.what(), HasSubstr("'node7' is not an IPv4 or IPv6 address"));
  }
  EXPECT_THROW(parse_hosts_file("10.0.0.5\n", "f"), Error);
  EXPECT_THROW(parse_hosts_file("300.0.0.1 algo-1\n", "f"), Error);
}

TEST(HostAddresses, EveryHostNeedsAnAddress) {
  HostAddresses given = {{"algo-1", "10.0.0.5"}, {"other", "10.0.0.9"}};
  try {
    addresses_of({"algo-1", "algo-2", "algo-3"}, given, "--hosts-file h");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("--hosts-file h"));
    EXPECT_THAT(e.what(), HasSubstr("no address for algo-2, algo-3"));
  }
  auto a = addresses_of({"algo-1"}, given, "h");
  EXPECT_EQ(a.size(), 1u);
}

TEST(HostAddresses, EtcHostsHasLocalhostAndEveryHost) {
  EXPECT_EQ(etc_hosts({{"algo-1", "127.0.1.1"}, {"algo-2", "127.0.1.2"}}),
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\talgo-1\n127.0.1.2\talgo-2\n");
}

}  // namespace
}  // namespace sluice::job
