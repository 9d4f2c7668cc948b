// expect_error(fn, kind, {parts...}): fn must throw sluice::Error of that kind whose message has
// every part; returns the Error for further checks (a failure is recorded, not thrown, otherwise).
// Header-only, for the tests.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "core/error.hpp"

namespace sluice::testing {

template <class F>
Error expect_error(F&& fn, ErrorKind kind, std::initializer_list<std::string> parts = {}) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (const std::string& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    return e;
  }
  ADD_FAILURE() << "no sluice::Error of kind " << to_string(kind) << " was thrown";
  return Error(ErrorKind::kInternal, "nothing thrown");
}

}  // namespace sluice::testing
