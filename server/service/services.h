#ifndef TARIFF_ALERT_SERVER_SERVICE_SERVICES_H_
#define TARIFF_ALERT_SERVER_SERVICE_SERVICES_H_

// The gRPC services: thin adapters from the wire to the publisher and the hub.

#include "server/fanout/alert_hub.h"
#include "server/fanout/subscriber_queue.h"
#include "server/ingest/publisher.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"

namespace tariffalert {

class TariffEventServiceImpl final
    : public v1::TariffEventService::CallbackService {
 public:
  explicit TariffEventServiceImpl(Publisher* publisher)
      : publisher_(publisher) {}

  grpc::ServerUnaryReactor* PublishEvent(
      grpc::CallbackServerContext* context,
      const v1::PublishEventRequest* request,
      v1::PublishEventResponse* response) override;

 private:
  Publisher* const publisher_;
};

// SubscribeAlerts is registered raw: responses are pre-serialized bytes
// shared by every stream (server/fanout/encoded_alert.h).
class AlertServiceImpl final
    : public v1::AlertService::WithRawCallbackMethod_SubscribeAlerts<
          v1::AlertService::Service> {
 public:
  AlertServiceImpl(AlertHub* hub, QueueLimits limits)
      : hub_(hub), limits_(limits) {}

  grpc::ServerWriteReactor<grpc::ByteBuffer>* SubscribeAlerts(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;

 private:
  AlertHub* const hub_;
  const QueueLimits limits_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_SERVICES_H_
