#!/usr/bin/env python3
"""Deterministic synthetic exposure table for benchmark B1.

B1 scores one event against a synthetic table of 10k tickers x 50 countries
(and 50k for scale). This script writes that table in the interchange format
of docs/exposure-format.md, so that `tariff-alert load --dir DIR` and the
server's loader (server/exposure/exposure_csv.cc) accept it:

  DIR/companies.csv  ticker,name,sector,country,market_cap_usd,cogs_ratio,
                     operating_margin
  DIR/exposures.csv  ticker,kind,country,product,share
  DIR/links.csv      supplier,customer,share   (only with --links N > 0)

Usage:
  bench/gen_exposure.py --tickers 10000 --countries 50 --seed 1 --out /tmp/syn10k
  bench/gen_exposure.py --tickers 50000 --countries 50 --seed 1 --out /tmp/syn50k \
      --links 20000
  bench/gen_exposure.py --tickers 200000 --profile lean --out /tmp/lean200k

The same arguments give byte-identical files: one random.Random(seed) drives
every draw, in a fixed order, and nothing depends on time or hash order.

Content:
- Countries: the first --countries of a fixed list of 50 real ISO 3166-1
  alpha-2 codes (no `EU` rows), weighted Zipf-like by list position so big
  economies are likelier.
- Companies: tickers S00001.., names "Synthetic 00001", one of the 11 GICS
  sectors, a listing country drawn from the weights, market cap log-uniform
  1e8..1e12 USD (3 significant digits), cogs_ratio 0.2..0.8,
  operating_margin 0.02..0.3.
- Exposures, product always `*` (no `product` rows, so a product-scoped
  event hits nobody; use an all-goods event): revenue rows in 2..8 distinct
  countries, sourcing in 1..6, production in 1..4. Each kind's shares are a
  Dirichlet-like split (exponentials scaled by sqrt of the country weight,
  the listing country's a sum of 3, then normalized) of a total drawn in
  0.6..1.0, in integer units of 0.0001, so every share is > 0 and each kind
  sums to at most 1 exactly (no rounding slack used). The listing country is forced among the revenue and the
  production countries 70% of the time (it may also be drawn otherwise).
  About 11 rows per ticker, so the loader's limit of 1,000,000 rows per
  file (docs/exposure-format.md) stops at about 90k tickers.
- --profile lean (the scale curves of bench/run_all.sh): revenue rows in
  1..3 countries, sourcing in 1..2, production in 1, otherwise the same
  draws: about 4.5 rows per ticker, so 200k tickers fit the row limit.
  The default profile's output is unchanged by this option's existence.
- Links (--links N): N distinct supplier -> customer pairs, supplier !=
  customer, share 0.01..0.3 of the supplier's revenue, each supplier's
  shares summing to at most 1. Suppliers are uniform, customers weighted by
  sqrt(market cap) (big companies are the "major customers").

A one-line summary goes to stderr.
"""

import argparse
import bisect
import math
import os
import random
import sys
import time

# 50 real ISO 3166-1 alpha-2 codes, roughly by trade weight; the first
# --countries are used. Never `EU`.
COUNTRIES = [
    "US", "CN", "MX", "CA", "JP", "DE", "KR", "TW", "VN", "IN",
    "GB", "FR", "IT", "NL", "BR", "CH", "TH", "MY", "SG", "ID",
    "AU", "ES", "IE", "BE", "PL", "SE", "AT", "IL", "SA", "AE",
    "TR", "ZA", "PH", "CL", "CO", "AR", "NO", "DK", "FI", "CZ",
    "HU", "PT", "NZ", "HK", "RU", "EG", "NG", "PE", "BD", "PK",
]
assert len(COUNTRIES) == 50 and len(set(COUNTRIES)) == 50

# The 11 GICS sectors, exactly as server/common/sectors.cc spells them.
SECTORS = [
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
]

ZIPF_EXPONENT = 1.0   # country weight 1 / (position + 1) ** s
HOME_FORCE_P = 0.7    # listing country forced among revenue/production rows
HOME_SHAPE = 3        # listing country's Dirichlet shape (others 1)
UNIT = 10000          # shares are written in units of 0.0001

# (kind, min countries, max countries, force listing country?)
KINDS = [
    ("revenue", 2, 8, True),
    ("sourcing", 1, 6, False),
    ("production", 1, 4, True),
]
PROFILES = {
    "standard": KINDS,
    "lean": [
        ("revenue", 1, 3, True),
        ("sourcing", 1, 2, False),
        ("production", 1, 1, True),
    ],
}
MIN_TOTAL_UNITS = 6000   # each kind sums to 0.6..1.0
MAX_TOTAL_UNITS = 10000

LINK_MIN_UNITS = 100     # link share 0.01..0.3
LINK_MAX_UNITS = 3000


# Units of 0.0001 as a decimal with 4 places ("0.1234", "1.0000").
SHARE_TEXT = ["%d.%04d" % (u // UNIT, u % UNIT) for u in range(UNIT + 1)]


def exp1(rng):
    """A standard exponential draw from rng.random() alone (version-stable)."""
    return -math.log(1.0 - rng.random())


class WeightedPicker:
    """Picks indexes 0..n-1 with the given weights, by bisecting cumulative
    weights with rng.random() (no dependence on random.choices' internals)."""

    def __init__(self, weights):
        self.cum = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.total = total
        self.last = len(self.cum) - 1

    def pick(self, rng):
        i = bisect.bisect_right(self.cum, rng.random() * self.total)
        return i if i <= self.last else self.last


def pick_countries(rng, picker, n_countries, k, home, force_home):
    """k distinct country indexes; the listing country first when forced."""
    chosen = []
    if force_home:
        chosen.append(home)
    while len(chosen) < k:
        c = picker.pick(rng)
        if c not in chosen:
            chosen.append(c)
    return chosen


def split_shares(rng, countries, home, size):
    """Integer units (each >= 1) over countries, summing to 0.6..1.0."""
    k = len(countries)
    total = rng.randint(max(MIN_TOTAL_UNITS, k), MAX_TOTAL_UNITS)
    weights = []
    for c in countries:
        w = exp1(rng)
        if c == home:
            for _ in range(HOME_SHAPE - 1):
                w += exp1(rng)
        weights.append(w * size[c])
    wsum = sum(weights)
    spare = total - k  # every country gets 1 unit, the spare by weight
    units = []
    rems = []
    for i, w in enumerate(weights):
        exact = spare * w / wsum
        base = int(exact)
        units.append(1 + base)
        rems.append((exact - base, -i))
    left = total - sum(units)
    # Largest remainders get the leftover units; ties by position.
    for _, neg_i in sorted(rems, reverse=True)[:left]:
        units[-neg_i] += 1
    assert sum(units) == total and min(units) >= 1
    return units


def generate(args):
    rng = random.Random(args.seed)
    n_countries = args.countries
    codes = COUNTRIES[:n_countries]
    zipf = [1.0 / (i + 1) ** ZIPF_EXPONENT for i in range(n_countries)]
    picker = WeightedPicker(zipf)
    size = [math.sqrt(z) for z in zipf]  # big economies take bigger shares
    width = max(5, len(str(args.tickers)))

    companies = ["ticker,name,sector,country,market_cap_usd,cogs_ratio,"
                 "operating_margin"]
    exposures = ["ticker,kind,country,product,share"]
    kinds = PROFILES[args.profile]
    kind_rows = {kind: 0 for kind, _, _, _ in kinds}
    tickers = []
    caps = []
    log_lo, log_hi = math.log(1e8), math.log(1e12)

    for n in range(1, args.tickers + 1):
        num = "%0*d" % (width, n)
        ticker = "S" + num
        tickers.append(ticker)
        sector = SECTORS[rng.randrange(len(SECTORS))]
        home = picker.pick(rng)
        cap = float("%.3g" % math.exp(rng.uniform(log_lo, log_hi)))
        caps.append(cap)
        cogs = rng.uniform(0.2, 0.8)
        margin = rng.uniform(0.02, 0.3)
        companies.append("%s,Synthetic %s,%s,%s,%d,%.3f,%.3f" % (
            ticker, num, sector, codes[home], int(cap), cogs, margin))

        for kind, lo, hi, may_force in kinds:
            k = min(rng.randint(lo, hi), n_countries)
            force = may_force and rng.random() < HOME_FORCE_P
            chosen = pick_countries(rng, picker, n_countries, k, home, force)
            units = split_shares(rng, chosen, home, size)
            # Largest share first, like the real sample; ties by list order.
            rows = sorted(zip(units, chosen), key=lambda r: (-r[0], r[1]))
            for u, c in rows:
                exposures.append("%s,%s,%s,*,%s" % (
                    ticker, kind, codes[c], SHARE_TEXT[u]))
            kind_rows[kind] += len(rows)

    links = None
    if args.links > 0:
        links = make_links(rng, args.links, tickers, caps)

    return companies, exposures, kind_rows, links


def make_links(rng, n_links, tickers, caps):
    n = len(tickers)
    if n < 2:
        sys.exit("gen_exposure: --links needs at least 2 tickers")
    if n_links > n * (n - 1):
        sys.exit("gen_exposure: --links %d exceeds the %d possible pairs"
                 % (n_links, n * (n - 1)))
    customer_picker = WeightedPicker([math.sqrt(c) for c in caps])
    remaining = [UNIT] * n          # units of revenue not yet sold via links
    degree = [0] * n                # customers per supplier
    open_suppliers = list(range(n))  # suppliers that can take another link
    pairs = set()
    out = []
    while len(out) < n_links:
        if not open_suppliers:
            sys.exit("gen_exposure: cannot place %d links (placed %d; every "
                     "supplier's shares are used up)" % (n_links, len(out)))
        slot = rng.randrange(len(open_suppliers))
        s = open_suppliers[slot]
        while True:
            c = customer_picker.pick(rng)
            if c != s and (s, c) not in pairs:
                break
        units = min(rng.randint(LINK_MIN_UNITS, LINK_MAX_UNITS), remaining[s])
        pairs.add((s, c))
        out.append((s, c, units))
        remaining[s] -= units
        degree[s] += 1
        if remaining[s] < LINK_MIN_UNITS or degree[s] >= n - 1:
            open_suppliers[slot] = open_suppliers[-1]
            open_suppliers.pop()
    out.sort()
    lines = ["supplier,customer,share"]
    for s, c, u in out:
        lines.append("%s,%s,%s" % (tickers[s], tickers[c], SHARE_TEXT[u]))
    return lines


def write_lines(path, lines):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines))
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(
        description="Write a deterministic synthetic exposure table "
                    "(companies.csv, exposures.csv, optional links.csv) in "
                    "the format of docs/exposure-format.md.")
    ap.add_argument("--tickers", type=int, default=10000,
                    help="number of companies (default 10000)")
    ap.add_argument("--countries", type=int, default=50,
                    help="use the first N of the 50 countries, 2..50 "
                         "(default 50)")
    ap.add_argument("--seed", type=int, default=1,
                    help="random seed (default 1)")
    ap.add_argument("--out", required=True,
                    help="output directory (created if missing)")
    ap.add_argument("--links", type=int, default=0,
                    help="supplier->customer links to write to links.csv "
                         "(default 0: no links.csv)")
    ap.add_argument("--profile", choices=sorted(PROFILES), default="standard",
                    help="rows per ticker: standard (about 11) or lean "
                         "(about 4.5, for 200k tickers under the loader's "
                         "row limit)")
    args = ap.parse_args()
    if not 2 <= args.countries <= len(COUNTRIES):
        ap.error("--countries must be between 2 and %d" % len(COUNTRIES))
    if args.tickers < 1:
        ap.error("--tickers must be at least 1")
    if args.links < 0:
        ap.error("--links must be >= 0")

    t0 = time.perf_counter()
    companies, exposures, kind_rows, links = generate(args)
    os.makedirs(args.out, exist_ok=True)
    write_lines(os.path.join(args.out, "companies.csv"), companies)
    write_lines(os.path.join(args.out, "exposures.csv"), exposures)
    links_path = os.path.join(args.out, "links.csv")
    stale = ""
    if links is not None:
        write_lines(links_path, links)
    elif os.path.exists(links_path):
        # `load --dir` would pick up a links.csv from an earlier run.
        os.remove(links_path)
        stale = " (removed stale links.csv)"
    seconds = time.perf_counter() - t0
    print("gen_exposure: %d tickers, %d countries, seed %d: %d exposure rows "
          "(revenue %d, sourcing %d, production %d), %d links, %.2f s -> %s%s"
          % (args.tickers, args.countries, args.seed, len(exposures) - 1,
             kind_rows["revenue"], kind_rows["sourcing"],
             kind_rows["production"], 0 if links is None else len(links) - 1,
             seconds, args.out, stale),
          file=sys.stderr)


if __name__ == "__main__":
    main()
