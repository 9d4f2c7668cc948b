// Fuzz target: RecordIO framing. The input is read as a RecordIO stream by sluice::RecordIOReader
// (include/sluice/records.hpp), in short reads; corrupt framing must end in sluice::RecordError.
// Then the input, as a payload, is framed by formats::RecordIOWrapper (src/formats/recordio.hpp,
// the writer; small part sizes, so multi-part records occur) and by recordio_record, and read
// back: the reader must return exactly the payload.
#include <cstddef>
#include <cstdint>

#include "formats/recordio.hpp"
#include "fuzz_support.hpp"
#include "records_fuzz.hpp"

using namespace sluice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = fuzz::as_text(data, size);
  const unsigned seed = size > 0 ? data[0] : 0;

  {
    RecordIOReader reader(fuzz::chunked_source(bytes, seed), fuzz::fuzz_options());
    std::vector<std::string> records;
    const bool clean = fuzz::read_all(reader, records);
    if (clean && reader.offset() != size) fuzz::finding("clean end before the end of the stream");
  }

  // Round trip through the writer.
  const uint64_t part_size = 4 * (1 + seed % 8);
  std::string framed;
  formats::RecordIOWrapper w(size, part_size);
  auto emit = [&framed](const char* p, size_t n) { framed.append(p, n); };
  for (size_t pos = 0; pos < size;) {
    const size_t n = std::min<size_t>(size - pos, 1 + (pos * 7 + seed) % 13);
    w.feed(reinterpret_cast<const char*>(data) + pos, n, emit);
    pos += n;
  }
  w.finish(emit);
  if (framed.size() != formats::RecordIOWrapper::wrapped_size(size, part_size)) {
    fuzz::finding("wrapped_size differs from the bytes written");
  }
  framed += formats::recordio_record(bytes);
  RecordIOReader back(fuzz::chunked_source(framed, seed / 3), fuzz::fuzz_options(false));
  std::vector<std::string> records;
  if (!fuzz::read_all(back, records)) fuzz::finding("the reader refused what the writer wrote");
  if (records.size() != 2 || records[0] != bytes || records[1] != bytes) {
    fuzz::finding("the reader did not return the payload the writer framed");
  }
  return 0;
}
