#include "server/redis/redis_connection.h"

#include <sys/time.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "server/common/log.h"
#include "server/metrics/metrics.h"

namespace tariffalert {
namespace {

std::string Where(const RedisOptions& o) {
  if (!o.sentinels.empty()) {
    return absl::StrCat("redis master '", o.master_name, "'");
  }
  return absl::StrCat("redis ", o.host, ":", o.port);
}

// An error reply that means "not the master (any more), ask the sentinels
// again": a demoted master or a replica (READONLY), a node still loading
// its data (LOADING), a replica cut off from its master (MASTERDOWN).
bool NotMasterError(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ERROR) return false;
  const absl::string_view error(reply.str, reply.len);
  return absl::StartsWith(error, "READONLY") ||
         absl::StartsWith(error, "LOADING") ||
         absl::StartsWith(error, "MASTERDOWN");
}

// One command outside Pipeline (the sentinels, ROLE); nullptr on an I/O
// error or a timeout (ctx->errstr says which).
RedisReplyPtr RunOn(redisContext* ctx, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return RedisReplyPtr(static_cast<redisReply*>(redisCommandArgv(
      ctx, static_cast<int>(argv.size()), argv.data(), lens.data())));
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

absl::Status ParseSentinelAddresses(absl::string_view addresses,
                                    RedisOptions* options) {
  options->sentinels.clear();
  for (absl::string_view a :
       absl::StrSplit(addresses, ',', absl::SkipEmpty())) {
    RedisOptions one;
    if (absl::Status s = ParseRedisAddress(absl::StripAsciiWhitespace(a), &one);
        !s.ok()) {
      return s;
    }
    options->sentinels.emplace_back(one.host, one.port);
  }
  if (options->sentinels.empty()) {
    return absl::InvalidArgumentError(
        "sentinel addresses must be host:port,host:port,...");
  }
  return absl::OkStatus();
}

RedisConnection::RedisConnection(RedisOptions options)
    : options_(std::move(options)),
      host_(options_.host),
      port_(options_.port) {}

RedisConnection::~RedisConnection() {
  absl::MutexLock lock(&mu_);
  if (ctx_ != nullptr) redisFree(ctx_);
}

absl::Status RedisConnection::Fail(absl::string_view what) {
  std::string message = absl::StrCat(Where(options_), ": ", what);
  if (!options_.sentinels.empty()) {
    absl::StrAppend(&message, " (at ", host_, ":", port_, ")");
  }
  if (ctx_ != nullptr) {
    if (ctx_->err != 0) absl::StrAppend(&message, ": ", ctx_->errstr);
    // After an I/O error or a timeout the context is unusable: drop it and
    // reconnect on the next call.
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  return absl::UnavailableError(message);
}

absl::Status RedisConnection::ResolveMaster() {
  // Each sentinel in turn, each bounded by the connect and command timeouts
  // (at most 500 ms each: a dead sentinel must not hold up the next).
  const absl::Duration limit = absl::Milliseconds(500);
  const timeval connect_tv =
      absl::ToTimeval(std::min(options_.connect_timeout, limit));
  const timeval command_tv =
      absl::ToTimeval(std::min(options_.command_timeout, limit));
  std::string errors;
  const std::string previous = absl::StrCat(host_, ":", port_);
  for (const auto& [host, port] : options_.sentinels) {
    const std::string where = absl::StrCat("sentinel ", host, ":", port);
    redisContext* s = redisConnectWithTimeout(host.c_str(), port, connect_tv);
    if (s == nullptr || s->err != 0 ||
        redisSetTimeout(s, command_tv) != REDIS_OK) {
      absl::StrAppend(&errors, "; ", where, ": ",
                      s == nullptr ? "out of memory" : s->errstr);
      if (s != nullptr) redisFree(s);
      continue;
    }
    if (!options_.sentinel_password.empty()) {
      RedisReplyPtr auth = RunOn(s, {"AUTH", options_.sentinel_password});
      if (!auth || auth->type == REDIS_REPLY_ERROR) {
        absl::StrAppend(&errors, "; ", where, ": AUTH rejected");
        redisFree(s);
        continue;
      }
    }
    RedisReplyPtr reply =
        RunOn(s, {"SENTINEL", "get-master-addr-by-name", options_.master_name});
    std::string error;
    if (!reply) {
      error = s->errstr;
    } else if (reply->type == REDIS_REPLY_NIL) {
      error = absl::StrCat("knows no master '", options_.master_name, "'");
    } else if (reply->type == REDIS_REPLY_ERROR) {
      error = std::string(reply->str, reply->len);
    } else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
               reply->element[0]->type != REDIS_REPLY_STRING ||
               reply->element[1]->type != REDIS_REPLY_STRING ||
               !absl::SimpleAtoi(absl::string_view(reply->element[1]->str,
                                                   reply->element[1]->len),
                                 &port_)) {
      error = "unexpected reply to SENTINEL get-master-addr-by-name";
    } else {
      host_ = std::string(reply->element[0]->str, reply->element[0]->len);
    }
    redisFree(s);
    if (error.empty()) {
      const std::string master = absl::StrCat(host_, ":", port_);
      // --redis host:port is only a default with sentinels: the first
      // answer is no news; a later change of master is a failover.
      if (master_resolved_ && master != previous) {
        TA_LOG(WARNING)
                .With("redis_master", options_.master_name)
                .With("address", master)
                .With("previous", previous)
                .With("sentinel", absl::StrCat(host, ":", port))
            << "redis: the sentinels name a new master; following it";
      }
      master_resolved_ = true;
      return absl::OkStatus();
    }
    absl::StrAppend(&errors, "; ", where, ": ", error);
  }
  return absl::UnavailableError(
      absl::StrCat(Where(options_), ": no sentinel named the master", errors));
}

absl::Status RedisConnection::EnsureConnected() {
  if (ctx_ != nullptr) return absl::OkStatus();
  if (!options_.sentinels.empty()) {
    if (absl::Status s = ResolveMaster(); !s.ok()) return s;
  }
  ctx_ = redisConnectWithTimeout(host_.c_str(), port_,
                                 absl::ToTimeval(options_.connect_timeout));
  if (ctx_ == nullptr) return absl::UnavailableError("redis: out of memory");
  if (ctx_->err != 0) return Fail("cannot connect");
  // redisConnectWithTimeout bounds only the connect; without this a stalled
  // server would block a command forever. A WAIT may take its own timeout
  // on top.
  const absl::Duration timeout =
      options_.command_timeout + (options_.min_replicas > 0
                                      ? options_.wait_timeout
                                      : absl::ZeroDuration());
  if (redisSetTimeout(ctx_, absl::ToTimeval(timeout)) != REDIS_OK) {
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
  if (!options_.sentinels.empty()) {
    // The sentinels may lag a failover: make sure this is the master.
    RedisReplyPtr role = RunOn(ctx_, {"ROLE"});
    if (!role) return Fail("no reply to ROLE");
    if (absl::Status denied = AccessError(options_, "ROLE", *role);
        !denied.ok()) {
      redisFree(ctx_);
      ctx_ = nullptr;
      return denied;
    }
    if (role->type != REDIS_REPLY_ARRAY || role->elements == 0 ||
        role->element[0]->type != REDIS_REPLY_STRING ||
        absl::string_view(role->element[0]->str, role->element[0]->len) !=
            "master") {
      return Fail("the node the sentinels named is not a master (yet)");
    }
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
  metrics::RedisCall call(commands);  // a failure unless Done(true) below
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
    if (NotMasterError(*replies[i])) {
      // Drop the connection: the next call asks the sentinels again.
      return Fail(
          absl::StrCat(commands[i][0], ": ",
                       absl::string_view(replies[i]->str, replies[i]->len)));
    }
  }
  call.Done(std::none_of(replies.begin(), replies.end(), [](const auto& r) {
    return r->type == REDIS_REPLY_ERROR;
  }));
  return replies;
}

absl::StatusOr<RedisReplyPtr> RedisConnection::CommandAndWait(
    const std::vector<std::string>& args) {
  if (options_.min_replicas <= 0) return Command(args);
  const std::string timeout_ms =
      absl::StrCat(absl::ToInt64Milliseconds(options_.wait_timeout));
  auto replies = Pipeline(
      {args, {"WAIT", absl::StrCat(options_.min_replicas), timeout_ms}});
  if (!replies.ok()) return replies.status();
  RedisReplyPtr reply = std::move((*replies)[0]);
  if (reply->type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat(
        Where(options_), ": ", args[0], ": ",
        Redacted(options_, absl::string_view(reply->str, reply->len))));
  }
  auto replicas = ReplyInteger(*(*replies)[1]);
  if (!replicas.ok()) return replicas.status();
  if (*replicas < options_.min_replicas) {
    return absl::DeadlineExceededError(
        absl::StrCat(Where(options_), ": ", args[0],
                     " ran on the primary but WAIT confirmed ", *replicas,
                     " of the ", options_.min_replicas, " replicas required (",
                     "--redis-min-replicas) within ", timeout_ms, " ms"));
  }
  return reply;
}

absl::StatusOr<std::vector<RedisReplyPtr>> RedisConnection::PipelineAndWait(
    std::vector<std::vector<std::string>> commands) {
  if (options_.min_replicas <= 0) return Pipeline(commands);
  const std::string timeout_ms =
      absl::StrCat(absl::ToInt64Milliseconds(options_.wait_timeout));
  const std::string what = commands.empty() ? "WAIT" : commands.front()[0];
  commands.push_back({"WAIT", absl::StrCat(options_.min_replicas), timeout_ms});
  auto replies = Pipeline(commands);
  if (!replies.ok()) return replies.status();
  auto replicas = ReplyInteger(*replies->back());
  if (!replicas.ok()) return replicas.status();
  if (*replicas < options_.min_replicas) {
    return absl::DeadlineExceededError(absl::StrCat(
        Where(options_), ": ", what, " ran on the primary but WAIT confirmed ",
        *replicas, " of the ", options_.min_replicas, " replicas required (",
        "--redis-min-replicas) within ", timeout_ms, " ms"));
  }
  replies->pop_back();
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
        (e.element[1]->elements != 2 && e.element[1]->elements != 4) ||
        e.element[1]->element[0]->type != REDIS_REPLY_STRING ||
        e.element[1]->element[1]->type != REDIS_REPLY_STRING ||
        (e.element[1]->elements == 4 &&
         e.element[1]->element[3]->type != REDIS_REPLY_STRING)) {
      return absl::DataLossError(
          absl::StrCat("redis key ", key, ": malformed entry"));
    }
    absl::string_view id(e.element[0]->str, e.element[0]->len);
    SequencedEntry entry;
    if (!absl::SimpleAtoi(id.substr(0, id.find('-')), &entry.sequence)) {
      return absl::DataLossError(
          absl::StrCat("redis key ", key, ": entry id '", id, "'"));
    }
    const redisReply& fields = *e.element[1];
    entry.field =
        absl::string_view(fields.element[0]->str, fields.element[0]->len);
    entry.value =
        absl::string_view(fields.element[1]->str, fields.element[1]->len);
    if (fields.elements == 4) {
      entry.tag =
          absl::string_view(fields.element[3]->str, fields.element[3]->len);
    }
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
