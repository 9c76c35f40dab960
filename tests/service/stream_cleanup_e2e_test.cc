// Abandoned streams leave nothing behind: 500 SubscribeAlerts streams (plain,
// with holdings, resuming), with alerts queued, then cancelled by the client
// or cut with its connection; every one leaves the hub and its AlertStream is
// deleted. Real server on 127.0.0.1:0, the test redis-server, callback
// clients; every wait is bounded. RSS is printed, not asserted (the
// allocator makes it noisy).

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/service/alert_stream.h"
#include "tests/clients/tcp_proxy.h"
#include "tests/service/delivery_harness.h"

namespace tariffalert {
namespace {

using testing::DeliveryTestBase;
using testing::Replica;
using testing::RssBytes;

constexpr int kStreams = 500;
constexpr int kChannels = 4;

// What the client side saw, shared by the streams.
struct Tally {
  absl::Mutex mu;
  int first_messages ABSL_GUARDED_BY(mu) = 0;
  int done ABSL_GUARDED_BY(mu) = 0;
  int done_ok ABSL_GUARDED_BY(mu) = 0;

  bool Await(int* counter, int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu);
    auto reached = [&]()
                       ABSL_SHARED_LOCKS_REQUIRED(mu) { return *counter >= n; };
    return mu.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }
};

// A stream that reads until it ends, counting its first message.
class Stream : public grpc::ClientReadReactor<v1::SubscribeAlertsResponse> {
 public:
  Stream(v1::AlertService::Stub* stub, v1::SubscribeAlertsRequest request,
         Tally* tally)
      : request_(std::move(request)), tally_(tally) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    stub->async()->SubscribeAlerts(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    if (!got_first_) {
      got_first_ = true;
      absl::MutexLock lock(&tally_->mu);
      ++tally_->first_messages;
    }
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&tally_->mu);
    ++tally_->done;
    if (status.ok()) ++tally_->done_ok;
  }

 private:
  grpc::ClientContext context_;
  v1::SubscribeAlertsRequest request_;
  v1::SubscribeAlertsResponse response_;
  Tally* const tally_;
  bool got_first_ = false;  // only touched by OnReadDone, one at a time
};

class StreamCleanupE2eTest : public DeliveryTestBase {
 protected:
  void SetUp() override {
    DeliveryTestBase::SetUp();
    // Every stream from one client host: more than its default limit.
    options_.limits.max_streams_per_token = kStreams;
  }

  // Opens kStreams streams to `port` over kChannels connections: a third
  // plain, a third with holdings, a third resuming from the first alert.
  void Open(int port) {
    for (int i = 0; i < kChannels; ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      stubs_.push_back(v1::AlertService::NewStub(
          grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                    grpc::InsecureChannelCredentials(), args)));
    }
    for (int i = 0; i < kStreams; ++i) {
      v1::SubscribeAlertsRequest request;
      if (i % 3 == 1) {
        v1::Holding* h = request.add_holdings();
        h->set_ticker("T01");
        h->set_position_value(1e6);
      } else if (i % 3 == 2) {
        request.set_resume_after_sequence(0);
      }
      streams_.push_back(std::make_unique<Stream>(stubs_[i % kChannels].get(),
                                                  std::move(request), &tally_));
    }
    ASSERT_TRUE(
        tally_.Await(&tally_.first_messages, kStreams, absl::Seconds(60)))
        << "not every stream got its first message";
  }

  // The hub and the process hold no stream any more (bounded wait).
  void ExpectAllGone(Replica& r) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while ((r.server->hub().subscriber_count() != 0 ||
            AlertStream::LiveCalls() != 0) &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_EQ(r.server->hub().subscriber_count(), 0u);
    EXPECT_EQ(AlertStream::LiveCalls(), 0u);
  }

  Tally tally_;
  std::vector<std::unique_ptr<v1::AlertService::Stub>> stubs_;
  std::vector<std::unique_ptr<Stream>> streams_;
};

TEST_F(StreamCleanupE2eTest, CancelledStreamsLeaveTheHubAndAreDeleted) {
  Replica a = Start();
  ASSERT_NE(a.server, nullptr);
  PublishAtLeast(a, 50);  // something to replay
  const uint64_t idle = RssBytes();
  Open(a.server->port());
  ASSERT_EQ(a.server->hub().subscriber_count(), static_cast<size_t>(kStreams));
  EXPECT_EQ(AlertStream::LiveCalls(), static_cast<size_t>(kStreams));
  PublishAtLeast(a, 200);  // queued on every stream as they go
  const uint64_t open = RssBytes();

  for (auto& s : streams_) s->Cancel();
  ASSERT_TRUE(tally_.Await(&tally_.done, kStreams, absl::Seconds(30)));
  ExpectAllGone(a);
  std::printf(
      "RSS (this process, server and clients): idle %.1f MB, %d "
      "streams open %.1f MB, all cancelled %.1f MB\n",
      idle / 1e6, kStreams, open / 1e6, RssBytes() / 1e6);

  // The server goes on serving new streams.
  streams_.clear();
  Tally again;
  v1::SubscribeAlertsRequest request;
  auto s = std::make_unique<Stream>(stubs_[0].get(), request, &again);
  EXPECT_TRUE(again.Await(&again.first_messages, 1, absl::Seconds(10)));
  EXPECT_EQ(AlertStream::LiveCalls(), 1u);
  s->Cancel();
  EXPECT_TRUE(again.Await(&again.done, 1, absl::Seconds(10)));
  ExpectAllGone(a);
}

TEST_F(StreamCleanupE2eTest, StreamsOfAClientWhoseConnectionsDropAreDeleted) {
  Replica a = Start();
  ASSERT_NE(a.server, nullptr);
  PublishAtLeast(a, 50);
  testing::TcpProxy proxy(a.server->port());
  ASSERT_NE(proxy.port(), 0);
  Open(proxy.port());
  ASSERT_EQ(a.server->hub().subscriber_count(), static_cast<size_t>(kStreams));
  PublishAtLeast(a, 200);

  // The client vanishes: its connections are reset under its streams.
  proxy.Cut();
  ASSERT_TRUE(tally_.Await(&tally_.done, kStreams, absl::Seconds(30)));
  {
    absl::MutexLock lock(&tally_.mu);
    EXPECT_EQ(tally_.done_ok, 0);
  }
  ExpectAllGone(a);
}

}  // namespace
}  // namespace tariffalert
