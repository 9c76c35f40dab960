#ifndef TARIFF_ALERT_SERVER_COMMON_WORK_POOL_H_
#define TARIFF_ALERT_SERVER_COMMON_WORK_POOL_H_

// A few threads for work that may block (a round trip to Redis, a publish
// waiting for its commit) or run long (a scenario of 200 events), so that
// gRPC's own threads, which drive every other call, never do. Bounded: a
// task beyond `max_queued` waiting is refused, and the caller answers
// "busy" instead of queueing without end.

#include <cstddef>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace tariffalert {

class WorkPool {
 public:
  // `threads` >= 1.
  WorkPool(std::string name, size_t threads, size_t max_queued);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues `task` to run on one of the threads; false (and `task` dropped
  // unrun) once Stop() began or when max_queued tasks already wait.
  bool Post(absl::AnyInvocable<void() &&> task) ABSL_LOCKS_EXCLUDED(mu_);

  // Refuses new tasks, runs the ones queued, and joins the threads.
  // Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Tasks waiting for a thread now.
  size_t queued() const ABSL_LOCKS_EXCLUDED(mu_);
  const std::string& name() const { return name_; }

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string name_;
  const size_t max_queued_;
  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_COMMON_WORK_POOL_H_
