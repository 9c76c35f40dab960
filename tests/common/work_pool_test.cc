#include "server/common/work_pool.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tariffalert {
namespace {

TEST(WorkPoolTest, RunsEveryTaskPostedOnItsOwnThreads) {
  WorkPool pool("test", 2, 100);
  std::atomic<int> ran{0};
  std::atomic<bool> on_caller{false};
  const std::thread::id caller = std::this_thread::get_id();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(pool.Post([&] {
      if (std::this_thread::get_id() == caller) on_caller = true;
      ++ran;
    }));
  }
  pool.Stop();
  EXPECT_EQ(ran.load(), 50);
  EXPECT_FALSE(on_caller.load());
}

TEST(WorkPoolTest, RefusesTasksBeyondTheQueueBoundWhileItsThreadsAreBusy) {
  WorkPool pool("test", 1, 2);
  absl::Notification started, release;
  ASSERT_TRUE(pool.Post([&] {
    started.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(30));
  }));
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(30)));
  std::atomic<int> ran{0};
  EXPECT_TRUE(pool.Post([&] { ++ran; }));
  EXPECT_TRUE(pool.Post([&] { ++ran; }));
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_FALSE(pool.Post([&] { ran += 100; }));  // a third waiting: refused
  release.Notify();
  pool.Stop();
  EXPECT_EQ(ran.load(), 2);
}

TEST(WorkPoolTest, StopRunsWhatWasQueuedThenRefusesNewTasks) {
  WorkPool pool("test", 1, 10);
  absl::Notification release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Post(
      [&] { release.WaitForNotificationWithTimeout(absl::Seconds(30)); }));
  ASSERT_TRUE(pool.Post([&] { ++ran; }));
  std::thread stopper([&] { pool.Stop(); });
  release.Notify();
  stopper.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_FALSE(pool.Post([&] { ++ran; }));
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace tariffalert
