// MXNet/dmlc RecordIO framing, as SageMaker's RecordWrapperType=RecordIO writes it into a Pipe
// mode FIFO: each object becomes one record (docs/readers.md, "The framing details"; docs/pipe.md).
//
//   record := magic:u32  lrecord:u32  payload[length]  zero padding to a multiple of 4 bytes
//   magic = 0xCED7230A, lrecord = (cflag << 29) | length, both little-endian
//
// Large objects (our choice; what AWS does is not documented): lrecord holds at most 2^29 - 1
// bytes, so an object of 2^29 bytes or more is split into parts of kMaxPart (2^29 - 4, a multiple
// of 4) bytes, the last part holding the rest. The parts carry cflag 1 (first), 2 (middle) and 3
// (last); nothing is removed from the payload and nothing is escaped, the way SageMaker's
// TensorFlow PipeModeDataset reader joins parts and its tests write them. Only the last part is
// padded. dmlc's own reader would re-insert the magic between parts (dmlc uses cflag to escape
// an aligned magic inside the payload), so such objects read back differently there; objects
// below 2^29 bytes are always a single record with cflag 0 and read the same everywhere.
// include/sluice/records.hpp (sluice::RecordIOReader) joins the parts as written here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sluice::formats {

inline constexpr uint32_t kRecordIOMagic = 0xCED7230Au;
inline constexpr uint64_t kRecordIOMaxLength = (uint64_t{1} << 29) - 1;  // the largest length lrecord holds

// Frames one object whose size is known in advance and whose bytes arrive in pieces. Every byte
// is passed to `emit` in order: the header before the first payload byte, the payload pieces as
// given (pointers into the caller's buffer, never copied), a header at every part boundary, and
// the padding from finish(). The pointers handed to `emit` are valid only during the call.
class RecordIOWrapper {
 public:
  using Emit = std::function<void(const char*, size_t)>;

  static constexpr uint64_t kMaxPart = (uint64_t{1} << 29) - 4;

  // `part_size` is for tests: a multiple of 4, at least 4, at most kMaxPart. An object of at most
  // part_size + 3 bytes (2^29 - 1 by default) is one record with cflag 0; a larger one is split
  // into parts of part_size bytes. Throws sluice::Error(kInvalidInput) on a bad part_size.
  explicit RecordIOWrapper(uint64_t object_size, uint64_t part_size = kMaxPart);

  // Passes `len` more bytes of the object through. Throws sluice::Error(kDataLoss), emitting
  // nothing, if the object would grow past object_size.
  void feed(const char* data, size_t len, const Emit& emit);

  // Ends the object: emits the header of an empty object, and the padding of the last part.
  // Throws sluice::Error(kDataLoss) if fewer than object_size bytes were fed. A second call
  // does nothing.
  void finish(const Emit& emit);

  uint64_t fed() const { return fed_; }
  uint64_t object_size() const { return object_size_; }

  // The number of bytes an object of `object_size` bytes becomes (headers, payload, padding).
  static uint64_t wrapped_size(uint64_t object_size, uint64_t part_size = kMaxPart);

 private:
  void start_part(const Emit& emit);

  uint64_t object_size_;
  uint64_t part_size_;
  bool split_;
  uint64_t fed_ = 0;
  uint64_t part_left_ = 0;     // payload bytes still to come in the current part
  uint64_t parts_started_ = 0;
  uint64_t last_length_ = 0;   // length of the part most recently started
  bool finished_ = false;
};

// One complete record (cflag 0) for a payload below 2^29 bytes: tests, augmented-manifest
// attribute values. Throws sluice::Error(kInvalidInput) for a larger payload.
std::string recordio_record(std::string_view payload);

}  // namespace sluice::formats
