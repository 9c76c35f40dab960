#include "server/service/log_tailer.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "server/common/log.h"
#include "server/metrics/metrics.h"
#include "tariffalert/v1/alert.pb.h"

namespace tariffalert {
namespace {

// Alerts read per round trip.
constexpr size_t kBatch = 1000;
// How long one blocking read waits for news.
constexpr absl::Duration kBlock = absl::Milliseconds(500);
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);
constexpr uint64_t kMaxLogSequence = std::numeric_limits<int64_t>::max();

// tariffalert_log_tailer_lag_sequences after a read: 0 if it was short of a
// batch (it had everything the log held), else what the log holds past it
// (one GET, only while behind).
void ReportLag(RedisBookStore& log, const std::vector<LoggedAlert>& read) {
  if (read.size() < kBatch) {
    metrics::SetTailerLag(0);
    return;
  }
  auto last = log.LastSequence();
  if (!last.ok()) return;
  const uint64_t read_to = read.back().sequence;
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
      retention_age_(log.retention_age),
      hub_(hub),
      preload_(preload),
      clock_(clock),
      trim_interval_(trim_interval) {}

LogTailer::~LogTailer() { Stop(); }

absl::StatusOr<size_t> LogTailer::Poll(absl::Duration block) {
  auto read = log_.ReadAfter(hub_->newest_sequence(), kBatch, block);
  if (!read.ok()) return read.status();
  ReportLag(log_, *read);
  if (read->empty()) return 0;
  auto decoded = DecodeLoggedAlerts(*read);
  if (!decoded.ok()) return decoded.status();
  const std::vector<EncodedAlertPtr>& encoded = *decoded;
  // A full batch may end inside an event: hold its last event back for the
  // next read, so that the hub sees every event whole (portfolio alerts are
  // made per event). An event larger than a batch goes in parts.
  size_t n = encoded.size();
  if (n == kBatch) {
    size_t start = n - 1;
    const std::string& last_event = encoded[n - 1]->keys.event_id;
    while (start > 0 && encoded[start - 1]->keys.event_id == last_event) {
      --start;
    }
    if (start > 0) n = start;
  }
  absl::Span<const EncodedAlertPtr> batch(encoded.data(), n);
  if (!hub_->Append(batch)) {
    const uint64_t newest = hub_->newest_sequence();
    if (newest == 0 || hub_->oldest_sequence() == 0) {
      // An empty hub joining a log whose start was trimmed.
      hub_->StartAfter(batch.front()->sequence - 1);
      if (hub_->Append(batch)) return n;
    }
    return absl::DataLossError(absl::StrCat(
        "alert log: alerts ", newest + 1, "-", batch.front()->sequence - 1,
        " were trimmed from Redis before this server read them"));
  }
  return n;
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
