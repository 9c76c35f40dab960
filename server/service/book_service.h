#ifndef TARIFF_ALERT_SERVER_SERVICE_BOOK_SERVICE_H_
#define TARIFF_ALERT_SERVER_SERVICE_BOOK_SERVICE_H_

// TariffBookService: GetTariff and ScoreScenario. Both read the book as
// stored now and change nothing.

#include "server/ingest/publisher.h"
#include "tariffalert/v1/tariff_book_service.grpc.pb.h"

namespace tariffalert {

class TariffBookServiceImpl final
    : public v1::TariffBookService::CallbackService {
 public:
  explicit TariffBookServiceImpl(Publisher* publisher)
      : publisher_(publisher) {}

  grpc::ServerUnaryReactor* GetTariff(grpc::CallbackServerContext* context,
                                      const v1::GetTariffRequest* request,
                                      v1::GetTariffResponse* response) override;
  grpc::ServerUnaryReactor* ScoreScenario(
      grpc::CallbackServerContext* context,
      const v1::ScoreScenarioRequest* request,
      v1::ScoreScenarioResponse* response) override;

 private:
  Publisher* const publisher_;
};

// The work of ScoreScenario, apart from gRPC (tests call it directly).
absl::StatusOr<v1::ScoreScenarioResponse> ScoreScenario(
    const v1::ScoreScenarioRequest& request, const TariffBook& book,
    const ExposureTable& table, const ScoringParams& params);

}  // namespace tariffalert

#endif  // TARIFF_ALERT_SERVER_SERVICE_BOOK_SERVICE_H_
