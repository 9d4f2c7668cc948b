#include "store/memory_store.hpp"

#include <fmt/core.h>

#include <chrono>

#include "core/error.hpp"
#include "core/hash.hpp"

namespace sluice::store {
namespace {

std::string md5_hex(std::string_view data) {
  Digest d(Digest::Algo::kMd5);
  d.update(data);
  return d.finish_hex();
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

MemoryStore::MemoryStore(std::string name, size_t chunk) : name_(std::move(name)), chunk_(std::max<size_t>(chunk, 1)) {}

MemoryStore::Object MemoryStore::stored(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) throw Error(ErrorKind::kNotFound, fmt::format("{}/{}", describe(), key), "no such key");
  return it->second;
}

void MemoryStore::store(const std::string& key, std::string data, std::string etag) {
  std::lock_guard lock(mu_);
  objects_[key] = Object{std::make_shared<const std::string>(std::move(data)), std::move(etag), now_ns()};
}

ListPage MemoryStore::list(const ListRequest& request) {
  std::lock_guard lock(mu_);
  ListPage page;
  const size_t max = static_cast<size_t>(std::max(request.max_keys, 1));
  auto it = request.continuation_token.empty() ? objects_.lower_bound(request.prefix)
                                               : objects_.upper_bound(request.continuation_token);
  std::string last;
  for (; it != objects_.end() && it->first.compare(0, request.prefix.size(), request.prefix) == 0; ++it) {
    if (page.objects.size() + page.common_prefixes.size() == max) {
      page.next_continuation_token = last;
      break;
    }
    const std::string& key = it->first;
    if (!request.delimiter.empty()) {
      const size_t at = key.find(request.delimiter, request.prefix.size());
      if (at != std::string::npos) {
        std::string common = key.substr(0, at + request.delimiter.size());
        page.common_prefixes.push_back(common);
        // The token is the greatest key under the common prefix, so the next page starts past it.
        auto end = it;
        while (std::next(end) != objects_.end() && std::next(end)->first.compare(0, common.size(), common) == 0) ++end;
        it = end;
        last = it->first;
        continue;
      }
    }
    page.objects.push_back({key, it->second.data->size(), it->second.etag, it->second.mtime_ns});
    last = key;
  }
  return page;
}

ObjectInfo MemoryStore::head(const std::string& key) {
  const Object o = stored(key);
  return {key, o.data->size(), o.etag, o.mtime_ns};
}

void MemoryStore::get(const GetRequest& request, DataSink sink, Completion done) {
  try {
    const Object o = stored(request.key);
    if (!request.if_match.empty() && request.if_match != o.etag) {
      throw Error(ErrorKind::kDataLoss, fmt::format("{}/{}", describe(), request.key),
                  "PreconditionFailed: the object changed (ETag " + o.etag + ", expected " + request.if_match + ")");
    }
    const uint64_t size = o.data->size();
    uint64_t first = 0, end = size;
    if (request.range) {
      if (request.range->first >= size || request.range->last < request.range->first) {
        throw Error(ErrorKind::kInvalidInput, fmt::format("{}/{}", describe(), request.key),
                    fmt::format("InvalidRange: bytes={}-{} of {} bytes", request.range->first, request.range->last, size));
      }
      first = request.range->first;
      end = std::min(request.range->last + 1, size);  // like S3: a range past the end is cut short
    }
    for (uint64_t off = first; off < end;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_, end - off));
      if (!sink(o.data->data() + off, n)) {
        throw Error(ErrorKind::kCancelled, fmt::format("{}/{}", describe(), request.key), "stopped by the reader");
      }
      off += n;
    }
  } catch (...) {
    done(std::current_exception());
    return;
  }
  done(nullptr);
}

std::string MemoryStore::put(const std::string& key, Body body, const PutOptions&) {
  std::string data = body.read(fmt::format("{}/{}", describe(), key));
  std::string etag = md5_hex(data);
  store(key, std::move(data), etag);
  return etag;
}

std::string MemoryStore::create_multipart(const std::string& key) {
  std::lock_guard lock(mu_);
  std::string id = fmt::format("upload-{}", next_upload_++);
  uploads_[id].key = key;
  return id;
}

void MemoryStore::upload_part(const std::string& key, const std::string& upload_id, int part_number, Body body,
                              std::function<void(std::exception_ptr, std::string etag)> done) {
  std::string etag;
  try {
    std::string data = body.read(fmt::format("{}/{}", describe(), key));
    etag = md5_hex(data);
    std::lock_guard lock(mu_);
    auto it = uploads_.find(upload_id);
    if (it == uploads_.end() || it->second.key != key) {
      throw Error(ErrorKind::kNotFound, fmt::format("{}/{}", describe(), key), "NoSuchUpload: " + upload_id);
    }
    it->second.parts[part_number] = {etag, std::move(data)};
  } catch (...) {
    done(std::current_exception(), {});
    return;
  }
  done(nullptr, etag);
}

std::string MemoryStore::complete_multipart(const std::string& key, const std::string& upload_id,
                                            const std::vector<std::string>& part_etags) {
  std::string data, digests;
  {
    std::lock_guard lock(mu_);
    auto it = uploads_.find(upload_id);
    if (it == uploads_.end() || it->second.key != key) {
      throw Error(ErrorKind::kNotFound, fmt::format("{}/{}", describe(), key), "NoSuchUpload: " + upload_id);
    }
    for (size_t i = 0; i < part_etags.size(); ++i) {
      auto part = it->second.parts.find(static_cast<int>(i + 1));
      if (part == it->second.parts.end() || part->second.first != part_etags[i]) {
        throw Error(ErrorKind::kInvalidInput, fmt::format("{}/{}", describe(), key),
                    fmt::format("InvalidPart: part {} was not uploaded with ETag {}", i + 1, part_etags[i]));
      }
      data += part->second.second;
      Digest d(Digest::Algo::kMd5);
      d.update(part->second.second);
      digests += d.finish_raw();
    }
    uploads_.erase(it);
  }
  std::string etag = fmt::format("{}-{}", md5_hex(digests), part_etags.size());
  store(key, std::move(data), etag);
  return etag;
}

void MemoryStore::abort_multipart(const std::string&, const std::string& upload_id) {
  std::lock_guard lock(mu_);
  uploads_.erase(upload_id);
}

void MemoryStore::remove(const std::string& key) {
  std::lock_guard lock(mu_);
  objects_.erase(key);  // like S3: removing a missing key succeeds
}

std::optional<std::string> MemoryStore::contents(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return *it->second.data;
}

std::vector<std::string> MemoryStore::keys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, _] : objects_) out.push_back(key);
  return out;
}

size_t MemoryStore::open_uploads() const {
  std::lock_guard lock(mu_);
  return uploads_.size();
}

}  // namespace sluice::store
