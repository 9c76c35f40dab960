// The stacking rules (server/tariff_book/stacking.h), each with rates worked
// out by hand, and a reconciliation with a broker's published duty
// calculation.

#include "server/tariff_book/stacking.h"

#include <initializer_list>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/base_rates.h"
#include "server/tariff_book/tariff_book.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;
using testing::H;
using ::testing::HasSubstr;

// A measure in force as an EFFECTIVE event sets it.
struct M {
  const char* id;
  std::initializer_list<const char*> targets;
  std::initializer_list<const char*> products;
  double rate;
  Authority authority = Authority::kUnspecified;
  Combination combination = Combination::kAdd;
  std::initializer_list<const char*> not_with = {};
  uint8_t channels = kAllChannels;
  bool on_content = false;
  std::initializer_list<const char*> excluded_targets = {};
};

TariffBook Book(std::initializer_list<M> measures) {
  TariffBook book;
  for (const M& m : measures) {
    TariffAction a;
    a.event_id = std::string("e-") + m.id;
    a.measure_id = m.id;
    a.importer = C("US");
    for (const char* t : m.targets) a.targets.push_back(C(t));
    for (const char* t : m.excluded_targets) {
      a.excluded_targets.push_back(C(t));
    }
    for (const char* p : m.products) a.products.push_back(H(p));
    a.stage = Stage::kEffective;
    a.new_rate_pct = m.rate;
    a.probability = 1;
    a.terms.authority = m.authority;
    a.terms.combination = m.combination;
    for (const char* n : m.not_with) a.terms.not_with.push_back(n);
    a.terms.on_content = m.on_content;
    a.terms_given = true;
    a.channels = m.channels;
    auto step = book.Plan(a);
    EXPECT_TRUE(step.ok()) << m.id << ": " << step.status();
    if (step.ok()) book = *step->next;
  }
  return book;
}

BaseRates Mfn(std::initializer_list<std::pair<const char*, double>> rows) {
  BaseRates base;
  for (const auto& [product, rate] : rows) {
    BaseRate r;
    r.importer = C("US");
    r.product = H(product);
    r.rate_pct = rate;
    r.year = 2025;
    r.source = "test";
    base.Add(r);
  }
  return base;
}

StackQuery Q(const char* exporter, const char* product,
             Channel channel = Channel::kGeneral, double content = 1) {
  StackQuery q;
  q.importer = C("US");
  q.exporter = C(exporter);
  q.product = H(product);
  q.channel = channel;
  q.content_share = content;
  return q;
}

const StackLine& Line(const RateStack& s, const std::string& id) {
  for (const StackLine& l : s.lines) {
    if (l.measure->id == id) return l;
  }
  ADD_FAILURE() << "no line " << id;
  static const StackLine none;
  return none;
}

constexpr Authority kRecip = Authority::kIeepaReciprocal;
constexpr Authority kFent = Authority::kIeepaFentanyl;
constexpr Authority k232 = Authority::kSection232;
constexpr Authority k301 = Authority::kSection301;

TEST(StackingTest, BaseRateAddsToTheMeasuresAndFallsBackToTheChapter) {
  const TariffBook book = Book({{"us-cn-fentanyl", {"CN"}, {}, 20, kFent}});
  const BaseRates base = Mfn({{"*", 4.24}, {"61", 11.8}, {"6109", 14.54}});
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CN"), H("6109"), &base), 34.54);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CN"), H("6110"), &base), 31.8);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CN"), H("85"), &base), 24.24);
  // No base rates: the additional duties only, as before.
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CN"), H("6109")), 20);
  const StackQuery q = Q("CN", "6110");
  const RateStack s = book.Stack(q, &base);
  EXPECT_THAT(DescribeBase(s, q), HasSubstr("no row for HS 6110, so the "
                                            "chapter row applies"));
  // A row that says how many tariff lines it averages says so, so that a
  // reader can check it against the schedule.
  BaseRates counted;
  BaseRate row;
  row.importer = C("US");
  row.product = H("8708");
  row.rate_pct = 1.15;
  row.year = 2025;
  row.lines = 85;
  row.source = "USITC HTS 2025 Basic Edition, column 1 General";
  counted.Add(row);
  const StackQuery parts = Q("CN", "8708");
  EXPECT_EQ(DescribeBase(book.Stack(parts, &counted), parts),
            "US MFN 1.15% (HS 8708, the mean of 85 tariff lines: USITC HTS "
            "2025 Basic Edition, column 1 General, 2025)");
}

// US-EU framework (CBP CSMS #65829726): the higher of MFN and 15%.
TEST(StackingTest, AllInRateIsTheHigherOfMfnAndItsRate) {
  const TariffBook book =
      Book({{"us-eu-reciprocal", {"EU"}, {}, 15, kRecip, Combination::kAllIn}});
  const BaseRates base = Mfn({{"8703", 2.5}, {"6402", 20}, {"8471", 0}});
  // An EU car (MFN 2.5%) pays 15%: 12.5 points of reciprocal duty.
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("DE"), H("8703"), &base), 15);
  EXPECT_DOUBLE_EQ(
      Line(book.Stack(Q("DE", "8703"), &base), "us-eu-reciprocal").applied_pct,
      12.5);
  // A good with MFN 20% pays 20%, no reciprocal duty.
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("FR"), H("6402"), &base), 20);
  // MFN free: 15%.
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("IT"), H("8471"), &base), 15);
}

// The April 11, 2025 memorandum: smartphones (8517) out of the reciprocal
// duties, the 20% fentanyl duty still due.
TEST(StackingTest, ChineseSmartphoneAfterAprilElevenPaysOnlyTheFentanylDuty) {
  const TariffBook book = Book({
      {"us-cn-fentanyl", {"CN"}, {}, 20, kFent},
      {"us-cn-reciprocal", {"CN"}, {}, 125, kRecip},
  });
  const BaseRates base = Mfn({{"8517", 0}, {"6109", 14.54}});
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CN"), H("8517"), &base), 145);
  TariffAction exempt;
  exempt.event_id = "2025-04-11";
  exempt.importer = C("US");
  exempt.targets = {C("CN")};
  exempt.excluded = {H("8471"), H("8517"), H("8542")};
  exempt.stage = Stage::kEffective;
  exempt.new_rate_pct = 125;
  exempt.measure_id = "us-cn-reciprocal";
  auto step = book.Plan(exempt, &base);
  ASSERT_TRUE(step.ok()) << step.status();
  const TariffBook& after = *step->next;
  EXPECT_DOUBLE_EQ(after.Rate(C("US"), C("CN"), H("8517"), &base), 20);
  EXPECT_DOUBLE_EQ(after.Rate(C("US"), C("CN"), H("6109"), &base), 159.54);
  // The measure kept its authority through the event that left it unset.
  EXPECT_EQ(after.measures().at("us-cn-reciprocal").terms.authority, kRecip);
}

// From March 7, 2025 USMCA-qualifying goods are outside the Canada and
// Mexico duties.
TEST(StackingTest, UsmcaQualifyingMexicanGoodsPayNothingUnderTheFentanylDuty) {
  const TariffBook book =
      Book({{"us-mx-fentanyl",
             {"MX"},
             {},
             25,
             kFent,
             Combination::kAdd,
             {},
             static_cast<uint8_t>(Channel::kGeneral) |
                 static_cast<uint8_t>(Channel::kLowValue)}});
  EXPECT_DOUBLE_EQ(
      book.Rate(C("US"), C("MX"), H("2203"), nullptr, Channel::kUsmca), 0);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("MX"), H("2203")), 25);
  const StackQuery q = Q("MX", "2203", Channel::kUsmca);
  const RateStack s = book.Stack(q, nullptr);
  EXPECT_EQ(Line(s, "us-mx-fentanyl").reason, StackReason::kOutsideChannel);
  EXPECT_THAT(DescribeLine(Line(s, "us-mx-fentanyl"), s, q),
              HasSubstr("does not reach USMCA-qualifying goods"));
  EXPECT_TRUE(book.ChannelsDiffer());
}

// EO 14257 sec. 3(b): no reciprocal duty on goods under section 232.
TEST(StackingTest, SteelUnderSection232DoesNotAlsoPayTheReciprocalRate) {
  const TariffBook book = Book({
      {"us-232-steel-alu", {}, {"72", "73", "76"}, 50, k232},
      {"us-reciprocal-baseline",
       {},
       {},
       10,
       kRecip,
       Combination::kAdd,
       {"SECTION_232"}},
  });
  const BaseRates base = Mfn({{"7208", 0}, {"8471", 0}});
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("KR"), H("7208"), &base), 50);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("KR"), H("8471"), &base), 10);
  const StackQuery q = Q("KR", "7208");
  const RateStack s = book.Stack(q, &base);
  const StackLine& recip = Line(s, "us-reciprocal-baseline");
  EXPECT_EQ(recip.reason, StackReason::kNotWith);
  EXPECT_EQ(recip.by->id, "us-232-steel-alu");
  EXPECT_THAT(DescribeLine(recip, s, q),
              HasSubstr("owes duty under us-232-steel-alu (SECTION_232)"));
}

// 9903.01.25 (10% on all partners) does not apply where a country's own
// reciprocal rate does; the UK's 25% steel rate replaces the 50%.
TEST(StackingTest, CountryRateReplacesTheAllPartnerRateOfItsAuthority) {
  const TariffBook book = Book({
      {"us-reciprocal-baseline", {}, {}, 10, kRecip},
      {"us-cn-reciprocal", {"CN"}, {}, 34, kRecip},
      {"us-232-steel-alu", {}, {"72"}, 50, k232},
      {"us-232-steel-alu-uk", {"GB"}, {"72"}, 25, k232},
      // Without an authority nothing is replaced: the old sum.
      {"us-old-style", {"JP"}, {}, 14},
  });
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CN"), H("85")), 34);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("VN"), H("85")), 10);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("JP"), H("85")), 24);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("GB"), H("7208")), 35);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("DE"), H("7208")), 60);
  const StackQuery q = Q("CN", "85");
  const RateStack s = book.Stack(q, nullptr);
  EXPECT_THAT(DescribeLine(Line(s, "us-reciprocal-baseline"), s, q),
              HasSubstr("us-cn-reciprocal, CN's own IEEPA_RECIPROCAL rate"));
}

// EO 14289 as reordered on June 4, 2025: autos > aluminium > steel > the
// Canada and Mexico duties; a good pays the first that applies.
TEST(StackingTest, AutosUnderSection232PayNeitherSteelNorTheCanadaDuty) {
  const TariffBook book = Book({
      {"us-232-autos", {}, {"8703", "8708"}, 25, k232},
      {"us-232-steel-alu",
       {},
       {"72", "73", "76", "8708"},
       50,
       k232,
       Combination::kAdd,
       {"us-232-autos"}},
      {"us-ca-fentanyl",
       {"CA"},
       {},
       35,
       kFent,
       Combination::kAdd,
       {"SECTION_232"}},
  });
  const BaseRates base = Mfn({{"8708", 1.15}, {"7208", 0}, {"4407", 0}});
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CA"), H("8708"), &base), 26.15);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CA"), H("7208"), &base), 50);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CA"), H("4407"), &base), 35);
}

// De minimis: parcels under the limit pay nothing, in lieu of every duty,
// until the measure is revoked (May 2, 2025 for China and Hong Kong).
TEST(StackingTest, DeMinimisIsInLieuOfEveryDutyOnLowValueParcels) {
  const TariffBook book = Book({
      {"us-cn-fentanyl", {"CN"}, {}, 20, kFent},
      {"us-de-minimis",
       {},
       {},
       0,
       Authority::kOther,
       Combination::kInLieu,
       {},
       static_cast<uint8_t>(Channel::kLowValue)},
  });
  const BaseRates base = Mfn({{"6109", 14.54}});
  EXPECT_DOUBLE_EQ(
      book.Rate(C("US"), C("CN"), H("6109"), &base, Channel::kLowValue), 0);
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CN"), H("6109"), &base), 34.54);
  TariffAction end;
  end.event_id = "2025-05-02";
  end.importer = C("US");
  end.stage = Stage::kRevoked;
  end.measure_id = "us-de-minimis";
  auto step = book.Plan(end, &base);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_DOUBLE_EQ(
      step->next->Rate(C("US"), C("CN"), H("6109"), &base, Channel::kLowValue),
      34.54);
}

// Section 232 on a derivative is charged on its metal content.
TEST(StackingTest, OnContentRateIsChargedOnTheContentShare) {
  const TariffBook book = Book({{"us-232-alu-derivatives",
                                 {},
                                 {"7616"},
                                 25,
                                 k232,
                                 Combination::kAdd,
                                 {},
                                 kAllChannels,
                                 /*on_content=*/true}});
  EXPECT_DOUBLE_EQ(
      book.Stack(Q("JP", "7616", Channel::kGeneral, 0.25), nullptr).total_pct,
      6.25);
  // Without a content share the whole value is taken as metal.
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("JP"), H("7616")), 25);
}

// JAS Forwarding, "Client Advisory - Reciprocal Examples 4-4-2025"
// (https://www.jas.com/usa-compliance-blog/client-advisory-reciprocal-examples-4-4-2025):
// a $100 item with a 2.5% regular rate; item 1 is an aluminium derivative
// with 25% non-US aluminium content, item 2 is not under section 232. The
// rates are the April 4 ones (China 34%, Japan 24% reciprocal).
TEST(StackingTest, ReconcilesWithJasForwardingsPublishedExamples) {
  const TariffBook book = Book({
      {"us-cn-fentanyl", {"CN"}, {}, 20, kFent},
      {"us-cn-301-list3", {"CN"}, {"7615", "7616"}, 25, k301},
      {"us-232-alu-derivatives",
       {},
       {"7616"},
       25,
       k232,
       Combination::kAdd,
       {},
       kAllChannels,
       /*on_content=*/true},
      {"us-cn-reciprocal",
       {"CN"},
       {},
       34,
       kRecip,
       Combination::kAdd,
       {"SECTION_232"}},
      {"us-jp-reciprocal",
       {"JP"},
       {},
       24,
       kRecip,
       Combination::kAdd,
       {"SECTION_232"}},
  });
  // The example's regular rate for both items; item 1 is taken as heading
  // 7616 (other articles of aluminium, 7616.99.51 is 2.5% in the HTS) and
  // item 2 as 7615, which no section 232 measure here covers.
  const BaseRates base = Mfn({{"7616", 2.5}, {"7615", 2.5}});
  // Example 1 from China: 2.50 + 20.00 + 25.00 + 6.25 = $53.75; the 34%
  // reciprocal duty does not apply to a section 232 derivative.
  EXPECT_DOUBLE_EQ(
      book.Stack(Q("CN", "7616", Channel::kGeneral, 0.25), &base).total_pct,
      53.75);
  // Example 2 from China: 2.50 + 20.00 + 25.00 + 34.00 = $81.50.
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("CN"), H("7615"), &base), 81.5);
  // Example 1 from Japan: 2.50 + 6.25 = $8.75.
  EXPECT_DOUBLE_EQ(
      book.Stack(Q("JP", "7616", Channel::kGeneral, 0.25), &base).total_pct,
      8.75);
  // Example 2 from Japan: 2.50 + 24.00 = $26.50.
  EXPECT_DOUBLE_EQ(book.Rate(C("US"), C("JP"), H("7615"), &base), 26.5);
}

// April 2, 2025: Japan's own 24% announced for April 9 (priced at p 0.7)
// would replace the 10% baseline, so the expected rate is 0.7 x 24 +
// 0.3 x 10 = 19.8; the April 9 pause at 10% takes back the 9.8 priced in.
TEST(StackingTest, PricedAnnouncementOfACountryRateIsTheExpectedRate) {
  const TariffBook book =
      Book({{"us-reciprocal-baseline", {}, {}, 10, kRecip}});
  TariffAction announce;
  announce.event_id = "2025-04-02-jp";
  announce.importer = C("US");
  announce.targets = {C("JP")};
  announce.stage = Stage::kAnnounced;
  announce.new_rate_pct = 24;
  announce.probability = 0.7;
  announce.measure_id = "us-jp-reciprocal";
  announce.terms.authority = kRecip;
  announce.terms_given = true;
  auto first = book.Plan(announce);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->changes.size(), 1u);
  EXPECT_DOUBLE_EQ(first->changes[0].previous_rate_pct, 10);
  EXPECT_DOUBLE_EQ(first->changes[0].new_rate_pct, 24);
  EXPECT_DOUBLE_EQ(first->probability, 0.7);

  TariffAction pause;
  pause.event_id = "2025-04-09-jp-pause";
  pause.importer = C("US");
  pause.stage = Stage::kPaused;
  pause.new_rate_pct = 10;
  pause.snap_back_rate_pct = 24;
  pause.expires_time = absl::FromUnixSeconds(1752033660);  // 2025-07-09
  pause.measure_id = "us-jp-reciprocal";
  pause.probability = 1;
  auto second = first->next->Plan(pause);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->scored_changes.size(), 1u);
  EXPECT_NEAR(second->scored_changes[0].previous_rate_pct, 19.8, 1e-9);
  EXPECT_NEAR(second->scored_changes[0].new_rate_pct, 10, 1e-9);
  EXPECT_DOUBLE_EQ(second->probability, 1);
  // In force at 10%, Japan's own rate replaces the baseline's 10%.
  EXPECT_DOUBLE_EQ(second->next->Rate(C("US"), C("JP"), H("85")), 10);
}

// The US-EU deal's 15% is all-in where the rate it replaces was not: the
// pending change carries its own terms into the priced book.
TEST(StackingTest, PendingChangeStacksByItsOwnTerms) {
  const TariffBook book = Book({{"us-eu-reciprocal", {"EU"}, {}, 10, kRecip}});
  const BaseRates base = Mfn({{"6402", 20}});
  TariffAction deal;
  deal.event_id = "2025-07-27-eu-deal";
  deal.importer = C("US");
  deal.measure_id = "us-eu-reciprocal";
  deal.stage = Stage::kAnnounced;
  deal.new_rate_pct = 15;
  deal.probability = 0.7;
  deal.terms.authority = kRecip;
  deal.terms.combination = Combination::kAllIn;
  deal.terms_given = true;
  auto step = book.Plan(deal, &base);
  ASSERT_TRUE(step.ok()) << step.status();
  // If it happens: 30% (20 + 10) -> 20% (max(20, 15)).
  const TariffBook& after = *step->after;
  EXPECT_DOUBLE_EQ(step->before->Rate(C("US"), C("DE"), H("6402"), &base), 30);
  EXPECT_DOUBLE_EQ(after.Rate(C("US"), C("DE"), H("6402"), &base), 20);
  // Until the EFFECTIVE event the measure stands as it was.
  const Measure& m = step->next->measures().at("us-eu-reciprocal");
  EXPECT_EQ(m.terms.combination, Combination::kAdd);
  EXPECT_EQ(m.pending->terms.combination, Combination::kAllIn);
}

}  // namespace
}  // namespace tariffalert
