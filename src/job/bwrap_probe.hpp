// Whether bubblewrap can run here: found (SLUICE_BWRAP, else PATH) and tried once per process
// with the flags every sandbox gets.
#pragma once

#include <string>
#include <vector>

namespace sluice::job {

// The namespace and lifetime flags every sandbox gets (the probe too), with the capabilities the
// command keeps.
std::vector<std::string> common_bwrap_flags();

struct Probe {
  // ok: `bwrap ... true` succeeded; else why_not says why.
  bool ok = false;
  std::string bwrap;
  std::string why_not;
};

// The probe's result, run on first use (thread-safe) and kept for the process.
const Probe& probe();

}  // namespace sluice::job
