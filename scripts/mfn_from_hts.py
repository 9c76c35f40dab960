#!/usr/bin/env python3
"""US MFN (column 1 General) base rates from the USITC HTS CSV export.

Usage: scripts/mfn_from_hts.py HTS_CSV OUT_CSV

HTS_CSV is the USITC "HTS Basic Edition" CSV export, e.g.
https://www.usitc.gov/sites/default/files/tata/hts/hts_2025_basic_edition_csv.csv
(columns "HTS Number" and "General Rate of Duty" are used).

Method M1 (simple mean over tariff lines):
  * A tariff line is an HTS row with a non-empty General cell, de-duplicated on the
    first 8 digits of its HTS number (the first row with a rate wins). Rows with
    fewer than 8 digits and chapters 98-99 are skipped.
  * "Free" counts as 0 %, a pure ad valorem rate ("6.8%") at its rate.
  * Every other General cell is left out and counted in `left_out`: specific duties
    ("4.4¢/kg"), compound duties ("1.5¢/kg + 5%", "3.9% on the movement and case +
    5.3% on the battery") and text rules ("The rate applicable to each garment ...").
    No ad valorem equivalents are computed.
Rows written: one per HS heading (4 digits) with at least one free/ad valorem line,
one per HS chapter 01-97 (77 is reserved and has no lines), and `*` = mean over all
free/ad valorem lines in chapters 01-97. Means are computed in exact decimal
arithmetic and rounded to 2 decimals, ties to even (0.645 -> 0.64, 0.575 -> 0.58).
Standard library only.
"""
import csv
import re
import sys
from collections import defaultdict
from decimal import Decimal, ROUND_HALF_EVEN

IMPORTER = 'US'
YEAR = 2025
SOURCE = 'USITC HTS 2025 Basic Edition, column 1 General'
URL = 'https://www.usitc.gov/sites/default/files/tata/hts/hts_2025_basic_edition_csv.csv'
METHOD = 'simple mean of free and ad valorem HS8 lines; specific and compound lines left out'
HEADER = ['importer', 'product', 'mfn_rate_pct', 'lines', 'left_out',
          'year', 'source', 'url', 'method']

AV_RE = re.compile(r'([0-9]+(?:\.[0-9]+)?)%')


def classify(cell):
    """Return (kind, pct): kind is 'free' or 'av' (used) or 'compound',
    'specific', 'other' (left out; pct is None)."""
    if cell == 'Free':
        return 'free', Decimal(0)
    m = AV_RE.fullmatch(cell)
    if m:
        return 'av', Decimal(m.group(1))
    if '%' in cell:
        return 'compound', None
    if re.search(r'[0-9]', cell):
        return 'specific', None
    return 'other', None


def read_lines(path):
    """Yield (hs8, kind, pct) for each de-duplicated HS8 line in chapters 01-97."""
    seen = set()
    with open(path, encoding='utf-8-sig', newline='') as f:
        for row in csv.DictReader(f):
            cell = (row.get('General Rate of Duty') or '').strip()
            if not cell:
                continue
            digits = (row.get('HTS Number') or '').replace('.', '').strip()
            if len(digits) < 8 or not digits[:8].isdigit():
                continue
            hs8 = digits[:8]
            if hs8 in seen:
                continue
            seen.add(hs8)
            if not ('01' <= hs8[:2] <= '97'):
                continue
            kind, pct = classify(cell)
            yield hs8, kind, pct


class Acc:
    __slots__ = ('total', 'n', 'left_out')

    def __init__(self):
        self.total = Decimal(0)
        self.n = 0
        self.left_out = 0

    def add(self, pct):
        if pct is None:
            self.left_out += 1
        else:
            self.total += pct
            self.n += 1

    def mean(self):
        if not self.n:
            return None
        q = self.total / self.n  # exact: 28 significant digits, far beyond the 2 kept
        return q.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN)


def compute(path):
    acc = defaultdict(Acc)
    kinds = defaultdict(int)
    for hs8, kind, pct in read_lines(path):
        kinds[kind] += 1
        for key in ('*', hs8[:2], hs8[:4]):
            acc[key].add(pct)
    return acc, kinds


def main(argv):
    if len(argv) != 3:
        sys.stderr.write('usage: %s HTS_CSV OUT_CSV\n' % argv[0])
        return 2
    acc, kinds = compute(argv[1])
    chapters = ['%02d' % c for c in range(1, 98) if c != 77]
    missing = [c for c in chapters if acc[c].mean() is None]
    if missing:
        sys.stderr.write('error: no free/ad valorem lines in chapter(s) %s\n'
                         % ', '.join(missing))
        return 1
    products = ['*'] + sorted(k for k in acc
                              if k != '*' and (len(k) == 4 and acc[k].n or k in chapters))
    with open(argv[2], 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(HEADER)
        for p in products:
            a = acc[p]
            w.writerow([IMPORTER, p, a.mean(), a.n, a.left_out,
                        YEAR, SOURCE, URL, METHOD])
    sys.stderr.write('%d rows; lines: %s; all goods %s%% over %d lines, %d left out\n'
                     % (len(products), dict(sorted(kinds.items())),
                        acc['*'].mean(), acc['*'].n, acc['*'].left_out))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
