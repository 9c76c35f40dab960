#ifndef TARIFF_ALERT_SERVER_SERVICE_WRITE_SCHEDULER_H_
#define TARIFF_ALERT_SERVER_SERVICE_WRITE_SCHEDULER_H_

// Threads that start streams' writes. The hub hands alerts to the streams
// under its lock; a stream that has nothing in flight then asks for a write
// here instead of writing on the publisher's thread. Publishing to N streams
// thus costs N queue pushes, the writes of different streams go out on
// several cores at once, and whatever queues for a stream until its turn
// goes out in the same write (server/fanout/subscriber_queue.h).

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace tariffalert {

class ScheduledWriter {
 public:
  virtual ~ScheduledWriter() = default;
  // Called once per Schedule, on one of the scheduler's threads.
  virtual void RunScheduledWrite() = 0;
};

class WriteScheduler {
 public:
  // `threads` 0: one per core.
  explicit WriteScheduler(size_t threads);
  // Runs what is still scheduled, then joins the threads.
  ~WriteScheduler();
  WriteScheduler(const WriteScheduler&) = delete;
  WriteScheduler& operator=(const WriteScheduler&) = delete;

  // A shard for a new writer: writers are spread over the threads in turn,
  // and each keeps its thread, so its writes stay in order.
  size_t NextShard();
  // Runs w->RunScheduledWrite() on the shard's thread soon. `w` must stay
  // alive until then.
  void Schedule(size_t shard, ScheduledWriter* w);
  size_t thread_count() const { return workers_.size(); }

 private:
  class Worker;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<size_t> next_shard_{0};
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_WRITE_SCHEDULER_H_
