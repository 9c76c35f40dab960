#include "server/service/write_scheduler.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tariffalert {

class WriteScheduler::Worker {
 public:
  Worker() : thread_([this] { Run(); }) {}
  ~Worker() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

  void Schedule(ScheduledWriter* w) {
    absl::MutexLock lock(&mu_);
    pending_.push_back(w);
  }

 private:
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || !pending_.empty();
  }

  void Run() {
    std::vector<ScheduledWriter*> batch;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &Worker::HasWork));
        // Stop only once nothing is left: a scheduled writer may be waiting
        // for this call to free itself.
        if (pending_.empty()) return;
        batch.swap(pending_);
      }
      for (ScheduledWriter* w : batch) w->RunScheduledWrite();
      batch.clear();
    }
  }

  absl::Mutex mu_;
  std::vector<ScheduledWriter*> pending_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

WriteScheduler::WriteScheduler(size_t threads) {
  if (threads == 0) {
    threads = std::max<size_t>(1, std::thread::hardware_concurrency());
  }
  for (size_t i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>());
  }
}

WriteScheduler::~WriteScheduler() = default;

size_t WriteScheduler::NextShard() {
  return next_shard_.fetch_add(1, std::memory_order_relaxed) % workers_.size();
}

void WriteScheduler::Schedule(size_t shard, ScheduledWriter* w) {
  workers_[shard % workers_.size()]->Schedule(w);
}

}  // namespace tariffalert
