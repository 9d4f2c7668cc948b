// Where each host of a job can be reached, and the /etc/hosts its command sees (docs/train.md
// "Hosts"): as in SageMaker, `algo-K` resolves inside every host, so distributed training
// (PyTorch DDP/gloo, MPI) can use SM_HOSTS and SM_MASTER_ADDR as they are.
//  - Every host on this machine: algo-K is 127.0.1.K (distinct loopback addresses, so each host
//    can listen on the same port as the others; 127.0.0.0/8 is all loopback).
//  - Hosts on several machines (`sluice train --host algo-K` on each): the addresses come from a
//    hosts file (`--hosts-file`, "ADDRESS NAME..." lines as in /etc/hosts) written by whoever
//    places the hosts (a person, a launcher such as Slurm).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::job {

// host name -> address
using HostAddresses = std::map<std::string, std::string>;

// algo-K -> 127.0.1.K for the K-th host (127.0.(1 + K / 256).(K % 256) past 255).
HostAddresses loopback_addresses(const std::vector<std::string>& hosts);

// Reads /etc/hosts-format text ("ADDRESS NAME [NAME...]", '#' comments, blank lines). Throws
// Error(kInvalidInput) naming `shown` and the line for an address that is not IPv4 or IPv6 or a
// line without a name. Names other than the job's hosts are kept (aliases are harmless).
HostAddresses parse_hosts_file(std::string_view text, const std::string& shown);

// The addresses of `hosts` from `given`. Throws Error(kInvalidInput) naming `shown` and every host
// it has no address for.
HostAddresses addresses_of(const std::vector<std::string>& hosts, const HostAddresses& given, const std::string& shown);

// The /etc/hosts a host's command sees: localhost (IPv4 and IPv6), then one line per host.
std::string etc_hosts(const HostAddresses& addresses);

}  // namespace sluice::job
