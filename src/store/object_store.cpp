#include "store/object_store.hpp"

#include <future>

#include "core/error.hpp"

namespace sluice::store {

std::optional<ListPage> Pager::next() {
  if (done_) return std::nullopt;
  ListPage page = store_.list(request_);
  const std::string* greatest = nullptr;  // of this page
  for (const auto& o : page.objects) {
    if (!greatest || o.key > *greatest) greatest = &o.key;
  }
  for (const auto& p : page.common_prefixes) {
    if (!greatest || p > *greatest) greatest = &p;
  }
  const bool first = request_.continuation_token.empty();
  if (greatest && (first || *greatest > greatest_)) {
    greatest_ = *greatest;
    stalled_ = 0;
  } else if (!first && !page.next_continuation_token.empty() && ++stalled_ >= kMaxStalledPages) {
    throw Error(ErrorKind::kInternal, "listing " + store_.describe() + "/" + request_.prefix,
                "the store is not moving forward: " + std::to_string(stalled_) +
                    " pages in a row, each with a new continuation token, listed nothing after '" +
                    greatest_.substr(0, 200) + "', so the listing would never end");
  }
  if (page.next_continuation_token.empty()) {
    done_ = true;
  } else {
    request_.continuation_token = page.next_continuation_token;
  }
  return page;
}

std::vector<ObjectInfo> list_all(ObjectStore& store, const std::string& prefix,
                                 const std::function<void(size_t listed)>& progress) {
  std::vector<ObjectInfo> all;
  ListRequest req;
  req.prefix = prefix;
  Pager pager(store, std::move(req));
  while (auto page = pager.next()) {
    for (auto& o : page->objects) all.push_back(std::move(o));
    if (progress) progress(all.size());
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
