#ifndef TARIFF_ALERT_TESTS_FUZZ_SAMPLE_BOOK_H_
#define TARIFF_ALERT_TESTS_FUZZ_SAMPLE_BOOK_H_

// A tariff book with measures the sample scenario (data/scenarios) names, for
// the event targets to plan against: an event from outside meets a book that
// has measures in force, paused and pending, not only an empty one.

#include <cstdio>
#include <cstdlib>

#include "server/tariff_book/book_codec.h"
#include "server/tariff_book/tariff_book.h"
#include "tariffalert/v1/tariff_book.pb.h"

namespace tariffalert::fuzz {

inline const TariffBook& SampleBook() {
  static const TariffBook* book = [] {
    v1::BookState s;
    s.set_revision(9);
    s.mutable_clock_time()->set_seconds(1747000000);  // 2025-05-11
    v1::Measure* m = s.add_measures();
    m->set_measure_id("us-cn-fentanyl");
    m->set_imposing_country("US");
    m->add_target_countries("CN");
    m->set_in_force(true);
    m->set_rate_pct(20);
    m->set_event_id("2025-03-04-us-cn-fentanyl-20");
    m = s.add_measures();
    m->set_measure_id("cn-us-reciprocal");
    m->set_imposing_country("CN");
    m->add_target_countries("US");
    m->set_in_force(true);
    m->set_rate_pct(10);
    m->mutable_pause()->set_snap_back_rate_pct(34);
    m->mutable_pause()->mutable_expires_time()->set_seconds(1755000000);
    m->mutable_pause()->set_event_id("2025-05-12-cn-us-geneva-pause");
    m->set_event_id("2025-05-12-cn-us-geneva-pause");
    m = s.add_measures();
    m->set_measure_id("us-steel");
    m->set_imposing_country("US");
    m->add_product_codes("72");
    m->add_product_codes("73");
    m->add_excluded_product_codes("7208");
    m->set_in_force(true);
    m->set_rate_pct(25);
    m->set_event_id("e-steel");
    m = s.add_measures();
    m->set_measure_id("eu-us-threat");
    m->set_imposing_country("EU");
    m->add_target_countries("US");
    m->mutable_pending()->set_stage(v1::STAGE_THREATENED);
    m->mutable_pending()->set_rate_pct(30);
    m->mutable_pending()->set_probability(0.35);
    m->mutable_pending()->set_event_id("e-threat");
    auto decoded = BookFromProto(s, "sample book");
    if (!decoded.ok()) {
      std::fprintf(stderr, "sample book: %s\n",
                   decoded.status().ToString().c_str());
      std::abort();
    }
    return new TariffBook(*std::move(decoded));
  }();
  return *book;
}

}  // namespace tariffalert::fuzz

#endif  // TARIFF_ALERT_TESTS_FUZZ_SAMPLE_BOOK_H_
