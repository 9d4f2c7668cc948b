// Helpers for the record reader targets (include/sluice/records.hpp): the fuzz input becomes a
// byte stream handed to the reader through the ReadFunction API, in short reads whose sizes the
// input chooses, so buffer boundaries fall everywhere.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "sluice/records.hpp"

namespace sluice::fuzz {

// Reads `bytes` in pieces of 1..`max_piece` bytes (a fixed pattern from `seed`).
inline ReadFunction chunked_source(std::string_view bytes, unsigned seed) {
  const size_t max_piece = seed == 0 ? SIZE_MAX : size_t{1} << (seed % 12);
  return [bytes, pos = size_t{0}, max_piece, step = size_t{seed}](char* buf, size_t cap) mutable -> size_t {
    step = step * 1103515245u + 12345u;
    size_t n = std::min({cap, bytes.size() - pos, max_piece == SIZE_MAX ? SIZE_MAX : 1 + (step >> 8) % max_piece});
    std::memcpy(buf, bytes.data() + pos, n);
    pos += n;
    return n;
  };
}

// The smallest buffer the readers use (64 KiB; larger ones cost an mmap per reader under ASan).
// `limited`: records over 1 MiB are refused, so a corrupt length cannot make a run slow and the
// limit path is exercised too.
inline ReaderOptions fuzz_options(bool limited = true) {
  ReaderOptions o;
  o.buffer_size = 64 * 1024;
  if (limited) o.max_record_size = 1 << 20;
  return o;
}

// Reads every record; RecordError (corrupt or truncated framing) is the documented outcome.
// Returns the records, and whether the stream ended cleanly.
template <class Reader>
bool read_all(Reader& reader, std::vector<std::string>& records) {
  std::string r;
  try {
    while (reader.next(r)) {
      records.push_back(r);
      if (records.size() > 100000) finding("more records than input bytes");
    }
    return true;
  } catch (const RecordError& e) {
    if (std::string_view(e.what()).empty()) finding("RecordError without a message");
    return false;
  }
}

}  // namespace sluice::fuzz
