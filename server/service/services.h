#ifndef TARIFF_ALERT_SERVER_SERVICE_SERVICES_H_
#define TARIFF_ALERT_SERVER_SERVICE_SERVICES_H_

// The gRPC services: thin adapters from the wire to the publisher and the hub.

#include <utility>

#include "server/fanout/alert_hub.h"
#include "server/fanout/portfolio_alert.h"
#include "server/fanout/subscriber_queue.h"
#include "server/ingest/publisher.h"
#include "server/service/write_scheduler.h"
#include "tariffalert/v1/alert_service.grpc.pb.h"
#include "tariffalert/v1/tariff_event_service.grpc.pb.h"

namespace tariffalert {

class TariffEventServiceImpl final
    : public v1::TariffEventService::CallbackService {
 public:
  TariffEventServiceImpl(Publisher* publisher, const AlertHub* hub)
      : publisher_(publisher), hub_(hub) {}

  grpc::ServerUnaryReactor* PublishEvent(
      grpc::CallbackServerContext* context,
      const v1::PublishEventRequest* request,
      v1::PublishEventResponse* response) override;
  // The event, the first response to its publish (its rate changes) and its
  // alerts still in the log. NOT_FOUND for an event this server does not
  // remember (published elsewhere, before a restart, or forgotten).
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context,
                                     const v1::GetEventRequest* request,
                                     v1::GetEventResponse* response) override;

 private:
  Publisher* const publisher_;
  const AlertHub* const hub_;
};

// Both methods are registered raw: responses are made of pre-serialized
// alert bytes shared by every stream and page (server/fanout/encoded_alert.h).
class AlertServiceImpl final
    : public v1::AlertService::WithRawCallbackMethod_SubscribeAlerts<
          v1::AlertService::WithRawCallbackMethod_ListAlerts<
              v1::AlertService::Service>> {
 public:
  // `portfolio`: parameters and exposure table for subscribers that send
  // holdings. `write_threads`: threads that start the streams' writes (0:
  // one per core); the service must outlive the gRPC server it is
  // registered with.
  AlertServiceImpl(AlertHub* hub, QueueLimits limits,
                   PortfolioContext portfolio = {}, size_t write_threads = 0)
      : hub_(hub),
        limits_(limits),
        portfolio_(std::move(portfolio)),
        writes_(write_threads) {}

  grpc::ServerWriteReactor<grpc::ByteBuffer>* SubscribeAlerts(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* ListAlerts(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;

 private:
  AlertHub* const hub_;
  const QueueLimits limits_;
  const PortfolioContext portfolio_;
  WriteScheduler writes_;
};

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_SERVICES_H_
