#ifndef TARIFF_ALERT_CLIENTS_LIB_RESUME_TRACKER_H_
#define TARIFF_ALERT_CLIENTS_LIB_RESUME_TRACKER_H_

// Where a subscriber stands in the alert sequence, and what it does when a
// stream ends. Pure (no gRPC calls, no clock): the AlertSubscriber feeds it
// what each stream brought and how it ended, and asks where to resume.
//
// "Seen up to S" moves with every alert delivered and with every heartbeat's
// newest_sequence (the server sends every matching alert up to it before the
// heartbeat). An alert at or below S is a duplicate and is dropped, with one
// exception: a portfolio alert carries the sequence of its event's last alert
// and comes right after it, so one portfolio alert per sequence passes.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"
#include "tariffalert/v1/alert_service.pb.h"

namespace tariffalert {

class ResumeTracker {
 public:
  // `start`: resume after this sequence; nullopt: live, position unknown
  // until the first message.
  explicit ResumeTracker(std::optional<uint64_t> start) {
    if (start) {
      has_position_ = true;
      last_ = *start;
    }
  }

  // What the next SubscribeAlerts request asks for: nullopt means live.
  std::optional<uint64_t> resume_after() const {
    return has_position_ ? std::optional<uint64_t>(last_) : std::nullopt;
  }
  bool has_position() const { return has_position_; }
  uint64_t last_sequence() const { return last_; }

  // Moves the alerts of `response` that were not delivered before into
  // `out` (cleared first), in order; returns how many were dropped as
  // duplicates or out of order.
  size_t Accept(v1::SubscribeAlertsResponse& response,
                std::vector<v1::Alert>* out);
  void OnHeartbeat(uint64_t newest_sequence);

  struct EndAction {
    enum Kind {
      kResume,  // reconnect and resume after resume_after()
      kGap,     // the resume point fell out of retention: continue from
                // `oldest_retained` (resume_after() already moved there)
      kStop,    // a permanent error: stop with `status`
    };
    Kind kind = kResume;
    uint64_t gap_after = 0;        // kGap: where we stood
    uint64_t oldest_retained = 0;  // kGap
    grpc::Status status;           // kStop: the status to stop with
  };
  // A stream (or a connect attempt) ended with `status`; `last_sequence_
  // trailer` is its ta-last-sequence trailing metadata, if any.
  EndAction OnStreamEnd(const grpc::Status& status,
                        std::optional<uint64_t> last_sequence_trailer);

  // The oldest retained sequence named in an OUT_OF_RANGE message ("...
  // the oldest retained sequence is 21", "... (oldest retained 21)").
  static std::optional<uint64_t> OldestRetained(absl::string_view message);

 private:
  bool has_position_ = false;
  uint64_t last_ = 0;
  // The sequence whose portfolio alert was delivered last (0: none).
  uint64_t last_portfolio_ = 0;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_CLIENTS_LIB_RESUME_TRACKER_H_
