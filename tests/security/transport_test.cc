#include "server/security/transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tariffalert {
namespace {

using ::testing::HasSubstr;

TEST(IsLoopbackAddressTest, KnowsLoopbackFromTheRest) {
  for (const char* a : {"127.0.0.1:50051", "127.1.2.3:0", "localhost:1",
                        "[::1]:50051", "LOCALHOST:5"}) {
    EXPECT_TRUE(IsLoopbackAddress(a)) << a;
  }
  for (const char* a : {"0.0.0.0:50051", "10.0.0.1:1", "[::]:50051",
                        "example.com:443", "128.0.0.1:1", ":50051"}) {
    EXPECT_FALSE(IsLoopbackAddress(a)) << a;
  }
}

TEST(CheckSecurityOptionsTest, PlaintextOnlyWhenAskedAndOnlyOnLoopback) {
  SecurityOptions o;
  absl::Status none = CheckSecurityOptions(o, "127.0.0.1:0");
  EXPECT_THAT(none.message(), HasSubstr("no TLS certificate"));
  o.insecure = true;
  EXPECT_TRUE(CheckSecurityOptions(o, "127.0.0.1:0").ok());
  absl::Status wide = CheckSecurityOptions(o, "0.0.0.0:50051");
  EXPECT_THAT(wide.message(), HasSubstr("only on a loopback address"));
  o.insecure_any_address = true;
  EXPECT_TRUE(CheckSecurityOptions(o, "0.0.0.0:50051").ok());
  o.tokens_file = "tokens.txt";
  EXPECT_THAT(CheckSecurityOptions(o, "0.0.0.0:50051").message(),
              HasSubstr("use TLS"));
}

TEST(CheckSecurityOptionsTest, TlsNeedsCertKeyAndTokensAndReadableFiles) {
  SecurityOptions o;
  o.tls_cert_file = "/nonexistent/server.pem";
  EXPECT_THAT(CheckSecurityOptions(o, "0.0.0.0:1").message(),
              HasSubstr("both --tls-cert and --tls-key"));
  o.tls_key_file = "/nonexistent/server.key";
  EXPECT_THAT(CheckSecurityOptions(o, "0.0.0.0:1").message(),
              HasSubstr("--tokens-file is required"));
  o.tokens_file = "tokens.txt";
  EXPECT_THAT(CheckSecurityOptions(o, "0.0.0.0:1").message(),
              HasSubstr("--tls-cert /nonexistent/server.pem: cannot read"));
  o.insecure = true;
  EXPECT_THAT(CheckSecurityOptions(o, "0.0.0.0:1").message(),
              HasSubstr("exclude each other"));
  SecurityOptions ca_only;
  ca_only.tls_client_ca_file = "ca.pem";
  ca_only.insecure = true;
  EXPECT_THAT(CheckSecurityOptions(ca_only, "127.0.0.1:1").message(),
              HasSubstr("--tls-client-ca needs"));
}

}  // namespace
}  // namespace tariffalert
