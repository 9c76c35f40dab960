#ifndef TARIFF_ALERT_TESTS_TESTING_COMMIT_ONE_H_
#define TARIFF_ALERT_TESTS_TESTING_COMMIT_ONE_H_

// One commit to an EventLog, alone in its round trip.

#include <utility>

#include "absl/status/statusor.h"
#include "server/tariff_book/event_log.h"

namespace tariffalert::testing {

inline absl::StatusOr<CommitOutcome> CommitOne(EventLog& log,
                                               const EventCommit& commit) {
  const EventCommit* one[] = {&commit};
  return std::move(log.Commit(one)[0]);
}

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_TESTING_COMMIT_ONE_H_
