#include "server/tariff_book/event_log.h"

#include <algorithm>

#include "google/protobuf/io/coded_stream.h"

namespace tariffalert {
namespace {

// The most bytes a varint takes.
constexpr size_t kMaxVarint64Bytes = 10;

}  // namespace

std::string AlertBytesWithSequence(uint64_t sequence,
                                   absl::string_view unsequenced) {
  using google::protobuf::io::CodedOutputStream;
  constexpr uint8_t kSequenceTag = (1 << 3) | 0;  // field 1, varint
  uint8_t head[1 + kMaxVarint64Bytes];
  head[0] = kSequenceTag;
  const uint8_t* end =
      CodedOutputStream::WriteVarint64ToArray(sequence, head + 1);
  std::string out;
  out.reserve(static_cast<size_t>(end - head) + unsequenced.size());
  out.append(reinterpret_cast<const char*>(head),
             static_cast<size_t>(end - head));
  out.append(unsequenced.data(), unsequenced.size());
  return out;
}

absl::StatusOr<TariffBook> InMemoryEventLog::LoadBook() {
  absl::MutexLock lock(&mu_);
  return book_;
}

absl::StatusOr<std::optional<PriorEvent>> InMemoryEventLog::FindEvent(
    const std::string& event_id) {
  absl::MutexLock lock(&mu_);
  auto it = records_.find(event_id);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

CommitOutcome InMemoryEventLog::CommitOne(const EventCommit& commit) {
  CommitOutcome outcome;
  if (auto it = records_.find(commit.event_id); it != records_.end()) {
    outcome.kind = CommitOutcome::kDuplicate;
    outcome.prior = it->second;
    return outcome;
  }
  if (book_.revision() != commit.expected_revision ||
      (commit.chained && !book_committed_)) {
    outcome.kind = CommitOutcome::kBookConflict;
    return outcome;
  }
  book_ = *commit.next_book;
  book_committed_ = true;
  const uint64_t first = commit.alerts.empty() ? 0 : alerts_.size() + 1;
  for (const std::string& a : commit.alerts) {
    alerts_.push_back(AlertBytesWithSequence(alerts_.size() + 1, a));
  }
  if (!commit.alerts.empty()) event_ends_.push_back(alerts_.size());
  records_[commit.event_id] =
      PriorEvent{commit.fingerprint, commit.response, first};
  outcome.first_sequence = first;
  return outcome;
}

std::vector<absl::StatusOr<CommitOutcome>> InMemoryEventLog::Commit(
    absl::Span<const EventCommit* const> commits) {
  absl::MutexLock lock(&mu_);
  std::vector<absl::StatusOr<CommitOutcome>> out;
  out.reserve(commits.size());
  for (const EventCommit* c : commits) out.push_back(CommitOne(*c));
  return out;
}

absl::StatusOr<uint64_t> InMemoryEventLog::LastSequence() {
  absl::MutexLock lock(&mu_);
  return alerts_.size();
}

absl::StatusOr<std::vector<LoggedAlert>> InMemoryEventLog::ReadAfter(
    uint64_t after_sequence, size_t max_events, absl::Duration block) {
  absl::MutexLock lock(&mu_);
  struct Args {
    const std::vector<std::string>* alerts;
    uint64_t after;
  } args{&alerts_, after_sequence};
  mu_.AwaitWithTimeout(
      absl::Condition(
          +[](Args* a) { return a->alerts->size() > a->after; }, &args),
      block);
  std::vector<LoggedAlert> out;
  // The events holding alerts after the point, whole but for the first.
  auto end =
      std::upper_bound(event_ends_.begin(), event_ends_.end(), after_sequence);
  size_t events = 0;
  for (uint64_t seq = after_sequence + 1;
       seq <= alerts_.size() && events < max_events; ++seq) {
    out.push_back(LoggedAlert{seq, alerts_[seq - 1]});
    if (end != event_ends_.end() && seq == *end) {
      ++events;
      ++end;
    }
  }
  return out;
}

}  // namespace tariffalert
