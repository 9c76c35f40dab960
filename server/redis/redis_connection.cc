#include "server/redis/redis_connection.h"

#include <sys/time.h>

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace tariffalert {
namespace {

std::string Where(const RedisOptions& o) {
  return absl::StrCat("redis ", o.host, ":", o.port);
}

std::string Who(const RedisOptions& o) {
  return o.user.empty() ? std::string("the default user")
                        : absl::StrCat("user '", o.user, "'");
}

// Redis does not echo a password in its errors; this makes sure of it.
std::string Redacted(const RedisOptions& o, absl::string_view error) {
  if (o.password.empty()) return std::string(error);
  return absl::StrReplaceAll(error, {{o.password, "<password>"}});
}

// PERMISSION_DENIED for the error replies that retrying cannot fix: no or
// wrong credentials, or an ACL that refuses the command or a key. OK for any
// other reply.
absl::Status AccessError(const RedisOptions& o, absl::string_view command,
                         const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ERROR) return absl::OkStatus();
  const absl::string_view error(reply.str, reply.len);
  if (absl::StartsWith(error, "NOAUTH")) {
    return absl::PermissionDeniedError(absl::StrCat(
        Where(o), ": ", command, ": ", error,
        o.password.empty()
            ? " (no password was given: set TARIFF_ALERT_REDIS_PASSWORD or "
              "--redis-password-file)"
            : ""));
  }
  if (absl::StartsWith(error, "NOPERM") ||
      absl::StartsWith(error, "WRONGPASS")) {
    return absl::PermissionDeniedError(absl::StrCat(
        Where(o), ": ", command, ": ", Redacted(o, error), " (", Who(o), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRedisAddress(absl::string_view address,
                               RedisOptions* options) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address '", address,
                     "' must be host:port, e.g. 127.0.0.1:6379"));
  }
  options->host = std::string(address.substr(0, colon));
  options->port = port;
  return absl::OkStatus();
}

RedisConnection::RedisConnection(RedisOptions options)
    : options_(std::move(options)) {}

RedisConnection::~RedisConnection() {
  absl::MutexLock lock(&mu_);
  if (ctx_ != nullptr) redisFree(ctx_);
}

absl::Status RedisConnection::Fail(absl::string_view what) {
  std::string message = absl::StrCat(Where(options_), ": ", what);
  if (ctx_ != nullptr) {
    if (ctx_->err != 0) absl::StrAppend(&message, ": ", ctx_->errstr);
    // After an I/O error or a timeout the context is unusable: drop it and
    // reconnect on the next call.
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  return absl::UnavailableError(message);
}

absl::Status RedisConnection::EnsureConnected() {
  if (ctx_ != nullptr) return absl::OkStatus();
  ctx_ = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                 absl::ToTimeval(options_.connect_timeout));
  if (ctx_ == nullptr) return absl::UnavailableError("redis: out of memory");
  if (ctx_->err != 0) return Fail("cannot connect");
  // redisConnectWithTimeout bounds only the connect; without this a stalled
  // server would block a command forever.
  if (redisSetTimeout(ctx_, absl::ToTimeval(options_.command_timeout)) !=
      REDIS_OK) {
    return Fail("cannot set timeout");
  }
  if (!options_.password.empty()) {
    // `AUTH user password` (Redis 6 ACL) or `AUTH password` (requirepass).
    std::vector<const char*> argv = {"AUTH"};
    std::vector<size_t> lens = {4};
    if (!options_.user.empty()) {
      argv.push_back(options_.user.c_str());
      lens.push_back(options_.user.size());
    }
    argv.push_back(options_.password.c_str());
    lens.push_back(options_.password.size());
    RedisReplyPtr reply(static_cast<redisReply*>(redisCommandArgv(
        ctx_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!reply) return Fail("AUTH failed");
    if (reply->type == REDIS_REPLY_ERROR) {
      const std::string error =
          Redacted(options_, absl::string_view(reply->str, reply->len));
      redisFree(ctx_);
      ctx_ = nullptr;
      return absl::PermissionDeniedError(absl::StrCat(
          Where(options_), ": AUTH rejected for ", Who(options_), ": ", error));
    }
  }
  if (options_.db != 0) {
    const std::string db = absl::StrCat(options_.db);
    const char* argv[] = {"SELECT", db.c_str()};
    const size_t lens[] = {6, db.size()};
    RedisReplyPtr reply(
        static_cast<redisReply*>(redisCommandArgv(ctx_, 2, argv, lens)));
    if (reply) {
      absl::Status denied = AccessError(options_, "SELECT", *reply);
      if (!denied.ok()) {
        redisFree(ctx_);
        ctx_ = nullptr;
        return denied;
      }
    }
    if (!reply || reply->type == REDIS_REPLY_ERROR)
      return Fail("SELECT failed");
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisReplyPtr> RedisConnection::Command(
    const std::vector<std::string>& args) {
  auto replies = Pipeline({args});
  if (!replies.ok()) return replies.status();
  RedisReplyPtr reply = std::move(replies->front());
  if (reply->type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat(
        Where(options_), ": ", args[0], ": ",
        Redacted(options_, absl::string_view(reply->str, reply->len))));
  }
  return reply;
}

absl::StatusOr<std::vector<RedisReplyPtr>> RedisConnection::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& args : commands) {
    argv.clear();
    lens.clear();
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(),
                               lens.data()) != REDIS_OK) {
      return Fail("cannot send command");
    }
  }
  std::vector<RedisReplyPtr> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      return Fail(absl::StrCat("no reply to ", commands[i][0]));
    }
    replies.emplace_back(static_cast<redisReply*>(raw));
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    absl::Status denied = AccessError(options_, commands[i][0], *replies[i]);
    if (!denied.ok()) return denied;
  }
  return replies;
}

absl::StatusOr<std::string> ReplyString(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS) {
    return std::string(reply.str, reply.len);
  }
  return absl::InternalError(
      absl::StrCat("redis: expected a string reply, got type ", reply.type));
}

absl::StatusOr<long long> ReplyInteger(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_INTEGER) return reply.integer;
  return absl::InternalError(
      absl::StrCat("redis: expected an integer reply, got type ", reply.type));
}

absl::StatusOr<std::vector<SequencedEntry>> StreamEntries(
    const redisReply& reply, absl::string_view key) {
  if (reply.type != REDIS_REPLY_ARRAY) {
    return absl::InternalError(
        absl::StrCat("redis key ", key, ": unexpected stream reply"));
  }
  std::vector<SequencedEntry> out;
  out.reserve(reply.elements);
  for (size_t i = 0; i < reply.elements; ++i) {
    const redisReply& e = *reply.element[i];
    if (e.type != REDIS_REPLY_ARRAY || e.elements != 2 ||
        e.element[0]->type != REDIS_REPLY_STRING ||
        e.element[1]->type != REDIS_REPLY_ARRAY ||
        e.element[1]->elements != 2 ||
        e.element[1]->element[1]->type != REDIS_REPLY_STRING) {
      return absl::DataLossError(
          absl::StrCat("redis key ", key, ": malformed entry"));
    }
    absl::string_view id(e.element[0]->str, e.element[0]->len);
    SequencedEntry entry;
    if (!absl::SimpleAtoi(id.substr(0, id.find('-')), &entry.sequence)) {
      return absl::DataLossError(
          absl::StrCat("redis key ", key, ": entry id '", id, "'"));
    }
    const redisReply& value = *e.element[1]->element[1];
    entry.value = absl::string_view(value.str, value.len);
    out.push_back(entry);
  }
  return out;
}

absl::StatusOr<std::vector<SequencedEntry>> XreadEntries(
    const redisReply& reply, absl::string_view key) {
  if (reply.type == REDIS_REPLY_NIL) return std::vector<SequencedEntry>{};
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 1 ||
      reply.element[0]->type != REDIS_REPLY_ARRAY ||
      reply.element[0]->elements != 2) {
    return absl::InternalError("redis: unexpected XREAD reply");
  }
  return StreamEntries(*reply.element[0]->element[1], key);
}

}  // namespace tariffalert
