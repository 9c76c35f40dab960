#ifndef TARIFF_ALERT_SERVER_SERVICE_BOOK_SERVICE_H_
#define TARIFF_ALERT_SERVER_SERVICE_BOOK_SERVICE_H_

// TariffBookService: GetTariff and ScoreScenario. Both read the book as
// stored now and change nothing.

#include "server/common/work_pool.h"
#include "server/ingest/publisher.h"
#include "server/service/server.h"
#include "tariffalert/v1/tariff_book_service.grpc.pb.h"

namespace tariffalert {

// Both methods are registered raw and parse their requests themselves
// (server/service/request_parser.h), so that bad bytes get INVALID_ARGUMENT
// naming the field.
class TariffBookServiceImpl final
    : public v1::TariffBookService::WithRawCallbackMethod_GetTariff<
          v1::TariffBookService::WithRawCallbackMethod_ScoreScenario<
              v1::TariffBookService::Service>> {
 public:
  // Both methods run on `calls`' threads (server/service/unary_call.h):
  // they read the book from Redis, and a scenario can score 200 events.
  // `limits`: max_holdings applies to ScoreScenario.
  TariffBookServiceImpl(Publisher* publisher, WorkPool* calls,
                        ServerLimits limits = {});

  grpc::ServerUnaryReactor* GetTariff(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ScoreScenario(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;

  // The work of the two methods, apart from the bytes.
  absl::StatusOr<v1::GetTariffResponse> Tariff(
      const v1::GetTariffRequest& request);
  absl::StatusOr<v1::ScoreScenarioResponse> Scenario(
      const v1::ScoreScenarioRequest& request);

 private:
  Publisher* const publisher_;
  WorkPool* const calls_;
  const ServerLimits limits_;
};

// The work of ScoreScenario, apart from gRPC (tests call it directly).
absl::StatusOr<v1::ScoreScenarioResponse> ScoreScenario(
    const v1::ScoreScenarioRequest& request, const TariffBook& book,
    const ExposureTable& table, const ScoringParams& params);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_BOOK_SERVICE_H_
