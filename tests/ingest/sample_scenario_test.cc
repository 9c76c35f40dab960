// The shipped sample table and 2025 timeline, through the real publish
// pipeline: the names a trader would check come out on top, with the right
// sign. Guards the sample data and the model together.

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/common/log.h"
#include "server/exposure/exposure_csv.h"
#include "server/exposure/loader.h"
#include "server/ingest/publisher.h"
#include "tariffalert/v1/alert_service.pb.h"
#include "tests/testing/collecting_subscriber.h"
#include "tests/testing/fake_clock.h"

namespace tariffalert {
namespace {

using ::testing::Contains;

// Every alert of the timeline, by event, in stream order.
class ByEvent {
 public:
  void Add(const std::vector<v1::Alert>& alerts) {
    for (const auto& a : alerts) events[a.event_id()].push_back(a);
  }

  // The first n ticker alerts of an event: its largest scores.
  std::vector<std::string> Top(const std::string& event, size_t n) {
    std::vector<std::string> out;
    for (const auto& a : events[event]) {
      if (a.subject_kind() == v1::SUBJECT_KIND_TICKER && out.size() < n) {
        out.push_back(a.subject());
      }
    }
    return out;
  }
  double Score(const std::string& event, const std::string& ticker) {
    for (const auto& a : events[event]) {
      if (a.subject() == ticker) return a.score_bps();
    }
    ADD_FAILURE() << ticker << " has no alert for " << event;
    return 0;
  }

  std::map<std::string, std::vector<v1::Alert>> events;
};

// Publishes the whole timeline once for all the tests below.
class SampleScenarioTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetMinLogLevel(LogLevel::kError);
    run_ = new Run();
    run_->PublishTimeline();
  }
  static void TearDownTestSuite() {
    delete run_;
    run_ = nullptr;
  }

  struct Run {
    void PublishTimeline();
    testing::FakeClock clock_;
    std::shared_ptr<const ExposureTable> table_;
    std::unique_ptr<AlertHub> hub_;
    testing::CollectingSubscriber stream_;
    ByEvent alerts_;
    ~Run() {
      if (hub_) hub_->Unsubscribe(&stream_);
    }
  };
  static Run* run_;
  ByEvent& alerts_ = run_->alerts_;
};

SampleScenarioTest::Run* SampleScenarioTest::run_ = nullptr;

void SampleScenarioTest::Run::PublishTimeline() {
  const std::string root = TA_SOURCE_DIR;
  ExposureFiles files;
  files.companies_csv =
      *ReadFileToString(root + "/data/exposure/companies.csv");
  files.exposures_csv =
      *ReadFileToString(root + "/data/exposure/exposures.csv");
  auto table =
      ParseExposureFiles(files, "companies.csv", "exposures.csv", "sample");
  ASSERT_TRUE(table.ok()) << table.status();
  table_ = *table;
  HubOptions options;
  options.heartbeat_interval = absl::ZeroDuration();
  hub_ = std::make_unique<AlertHub>(options, clock_);
  ASSERT_TRUE(hub_->Subscribe(&stream_, std::nullopt).ok());
  Publisher publisher(
      PublisherOptions{}, [this] { return table_; }, ScoringParams::Default(),
      hub_.get(), clock_);
  std::ifstream in(root + "/data/scenarios/july-2025.jsonl");
  std::string line;
  int published = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    v1::TariffEvent event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &event).ok())
        << line;
    auto r = publisher.Publish(event);
    ASSERT_TRUE(r.ok()) << event.event_id() << ": " << r.status();
    ++published;
  }
  EXPECT_GE(published, 20);
  alerts_.Add(stream_.received);
}

TEST_F(SampleScenarioTest, ConstellationBrandsTopsTheMexicoTariff) {
  EXPECT_EQ(alerts_.Top("2025-03-04-us-mx-fentanyl-25", 1),
            std::vector<std::string>{"STZ"});
  EXPECT_LT(alerts_.Score("2025-03-04-us-mx-fentanyl-25", "STZ"), -500);
}

TEST_F(SampleScenarioTest, AppleAndBestBuyAreAmongTheMostHurtByTheChinaTariff) {
  const auto top = alerts_.Top("2025-04-10-us-cn-145", 5);
  EXPECT_THAT(top, Contains("AAPL"));
  EXPECT_THAT(top, Contains("BBY"));
  EXPECT_LT(alerts_.Score("2025-04-10-us-cn-145", "AAPL"), -500);
}

TEST_F(SampleScenarioTest, ThePauseFlipsTheSign) {
  for (const char* ticker : {"AAPL", "BBY"}) {
    const double raise = alerts_.Score("2025-04-10-us-cn-145", ticker);
    const double pause = alerts_.Score("2025-05-12-us-cn-geneva-pause", ticker);
    EXPECT_LT(raise, 0) << ticker;
    EXPECT_GT(pause, 0) << ticker;
  }
  EXPECT_THAT(alerts_.Top("2025-05-12-us-cn-geneva-pause", 5),
              Contains("AAPL"));
}

TEST_F(SampleScenarioTest, SteelMakersGainFromTheSteelTariffOnly) {
  for (const char* ticker : {"NUE", "STLD", "CLF"}) {
    EXPECT_GT(alerts_.Score("2025-03-12-us-all-232-steel-alu-25", ticker), 100)
        << ticker;
  }
  // The EU deal leaves steel at its own 50%: no big move for steel makers.
  for (const auto& a : alerts_.events["2025-08-07-us-eu-15"]) {
    if (a.subject() == "NUE") {
      EXPECT_LT(std::abs(a.score_bps()), 50);
    }
  }
}

TEST_F(SampleScenarioTest, ChinasRetaliationHitsUsExportersNotTesla) {
  const auto top = alerts_.Top("2025-04-12-cn-us-125", 5);
  EXPECT_THAT(top, Contains("BA"));
  // Tesla's China cars are made in Shanghai: the retaliation barely touches it.
  for (const auto& a : alerts_.events["2025-04-12-cn-us-125"]) {
    if (a.subject() == "TSLA") {
      EXPECT_GT(a.score_bps(), -50);
    }
  }
}

}  // namespace
}  // namespace tariffalert
