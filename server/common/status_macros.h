#ifndef TARIFF_ALERT_SERVER_COMMON_STATUS_MACROS_H_
#define TARIFF_ALERT_SERVER_COMMON_STATUS_MACROS_H_

// Abseil 20220623 (Debian bookworm) ships no status macros; these two are the
// project's own.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TA_STATUS_CONCAT_INNER_(a, b) a##b
#define TA_STATUS_CONCAT_(a, b) TA_STATUS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function if it is not OK.
#define TA_RETURN_IF_ERROR(expr)              \
  do {                                        \
    const ::absl::Status ta_status_ = (expr); \
    if (!ta_status_.ok()) return ta_status_;  \
  } while (0)

// `TA_ASSIGN_OR_RETURN(auto x, F());` assigns the value of a StatusOr or
// returns its error.
#define TA_ASSIGN_OR_RETURN(lhs, expr)                                      \
  TA_ASSIGN_OR_RETURN_IMPL_(TA_STATUS_CONCAT_(ta_statusor_, __LINE__), lhs, \
                            expr)

#define TA_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)     \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // TARIFF_ALERT_SERVER_COMMON_STATUS_MACROS_H_
