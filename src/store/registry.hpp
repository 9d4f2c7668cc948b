// The stores of a job or a command, each opened once and kept: one per s3:// bucket, one for the
// local file system (file://), found by the Address of an object in it. Thread-safe; a store it
// hands out stays valid for as long as the registry.
//
// `wrap`, when set, decorates each store as it is opened (the authorizing store of a multi-tenant
// job, policy/authorizing_store.hpp): it receives the opened store, which the registry keeps alive
// for as long as the decorator, and the address that opened it; the registry hands out the
// decorator.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "store/address.hpp"
#include "store/object_store.hpp"
#include "store/open.hpp"

namespace sluice::store {

// The store that holds an address, for code that must not know where stores come from (dataset
// sources, Pipe channels, outputs). May be called from several threads at once.
using StoreFor = std::function<ObjectStore&(const Address& where)>;

class Registry {
 public:
  using Wrap = std::function<std::unique_ptr<ObjectStore>(ObjectStore& inner, const Address& where)>;
  // How a store is opened; unset: open_store with `options` (tests open a MemoryStore here).
  using Open = std::function<std::unique_ptr<ObjectStore>(const Address& where)>;
  explicit Registry(StoreOptions options = {}, Wrap wrap = {}, Open open = {})
      : options_(std::move(options)), wrap_(std::move(wrap)), open_(std::move(open)) {}

  // The store holding `where` (its bucket, or the file system), opened on first use.
  ObjectStore& operator()(const Address& where);
  StoreFor store_for() {
    return [this](const Address& where) -> ObjectStore& { return (*this)(where); };
  }

 private:
  struct Slot {
    std::unique_ptr<ObjectStore> inner, wrapped;  // wrapped is destroyed first
  };
  StoreOptions options_;
  Wrap wrap_;
  Open open_;
  std::mutex mu_;
  std::map<std::string, Slot> stores_;  // by Address::store_id()
};

}  // namespace sluice::store
