#include "server/service/log_tailer.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "server/common/log.h"
#include "server/common/status_macros.h"
#include "server/metrics/metrics.h"
#include "tariffalert/v1/alert.pb.h"

namespace tariffalert {
namespace {

// Log entries (events) read per round trip.
constexpr size_t kBatch = 64;
// How long one blocking read waits for news.
constexpr absl::Duration kBlock = absl::Milliseconds(500);
// How long an entry this replica wrote may wait for its publisher to hand
// the alerts to the hub (it does so once Redis answers the commit, about
// when this read returns); past that (the answer was lost) the tailer
// decodes them itself.
constexpr absl::Duration kOwnEntryWait = absl::Milliseconds(100);
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);
constexpr uint64_t kMaxLogSequence = std::numeric_limits<int64_t>::max();

// tariffalert_log_tailer_lag_sequences after a read: 0 if it was short of a
// batch (it had everything the log held), else what the log holds past it
// (one GET, only while behind).
void ReportLag(RedisEventLog& log, const std::vector<LoggedEntry>& read) {
  if (read.size() < kBatch) {
    metrics::SetTailerLag(0);
    return;
  }
  auto last = log.LastSequence();
  if (!last.ok()) return;
  const uint64_t read_to = read.back().last_sequence;
  metrics::SetTailerLag(*last > read_to ? *last - read_to : 0);
}

}  // namespace

absl::StatusOr<std::vector<EncodedAlertPtr>> DecodeLoggedAlerts(
    absl::Span<const LoggedAlert> read) {
  std::vector<EncodedAlertPtr> encoded;
  encoded.reserve(read.size());
  v1::Alert alert;
  for (size_t i = 0; i < read.size(); ++i) {
    const LoggedAlert& a = read[i];
    // INCRBY allocates the sequences: 1 .. 2^63 - 1. The hub counts on
    // newest + 1 not wrapping.
    if (a.sequence > kMaxLogSequence) {
      return absl::DataLossError(
          absl::StrCat("alert log: entry ", a.sequence,
                       " is past the log's last sequence ", kMaxLogSequence));
    }
    if (i > 0 && a.sequence != read[i - 1].sequence + 1) {
      return absl::DataLossError(
          absl::StrCat("alert log: entry ", a.sequence, " follows entry ",
                       read[i - 1].sequence, "; the entries between are gone"));
    }
    if (!alert.ParseFromString(a.alert)) {
      return absl::DataLossError(
          absl::StrCat("alert log: entry ", a.sequence, " is not an Alert"));
    }
    // The value's own field 1, if it has one, parses after the entry id's.
    if (alert.sequence() != a.sequence) {
      return absl::DataLossError(absl::StrCat("alert log: entry ", a.sequence,
                                              " holds an alert with sequence ",
                                              alert.sequence()));
    }
    encoded.push_back(EncodeAlert(alert, a.alert));
  }
  return encoded;
}

LogTailer::LogTailer(RedisOptions options, AlertLogOptions log, AlertHub* hub,
                     size_t preload, const Clock& clock,
                     absl::Duration trim_interval)
    : log_(std::move(options), log),
      own_writer_(log.writer),
      retention_age_(log.retention_age),
      hub_(hub),
      preload_(preload),
      clock_(clock),
      trim_interval_(trim_interval) {}

LogTailer::~LogTailer() { Stop(); }

absl::StatusOr<size_t> LogTailer::Poll(absl::Duration block) {
  auto read = log_.ReadEntries(hub_->newest_sequence(), kBatch, block);
  if (!read.ok()) return read.status();
  ReportLag(log_, *read);
  size_t delivered = 0;
  std::vector<LoggedAlert> pending;
  // Hands `pending` (whole events, in order) to the hub.
  auto flush = [&]() -> absl::Status {
    if (pending.empty()) return absl::OkStatus();
    auto decoded = DecodeLoggedAlerts(pending);
    if (!decoded.ok()) return decoded.status();
    const std::vector<EncodedAlertPtr>& batch = *decoded;
    pending.clear();
    if (!hub_->Append(batch)) {
      const uint64_t newest = hub_->newest_sequence();
      if (newest == 0 || hub_->oldest_sequence() == 0) {
        // An empty hub joining a log whose start was trimmed.
        hub_->StartAfter(batch.front()->sequence - 1);
        if (hub_->Append(batch)) return absl::OkStatus();
      }
      return absl::DataLossError(absl::StrCat(
          "alert log: alerts ", newest + 1, "-", batch.front()->sequence - 1,
          " were trimmed from Redis before this server read them"));
    }
    return absl::OkStatus();
  };
  for (const LoggedEntry& entry : *read) {
    ++delivered;
    if (entry.last_sequence <= hub_->newest_sequence()) continue;
    if (!own_writer_.empty() && entry.writer == own_writer_) {
      // This replica's publisher hands its alerts to the hub itself, already
      // encoded: skip them without parsing, once what comes before them is
      // in.
      TA_RETURN_IF_ERROR(flush());
      if (hub_->AwaitHeld(entry.last_sequence, kOwnEntryWait)) continue;
    }
    auto alerts = UnpackLoggedEntry(entry);
    if (!alerts.ok()) return alerts.status();
    for (LoggedAlert& a : *alerts) {
      if (!pending.empty() && a.sequence != pending.back().sequence + 1) {
        return absl::DataLossError(absl::StrCat(
            "alert log: entry ", a.sequence, " follows entry ",
            pending.back().sequence, "; the entries between are gone"));
      }
      pending.push_back(std::move(a));
    }
  }
  TA_RETURN_IF_ERROR(flush());
  return delivered;
}

absl::Status LogTailer::Load(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  auto last = log_.LastSequence();
  if (!last.ok()) return last.status();
  if (*last > kMaxLogSequence) {
    return absl::DataLossError(absl::StrCat("alert log: last entry ", *last,
                                            " is past the log's last sequence ",
                                            kMaxLogSequence));
  }
  if (*last > preload_) hub_->StartAfter(*last - preload_);
  // Catch up with what was logged before this server started.
  while (hub_->newest_sequence() < *last) {
    if (absl::Now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat("alert log: could not load up to sequence ", *last,
                       " within ", absl::FormatDuration(timeout)));
    }
    auto read = Poll(absl::ZeroDuration());
    if (!read.ok()) return read.status();
    if (*read == 0) break;  // trimmed beyond `last`: nothing more to load
  }
  return absl::OkStatus();
}

void LogTailer::Follow(std::function<void(bool)> reachable) {
  thread_ =
      std::thread([this, reachable = std::move(reachable)] { Run(reachable); });
}

void LogTailer::Run(std::function<void(bool)> reachable) {
  absl::Duration backoff = kFirstBackoff;
  bool failing = false;
  absl::Time last_trim = absl::InfinitePast();
  while (!stop_.HasBeenNotified()) {
    if (!failing && clock_.Now() - last_trim >= trim_interval_) {
      last_trim = clock_.Now();
      auto kept = log_.TrimOlderThan(last_trim - retention_age_);
      if (!kept.ok()) {
        TA_LOG(WARNING) << "alert log: trimming by age: "
                        << kept.status().message();
      }
    }
    auto read = Poll(kBlock);
    if (read.ok()) {
      if (failing) {
        TA_LOG(INFO) << "alert log: following Redis again";
        if (reachable) reachable(true);
      }
      failing = false;
      backoff = kFirstBackoff;
      continue;
    }
    if (!failing) {
      TA_LOG(WARNING) << "alert log: " << read.status().message()
                      << "; retrying with backoff";
      if (reachable && !absl::IsDataLoss(read.status())) reachable(false);
    }
    failing = true;
    if (stop_.WaitForNotificationWithTimeout(backoff)) break;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

void LogTailer::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
}

}  // namespace tariffalert
