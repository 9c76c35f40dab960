// tariff-alert load: validate an exposure file set and make it the current
// version in Redis. Nothing is written unless every row is valid.

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/cli/commands.h"
#include "server/exposure/loader.h"
#include "server/redis/redis_credentials.h"
#include "server/redis/redis_exposure_store.h"
#include "server/redis/redis_ha_flags.h"

namespace tariffalert::cli {
namespace {

class LoadCommand : public Command {
 public:
  void Add(CLI::App& app, CLI::App** sub) {
    CLI::App* c = app.add_subcommand(
        "load",
        "Validate companies.csv, exposures.csv and the optional links.csv and "
        "make them the current exposure version in Redis (every server picks "
        "it up without restart). The Redis password, if any, is read from "
        "--redis-password-file or TARIFF_ALERT_REDIS_PASSWORD, never from a "
        "flag.");
    c->add_option("--redis", redis_, "Redis host:port")->capture_default_str();
    c->add_option("--redis-prefix", prefix_,
                  "prefix of the project's Redis keys")
        ->capture_default_str();
    c->add_option("--redis-user", user_,
                  "Redis ACL user (AUTH user password); default: "
                  "TARIFF_ALERT_REDIS_USER, else the default user");
    c->add_option("--redis-password-file", password_file_,
                  "file whose first line is the Redis password (mode 600); "
                  "default: TARIFF_ALERT_REDIS_PASSWORD");
    // The loader finds the primary through Sentinel too; its writes are not
    // WAITed for (a load is re-run if it failed).
    AddRedisHaFlags(*c, &ha_, /*with_wait=*/false);
    c->add_option("--dir", dir_,
                  "directory holding companies.csv and exposures.csv, and "
                  "links.csv and base-rates.csv if they are there");
    c->add_option("--links", links_,
                  "links.csv (supplier,customer,share) for the spillover "
                  "channel; replaces DIR/links.csv");
    c->add_option("--base-rates", base_rates_,
                  "base-rates.csv (importer,product,mfn_rate_pct,year,source) "
                  "of MFN base rates; replaces DIR/base-rates.csv");
    c->add_option("companies", companies_, "companies.csv (instead of --dir)");
    c->add_option("exposures", exposures_, "exposures.csv (instead of --dir)");
    *sub = c;
  }

  int Run() override {
    if (!dir_.empty()) {
      if (!companies_.empty()) {
        std::fprintf(stderr, "load: give --dir or the two files, not both\n");
        return kExitUsage;
      }
      companies_ = dir_ + "/companies.csv";
      exposures_ = dir_ + "/exposures.csv";
      // links.csv is optional: a directory without it loads a table without
      // spillover.
      struct stat st;
      if (links_.empty() && ::stat((dir_ + "/links.csv").c_str(), &st) == 0) {
        links_ = dir_ + "/links.csv";
      }
      if (base_rates_.empty() &&
          ::stat((dir_ + "/base-rates.csv").c_str(), &st) == 0) {
        base_rates_ = dir_ + "/base-rates.csv";
      }
    }
    if (companies_.empty() || exposures_.empty()) {
      std::fprintf(stderr, "load: need --dir DIR or COMPANIES EXPOSURES\n");
      return kExitUsage;
    }
    RedisOptions options;
    options.key_prefix = prefix_;
    if (absl::Status s = ParseRedisAddress(redis_, &options); !s.ok()) {
      std::fprintf(stderr, "load: --redis: %s\n",
                   std::string(s.message()).c_str());
      return kExitUsage;
    }
    options.user = user_;
    if (absl::Status s = LoadRedisCredentials(password_file_, &options);
        !s.ok()) {
      std::fprintf(stderr, "load: %s\n", std::string(s.message()).c_str());
      return kExitUsage;
    }
    if (absl::Status s = ApplyRedisHaFlags(ha_, &options); !s.ok()) {
      std::fprintf(stderr, "load: %s\n", std::string(s.message()).c_str());
      return kExitUsage;
    }
    RedisExposureStore store(std::make_unique<RedisConnection>(options));
    auto result =
        LoadExposure(store, companies_, exposures_, links_, base_rates_);
    if (!result.ok()) {
      std::fprintf(stderr, "load: nothing was loaded:\n%s\n",
                   std::string(result.status().message()).c_str());
      return absl::IsInvalidArgument(result.status()) ||
                     absl::IsNotFound(result.status())
                 ? kExitUsage
                 : kExitFailed;
    }
    const std::string links =
        links_.empty() ? "no links.csv, no spillover"
                       : absl::StrCat(result->link_count,
                                      " supplier-customer links from ", links_);
    const std::string base =
        base_rates_.empty()
            ? "no base-rates.csv, rates are the additional duties only"
            : absl::StrCat(result->base_rate_count, " base rates from ",
                           base_rates_);
    std::printf(
        "loaded exposure version %s: %zu companies, %zu exposure rows; now "
        "current (previous: %s); %s; %s\n",
        result->version.c_str(), result->company_count,
        result->exposure_row_count,
        result->previous_version ? result->previous_version->c_str() : "none",
        links.c_str(), base.c_str());
    return kExitOk;
  }

 private:
  std::string redis_ = "127.0.0.1:6379";
  std::string prefix_ = "ta:";
  std::string user_;
  std::string password_file_;
  RedisHaFlags ha_;
  std::string dir_;
  std::string companies_;
  std::string exposures_;
  std::string links_;
  std::string base_rates_;
};

}  // namespace

std::unique_ptr<Command> AddLoadCommand(CLI::App& app, CLI::App** sub) {
  auto command = std::make_unique<LoadCommand>();
  command->Add(app, sub);
  return command;
}

}  // namespace tariffalert::cli
