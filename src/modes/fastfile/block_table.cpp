// FastFile's block table and its LRU (block_table.hpp).
#include "modes/fastfile/block_table.hpp"

namespace sluice::modes::fastfile {

FileState& BlockTable::file(const Node& node) {
  FileState& f = files_[node.ino];
  if (!f.node) {
    f.node = &node;
    f.entry = &ns_.entry(node);
  }
  return f;
}

void BlockTable::touch(FileState& f, uint64_t index, Slot& slot, bool cold) {
  if (!slot.ready) return;
  if (slot.in_lru) lru_.erase(slot.lru);
  slot.cold = cold;
  slot.lru = cold ? lru_.insert(lru_.end(), LruKey{f.node->ino, index}) : lru_.insert(lru_.begin(), LruKey{f.node->ino, index});
  slot.in_lru = true;
}

bool BlockTable::make_room(uint64_t need, bool urgent) {
  if (budget_.fits(need)) return true;
  auto it = lru_.end();
  while (!budget_.fits(need) && it != lru_.begin()) {
    --it;
    auto fit = files_.find(it->ino);
    if (fit == files_.end()) {
      it = lru_.erase(it);
      continue;
    }
    auto sit = fit->second.blocks.find(it->index);
    if (sit == fit->second.blocks.end()) {
      it = lru_.erase(it);
      continue;
    }
    if (!urgent && !sit->second.cold) break;
    if (sit->second.waiters > 0) continue;
    it = lru_.erase(it);
    fit->second.blocks.erase(sit);
    forget_if_unused(fit);
  }
  return budget_.fits(need);
}

void BlockTable::forget_if_unused(Files::iterator it) {
  const FileState& f = it->second;
  if (f.blocks.empty() && f.pending.empty() && f.handles == 0) files_.erase(it);
}

void BlockTable::drop_passed(FileState& f, uint64_t first) {
  while (!f.blocks.empty()) {
    auto it = f.blocks.begin();
    if (it->first + 2 >= first || !it->second.ready || it->second.waiters) break;
    if (it->second.in_lru) lru_.erase(it->second.lru);
    f.blocks.erase(it);
  }
}

}  // namespace sluice::modes::fastfile
