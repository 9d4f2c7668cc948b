// A base for in-memory test stores that only list and read (source_test, pager_test): every
// write throws, so a test that writes by mistake fails loudly. Header-only.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "store/object_store.hpp"

namespace sluice::testing {

class ReadOnlyTestStore : public store::ObjectStore {
 public:
  std::string put(const std::string&, store::Body, const store::PutOptions&) override { throw unused("put"); }
  std::string create_multipart(const std::string&) override { throw unused("create_multipart"); }
  void upload_part(const std::string&, const std::string&, int, store::Body,
                   std::function<void(std::exception_ptr, std::string)>) override {
    throw unused("upload_part");
  }
  std::string complete_multipart(const std::string&, const std::string&, const std::vector<std::string>&) override {
    throw unused("complete_multipart");
  }
  void abort_multipart(const std::string&, const std::string&) override { throw unused("abort_multipart"); }
  void remove(const std::string&) override { throw unused("remove"); }

 protected:
  static std::logic_error unused(const char* what) { return std::logic_error(std::string(what) + " is not expected here"); }
};

}  // namespace sluice::testing
