#ifndef TARIFF_ALERT_SERVER_INGEST_PUBLISHER_H_
#define TARIFF_ALERT_SERVER_INGEST_PUBLISHER_H_

// The publish pipeline: validate -> dedupe on event_id -> rate change from the
// tariff book -> score against the exposure snapshot -> alerts with dense
// sequence numbers -> the hub's log and streams. Publishes are serialized, so
// sequences follow publish order and every event sees the book as the events
// before it left it. Validation happens before anything changes: a rejected
// event leaves no trace.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"
#include "server/exposure/exposure_table.h"
#include "server/fanout/alert_hub.h"
#include "server/scoring/scoring_params.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/tariff_event_service.pb.h"

namespace tariffalert {

using ExposureSource = std::function<std::shared_ptr<const ExposureTable>()>;

struct PublisherOptions {
  // Event ids remembered for idempotency; the oldest are forgotten first.
  size_t dedupe_capacity = 100000;
};

class Publisher {
 public:
  Publisher(PublisherOptions options, ExposureSource exposure,
            const ScoringParams& params, AlertHub* hub, const Clock& clock);

  // INVALID_ARGUMENT for a bad event; ALREADY_EXISTS if the event_id was
  // published with different content. A repeat of the same event returns the
  // first response with duplicate = true.
  absl::StatusOr<v1::PublishEventResponse> Publish(const v1::TariffEvent& event)
      ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t book_revision() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Published {
    uint64_t fingerprint;
    v1::PublishEventResponse response;
  };

  const PublisherOptions options_;
  const ExposureSource exposure_;
  const ScoringParams& params_;
  AlertHub* const hub_;
  const Clock& clock_;

  mutable absl::Mutex mu_;
  TariffBook book_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<std::string, Published> published_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> published_order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_INGEST_PUBLISHER_H_
