#ifndef TARIFF_ALERT_SERVER_REDIS_REDIS_CONNECTION_H_
#define TARIFF_ALERT_SERVER_REDIS_REDIS_CONNECTION_H_

// A synchronous hiredis connection with timeouts on connect and on every
// command, and reconnect on the next call after any failure. Replies are owned
// by unique_ptr. Errors: UNAVAILABLE for connect, I/O and timeouts (the caller
// may retry), PERMISSION_DENIED when Redis refuses the credentials or the ACL
// refuses a command or key (WRONGPASS, NOAUTH, NOPERM: retrying will not
// help), INTERNAL for any other error reply. The password never appears in an
// error or a log line.

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tariffalert {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // Redis 6 ACL user: `AUTH user password`. Empty: `AUTH password` (the
  // default user, requirepass) when a password is set.
  std::string user;
  std::string password;  // AUTH when not empty; never logged
  int db = 0;
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Seconds(2);
  // Prepended to every key of the project (docs/redis.md).
  std::string key_prefix = "ta:";
  // Redis Sentinel (docs/redis.md, "High availability"). When not empty,
  // host/port are ignored: the connection asks these sentinels, in turn, for
  // the address of `master_name` before connecting, and again after any
  // failure or a READONLY/LOADING reply, and checks with ROLE that the node
  // it reached is a master.
  std::vector<std::pair<std::string, int>> sentinels;
  std::string master_name = "tariff-alert";
  // AUTH to the sentinels when not empty (never logged); sentinels without a
  // password need none.
  std::string sentinel_password;
  // CommandAndWait: a write counts only once `WAIT min_replicas
  // wait_timeout` confirms that many replicas have it. 0: no WAIT.
  int min_replicas = 0;
  absl::Duration wait_timeout = absl::Seconds(1);
};

// Parses "host:port,host:port,..." into options->sentinels.
absl::Status ParseSentinelAddresses(absl::string_view addresses,
                                    RedisOptions* options);

// Parses "host:port" into options.host/port.
absl::Status ParseRedisAddress(absl::string_view address,
                               RedisOptions* options);

struct RedisReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

class RedisConnection {
 public:
  explicit RedisConnection(RedisOptions options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  const RedisOptions& options() const { return options_; }

  // One command, e.g. Command({"GET", key}). An error reply is INTERNAL.
  absl::StatusOr<RedisReplyPtr> Command(const std::vector<std::string>& args)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Several commands in one round trip; replies in order. Error replies are
  // returned as replies (type REDIS_REPLY_ERROR), not as a failed status.
  absl::StatusOr<std::vector<RedisReplyPtr>> Pipeline(
      const std::vector<std::vector<std::string>>& commands)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Command, then (when options().min_replicas > 0, in the same round trip
  // on the same connection) `WAIT min_replicas wait_timeout`. If fewer
  // replicas confirmed: DEADLINE_EXCEEDED naming the count (the write is on
  // the primary but not confirmed; the caller may retry an idempotent
  // write). A lost connection after sending: UNAVAILABLE "no reply to ...".
  absl::StatusOr<RedisReplyPtr> CommandAndWait(
      const std::vector<std::string>& args) ABSL_LOCKS_EXCLUDED(mu_);
  // Pipeline, then the same WAIT once after all of them: its shortfall is
  // DEADLINE_EXCEEDED for all. Error replies are returned as replies.
  absl::StatusOr<std::vector<RedisReplyPtr>> PipelineAndWait(
      std::vector<std::vector<std::string>> commands) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status EnsureConnected() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With sentinels: sets host_/port_ to the master's address.
  absl::Status ResolveMaster() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Fail(absl::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RedisOptions options_;
  absl::Mutex mu_;
  redisContext* ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  // The node connected to: options_.host/port, or the master the sentinels
  // named last.
  std::string host_ ABSL_GUARDED_BY(mu_);
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  // With sentinels: a master was named once (a change after is logged).
  bool master_resolved_ ABSL_GUARDED_BY(mu_) = false;
};

// Reply helpers: a message naming what was expected.
absl::StatusOr<std::string> ReplyString(const redisReply& reply);
absl::StatusOr<long long> ReplyInteger(const redisReply& reply);

// An entry of a stream whose ids are "<sequence>-0" (the alert log, the
// console's audit stream). `field` and `value` are its first field's, `tag`
// the value of a second field if it has one (the alert log's writer); all
// point into the reply.
struct SequencedEntry {
  uint64_t sequence = 0;
  absl::string_view field;
  absl::string_view value;
  absl::string_view tag;
};
// The entries of an XRANGE reply ([[id, [field, value, ...]], ...]: one or
// two fields);
// DATA_LOSS naming `key` for a malformed one.
absl::StatusOr<std::vector<SequencedEntry>> StreamEntries(
    const redisReply& reply, absl::string_view key);
// The same for an XREAD reply of one stream ([[key, entries]]; nil when
// nothing came within its block: no entries).
absl::StatusOr<std::vector<SequencedEntry>> XreadEntries(
    const redisReply& reply, absl::string_view key);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_REDIS_REDIS_CONNECTION_H_
