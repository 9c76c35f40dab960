// ConfigFile: YAML keys as CLI11 options, errors at file:line, the command
// line winning, --print-config read back with secrets hidden.

#include "server/config/config_file.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tariffalert {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Flags {
  std::string listen = "127.0.0.1:50051";
  std::string redis = "127.0.0.1:6379";
  int poll_ms = 200;
  bool insecure = false;
  std::vector<std::string> peers;
  std::string password_file;
  std::string api_token;
  int max_per_token = 5;
  std::string config;
  bool print = false;
};

void AddOptions(CLI::App& app, Flags& f) {
  app.add_option("--listen", f.listen, "where to listen")
      ->capture_default_str();
  app.add_option("--redis", f.redis, "Redis host:port")->capture_default_str();
  app.add_option("--exposure-poll-ms", f.poll_ms, "poll interval")
      ->capture_default_str()
      ->check(CLI::Range(10, 60000));
  app.add_flag("--insecure", f.insecure, "plaintext");
  app.add_option("--peer", f.peers, "peers");
  app.add_option("--redis-password-file", f.password_file, "password file");
  app.add_option("--api-token", f.api_token, "a secret value");
  app.add_option("--max-streams-per-token", f.max_per_token, "a number")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--config", f.config, "YAML file");
  app.add_flag("--print-config", f.print, "print");
}

TEST(ConfigFileTest, SetsOptionsFromYaml) {
  CLI::App app;
  Flags f;
  AddOptions(app, f);
  ConfigFile config;
  ASSERT_TRUE(config
                  .ParseText(app,
                             "# a comment\n"
                             "listen: 0.0.0.0:50051\n"
                             "exposure-poll-ms: 500\n"
                             "insecure: true\n"
                             "peer: [a:1, b:2]\n"
                             "redis-password-file: /etc/ta/redis.pass\n",
                             "ta.yaml", {})
                  .ok());
  EXPECT_EQ(f.listen, "0.0.0.0:50051");
  EXPECT_EQ(f.poll_ms, 500);
  EXPECT_TRUE(f.insecure);
  EXPECT_EQ(f.peers, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(f.password_file, "/etc/ta/redis.pass");
  EXPECT_EQ(f.redis, "127.0.0.1:6379");
  EXPECT_EQ(config.Where("exposure-poll-ms"), "ta.yaml:3: ");
  EXPECT_EQ(config.Where("redis"), "");
}

TEST(ConfigFileTest, TheCommandLineWins) {
  CLI::App app;
  Flags f;
  AddOptions(app, f);
  ConfigFile config;
  ASSERT_TRUE(config
                  .ParseText(app,
                             "listen: 0.0.0.0:1\npeer: [a:1, b:2]\n"
                             "insecure: true\n",
                             "ta.yaml",
                             {"--listen", "127.0.0.1:2", "--peer=c:3",
                              "--insecure=false"})
                  .ok());
  EXPECT_EQ(f.listen, "127.0.0.1:2");
  EXPECT_EQ(f.peers, (std::vector<std::string>{"c:3"}));
  EXPECT_FALSE(f.insecure);
  EXPECT_EQ(config.Where("listen"), "");
}

absl::Status ParseYaml(const std::string& yaml) {
  CLI::App app;
  Flags f;
  AddOptions(app, f);
  ConfigFile config;
  return config.ParseText(app, yaml, "conf/ta.yaml", {});
}

TEST(ConfigFileTest, UnknownKeyNamesFileAndLine) {
  absl::Status s = ParseYaml("listen: 0.0.0.0:1\n\nlisten-port: 5\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("conf/ta.yaml:3: unknown key 'listen-port'"));
  EXPECT_THAT(std::string(ParseYaml("config: other.yaml\n").message()),
              HasSubstr("conf/ta.yaml:1: unknown key 'config'"));
  EXPECT_THAT(std::string(ParseYaml("help: true\n").message()),
              HasSubstr("conf/ta.yaml:1: unknown key"));
}

TEST(ConfigFileTest, BadValueNamesFileAndLine) {
  absl::Status s = ParseYaml("listen: x\nexposure-poll-ms: 5\n");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("conf/ta.yaml:2: "));
  EXPECT_THAT(std::string(s.message()), HasSubstr("exposure-poll-ms"));
  s = ParseYaml("exposure-poll-ms: many\n");
  EXPECT_THAT(std::string(s.message()), HasSubstr("conf/ta.yaml:1: "));
  s = ParseYaml("listen: x\ninsecure: maybe\n");
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("conf/ta.yaml:2: insecure: expected true or false"));
  s = ParseYaml("listen:\n  host: x\n");
  EXPECT_THAT(std::string(s.message()), HasSubstr("conf/ta.yaml:1: "));
  s = ParseYaml("listen: a\nlisten: b\n");
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("conf/ta.yaml:2: 'listen' repeated (first at line 1)"));
  s = ParseYaml("listen: [unclosed\n");
  EXPECT_THAT(std::string(s.message()), HasSubstr("conf/ta.yaml:"));
  s = ParseYaml("- a\n- b\n");
  EXPECT_THAT(std::string(s.message()), HasSubstr("conf/ta.yaml:1: "));
}

TEST(ConfigFileTest, EmptyFileSetsNothing) {
  EXPECT_TRUE(ParseYaml("").ok());
  EXPECT_TRUE(ParseYaml("# only comments\n").ok());
  EXPECT_TRUE(ParseYaml("listen:\n").ok());  // no value: not set
}

TEST(ConfigFileTest, PrintConfigRoundTripsAndHidesSecrets) {
  std::string printed;
  {
    CLI::App app;
    Flags f;
    AddOptions(app, f);
    ConfigFile config;
    ASSERT_TRUE(config
                    .ParseText(app,
                               "listen: '0.0.0.0:7'\ninsecure: true\n"
                               "peer: [a:1, 'b: 2']\n"
                               "redis-password-file: /etc/ta/redis.pass\n"
                               "api-token: s3cr3t-value\n"
                               "max-streams-per-token: 9\n",
                               "ta.yaml", {"--exposure-poll-ms=300"})
                    .ok());
    printed = ConfigFile::Print(app, {"config", "print-config"});
  }
  EXPECT_THAT(printed, Not(HasSubstr("s3cr3t-value")));
  EXPECT_THAT(printed, HasSubstr("# api-token: set"));
  EXPECT_THAT(printed, HasSubstr("redis-password-file: /etc/ta/redis.pass"));
  EXPECT_THAT(printed, HasSubstr("max-streams-per-token: 9"));
  EXPECT_THAT(printed, Not(HasSubstr("\nprint-config:")));
  EXPECT_THAT(printed, Not(HasSubstr("\nconfig:")));

  CLI::App app;
  Flags f;
  AddOptions(app, f);
  ConfigFile config;
  absl::Status s = config.ParseText(app, printed, "printed.yaml", {});
  ASSERT_TRUE(s.ok()) << s << "\n" << printed;
  EXPECT_EQ(f.listen, "0.0.0.0:7");
  EXPECT_TRUE(f.insecure);
  EXPECT_EQ(f.peers, (std::vector<std::string>{"a:1", "b: 2"}));
  EXPECT_EQ(f.poll_ms, 300);
  EXPECT_EQ(f.max_per_token, 9);
  EXPECT_EQ(f.password_file, "/etc/ta/redis.pass");
  EXPECT_EQ(f.api_token, "");  // a secret is not printed, so not read back
}

}  // namespace
}  // namespace tariffalert
