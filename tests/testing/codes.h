#ifndef TARIFF_ALERT_TESTS_TESTING_CODES_H_
#define TARIFF_ALERT_TESTS_TESTING_CODES_H_

// Short spellings of countries and HS codes for tests; a typo fails the test.

#include "gtest/gtest.h"
#include "server/common/country.h"
#include "server/common/hs_code.h"

namespace tariffalert::testing {

inline Country C(const char* code) {
  auto c = Country::Parse(code);
  EXPECT_TRUE(c.has_value()) << code;
  return c.value_or(Country());
}

inline HsCode H(const char* code) {
  auto h = HsCode::Parse(code);
  EXPECT_TRUE(h.has_value()) << code;
  return h.value_or(HsCode::All());
}

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_TESTING_CODES_H_
