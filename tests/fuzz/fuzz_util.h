#ifndef TARIFF_ALERT_TESTS_FUZZ_FUZZ_UTIL_H_
#define TARIFF_ALERT_TESTS_FUZZ_FUZZ_UTIL_H_

// Shared by the fuzz targets: what a target does when an invariant fails.
// std::abort is what libFuzzer (and the replay driver) report as a crash, and
// unlike assert it stays on in RelWithDebInfo.

#include <cstdio>
#include <cstdlib>

#define TA_FUZZ_CHECK(cond, what)                                              \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s: %s\n", __FILE__, \
                   __LINE__, #cond, what);                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

#endif  // TARIFF_ALERT_TESTS_FUZZ_FUZZ_UTIL_H_
