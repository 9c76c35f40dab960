// The /metrics endpoint: which addresses it takes, and a real HTTP GET of it
// on 127.0.0.1:0.

#include "server/metrics/metrics_exposer.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "server/metrics/metrics.h"

namespace tariffalert {
namespace {

using testing::HasSubstr;

absl::Status Check(const std::string& address, bool any_address = false) {
  return CheckMetricsOptions(MetricsOptions{address, any_address});
}

TEST(CheckMetricsOptions, TakesLoopbackAddresses) {
  EXPECT_TRUE(Check("127.0.0.1:9464").ok());
  EXPECT_TRUE(Check("127.0.0.2:0").ok());
  EXPECT_TRUE(Check("localhost:9464").ok());
}

TEST(CheckMetricsOptions, RefusesOtherAddressesWithoutAnyAddress) {
  for (const char* address : {"0.0.0.0:9464", "10.1.2.3:9464"}) {
    const absl::Status s = Check(address);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << address;
    EXPECT_THAT(std::string(s.message()), HasSubstr("--metrics-any-address"));
    EXPECT_TRUE(Check(address, /*any_address=*/true).ok()) << address;
  }
}

TEST(CheckMetricsOptions, RefusesWhatIsNotHostPort) {
  for (const char* address :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536",
        "[::1]", "metrics.example:9464", ":9464"}) {
    const absl::Status s = Check(address, /*any_address=*/true);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << address;
    EXPECT_THAT(std::string(s.message()), HasSubstr("--metrics-listen"));
  }
}

TEST(CheckMetricsOptions, RefusesIPv6WhichTheHttpServerCannotBind) {
  // Debian's civetweb is built without IPv6 (mg_check_feature(8) is 0).
  for (const char* address : {"[::1]:9464", "[::]:9464"}) {
    const absl::Status s = Check(address, /*any_address=*/true);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << address;
    EXPECT_THAT(std::string(s.message()), HasSubstr("IPv6 is not supported"));
  }
}

// GET `path` from 127.0.0.1:port; the whole response, headers included.
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = absl::StrCat(
        "GET ", path,
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if (write(fd, request.data(), request.size()) ==
        static_cast<ssize_t>(request.size())) {
      char buf[8192];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, n);
    }
  }
  close(fd);
  return response;
}

TEST(MetricsExposer, ServesTheRegistryInTheTextFormatOnAPickedPort) {
  auto exposer = MetricsExposer::Start(MetricsOptions{"127.0.0.1:0", false});
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  ASSERT_GT((*exposer)->port(), 0);
  metrics::EventPublished(3, metrics::PublishResult::kOk, 0.001);

  const std::string response = HttpGet((*exposer)->port(), "/metrics");
  EXPECT_THAT(response, HasSubstr("200 OK"));
  EXPECT_THAT(response, HasSubstr("text/plain"));
  EXPECT_THAT(response, HasSubstr("# TYPE tariffalert_events_published_total "
                                  "counter"));
  EXPECT_THAT(response,
              HasSubstr("tariffalert_events_published_total{result=\"ok\","
                        "stage=\"effective\"}"));
  EXPECT_THAT(response,
              HasSubstr("tariffalert_publish_duration_seconds_bucket{le=\""));
  // Nothing but /metrics.
  EXPECT_THAT(HttpGet((*exposer)->port(), "/"), HasSubstr("404"));
}

TEST(MetricsExposer, APortInUseIsUnavailableNamingTheFlag) {
  auto first = MetricsExposer::Start(MetricsOptions{"127.0.0.1:0", false});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MetricsExposer::Start(
      MetricsOptions{absl::StrCat("127.0.0.1:", (*first)->port()), false});
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("--metrics-listen"));
}

TEST(MetricsExposer, RefusesANonLoopbackAddressBeforeBinding) {
  auto exposer = MetricsExposer::Start(MetricsOptions{"0.0.0.0:0", false});
  ASSERT_FALSE(exposer.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(exposer.status()));
}

}  // namespace
}  // namespace tariffalert
