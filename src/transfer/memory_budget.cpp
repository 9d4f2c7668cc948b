#include "transfer/memory_budget.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "transfer/buffer.hpp"

namespace sluice::transfer {

uint64_t default_memory_limit() {
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  uint64_t ram = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 2ull << 30;
  return std::clamp<uint64_t>(ram / 8, 256ull << 20, 8ull << 30);
}

MemoryBudget::Reservation::Reservation(Reservation&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

MemoryBudget::Reservation& MemoryBudget::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    release();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void MemoryBudget::Reservation::release() {
  if (budget_ && bytes_) budget_->sub(bytes_);
  bytes_ = 0;
}

void MemoryBudget::Reservation::resize(uint64_t bytes) {
  if (!budget_) return;
  if (bytes > bytes_) budget_->add(bytes - bytes_);
  if (bytes < bytes_) budget_->sub(bytes_ - bytes);
  bytes_ = bytes;
}

MemoryBudget::MemoryBudget(uint64_t limit) : limit_(limit), pool_(std::make_unique<ChunkPool>(kChunkSize, limit)) {}

MemoryBudget::~MemoryBudget() = default;

void MemoryBudget::add(uint64_t bytes) {
  std::lock_guard lock(mu_);
  reserved_ += bytes;
  if (reserved_ > peak_) peak_ = reserved_;
}

void MemoryBudget::sub(uint64_t bytes) {
  {
    std::lock_guard lock(mu_);
    reserved_ -= bytes;
  }
  freed_.notify_all();
}

bool MemoryBudget::reserve_if_fits(uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (reserved_ + bytes > limit_) return false;
  reserved_ += bytes;
  if (reserved_ > peak_) peak_ = reserved_;
  return true;
}

std::optional<MemoryBudget::Reservation> MemoryBudget::try_reserve(uint64_t bytes, uint64_t self) {
  if (reserve_if_fits(bytes)) return Reservation(this, bytes);
  {
    // Another thread reclaiming already: this optional work just waits for a later chance.
    std::unique_lock lock(reclaim_mu_, std::try_to_lock);
    if (!lock) return std::nullopt;
    for (auto& [id, reclaim] : reclaimers_) {
      if (id == self) continue;
      if (fits(bytes)) break;
      reclaim(bytes);
    }
  }
  if (reserve_if_fits(bytes)) return Reservation(this, bytes);
  return std::nullopt;
}

MemoryBudget::Reservation MemoryBudget::reserve(uint64_t bytes) {
  add(bytes);
  return Reservation(this, bytes);
}

std::optional<MemoryBudget::Reservation> MemoryBudget::reserve_waiting(uint64_t bytes, const std::function<bool()>& stop) {
  std::unique_lock lock(mu_);
  while (reserved_ + bytes > limit_ && reserved_ > 0) {
    if (stop && stop()) return std::nullopt;
    freed_.wait_for(lock, std::chrono::milliseconds(50));
  }
  if (stop && stop()) return std::nullopt;
  reserved_ += bytes;
  if (reserved_ > peak_) peak_ = reserved_;
  return Reservation(this, bytes);
}

uint64_t MemoryBudget::add_reclaimer(Reclaimer reclaimer) {
  std::lock_guard lock(reclaim_mu_);
  uint64_t id = next_reclaimer_++;
  reclaimers_.emplace(id, std::move(reclaimer));
  return id;
}

void MemoryBudget::remove_reclaimer(uint64_t id) {
  std::lock_guard lock(reclaim_mu_);
  reclaimers_.erase(id);
}

uint64_t MemoryBudget::reserved() const {
  std::lock_guard lock(mu_);
  return reserved_;
}

uint64_t MemoryBudget::peak() const {
  std::lock_guard lock(mu_);
  return peak_;
}

bool MemoryBudget::fits(uint64_t bytes) const {
  std::lock_guard lock(mu_);
  return reserved_ + bytes <= limit_;
}

ChunkPool& MemoryBudget::pool() { return *pool_; }

}  // namespace sluice::transfer
