#!/usr/bin/env python3
"""Charts of `tariff-alert backtest --out POINTS.csv` (docs/backtest.md): one
PNG per day, each ticker's summed score (x) against its net return (y),
labelled with its ticker and coloured by the call (hit, wrong sign, no call,
or not judged because |net return| is within the threshold). The title gives
the day's n, hit rate and Spearman's rho, with the command's definitions:
a hit is a nonzero score of the net return's sign on a name with |net| above
the threshold (a zero score is a miss), and rho uses average ranks for ties
("n/a" with fewer than 3 points or no variance).

usage: plot_backtest.py POINTS_CSV OUTDIR [--threshold-pct X]

Writes OUTDIR/backtest-<date>.png for each date and prints their paths.
Needs Debian's python3-matplotlib (scripts/install-deps.sh installs it), run
with /usr/bin/python3; the Agg backend needs no display.
"""

import argparse
import csv
import math
import os
import sys

COLUMNS = ["date", "ticker", "index", "return_pct", "index_return_pct",
           "net_return_pct", "score_bps", "event_ids", "explanation"]
CALLS = {  # call: (legend, colour)
    "hit": ("hit", "#1b9e4b"),
    "wrong": ("wrong sign", "#d62728"),
    "none": ("no call (score 0)", "#ff9f1c"),
    "unmoved": ("|net| within threshold", "#9e9e9e"),
}


def load(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            sys.exit("%s: not a backtest points CSV: header %s" % (path, reader.fieldnames))
        days = {}
        for line, row in enumerate(reader, start=2):
            try:
                point = (row["ticker"], float(row["score_bps"]), float(row["net_return_pct"]),
                         row["event_ids"])
            except ValueError as e:
                sys.exit("%s:%d: %s" % (path, line, e))
            days.setdefault(row["date"], []).append(point)
    return days


def call(score, net, threshold):
    if not abs(net) > threshold:
        return "unmoved"
    if score == 0:
        return "none"
    return "hit" if (score > 0) == (net > 0) else "wrong"


def average_ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and values[order[end]] == values[order[start]]:
            end += 1
        for k in range(start, end):
            ranks[order[k]] = (start + 1 + end) / 2
        start = end
    return ranks


def spearman(xs, ys):
    if len(xs) < 3:
        return None
    rx, ry = average_ranks(xs), average_ranks(ys)
    mean = (len(xs) + 1) / 2
    sxy = sum((a - mean) * (b - mean) for a, b in zip(rx, ry))
    sxx = sum((a - mean) ** 2 for a in rx)
    syy = sum((b - mean) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def title(date, points, threshold):
    calls = [call(s, n, threshold) for _, s, n, _ in points]
    moved = sum(1 for c in calls if c != "unmoved")
    hits = calls.count("hit")
    rate = "%.1f%% (%d of %d)" % (100 * hits / moved, hits, moved) if moved else "n/a"
    rho = spearman([s for _, s, _, _ in points], [n for _, _, n, _ in points])
    return "%s: n %d, hit rate %s, Spearman %s" % (
        date, len(points), rate, "n/a" if rho is None else "%.2f" % rho)


def label(ax, points):
    """Each point's ticker beside it; a label that would overprint one already
    placed (in screen space) moves down a line."""
    placed = []
    for ticker, score, net, _ in sorted(points, key=lambda p: -p[2]):
        x, y = ax.transData.transform((score, net))
        dy = 4
        while any(abs(x - px) < 45 and abs(y + dy - py) < 11 for px, py in placed):
            dy -= 11
        placed.append((x, y + dy))
        ax.annotate(ticker, (score, net), textcoords="offset points", xytext=(5, dy),
                    fontsize=9, zorder=4)


def plot(plt, date, points, threshold, path):
    fig, ax = plt.subplots(figsize=(9, 6.5))
    ax.axhspan(-threshold, threshold, color="#eeeeee", zorder=0)
    ax.axhline(0, color="#555555", linewidth=0.8, zorder=1)
    ax.axvline(0, color="#555555", linewidth=0.8, zorder=1)
    shown = set()
    for ticker, score, net, _ in points:
        c = call(score, net, threshold)
        legend, colour = CALLS[c]
        ax.scatter([score], [net], color=colour, s=46, zorder=3,
                   label=None if c in shown else legend)
        shown.add(c)
    # Scores run from a few bps to thousands: linear within +-10 bps, log
    # beyond, so that small and large calls are both readable.
    ax.set_xscale("symlog", linthresh=10)
    lo, hi = ax.get_xlim()
    span = max(abs(lo), abs(hi), 100)
    ax.set_xlim(-span * 1.5, span * 1.5)
    ylo, yhi = ax.get_ylim()
    pad = 0.1 * max(yhi - ylo, 2)
    ax.set_ylim(min(ylo, -threshold) - pad, max(yhi, threshold) + pad)
    label(ax, points)
    ax.set_xlabel("model score, summed over the day's events "
                  "(bps of revenue; symlog, linear within ±10)")
    ax.set_ylabel("net return (%): return less its index's")
    events = sorted({e for _, _, _, ids in points for e in ids.split(";") if e})
    fig.suptitle(title(date, points, threshold), fontsize=13, x=0.01, ha="left")
    ax.set_title("events scored: " + (", ".join(events) if events else "none"),
                 fontsize=8, color="#555555", loc="left")
    ax.legend(loc="best", fontsize=8, framealpha=0.9,
              title="grey band: |net| ≤ %g%%" % threshold, title_fontsize=8)
    ax.grid(True, color="#dddddd", linewidth=0.5, zorder=0)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("points_csv")
    parser.add_argument("outdir")
    parser.add_argument("--threshold-pct", type=float, default=1.0,
                        help="the --threshold-pct the backtest ran with (default 1)")
    args = parser.parse_args()
    days = load(args.points_csv)
    if not days:
        sys.exit("%s: no points" % args.points_csv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(args.outdir, exist_ok=True)
    for date in sorted(days):
        path = os.path.join(args.outdir, "backtest-%s.png" % date)
        plot(plt, date, days[date], args.threshold_pct, path)
        print(path)


if __name__ == "__main__":
    main()
