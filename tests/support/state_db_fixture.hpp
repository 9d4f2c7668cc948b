// A test fixture with a fresh state database (serve/state_db.hpp) in a temporary directory and one
// of its stores on it (serve::JobRecords, serve::Sessions). Header-only, for the tests.
#pragma once

#include <gtest/gtest.h>

#include "serve/state_db.hpp"
#include "support/temp_dir.hpp"

namespace sluice::testing {

template <class Store>
class OnStateDb : public ::testing::Test {
 protected:
  TempDir tmp;
  serve::StateDb db{tmp / "state.db"};
  Store store{db};
};

}  // namespace sluice::testing
