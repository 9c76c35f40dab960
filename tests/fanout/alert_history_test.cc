#include "server/fanout/alert_history.h"

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fanout/test_alerts.h"
#include "tests/testing/fake_clock.h"

namespace tariffalert {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using testing::EventAlert;

class AlertHistoryTest : public ::testing::Test {
 protected:
  AlertHistoryTest() : hub_(Options(), clock_) {
    // 30 alerts created at 10, 20, ..., 300 s; AAPL every third.
    for (uint64_t seq = 1; seq <= 30; ++seq) {
      hub_.Publish({EventAlert(seq, "e" + std::to_string(seq),
                               seq % 3 == 0 ? "AAPL" : "NKE", -100, -1,
                               static_cast<int64_t>(seq) * 10)});
    }
  }
  static HubOptions Options() {
    HubOptions o;
    o.heartbeat_interval = absl::ZeroDuration();
    return o;
  }
  // Parses what the service would send.
  static v1::ListAlertsResponse Wire(const AlertHistoryPage& page) {
    std::string bytes;
    for (const grpc::Slice& s : EncodeListAlertsResponse(page)) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    v1::ListAlertsResponse r;
    EXPECT_TRUE(r.ParseFromString(bytes));
    return r;
  }
  // Every page of `request`, its sequences in order.
  std::vector<uint64_t> AllPages(v1::ListAlertsRequest request, int* pages) {
    std::vector<uint64_t> out;
    *pages = 0;
    do {
      auto page = ListLoggedAlerts(hub_, request);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      const v1::ListAlertsResponse r = Wire(*page);
      for (const auto& a : r.alerts()) out.push_back(a.sequence());
      request.set_page_token(r.next_page_token());
      ++*pages;
    } while (!request.page_token().empty() && *pages < 100);
    return out;
  }

  testing::FakeClock clock_;
  AlertHub hub_;
};

TEST_F(AlertHistoryTest, PagesCoverTheMatchingAlertsOnceInOrder) {
  v1::ListAlertsRequest request;
  request.mutable_filter()->add_tickers("AAPL");
  request.mutable_start_time()->set_seconds(60);  // sequences 6..
  request.mutable_end_time()->set_seconds(250);   // ..24
  request.set_page_size(2);
  int pages = 0;
  EXPECT_THAT(AllPages(request, &pages), ElementsAre(6, 9, 12, 15, 18, 21, 24));
  EXPECT_EQ(pages, 4);
}

// Found by tests/fuzz/alert_log_fuzz.cc: a logged created_time past the
// int64 microsecond range (here 2^64 / 10^6 + 300 s) overflowed seconds *
// 10^6 and wrapped to 300.45 s. It saturates instead: after every range.
TEST_F(AlertHistoryTest,
       AnAlertStampedPastTheMicrosecondRangeIsNotTakenForAnEarlyOne) {
  hub_.Publish(
      {EventAlert(31, "e31", "AAPL", -100, -1, int64_t{18446744073710} + 300)});
  v1::ListAlertsRequest request;
  request.mutable_filter()->add_tickers("AAPL");
  request.mutable_start_time()->set_seconds(250);
  request.mutable_end_time()->set_seconds(400);
  int pages = 0;
  EXPECT_THAT(AllPages(request, &pages), ElementsAre(27, 30));
}

TEST_F(AlertHistoryTest, TheResponseCarriesTheAlertsTokenAndOldestSequence) {
  v1::ListAlertsRequest request;
  request.set_page_size(5);
  auto page = ListLoggedAlerts(hub_, request);
  ASSERT_TRUE(page.ok()) << page.status();
  const v1::ListAlertsResponse r = Wire(*page);
  ASSERT_EQ(r.alerts_size(), 5);
  EXPECT_EQ(r.alerts(4).sequence(), 5u);
  EXPECT_EQ(r.alerts(0).subject(), "NKE");
  EXPECT_FALSE(r.next_page_token().empty());
  EXPECT_EQ(r.oldest_sequence(), 1u);
}

TEST_F(AlertHistoryTest, PageSizeDefaultsTo100AndIsCappedAt1000) {
  AlertHub big(Options(), clock_);
  for (uint64_t seq = 1; seq <= 1500; ++seq) {
    big.Publish({EventAlert(seq, "e", "AAPL", -100, -1)});
  }
  v1::ListAlertsRequest request;
  auto page = ListLoggedAlerts(big, request);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->alerts.size(), kDefaultPageSize);
  request.set_page_size(5000);
  page = ListLoggedAlerts(big, request);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->alerts.size(), kMaxPageSize);
}

TEST_F(AlertHistoryTest, AnEmptyLogGivesAnEmptyResponse) {
  AlertHub empty(Options(), clock_);
  auto page = ListLoggedAlerts(empty, v1::ListAlertsRequest());
  ASSERT_TRUE(page.ok());
  const v1::ListAlertsResponse r = Wire(*page);
  EXPECT_THAT(r.alerts(), IsEmpty());
  EXPECT_TRUE(r.next_page_token().empty());
  EXPECT_EQ(r.oldest_sequence(), 0u);
}

TEST_F(AlertHistoryTest, ATokenOnlyServesTheFilterAndRangeItCameFrom) {
  v1::ListAlertsRequest request;
  request.mutable_filter()->add_tickers("AAPL");
  request.set_page_size(1);
  auto first = ListLoggedAlerts(hub_, request);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_page_token.empty());

  // The page size may change between pages.
  v1::ListAlertsRequest next = request;
  next.set_page_token(first->next_page_token);
  next.set_page_size(3);
  auto second = ListLoggedAlerts(hub_, next);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->alerts.front()->sequence, 6u);

  v1::ListAlertsRequest other_filter = next;
  other_filter.mutable_filter()->add_tickers("NKE");
  v1::ListAlertsRequest other_range = next;
  other_range.mutable_start_time()->set_seconds(1);
  v1::ListAlertsRequest garbage = next;
  garbage.set_page_token("not-a-token");
  for (const auto& bad : {other_filter, other_range, garbage}) {
    auto page = ListLoggedAlerts(hub_, bad);
    ASSERT_FALSE(page.ok());
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(page.status().message()),
                StartsWith("page_token: "));
  }
}

TEST_F(AlertHistoryTest, BadRequestsNameTheField) {
  struct Case {
    const char* field;
    void (*mutate)(v1::ListAlertsRequest&);
  } cases[] = {
      {"filter.countries[0]",
       [](v1::ListAlertsRequest& r) {
         r.mutable_filter()->add_countries("Narnia");
       }},
      {"start_time",
       [](v1::ListAlertsRequest& r) {
         r.mutable_start_time()->set_nanos(-1);
       }},
      {"end_time",
       [](v1::ListAlertsRequest& r) {
         r.mutable_end_time()->set_seconds(int64_t{1} << 40);
       }},
      {"end_time",
       [](v1::ListAlertsRequest& r) {
         r.mutable_start_time()->set_seconds(100);
         r.mutable_end_time()->set_seconds(100);
       }},
  };
  for (const Case& c : cases) {
    v1::ListAlertsRequest request;
    c.mutate(request);
    auto page = ListLoggedAlerts(hub_, request);
    ASSERT_FALSE(page.ok()) << c.field;
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(page.status().message()), StartsWith(c.field));
  }
}

}  // namespace
}  // namespace tariffalert
