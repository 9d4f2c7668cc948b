#include "formats/recordio.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace sluice::formats {
namespace {

void put_le32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void encode_header(char* out, uint32_t cflag, uint64_t length) {
  put_le32(out, kRecordIOMagic);
  put_le32(out + 4, (cflag << 29) | static_cast<uint32_t>(length));
}

uint64_t padding(uint64_t length) { return (4 - length % 4) % 4; }

constexpr char kZeros[4] = {0, 0, 0, 0};

}  // namespace

RecordIOWrapper::RecordIOWrapper(uint64_t object_size, uint64_t part_size)
    : object_size_(object_size), part_size_(part_size), split_(object_size > part_size + 3) {
  if (part_size < 4 || part_size % 4 != 0 || part_size > kMaxPart) {
    throw Error(ErrorKind::kInvalidInput,
                "RecordIO part size " + std::to_string(part_size) + " is not a multiple of 4 between 4 and " +
                    std::to_string(kMaxPart));
  }
}

void RecordIOWrapper::start_part(const Emit& emit) {
  uint32_t cflag = 0;
  uint64_t length = object_size_;
  if (split_) {
    const uint64_t offset = parts_started_ * part_size_;
    length = std::min(part_size_, object_size_ - offset);
    const bool last = offset + length == object_size_;
    cflag = parts_started_ == 0 ? 1 : (last ? 3 : 2);
  }
  char header[8];
  encode_header(header, cflag, length);
  emit(header, sizeof header);
  ++parts_started_;
  part_left_ = length;
  last_length_ = length;
}

void RecordIOWrapper::feed(const char* data, size_t len, const Emit& emit) {
  if (finished_) throw Error(ErrorKind::kInternal, "RecordIO: bytes fed after finish()");
  if (len > object_size_ - fed_) {
    throw Error(ErrorKind::kDataLoss, "RecordIO: the object has more than its size of " +
                                          std::to_string(object_size_) + " bytes (" +
                                          std::to_string(fed_ + len) + " so far)");
  }
  while (len > 0) {
    if (part_left_ == 0) start_part(emit);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(len, part_left_));
    emit(data, n);
    data += n;
    len -= n;
    part_left_ -= n;
    fed_ += n;
  }
}

void RecordIOWrapper::finish(const Emit& emit) {
  if (finished_) return;
  if (fed_ < object_size_) {
    throw Error(ErrorKind::kDataLoss, "RecordIO: the object ended after " + std::to_string(fed_) + " of " +
                                          std::to_string(object_size_) + " bytes");
  }
  if (parts_started_ == 0) start_part(emit);  // an empty object: its header only
  finished_ = true;
  const uint64_t pad = padding(last_length_);
  if (pad > 0) emit(kZeros, static_cast<size_t>(pad));
}

uint64_t RecordIOWrapper::wrapped_size(uint64_t object_size, uint64_t part_size) {
  if (object_size <= part_size + 3) return 8 + object_size + padding(object_size);
  const uint64_t parts = (object_size + part_size - 1) / part_size;
  const uint64_t last = object_size - (parts - 1) * part_size;
  return 8 * parts + object_size + padding(last);
}

std::string recordio_record(std::string_view payload) {
  if (payload.size() > kRecordIOMaxLength) {
    throw Error(ErrorKind::kInvalidInput, "RecordIO: a single record holds at most " +
                                              std::to_string(kRecordIOMaxLength) + " bytes, not " +
                                              std::to_string(payload.size()));
  }
  std::string out(8 + payload.size() + padding(payload.size()), '\0');
  encode_header(out.data(), 0, payload.size());
  std::copy(payload.begin(), payload.end(), out.begin() + 8);
  return out;
}

}  // namespace sluice::formats
