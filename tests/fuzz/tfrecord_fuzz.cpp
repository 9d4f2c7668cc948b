// Fuzz target: TFRecord and text-line framing (include/sluice/records.hpp). The input is read as
// a TFRecord stream by sluice::TFRecordReader and as lines by sluice::TextLineReader, in short
// reads; corrupt framing must end in sluice::RecordError. Lines joined with '\n' must give the
// input back, and the input framed as one TFRecord must read back as itself.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "records_fuzz.hpp"

using namespace sluice;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = fuzz::as_text(data, size);
  const unsigned seed = size > 0 ? data[0] : 0;

  {
    TFRecordReader reader(fuzz::chunked_source(bytes, seed), fuzz::fuzz_options());
    std::vector<std::string> records;
    const bool clean = fuzz::read_all(reader, records);
    if (clean && reader.offset() != size) fuzz::finding("TFRecord: clean end before the end of the stream");
  }
  {
    TextLineReader reader(fuzz::chunked_source(bytes, seed), fuzz::fuzz_options());
    std::vector<std::string> lines;
    if (!fuzz::read_all(reader, lines)) fuzz::finding("TextLineReader refused input under its limit");
    std::string joined;
    for (const auto& l : lines) joined += l + "\n";
    if (!(joined == bytes || (!bytes.empty() && bytes.back() != '\n' && joined == std::string(bytes) + "\n"))) {
      fuzz::finding("lines joined do not give the input back");
    }
  }

  // One TFRecord holding the input.
  std::string framed(12, '\0');
  const uint64_t len = size;
  for (int i = 0; i < 8; ++i) framed[i] = static_cast<char>(len >> (8 * i));
  const uint32_t len_crc = records_detail::mask_crc(records_detail::crc32c(framed.data(), 8));
  const uint32_t data_crc = records_detail::mask_crc(records_detail::crc32c_table(data, size));
  for (int i = 0; i < 4; ++i) framed[8 + i] = static_cast<char>(len_crc >> (8 * i));
  framed.append(bytes);
  for (int i = 0; i < 4; ++i) framed.push_back(static_cast<char>(data_crc >> (8 * i)));
  TFRecordReader back(fuzz::chunked_source(framed, seed / 5), fuzz::fuzz_options(false));
  std::vector<std::string> records;
  if (!fuzz::read_all(back, records) || records.size() != 1 || records[0] != bytes) {
    fuzz::finding("TFRecord round trip failed");
  }
  return 0;
}
