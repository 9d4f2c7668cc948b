#include "store/object_store.hpp"

#include <future>

namespace sluice::store {

std::vector<ObjectInfo> list_all(ObjectStore& store, const std::string& prefix,
                                 const std::function<void(size_t listed)>& progress) {
  std::vector<ObjectInfo> all;
  ListRequest req;
  req.prefix = prefix;
  for (;;) {
    ListPage page = store.list(req);
    for (auto& o : page.objects) all.push_back(std::move(o));
    if (progress) progress(all.size());
    if (page.next_continuation_token.empty()) break;
    req.continuation_token = std::move(page.next_continuation_token);
  }
  return all;
}

std::string get_string(ObjectStore& store, const GetRequest& request) {
  std::string out;
  std::promise<void> p;
  auto f = p.get_future();
  store.get(
      request,
      [&out](const char* d, size_t n) {
        out.append(d, n);
        return true;
      },
      [&p](std::exception_ptr e) {
        if (e) p.set_exception(e); else p.set_value();
      });
  f.get();
  return out;
}

}  // namespace sluice::store
