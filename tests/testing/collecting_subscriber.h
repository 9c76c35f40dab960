#ifndef TARIFF_ALERT_TESTS_TESTING_COLLECTING_SUBSCRIBER_H_
#define TARIFF_ALERT_TESTS_TESTING_COLLECTING_SUBSCRIBER_H_

// A hub Subscriber that decodes and keeps every alert it is handed, as a live
// stream's client would receive them. Not thread-safe: for tests that publish
// on the test's own thread.

#include <vector>

#include "gtest/gtest.h"
#include "server/fanout/alert_hub.h"
#include "tariffalert/v1/alert_service.pb.h"

namespace tariffalert::testing {

class CollectingSubscriber : public Subscriber {
 public:
  const AlertFilter& filter() const override { return filter_; }
  bool Deliver(absl::Span<const EncodedAlertPtr> alerts, bool) override {
    for (const auto& a : alerts) {
      v1::SubscribeAlertsResponse r;
      EXPECT_TRUE(r.ParseFromArray(a->bytes.begin(),
                                   static_cast<int>(a->bytes.size())));
      for (const auto& alert : r.alerts()) received.push_back(alert);
    }
    return true;
  }
  void DeliverHeartbeat(const grpc::Slice&, uint64_t) override {}
  void End(const absl::Status&) override {}
  QueueRoom Room() override { return QueueRoom{1u << 30, 1u << 30}; }
  // Delivers at once: nothing waits in a queue.
  QueueSize Queued() override { return {}; }

  std::vector<v1::Alert> received;

 private:
  AlertFilter filter_;
};

}  // namespace tariffalert::testing

#endif  // TARIFF_ALERT_TESTS_TESTING_COLLECTING_SUBSCRIBER_H_
