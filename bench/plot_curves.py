#!/usr/bin/env python3
"""The scale curves of issue 13, from the long-format CSV bench/run_all.sh
writes (bench,system,case,metric,value,unit):

- B4 (PublishEvent -> first alert at 100 filtered subscribers, 10 events/s)
  and B1 (scoring one event) against table size: the "B4 curve" and
  "B1 curve" rows, on the lean generated tables (gen_exposure.py --profile
  lean), 1k to 200k tickers;
- B2 (fan-out throughput) and B3 (latency at 100 alerts/s, publish -> last
  subscriber) against subscribers: the B2 rows and the B3 rows at rate=100,
  10 to 5,000 subscribers;

ours and the peer measured in the same run. Writes the points as a CSV
(curve,x_name,x,system,metric,value,unit; with the per-alert costs that
say whether the cost follows the alerts or the table) and draws them as a
PNG (matplotlib, Agg backend: no display needed).

usage: plot_curves.py RESULTS.csv --csv-out CURVES.csv --png CURVES.png

Exits 1, naming them, if a curve has fewer than two of our points (a
benchmark that measured nothing), after writing what it has.
"""

import argparse
import csv
import re
import sys

B4_SYSTEMS = [("tariff-alert", "ours"), ("redis-xadd-publish", "Redis XADD+PUBLISH")]
B1_SYSTEMS = [
    ("tariff-alert ScoreTickers", "ours: every ticker's score"),
    ("tariff-alert ScoreAction small partner", "ours: US on PK 0->35%, with alerts"),
    ("tariff-alert ScoreAction", "ours: US on CN 30->145%, with alerts"),
    ("naive-redis GET", "Redis GET per ticker"),
    ("naive-redis pipelined", "Redis GETs pipelined"),
]
FANOUT_SYSTEMS = [("tariff-alert", "ours"), ("redis-pubsub", "Redis pub/sub")]


def load(path):
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            row["value"] = float(row["value"])
            rows.append(row)
    return rows


def points(rows):
    """(curve, x_name, x, system, metric, value, unit) tuples, sorted."""
    out = []
    for r in rows:
        b, c, m = r["bench"], r["case"], r["metric"]
        if b == "B4 curve" and r["system"] != "redis-pubsub":
            k = re.search(r"(\d+)k tickers", c)
            if k:
                out.append(("B4", "tickers", int(k.group(1)) * 1000, r["system"],
                            m, r["value"], r["unit"]))
        elif b == "B1 curve" and m in ("p50_us", "p99_us", "alerts"):
            k = re.match(r"(\d+) tickers", c)
            if k:
                out.append(("B1", "tickers", int(k.group(1)), r["system"], m,
                            r["value"], r["unit"]))
        elif b == "B2" and m == "deliveries_per_s":
            k = re.fullmatch(r"subs=(\d+)", c)
            if k:
                out.append(("B2", "subscribers", int(k.group(1)), r["system"], m,
                            r["value"], r["unit"]))
        elif b == "B3" and m in ("p50_us", "p99_us"):
            k = re.fullmatch(r"subs=(\d+),rate=100", c)
            if k and int(k.group(1)) >= 10:  # B2's points: 10 and up
                out.append(("B3", "subscribers", int(k.group(1)), r["system"], m,
                            r["value"], r["unit"]))
    # The per-alert costs: does the time follow the alerts or the table?
    index = {(p[0], p[2], p[3], p[4]): p[5] for p in out}
    derived = []
    for (curve, x, system, metric), v in index.items():
        if curve == "B4" and metric in ("first_alert_p50_us", "first_alert_p99_us"):
            n = index.get((curve, x, system, "alerts_per_event"))
            if n:
                derived.append((curve, "tickers", x, system, metric + "_per_alert",
                                v / n, "us/alert"))
        if curve == "B1" and metric == "p50_us" and "ScoreAction" in system:
            n = index.get((curve, x, system, "alerts"))
            if n:
                derived.append((curve, "tickers", x, system, "p50_us_per_alert",
                                v / n, "us/alert"))
    return sorted(out + derived)


def series(pts, curve, system, metric):
    xy = sorted((p[2], p[5]) for p in pts
                if p[0] == curve and p[3] == system and p[4] == metric)
    return [x for x, _ in xy], [y for _, y in xy]


def count(v, _):
    return f"{v / 1000:g}k" if v >= 1000 else f"{v:g}"


def dress(ax, xlabel, ylabel, title, ylog=True, from_zero=False, legend=True):
    """One panel's axes: log x (counts as 1k, 10k), log or linear y."""
    from matplotlib.ticker import FuncFormatter
    ax.set_xscale("log")
    if ylog:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.xaxis.set_major_formatter(FuncFormatter(count))
    if from_zero:
        ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.3)
    if legend:
        ax.legend(fontsize=8)


def draw(pts, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(17, 10))
    fig.suptitle("tariff-alert scale curves (ours beside the peer measured in the "
                 "same run; 2 shared cores, loopback)", fontsize=13)

    # B4 latency against table size, alerts per event on the right.
    ax = axes[0][0]
    for system, name in B4_SYSTEMS:
        for metric, style in (("first_alert_p50_us", "o-"), ("first_alert_p99_us", "s--")):
            x, y = series(pts, "B4", system, metric)
            if x:
                ax.plot(x, [v / 1000 for v in y], style,
                        color="C0" if system == "tariff-alert" else "C3",
                        label=f"{name} {metric.split('_')[2]}")
    dress(ax, "tickers in the table (lean)", "publish -> first alert at a subscriber (ms)", "B4: 100 filtered subscribers, 10 events/s", legend=False)
    right = ax.twinx()
    x, y = series(pts, "B4", "tariff-alert", "alerts_per_event")
    if x:
        right.plot(x, y, "^:", color="gray", label="alerts per event (right)")
        right.set_yscale("log")
        right.set_ylabel("alerts per event")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = right.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")

    # B1 time against table size.
    ax = axes[0][1]
    for i, (system, name) in enumerate(B1_SYSTEMS):
        x, y = series(pts, "B1", system, "p50_us")
        if x:
            ax.plot(x, [v / 1000 for v in y], "o-" if "tariff" in system else "s--",
                    color=f"C{i}", label=name)
    dress(ax, "tickers in the table (lean)", "one event, p50 (ms)", "B1: scoring one event")

    # Per-alert costs against table size.
    ax = axes[0][2]
    for system, name, color in (("tariff-alert", "B4 ours: first alert p50", "C0"),
                                ("redis-xadd-publish", "B4 Redis XADD+PUBLISH: first alert p50", "C3")):
        x, y = series(pts, "B4", system, "first_alert_p50_us_per_alert")
        if x:
            ax.plot(x, y, "o-", color=color, label=name + " / alerts")
    for system, name, color in (("tariff-alert ScoreAction small partner", "B1 ours: US on PK", "C1"),
                                ("tariff-alert ScoreAction", "B1 ours: US on CN", "C2")):
        x, y = series(pts, "B1", system, "p50_us_per_alert")
        if x:
            ax.plot(x, y, "s--", color=color, label=name + " p50 / alerts")
    dress(ax, "tickers in the table (lean)", "µs per alert produced", "per alert: flat if the cost follows the alerts")

    # B2 throughput against subscribers.
    ax = axes[1][0]
    for i, (system, name) in enumerate(FANOUT_SYSTEMS):
        x, y = series(pts, "B2", system, "deliveries_per_s")
        if x:
            ax.plot(x, [v / 1e6 for v in y], "o-" if i == 0 else "s--",
                    color="C0" if i == 0 else "C3", label=name)
    dress(ax, "subscribers", "deliveries per second (millions)", "B2: fan-out throughput, 128-byte alerts", ylog=False, from_zero=True)

    # B3 latency against subscribers.
    ax = axes[1][1]
    for i, (system, name) in enumerate(FANOUT_SYSTEMS):
        for metric, style in (("p50_us", "o-"), ("p99_us", "s--")):
            x, y = series(pts, "B3", system, metric)
            if x:
                ax.plot(x, [v / 1000 for v in y], style, color="C0" if i == 0 else "C3",
                        label=f"{name} {metric[:3]}")
    dress(ax, "subscribers", "publish -> last subscriber (ms)", "B3: latency, 100 alerts/s")

    # B3 per subscriber: p50 over the subscribers every alert goes to.
    ax = axes[1][2]
    for i, (system, name) in enumerate(FANOUT_SYSTEMS):
        x, y = series(pts, "B3", system, "p50_us")
        if x:
            ax.plot(x, [v / n for v, n in zip(y, x)], "o-" if i == 0 else "s--",
                    color="C0" if i == 0 else "C3", label=f"{name} p50 / subscribers")
    dress(ax, "subscribers (each matches every alert)", "µs of B3 p50 per subscriber", "B3 per matching subscriber")

    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(png, dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="the run's long-format CSV")
    ap.add_argument("--csv-out", required=True, help="write the curves' points here")
    ap.add_argument("--png", required=True, help="draw the chart here")
    args = ap.parse_args()

    pts = points(load(args.results))
    with open(args.csv_out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["curve", "x_name", "x", "system", "metric", "value", "unit"])
        for p in pts:
            w.writerow([p[0], p[1], p[2], p[3], p[4], "%.6g" % p[5], p[6]])
    draw(pts, args.png)

    need = [("B4", "tariff-alert", "first_alert_p50_us"),
            ("B1", "tariff-alert ScoreTickers", "p50_us"),
            ("B2", "tariff-alert", "deliveries_per_s"),
            ("B3", "tariff-alert", "p99_us")]
    short = []
    for curve, system, metric in need:
        x, y = series(pts, curve, system, metric)
        measured = [v for v in y if v > 0]
        if len(measured) < 2:
            short.append(f"{curve} ({system} {metric}: {len(measured)} points)")
    print(f"plot_curves: {len(pts)} points -> {args.csv_out}, {args.png}")
    if short:
        print("plot_curves: too few points for " + ", ".join(short), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
