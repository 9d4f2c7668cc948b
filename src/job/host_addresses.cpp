#include "job/host_addresses.hpp"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <sstream>

#include "core/error.hpp"

namespace sluice::job {

HostAddresses loopback_addresses(const std::vector<std::string>& hosts) {
  HostAddresses out;
  for (size_t i = 0; i < hosts.size(); ++i) {
    const size_t k = i + 1;
    out[hosts[i]] = fmt::format("127.0.{}.{}", 1 + k / 256, k % 256);
  }
  return out;
}

HostAddresses parse_hosts_file(std::string_view text, const std::string& shown) {
  HostAddresses out;
  std::istringstream in{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string address, name;
    if (!(words >> address)) continue;
    in6_addr v6;
    in_addr v4;
    if (::inet_pton(AF_INET, address.c_str(), &v4) != 1 && ::inet_pton(AF_INET6, address.c_str(), &v6) != 1) {
      throw Error(ErrorKind::kInvalidInput, fmt::format("{} line {}", shown, number),
                  fmt::format("'{}' is not an IPv4 or IPv6 address (lines are \"ADDRESS algo-K\")", address));
    }
    bool named = false;
    while (words >> name) {
      named = true;
      out.emplace(name, address);  // the first line naming a host wins, as in /etc/hosts
    }
    if (!named) throw Error(ErrorKind::kInvalidInput, fmt::format("{} line {}", shown, number), "an address with no host name");
  }
  return out;
}

HostAddresses addresses_of(const std::vector<std::string>& hosts, const HostAddresses& given, const std::string& shown) {
  HostAddresses out;
  std::string missing;
  for (const auto& h : hosts) {
    auto it = given.find(h);
    if (it == given.end()) {
      missing += (missing.empty() ? "" : ", ") + h;
    } else {
      out[h] = it->second;
    }
  }
  if (!missing.empty()) {
    throw Error(ErrorKind::kInvalidInput, shown, fmt::format("no address for {} (every host of the job needs a line)", missing));
  }
  return out;
}

std::string etc_hosts(const HostAddresses& addresses) {
  std::string text = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  for (const auto& [host, address] : addresses) text += address + "\t" + host + "\n";
  return text;
}

}  // namespace sluice::job
