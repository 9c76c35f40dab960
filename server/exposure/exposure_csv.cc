#include "server/exposure/exposure_csv.h"

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "server/common/csv.h"
#include "server/common/sectors.h"

namespace tariffalert {
namespace {

// Shares of one kind may exceed 1 by this much (rounding in vendor files).
constexpr double kShareSumTolerance = 0.005;
// The highest MFN rate in the 2025 HTS is 350% (over-quota tobacco).
constexpr double kMaxBaseRatePct = 1000;
constexpr size_t kMaxTickerLength = 24;
// Longer than any listed company's name; the name goes into every alert.
constexpr size_t kMaxNameBytes = 200;

class ErrorList {
 public:
  void Add(absl::string_view file, int line, absl::string_view message) {
    ++count_;
    if (count_ <= kMaxReportedCsvErrors) {
      lines_.push_back(absl::StrCat(file, ":", line, ": ", message));
    }
  }
  bool empty() const { return count_ == 0; }
  absl::Status ToStatus() const {
    std::string text = absl::StrJoin(lines_, "\n");
    if (count_ > kMaxReportedCsvErrors) {
      absl::StrAppend(&text, "\n... and ", count_ - kMaxReportedCsvErrors,
                      " more errors");
    }
    return absl::InvalidArgumentError(text);
  }

 private:
  int count_ = 0;
  std::vector<std::string> lines_;
};

bool ValidTicker(absl::string_view t) {
  if (t.empty() || t.size() > kMaxTickerLength) return false;
  for (char c : t) {
    if (!(absl::ascii_isupper(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

// A company name is the one free text of the files that reaches alerts, the
// terminals `tariff-alert watch` prints to, and the CSVs the project writes:
// no control characters (C0, DEL, C1: terminal escapes), and nothing a
// spreadsheet would run as a formula. On failure returns a message naming the
// field.
std::optional<std::string> NameError(absl::string_view name) {
  if (name.empty()) return "name: empty";
  if (name.size() > kMaxNameBytes) {
    return absl::StrCat("name: ", name.size(), " bytes, at most ",
                        kMaxNameBytes);
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    // The cell is UTF-8 (CsvTable checked), so C1 is 0xC2 0x80..0x9F.
    const bool c1 = c == 0xC2 && i + 1 < name.size() &&
                    static_cast<unsigned char>(name[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) {
      const unsigned code_point =
          c1 ? static_cast<unsigned char>(name[i + 1]) : c;
      return absl::StrFormat(
          "name: control character U+%04X at offset %d; a name is one line "
          "of printable text",
          code_point, i);
    }
  }
  if (LooksLikeFormula(name)) {
    return absl::StrCat("name: '", name, "' begins with '", name.substr(0, 1),
                        "', which a spreadsheet runs as a formula; a name "
                        "must not begin with = + - or @");
  }
  return std::nullopt;
}

// Parses a finite number in [lo, hi]; on failure returns a message naming the
// field.
std::optional<std::string> ParseNumber(absl::string_view field,
                                       absl::string_view text, double lo,
                                       double hi, double* out) {
  double v = 0;
  if (!absl::SimpleAtod(text, &v) || !std::isfinite(v)) {
    return absl::StrCat(field, ": '", text, "' is not a number");
  }
  if (v < lo || v > hi) {
    return absl::StrFormat("%s: %s is outside %g..%g", field, text, lo, hi);
  }
  *out = v;
  return std::nullopt;
}

constexpr std::array<absl::string_view, 7> kCompanyColumns = {
    "ticker",         "name",       "sector",          "country",
    "market_cap_usd", "cogs_ratio", "operating_margin"};
constexpr std::array<absl::string_view, 5> kExposureColumns = {
    "ticker", "kind", "country", "product", "share"};
constexpr std::array<absl::string_view, 5> kBaseRateColumns = {
    "importer", "product", "mfn_rate_pct", "year", "source"};

constexpr std::array<absl::string_view, 3> kLinkColumns = {"supplier",
                                                           "customer", "share"};

struct RowRef {
  int line;
  HsCode product;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const ExposureTable>> ParseExposureFiles(
    const ExposureFiles& files, absl::string_view companies_name,
    absl::string_view exposures_name, std::string version,
    absl::string_view links_name, absl::string_view base_rates_name) {
  auto companies_csv =
      CsvTable::Parse(files.companies_csv, companies_name, kCompanyColumns);
  if (!companies_csv.ok()) return companies_csv.status();
  auto exposures_csv =
      CsvTable::Parse(files.exposures_csv, exposures_name, kExposureColumns);
  if (!exposures_csv.ok()) return exposures_csv.status();
  std::optional<CsvTable> links_csv;
  if (!files.links_csv.empty()) {
    auto parsed = CsvTable::Parse(files.links_csv, links_name, kLinkColumns);
    if (!parsed.ok()) return parsed.status();
    links_csv = *std::move(parsed);
  }
  std::optional<CsvTable> base_csv;
  if (!files.base_rates_csv.empty()) {
    auto parsed = CsvTable::Parse(files.base_rates_csv, base_rates_name,
                                  kBaseRateColumns);
    if (!parsed.ok()) return parsed.status();
    base_csv = *std::move(parsed);
  }

  ErrorList errors;
  std::vector<Company> companies;
  absl::flat_hash_map<std::string, std::pair<int, int>>
      index;  // ticker -> (i, line)
  {
    const CsvTable& t = *companies_csv;
    const int c_ticker = t.Column("ticker"), c_name = t.Column("name"),
              c_sector = t.Column("sector"), c_country = t.Column("country"),
              c_cap = t.Column("market_cap_usd"),
              c_cogs = t.Column("cogs_ratio"),
              c_margin = t.Column("operating_margin"),
              c_usmca = t.Column("usmca_share"),
              c_low_value = t.Column("low_value_share");
    for (const CsvRow& row : t.rows()) {
      Company c;
      bool ok = true;
      auto fail = [&](absl::string_view message) {
        errors.Add(companies_name, row.line, message);
        ok = false;
      };
      c.ticker = t.Field(row, c_ticker);
      if (!ValidTicker(c.ticker)) {
        fail(absl::StrCat("ticker: '", c.ticker,
                          "' must be 1-24 of A-Z, 0-9, '.', '-'"));
      }
      c.name = t.Field(row, c_name);
      if (auto e = NameError(c.name)) fail(*e);
      c.sector = t.Field(row, c_sector);
      if (!IsGicsSector(c.sector)) {
        fail(absl::StrCat("sector: '", c.sector, "' is not a GICS sector (",
                          absl::StrJoin(GicsSectors(), ", "), ")"));
      }
      const std::string& country = t.Field(row, c_country);
      auto parsed = Country::Parse(country);
      if (!parsed || parsed->is_eu()) {
        fail(absl::StrCat("country: '", country,
                          "' is not an ISO 3166-1 alpha-2 code"));
      } else {
        c.country = *parsed;
      }
      if (auto e = ParseNumber("market_cap_usd", t.Field(row, c_cap), 0, 1e15,
                               &c.market_cap_usd)) {
        fail(*e);
      } else if (c.market_cap_usd <= 0) {
        fail("market_cap_usd: must be positive");
      }
      if (auto e = ParseNumber("cogs_ratio", t.Field(row, c_cogs), 0, 1,
                               &c.cogs_ratio)) {
        fail(*e);
      }
      if (auto e = ParseNumber("operating_margin", t.Field(row, c_margin), -1,
                               1, &c.operating_margin)) {
        fail(*e);
      }
      // Optional columns; an empty cell keeps the default.
      for (auto [column, name, out] :
           {std::make_tuple(c_usmca, "usmca_share", &c.usmca_share),
            std::make_tuple(c_low_value, "low_value_share",
                            &c.low_value_share)}) {
        if (column < 0 || t.Field(row, column).empty()) continue;
        if (auto e = ParseNumber(name, t.Field(row, column), 0, 1, out)) {
          fail(*e);
        }
      }
      if (!ok) continue;
      auto [it, inserted] = index.emplace(
          c.ticker,
          std::make_pair(static_cast<int>(companies.size()), row.line));
      if (!inserted) {
        errors.Add(companies_name, row.line,
                   absl::StrCat("ticker: '", c.ticker, "' already on line ",
                                it->second.second));
        continue;
      }
      companies.push_back(std::move(c));
    }
  }

  {
    const CsvTable& t = *exposures_csv;
    const int c_ticker = t.Column("ticker"), c_kind = t.Column("kind"),
              c_country = t.Column("country"), c_product = t.Column("product"),
              c_share = t.Column("share");
    // (ticker, kind, country) -> rows seen, to find overlapping products.
    absl::flat_hash_map<std::string, std::vector<RowRef>> seen;
    // (ticker, kind) -> running sum of shares.
    absl::flat_hash_map<std::string, double> sums;
    for (const CsvRow& row : t.rows()) {
      bool ok = true;
      auto fail = [&](absl::string_view message) {
        errors.Add(exposures_name, row.line, message);
        ok = false;
      };
      const std::string& ticker = t.Field(row, c_ticker);
      auto company_it = index.find(ticker);
      if (company_it == index.end()) {
        fail(absl::StrCat("ticker: '", ticker, "' is not in ", companies_name));
      }
      const std::string& kind = t.Field(row, c_kind);
      const bool is_product = kind == "product";
      if (kind != "revenue" && kind != "sourcing" && kind != "production" &&
          !is_product) {
        fail(
            absl::StrCat("kind: '", kind,
                         "' must be revenue, sourcing, production or product"));
      }
      const std::string& country_text = t.Field(row, c_country);
      ExposureRow er;
      if (is_product) {
        if (!country_text.empty()) {
          fail("country: must be empty for kind product");
        }
      } else if (auto c = Country::Parse(country_text)) {
        er.country = *c;
      } else {
        fail(absl::StrCat("country: '", country_text,
                          "' is not an ISO 3166-1 alpha-2 code or EU"));
      }
      const std::string& product_text = t.Field(row, c_product);
      if (auto p = HsCode::Parse(product_text)) {
        er.product = *p;
        if (is_product && p->is_all()) {
          fail("product: kind product needs an HS chapter or heading, not '*'");
        }
      } else {
        fail(absl::StrCat("product: '", product_text,
                          "' is not '*', an HS chapter (01-97) or heading"));
      }
      if (auto e =
              ParseNumber("share", t.Field(row, c_share), 0, 1, &er.share)) {
        fail(*e);
      }
      if (!ok) continue;

      const std::string group =
          absl::StrCat(ticker, "\t", kind, "\t", country_text);
      std::vector<RowRef>& rows = seen[group];
      bool overlap = false;
      for (const RowRef& other : rows) {
        if (other.product.Overlaps(er.product)) {
          fail(absl::StrCat("product: ", er.product.ToString(), " overlaps ",
                            other.product.ToString(), " on line ", other.line,
                            " (", ticker, " ", kind,
                            is_product ? "" : absl::StrCat(" ", country_text),
                            "); list disjoint products"));
          overlap = true;
          break;
        }
      }
      if (overlap) continue;
      rows.push_back(RowRef{row.line, er.product});

      double& sum = sums[absl::StrCat(ticker, "\t", kind)];
      sum += er.share;
      if (sum > 1 + kShareSumTolerance) {
        fail(absl::StrFormat(
            "share: %s %s shares sum to %.4g with this row (at most 1)", ticker,
            kind, sum));
        continue;
      }
      Company& c = companies[static_cast<size_t>(company_it->second.first)];
      if (kind == "revenue") {
        c.revenue.push_back(er);
      } else if (kind == "sourcing") {
        c.sourcing.push_back(er);
      } else if (kind == "production") {
        c.production.push_back(er);
      } else {
        c.products.push_back(er);
      }
    }
  }
  std::vector<SupplyLink> links;
  if (links_csv) {
    const CsvTable& t = *links_csv;
    const int c_supplier = t.Column("supplier"),
              c_customer = t.Column("customer"), c_share = t.Column("share");
    // (supplier, customer) -> line, to find duplicates.
    absl::flat_hash_map<std::pair<std::string, std::string>, int> seen;
    // supplier -> running sum of the customers' shares of its revenue.
    absl::flat_hash_map<std::string, double> sums;
    for (const CsvRow& row : t.rows()) {
      bool ok = true;
      auto fail = [&](absl::string_view message) {
        errors.Add(links_name, row.line, message);
        ok = false;
      };
      SupplyLink link;
      link.supplier = t.Field(row, c_supplier);
      if (!index.contains(link.supplier)) {
        fail(absl::StrCat("supplier: '", link.supplier, "' is not in ",
                          companies_name));
      }
      link.customer = t.Field(row, c_customer);
      if (!index.contains(link.customer)) {
        fail(absl::StrCat("customer: '", link.customer, "' is not in ",
                          companies_name));
      } else if (link.customer == link.supplier) {
        fail(absl::StrCat("customer: '", link.customer,
                          "' is the supplier itself"));
      }
      if (auto e =
              ParseNumber("share", t.Field(row, c_share), 0, 1, &link.share)) {
        fail(*e);
      } else if (link.share <= 0) {
        fail("share: must be positive");
      }
      if (!ok) continue;

      auto [it, inserted] =
          seen.emplace(std::make_pair(link.supplier, link.customer), row.line);
      if (!inserted) {
        fail(absl::StrCat("customer: ", link.supplier, " -> ", link.customer,
                          " already on line ", it->second));
        continue;
      }
      double& sum = sums[link.supplier];
      sum += link.share;
      if (sum > 1 + kShareSumTolerance) {
        fail(absl::StrFormat(
            "share: %s customer shares sum to %.4g with this row (at most 1)",
            link.supplier, sum));
        continue;
      }
      links.push_back(std::move(link));
    }
  }
  auto base = std::make_shared<BaseRates>();
  if (base_csv) {
    const CsvTable& t = *base_csv;
    const int c_importer = t.Column("importer"),
              c_product = t.Column("product"),
              c_rate = t.Column("mfn_rate_pct"), c_year = t.Column("year"),
              c_source = t.Column("source"), c_url = t.Column("url"),
              c_method = t.Column("method"), c_lines = t.Column("lines");
    absl::flat_hash_map<std::pair<Country, HsCode>, int> seen;
    for (const CsvRow& row : t.rows()) {
      bool ok = true;
      auto fail = [&](absl::string_view message) {
        errors.Add(base_rates_name, row.line, message);
        ok = false;
      };
      BaseRate r;
      const std::string& importer = t.Field(row, c_importer);
      if (auto c = Country::Parse(importer)) {
        r.importer = *c;
      } else {
        fail(absl::StrCat("importer: '", importer,
                          "' is not an ISO 3166-1 alpha-2 code or EU"));
      }
      const std::string& product = t.Field(row, c_product);
      if (auto p = HsCode::Parse(product)) {
        r.product = *p;
      } else {
        fail(absl::StrCat("product: '", product,
                          "' is not '*', an HS chapter (01-97) or heading"));
      }
      if (auto e = ParseNumber("mfn_rate_pct", t.Field(row, c_rate), 0,
                               kMaxBaseRatePct, &r.rate_pct)) {
        fail(*e);
      }
      double year = 0;
      if (auto e =
              ParseNumber("year", t.Field(row, c_year), 1930, 2100, &year)) {
        fail(*e);
      } else if (year != static_cast<int>(year)) {
        fail(absl::StrCat("year: '", t.Field(row, c_year),
                          "' is not a whole year"));
      }
      r.year = static_cast<int>(year);
      r.source = t.Field(row, c_source);
      if (r.source.empty()) fail("source: must not be empty");
      if (c_url >= 0) r.url = t.Field(row, c_url);
      if (c_method >= 0) r.method = t.Field(row, c_method);
      if (c_lines >= 0 && !t.Field(row, c_lines).empty()) {
        double lines = 0;
        if (auto e =
                ParseNumber("lines", t.Field(row, c_lines), 0, 1e6, &lines)) {
          fail(*e);
        } else if (lines != static_cast<int>(lines)) {
          fail(absl::StrCat("lines: '", t.Field(row, c_lines),
                            "' is not a whole number"));
        }
        r.lines = static_cast<int>(lines);
      }
      if (!ok) continue;
      auto [it, inserted] =
          seen.emplace(std::make_pair(r.importer, r.product), row.line);
      if (!inserted) {
        fail(absl::StrCat("product: ", importer, " ", product,
                          " already on line ", it->second));
        continue;
      }
      base->Add(std::move(r));
    }
  }
  if (!errors.empty()) return errors.ToStatus();
  return std::make_shared<const ExposureTable>(
      std::move(version), std::move(companies), std::move(links),
      std::move(base));
}

}  // namespace tariffalert
