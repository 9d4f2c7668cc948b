// The text `sluice ls` prints, in the AWS CLI's formats (`aws s3 ls`).
#pragma once

#include <cstdint>
#include <string>

namespace sluice::cli {

// "YYYY-MM-DD HH:MM:SS", UTC.
std::string listing_date(int64_t epoch_ns);

// --human-readable, as the AWS CLI writes sizes: "1 Byte", "512 Bytes", then one decimal and a
// binary unit ("1.0 KiB", "8.0 MiB", "1.5 GiB" ... "EiB"), moving up a unit once the value
// rounds to 1024 of the smaller one (1048524 bytes: "1.0 MiB", not "1024.0 KiB").
std::string human_readable_size(uint64_t bytes);

// --summarize: "\nTotal Objects: N\n   Total Size: S\n" (S human-readable or in bytes).
std::string listing_summary(uint64_t objects, uint64_t bytes, bool human_readable);

}  // namespace sluice::cli
