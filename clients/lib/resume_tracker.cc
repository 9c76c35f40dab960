#include "clients/lib/resume_tracker.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tariffalert {

size_t ResumeTracker::Accept(v1::SubscribeAlertsResponse& response,
                             std::vector<v1::Alert>* out) {
  out->clear();
  size_t dropped = 0;
  for (v1::Alert& alert : *response.mutable_alerts()) {
    const uint64_t seq = alert.sequence();
    const bool portfolio = alert.subject_kind() == v1::SUBJECT_KIND_PORTFOLIO;
    bool fresh = !has_position_ || seq > last_;
    if (!fresh && portfolio && seq == last_ && last_portfolio_ != seq) {
      fresh = true;
    }
    if (!fresh) {
      ++dropped;
      continue;
    }
    has_position_ = true;
    last_ = seq;
    if (portfolio) last_portfolio_ = seq;
    out->push_back(std::move(alert));
  }
  return dropped;
}

void ResumeTracker::OnHeartbeat(uint64_t newest_sequence) {
  // A heartbeat behind us says nothing new (and must not move us back).
  if (!has_position_ || newest_sequence > last_) last_ = newest_sequence;
  has_position_ = true;
}

std::optional<uint64_t> ResumeTracker::OldestRetained(
    absl::string_view message) {
  constexpr absl::string_view kMarker = "oldest retained";
  const size_t at = message.find(kMarker);
  if (at == absl::string_view::npos) return std::nullopt;
  absl::string_view rest = message.substr(at + kMarker.size());
  size_t begin = 0;
  while (begin < rest.size() && !absl::ascii_isdigit(rest[begin])) {
    // Only filler words may stand between the marker and the number.
    if (rest[begin] == '.' || rest[begin] == ';' || rest[begin] == ')') {
      return std::nullopt;
    }
    ++begin;
  }
  size_t end = begin;
  while (end < rest.size() && absl::ascii_isdigit(rest[end])) ++end;
  uint64_t oldest = 0;
  if (end == begin ||
      !absl::SimpleAtoi(rest.substr(begin, end - begin), &oldest)) {
    return std::nullopt;
  }
  return oldest;
}

ResumeTracker::EndAction ResumeTracker::OnStreamEnd(
    const grpc::Status& status, std::optional<uint64_t> last_sequence_trailer) {
  EndAction action;
  // The trailer is where the server believes we stand. What we received
  // ourselves is never behind it (the trailer comes after every message),
  // so it only matters when we have no position of our own.
  if (!has_position_ && last_sequence_trailer && *last_sequence_trailer > 0 &&
      status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    has_position_ = true;
    last_ = *last_sequence_trailer;
  }
  switch (status.error_code()) {
    case grpc::StatusCode::OUT_OF_RANGE: {
      // Behind retention: a gap we report and step over. Ahead of the
      // newest: the server's log is not the one we were reading (today: a
      // restarted server, whose log lives in memory); resuming there would
      // deliver other alerts under sequences we already have, so stop.
      const std::optional<uint64_t> oldest =
          OldestRetained(status.error_message());
      if (!oldest) {
        action.kind = EndAction::kStop;
        action.status = grpc::Status(
            status.error_code(),
            absl::StrCat(status.error_message(),
                         " (the server's log does not hold this client's "
                         "position; not resuming)"));
        return action;
      }
      action.gap_after = last_;
      action.oldest_retained = *oldest;
      if (*oldest > last_ + 1) {
        action.kind = EndAction::kGap;
        last_ = *oldest - 1;
      }
      has_position_ = true;
      return action;
    }
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::UNAUTHENTICATED:
      action.kind = EndAction::kStop;
      action.status = status;
      return action;
    default:
      // UNAVAILABLE (shutdown, connection lost, nothing listening),
      // RESOURCE_EXHAUSTED (slow consumer), CANCELLED (heartbeat silence,
      // a write the server could not finish), DEADLINE_EXCEEDED, INTERNAL,
      // UNKNOWN, OK: all transient.
      return action;
  }
}

}  // namespace tariffalert
