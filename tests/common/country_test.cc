#include "server/common/country.h"

#include <algorithm>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/codes.h"

namespace tariffalert {
namespace {

using testing::C;

TEST(CountryParseTest, AcceptsAssignedUpperCaseCodes) {
  for (const char* code : {"US", "CN", "MX", "CA", "DE", "FR", "GB", "JP", "VN",
                           "TW", "AD", "ZW"}) {
    auto c = Country::Parse(code);
    ASSERT_TRUE(c.has_value()) << code;
    EXPECT_TRUE(c->valid());
    EXPECT_FALSE(c->is_eu());
    EXPECT_EQ(c->ToString(), code);
  }
}

TEST(CountryParseTest, RejectsLowerAndMixedCase) {
  EXPECT_FALSE(Country::Parse("us").has_value());
  EXPECT_FALSE(Country::Parse("Us").has_value());
  EXPECT_FALSE(Country::Parse("uS").has_value());
  EXPECT_FALSE(Country::Parse("eu").has_value());
}

TEST(CountryParseTest, AcceptsEuAsTheCustomsUnion) {
  auto eu = Country::Parse("EU");
  ASSERT_TRUE(eu.has_value());
  EXPECT_TRUE(eu->is_eu());
  EXPECT_EQ(*eu, Country::Eu());
  EXPECT_EQ(eu->ToString(), "EU");
  // "EU" is the union, not one of its member states.
  EXPECT_FALSE(eu->IsEuMember());
}

TEST(CountryParseTest, RejectsUnassignedCodes) {
  EXPECT_FALSE(Country::Parse("XX").has_value());
  // The United Kingdom is GB in ISO 3166-1; UK is only reserved.
  EXPECT_FALSE(Country::Parse("UK").has_value());
  EXPECT_TRUE(Country::Parse("GB").has_value());
  // Kosovo's XK is user-assigned, not an ISO code.
  EXPECT_FALSE(Country::Parse("XK").has_value());
}

TEST(CountryParseTest, RejectsWrongLengthAndNonLetters) {
  EXPECT_FALSE(Country::Parse("").has_value());
  EXPECT_FALSE(Country::Parse("U").has_value());
  EXPECT_FALSE(Country::Parse("USA").has_value());
  EXPECT_FALSE(Country::Parse(" US").has_value());
  EXPECT_FALSE(Country::Parse("U1").has_value());
  EXPECT_FALSE(Country::Parse("12").has_value());
}

TEST(CountryTest, DefaultCountryIsInvalid) {
  EXPECT_FALSE(Country().valid());
  EXPECT_FALSE(Country().IsEuMember());
}

TEST(CountryTest, EuMembership) {
  for (const char* member : {"FR", "DE", "IT", "IE", "HR", "CY", "MT"}) {
    EXPECT_TRUE(C(member).IsEuMember()) << member;
  }
  // Left the EU, never joined, or only in the single market.
  for (const char* other : {"GB", "CH", "NO", "IS", "TR", "US", "CN"}) {
    EXPECT_FALSE(C(other).IsEuMember()) << other;
  }
}

TEST(CountryTest, SameBlocIsTheSameCountryOrBothInTheEu) {
  EXPECT_TRUE(C("US").SameBloc(C("US")));
  EXPECT_FALSE(C("US").SameBloc(C("CN")));
  EXPECT_FALSE(C("US").SameBloc(C("CA")));  // a trade deal is not a bloc
  EXPECT_TRUE(C("FR").SameBloc(C("DE")));
  EXPECT_TRUE(C("DE").SameBloc(C("FR")));
  EXPECT_TRUE(C("FR").SameBloc(Country::Eu()));
  EXPECT_TRUE(Country::Eu().SameBloc(C("FR")));
  EXPECT_TRUE(Country::Eu().SameBloc(Country::Eu()));
  EXPECT_FALSE(Country::Eu().SameBloc(C("GB")));
  EXPECT_FALSE(C("GB").SameBloc(C("FR")));
  EXPECT_FALSE(C("US").SameBloc(Country::Eu()));
}

TEST(CountryTest, EuMembersAreThe27MemberStatesInCodeOrder) {
  auto members = EuMembers();
  ASSERT_EQ(members.size(), 27u);
  ASSERT_EQ(kEuMemberCount, 27);
  EXPECT_TRUE(std::is_sorted(members.begin(), members.end()));
  for (Country m : members) {
    EXPECT_TRUE(m.IsEuMember()) << m.ToString();
    EXPECT_FALSE(m.is_eu());
  }
  EXPECT_EQ(members.front().ToString(), "AT");
  EXPECT_EQ(members.back().ToString(), "SK");
  EXPECT_EQ(std::count(members.begin(), members.end(), C("GB")), 0);
  EXPECT_EQ(std::count(members.begin(), members.end(), C("HR")), 1);
}

TEST(CountryTest, AllCountriesHoldsEveryAssignedCodeButNotEu) {
  auto all = AllCountries();
  // ISO 3166-1 has 249 officially assigned alpha-2 codes.
  EXPECT_EQ(all.size(), 249u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::count(all.begin(), all.end(), Country::Eu()), 0);
  for (Country m : EuMembers()) {
    EXPECT_EQ(std::count(all.begin(), all.end(), m), 1) << m.ToString();
  }
  for (Country c : all) {
    auto reparsed = Country::Parse(c.ToString());
    ASSERT_TRUE(reparsed.has_value()) << c.ToString();
    EXPECT_EQ(*reparsed, c);
  }
}

}  // namespace
}  // namespace tariffalert
