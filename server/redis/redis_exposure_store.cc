#include "server/redis/redis_exposure_store.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/common/hash.h"
#include "server/common/status_macros.h"

namespace tariffalert {
namespace {

absl::Status CheckPart(
    const std::string& version, const char* part, const std::string& data,
    const absl::flat_hash_map<std::string, std::string>& meta) {
  auto bytes = meta.find(absl::StrCat(part, "_bytes"));
  auto fnv = meta.find(absl::StrCat(part, "_fnv1a64"));
  if (bytes == meta.end() || fnv == meta.end()) {
    return absl::DataLossError(absl::StrCat("exposure version ", version,
                                            ": meta lacks the ", part,
                                            " size or checksum"));
  }
  if (bytes->second != absl::StrCat(data.size()) ||
      fnv->second != absl::StrCat(Fnv1a64(data))) {
    return absl::DataLossError(
        absl::StrCat("exposure version ", version, ": ", part, " (",
                     data.size(), " bytes) does not match its recorded size ",
                     bytes->second, " and checksum"));
  }
  return absl::OkStatus();
}

}  // namespace

RedisExposureStore::RedisExposureStore(
    std::unique_ptr<RedisConnection> connection)
    : connection_(std::move(connection)) {}

std::string RedisExposureStore::PointerKey() const {
  return absl::StrCat(connection_->options().key_prefix, "exposure:current");
}

std::string RedisExposureStore::VersionKey(const std::string& version,
                                           const char* part) const {
  return absl::StrCat(connection_->options().key_prefix, "exposure:v:", version,
                      ":", part);
}

absl::StatusOr<std::optional<std::string>>
RedisExposureStore::CurrentVersion() {
  TA_ASSIGN_OR_RETURN(RedisReplyPtr reply,
                      connection_->Command({"GET", PointerKey()}));
  if (reply->type == REDIS_REPLY_NIL) return std::optional<std::string>();
  TA_ASSIGN_OR_RETURN(std::string version, ReplyString(*reply));
  return std::optional<std::string>(std::move(version));
}

absl::StatusOr<ExposureFiles> RedisExposureStore::ReadVersion(
    const std::string& version) {
  TA_ASSIGN_OR_RETURN(
      auto replies,
      connection_->Pipeline(
          {{"MGET", VersionKey(version, "companies"),
            VersionKey(version, "exposures"), VersionKey(version, "links"),
            VersionKey(version, "base_rates")},
           {"HGETALL", VersionKey(version, "meta")}}));
  const redisReply& files = *replies[0];
  const redisReply& meta_reply = *replies[1];
  if (files.type != REDIS_REPLY_ARRAY || files.elements != 4 ||
      meta_reply.type != REDIS_REPLY_ARRAY) {
    return absl::InternalError(absl::StrCat(
        "exposure version ", version, ": unexpected reply shape from redis"));
  }
  if (files.element[0]->type == REDIS_REPLY_NIL ||
      files.element[1]->type == REDIS_REPLY_NIL || meta_reply.elements == 0) {
    return absl::NotFoundError(
        absl::StrCat("exposure version ", version, " is not in redis"));
  }
  ExposureFiles out;
  TA_ASSIGN_OR_RETURN(out.companies_csv, ReplyString(*files.element[0]));
  TA_ASSIGN_OR_RETURN(out.exposures_csv, ReplyString(*files.element[1]));
  // A version without links has no links key.
  if (files.element[2]->type != REDIS_REPLY_NIL) {
    TA_ASSIGN_OR_RETURN(out.links_csv, ReplyString(*files.element[2]));
  }
  if (files.element[3]->type != REDIS_REPLY_NIL) {
    TA_ASSIGN_OR_RETURN(out.base_rates_csv, ReplyString(*files.element[3]));
  }
  absl::flat_hash_map<std::string, std::string> meta;
  for (size_t i = 0; i + 1 < meta_reply.elements; i += 2) {
    TA_ASSIGN_OR_RETURN(std::string k, ReplyString(*meta_reply.element[i]));
    TA_ASSIGN_OR_RETURN(std::string v, ReplyString(*meta_reply.element[i + 1]));
    meta.emplace(std::move(k), std::move(v));
  }
  TA_RETURN_IF_ERROR(CheckPart(version, "companies", out.companies_csv, meta));
  TA_RETURN_IF_ERROR(CheckPart(version, "exposures", out.exposures_csv, meta));
  // Versions written before links.csv existed record nothing about links and
  // have none; a links key they do not account for is not trusted.
  if (meta.contains("links_bytes") || meta.contains("links_fnv1a64")) {
    TA_RETURN_IF_ERROR(CheckPart(version, "links", out.links_csv, meta));
  } else if (files.element[2]->type != REDIS_REPLY_NIL) {
    return absl::DataLossError(
        absl::StrCat("exposure version ", version,
                     ": a links key that its meta records no size or "
                     "checksum for"));
  }
  // Likewise for the base rates, which came later still.
  if (meta.contains("base_rates_bytes") ||
      meta.contains("base_rates_fnv1a64")) {
    TA_RETURN_IF_ERROR(
        CheckPart(version, "base_rates", out.base_rates_csv, meta));
  } else if (files.element[3]->type != REDIS_REPLY_NIL) {
    return absl::DataLossError(
        absl::StrCat("exposure version ", version,
                     ": a base_rates key that its meta records no size or "
                     "checksum for"));
  }
  return out;
}

absl::StatusOr<std::string> RedisExposureStore::WriteVersion(
    const ExposureFiles& files, const ExposureVersionInfo& info) {
  const std::string& prefix = connection_->options().key_prefix;
  TA_ASSIGN_OR_RETURN(
      RedisReplyPtr id_reply,
      connection_->Command({"INCR", absl::StrCat(prefix, "exposure:next_id")}));
  TA_ASSIGN_OR_RETURN(long long id, ReplyInteger(*id_reply));
  const std::string version = absl::StrCat(id);
  const std::string ttl = absl::StrCat(kExposureVersionTtlSeconds);
  const std::string meta_key = VersionKey(version, "meta");
  // One MULTI/EXEC: the version's keys appear together or not at all. The
  // meta records the links' size and checksum even when there are none (0
  // bytes, no key), so a reader can tell "no links" from "links lost".
  std::vector<std::vector<std::string>> commands = {
      {"MULTI"},
      {"SET", VersionKey(version, "companies"), files.companies_csv, "EX", ttl},
      {"SET", VersionKey(version, "exposures"), files.exposures_csv, "EX", ttl},
  };
  if (!files.links_csv.empty()) {
    commands.push_back(
        {"SET", VersionKey(version, "links"), files.links_csv, "EX", ttl});
  }
  if (!files.base_rates_csv.empty()) {
    commands.push_back({"SET", VersionKey(version, "base_rates"),
                        files.base_rates_csv, "EX", ttl});
  }
  std::vector<std::string> hset = {"HSET", meta_key};
  for (const auto& [part, data] :
       {std::make_pair("companies", &files.companies_csv),
        std::make_pair("exposures", &files.exposures_csv),
        std::make_pair("links", &files.links_csv),
        std::make_pair("base_rates", &files.base_rates_csv)}) {
    hset.insert(hset.end(),
                {absl::StrCat(part, "_bytes"), absl::StrCat(data->size()),
                 absl::StrCat(part, "_fnv1a64"), absl::StrCat(Fnv1a64(*data))});
  }
  hset.insert(
      hset.end(),
      {"company_count", absl::StrCat(info.company_count), "exposure_row_count",
       absl::StrCat(info.exposure_row_count), "link_count",
       absl::StrCat(info.link_count), "written_time",
       absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone())});
  commands.push_back(std::move(hset));
  commands.push_back({"EXPIRE", meta_key, ttl});
  commands.push_back({"EXEC"});
  const size_t queued = commands.size() - 2;  // all but MULTI and EXEC
  TA_ASSIGN_OR_RETURN(auto replies, connection_->Pipeline(commands));
  const redisReply& exec = *replies.back();
  if (exec.type != REDIS_REPLY_ARRAY || exec.elements != queued) {
    return absl::InternalError(absl::StrCat(
        "exposure version ", version, ": MULTI/EXEC failed, nothing written"));
  }
  for (size_t i = 0; i < exec.elements; ++i) {
    if (exec.element[i]->type == REDIS_REPLY_ERROR) {
      return absl::InternalError(absl::StrCat(
          "exposure version ", version, ": redis refused a write: ",
          absl::string_view(exec.element[i]->str, exec.element[i]->len)));
    }
  }
  return version;
}

absl::Status RedisExposureStore::Activate(const std::string& version) {
  TA_ASSIGN_OR_RETURN(
      RedisReplyPtr exists,
      connection_->Command({"EXISTS", VersionKey(version, "companies"),
                            VersionKey(version, "exposures"),
                            VersionKey(version, "meta")}));
  TA_ASSIGN_OR_RETURN(long long n, ReplyInteger(*exists));
  if (n != 3) {
    return absl::FailedPreconditionError(absl::StrCat(
        "exposure version ", version, " is not fully written; not activated"));
  }
  TA_ASSIGN_OR_RETURN(std::optional<std::string> previous, CurrentVersion());
  const std::string ttl = absl::StrCat(kExposureVersionTtlSeconds);
  std::vector<std::vector<std::string>> commands = {
      {"MULTI"},
      {"PERSIST", VersionKey(version, "companies")},
      {"PERSIST", VersionKey(version, "exposures")},
      {"PERSIST", VersionKey(version, "links")},       // 0 if it has none
      {"PERSIST", VersionKey(version, "base_rates")},  // likewise
      {"PERSIST", VersionKey(version, "meta")},
      {"SET", PointerKey(), version},
  };
  if (previous && *previous != version) {
    for (const char* part :
         {"companies", "exposures", "links", "base_rates", "meta"}) {
      commands.push_back({"EXPIRE", VersionKey(*previous, part), ttl});
    }
  }
  commands.push_back({"EXEC"});
  TA_ASSIGN_OR_RETURN(auto replies, connection_->Pipeline(commands));
  if (replies.back()->type != REDIS_REPLY_ARRAY) {
    return absl::InternalError(absl::StrCat("exposure version ", version,
                                            ": activation transaction failed"));
  }
  return absl::OkStatus();
}

}  // namespace tariffalert
