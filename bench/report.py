#!/usr/bin/env python3
"""Turns the benchmarks' long-format CSV (bench,system,case,metric,value,unit)
into the results file bench/run_all.sh writes: one table per benchmark, ours
beside the peer measured in the same run, the ratio, and DESIGN.md's target.

usage: report.py RESULTS.csv MACHINE.txt SECONDS [CURVES.png] > bench/results/DATE.md

CURVES.png, the chart bench/plot_curves.py drew (a name beside the results
file), is shown in the "Scale curves" section.
"""

import csv
import re
import sys


def load(path):
    values = {}
    for row in csv.DictReader(open(path, newline="")):
        key = (row["bench"], row["system"], row["case"], row["metric"])
        values[key] = float(row["value"])
    return values


def cases(values, bench, system):
    seen = []
    for b, s, c, _ in values:
        if b == bench and s == system and c not in seen:
            seen.append(c)
    return seen


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        text = f"{v:,.0f}"
    elif abs(v) >= 10:
        text = f"{v:.1f}"
    else:
        text = f"{v:.2f}"
    return text + unit


def times(a, b):
    """a / b as "1.23x", or n/a."""
    return fmt(a / b) + "x" if a is not None and b else "n/a"


B4_METRICS = [
    ("events_per_s_offered", "events/s offered"),
    ("events_per_s_achieved", "achieved"),
    ("alerts_per_event", "alerts per event"),
    ("publish_rtt_p50_us", "publish round trip p50 (us)"),
    ("first_alert_p50_us", "first alert p50 (us)"),
    ("first_alert_p99_us", "first alert p99 (us)"),
    ("last_alert_p50_us", "last alert p50 (us)"),
    ("last_alert_p99_us", "last alert p99 (us)"),
]
B4_PEER = "redis-xadd-publish"


def b4_table(values, bench):
    """Ours, the XADD + PUBLISH peer and the ratio, per case of `bench`."""
    get = lambda s, c, m: values.get((bench, s, c, m))
    lines = ["| case | system | " + " | ".join(n for _, n in B4_METRICS) + " |",
             "|---|---|" + "---|" * len(B4_METRICS)]
    for c in cases(values, bench, "tariff-alert"):
        ours = [get("tariff-alert", c, m) for m, _ in B4_METRICS]
        peer = [get(B4_PEER, c, m) for m, _ in B4_METRICS]
        lines.append(f"| {c} | ours | " + " | ".join(fmt(v) for v in ours) + " |")
        if any(v is not None for v in peer):
            lines.append("| | Redis XADD+PUBLISH | " +
                         " | ".join(fmt(v) for v in peer) + " |")
            ratio = ["-" if m == "events_per_s_offered" else times(o, p)
                     for (m, _), o, p in zip(B4_METRICS, ours, peer)]
            lines.append("| | ratio ours / peer | " + " | ".join(ratio) + " |")
    return "\n".join(lines)


def number_in(pattern, text):
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def curves(values, png):
    """The "Scale curves" section: the points as tables, and the chart."""
    get = lambda b, s, c, m: values.get((b, s, c, m))
    out = []
    w = out.append
    w("## Scale curves")
    w("")
    w("B1 and B4 against table size on the lean generated tables "
      "(`gen_exposure.py --profile lean`: about 4.5 exposure rows per ticker, "
      "so 200k tickers fit the loader's 1,000,000 rows per file; the standard "
      "tables above have 11); B2 and B3 against subscribers (B3 at 100 "
      "alerts/s). The points are also in the `-curves.csv` beside this file. "
      "The cost should grow with the alerts produced and the matching "
      "subscribers, not with the whole table: the per-alert columns say "
      "whether it does.")
    w("")
    if png:
        w(f"![scale curves]({png})")
        w("")
    w("### B4 against tickers: 100 filtered subscribers, 10 events/s")
    w("")
    b4 = sorted(cases(values, "B4 curve", "tariff-alert"),
                key=lambda c: number_in(r"(\d+)k tickers", c) or 0)
    w("| tickers | alerts per event | ours first alert p50 / p99 (us) | ours "
      "p50 per alert (us) | ours events/s | Redis XADD+PUBLISH first alert p50 "
      "/ p99 (us) | peer p50 per alert (us) | ratio of p50 ours / peer |")
    w("|---|---|---|---|---|---|---|---|")
    for c in b4:
        g = lambda s, m: get("B4 curve", s, c, m)
        n = g("tariff-alert", "alerts_per_event")
        o50, o99 = g("tariff-alert", "first_alert_p50_us"), g("tariff-alert", "first_alert_p99_us")
        p50, p99 = g(B4_PEER, "first_alert_p50_us"), g(B4_PEER, "first_alert_p99_us")
        pn = g(B4_PEER, "alerts_per_event")
        k = number_in(r"(\d+)k tickers", c)
        w(f"| {k}k | {fmt(n)} | {fmt(o50)} / {fmt(o99)} | "
          f"{fmt(o50 / n if o50 is not None and n else None)} | "
          f"{fmt(g('tariff-alert', 'events_per_s_achieved'))} | "
          f"{fmt(p50)} / {fmt(p99)} | "
          f"{fmt(p50 / pn if p50 is not None and pn else None)} | "
          f"{times(o50, p50)} |")
    w("")
    w("### B1 against tickers: one event, p50")
    w("")
    b1 = sorted(cases(values, "B1 curve", "tariff-alert ScoreTickers"),
                key=lambda c: number_in(r"(\d+) tickers", c) or 0)
    w("| tickers | every ticker's score (us) | US on PK 0 -> 35% with alerts "
      "(us; alerts; us per alert) | US on CN 30 -> 145% with alerts (us; "
      "alerts; us per alert) | Redis GET per ticker (us) | pipelined (us) |")
    w("|---|---|---|---|---|---|")
    for c in b1:
        g = lambda s, m: get("B1 curve", s, c, m)
        small, small_n = g("tariff-alert ScoreAction small partner", "p50_us"), \
            g("tariff-alert ScoreAction small partner", "alerts")
        full, full_n = g("tariff-alert ScoreAction", "p50_us"), \
            g("tariff-alert ScoreAction", "alerts")
        tickers = number_in(r"(\d+) tickers", c)
        w(f"| {tickers:,} | "
          f"{fmt(g('tariff-alert ScoreTickers', 'p50_us'))} | "
          f"{fmt(small)}; {fmt(small_n)}; "
          f"{fmt(small / small_n if small is not None and small_n else None)} | "
          f"{fmt(full)}; {fmt(full_n)}; "
          f"{fmt(full / full_n if full is not None and full_n else None)} | "
          f"{fmt(g('naive-redis GET', 'p50_us'))} | "
          f"{fmt(g('naive-redis pipelined', 'p50_us'))} |")
    w("")
    w("### B2 and B3 against subscribers")
    w("")
    w("| subscribers | B2 ours deliveries/s | B2 Redis | ratio | B3 at 100/s "
      "ours p50 / p99 (us) | B3 Redis p50 / p99 (us) | ratio of p99 | B3 ours "
      "p50 per subscriber (us) |")
    w("|---|---|---|---|---|---|---|---|")
    subs = set()  # the curves' points: 10 subscribers and up
    for b, s, c, _ in values:
        if b in ("B2", "B3") and s == "tariff-alert":
            n = number_in(r"^subs=(\d+)(,rate=100)?$", c)
            if n is not None and n >= 10 and (b == "B2" or c.endswith(",rate=100")):
                subs.add(n)
    for n in sorted(subs):
        b2o = get("B2", "tariff-alert", f"subs={n}", "deliveries_per_s")
        b2p = get("B2", "redis-pubsub", f"subs={n}", "deliveries_per_s")
        c3 = f"subs={n},rate=100"
        o50, o99 = get("B3", "tariff-alert", c3, "p50_us"), get("B3", "tariff-alert", c3, "p99_us")
        p50, p99 = get("B3", "redis-pubsub", c3, "p50_us"), get("B3", "redis-pubsub", c3, "p99_us")
        w(f"| {n:,} | {fmt(b2o)} | {fmt(b2p)} | "
          f"{times(b2o, b2p)} | {fmt(o50)} / {fmt(o99)} | "
          f"{fmt(p50)} / {fmt(p99)} | {times(o99, p99)} | "
          f"{fmt(o50 / n if o50 is not None else None)} |")
    w("")
    return out


def main():
    values = load(sys.argv[1])
    machine = open(sys.argv[2]).read().strip()
    seconds = float(sys.argv[3])
    png = sys.argv[4] if len(sys.argv) > 4 else None
    get = lambda b, s, c, m: values.get((b, s, c, m))
    out = []
    w = out.append
    w("# Benchmark results")
    w("")
    w("Written by `bench/run_all.sh` (method: docs/performance.md). Every "
      "comparison is against its peer measured in the same run, on this "
      "machine, everything on 127.0.0.1.")
    w("")
    w("```")
    w(machine)
    w(f"whole run: {seconds / 60:.1f} min")
    w("```")
    w("")

    w("## B1 scoring: one event (US on CN 30% -> 145%), generated table")
    w("")
    w("| table | ours: every ticker's score p50 / p99 | ours: with alerts "
      "(contributions, explanations) p50 / p99 | naive Redis scorer, GET per "
      "ticker, p50 | same, pipelined, p50 | ratio to GET per ticker | ratio "
      "to pipelined | target |")
    w("|---|---|---|---|---|---|---|---|")
    for c in cases(values, "B1", "tariff-alert ScoreTickers"):
        ours = get("B1", "tariff-alert ScoreTickers", c, "p50_us")
        ours99 = get("B1", "tariff-alert ScoreTickers", c, "p99_us")
        full = get("B1", "tariff-alert ScoreAction", c, "p50_us")
        full99 = get("B1", "tariff-alert ScoreAction", c, "p99_us")
        alerts = get("B1", "tariff-alert ScoreAction", c, "alerts")
        naive = get("B1", "naive-redis GET", c, "p50_us")
        piped = get("B1", "naive-redis pipelined", c, "p50_us")
        ratio = naive / ours if naive and ours else None
        ratio_p = piped / ours if piped and ours else None
        target = ("met" if ratio and ratio >= 1000 else
                  f"missed ({fmt(ratio)}x of 1000x)")
        w(f"| {c} | {fmt(ours, ' us')} / {fmt(ours99, ' us')} | "
          f"{fmt(full, ' us')} / {fmt(full99, ' us')} ({fmt(alerts)} alerts) | "
          f"{fmt(naive, ' us')} | {fmt(piped, ' us')} | {fmt(ratio)}x | "
          f"{fmt(ratio_p)}x | >= 1000x: {target} |")
    w("")

    w("## B2 fan-out throughput: saturating publisher, 128-byte alerts")
    w("")
    w("Ours is the server's stream as shipped (AlertServiceImpl). The "
      "publisher hands the hub 64 alerts per call, as the peer pipelines 64 "
      "PUBLISHes.")
    w("")
    w("| subscribers | ours deliveries/s | ours per server CPU-s | Redis "
      "pub/sub (pipelined PUBLISH) deliveries/s | Redis per server CPU-s | "
      "ratio ours / Redis | target |")
    w("|---|---|---|---|---|---|---|")
    for c in cases(values, "B2", "tariff-alert"):
        ours = get("B2", "tariff-alert", c, "deliveries_per_s")
        ours_cpu = get("B2", "tariff-alert", c, "deliveries_per_server_cpu_s")
        peer = get("B2", "redis-pubsub", c, "deliveries_per_s")
        peer_cpu = get("B2", "redis-pubsub", c, "deliveries_per_server_cpu_s")
        ratio = ours / peer if ours and peer else None
        target = "-"
        if c == "subs=100":
            target = ">= 1x: " + ("met" if ratio and ratio >= 1 else "missed")
        w(f"| {c.replace('subs=', '')} | {fmt(ours)} | {fmt(ours_cpu)} | "
          f"{fmt(peer)} | {fmt(peer_cpu)} | {fmt(ratio)}x | {target} |")
    w("")

    w("## B3 latency: paced publishing, publish -> last subscriber")
    w("")
    w("| subscribers, rate | ours p50 / p99 / p99.9 | Redis pub/sub p50 / p99 "
      "/ p99.9 | ratio of p99 ours / Redis | target |")
    w("|---|---|---|---|---|")
    for c in cases(values, "B3", "tariff-alert"):
        o = [get("B3", "tariff-alert", c, m) for m in ("p50_us", "p99_us", "p999_us")]
        p = [get("B3", "redis-pubsub", c, m) for m in ("p50_us", "p99_us", "p999_us")]
        lost = get("B3", "tariff-alert", c, "lost")
        ratio = o[1] / p[1] if o[1] and p[1] else None
        target = "-"
        if c.startswith("subs=100,"):
            target = "p99 <= 1 ms: " + ("met" if o[1] is not None and o[1] <= 1000
                                        else "missed")
        elif c.startswith("subs=1000,"):
            target = "p99 <= 10 ms: " + ("met" if o[1] is not None and o[1] <= 10000
                                         else "missed")
        lost_note = f" ({fmt(lost)} lost)" if lost else ""
        w(f"| {c.replace('subs=', '').replace(',rate=', ', ')}/s | "
          f"{' / '.join(fmt(v) for v in o)} us{lost_note} | "
          f"{' / '.join(fmt(v) for v in p)} us | {fmt(ratio)}x | {target} |")
    w("")

    w("## B4 end to end: PublishEvent -> score -> filtered subscribers")
    w("")
    w("100 subscribers, subscriber k on the k-th of the 11 sectors. The peer "
      "replays the alerts ours delivered for each event through redis-server "
      "at the same rate: per event one pipeline of an XADD per alert (the "
      "durable write) and then a PUBLISH per alert to its sector's channel, "
      "to 100 SUBSCRIBE connections (what a team would build by hand; no "
      "scoring). Ratio: ours / peer (above 1: ours is slower, or for events/s "
      "achieved, ours keeps up better).")
    w("")
    w(b4_table(values, "B4"))
    w("")
    peer50 = get("B4", "redis-pubsub", "1 subscriber, 1 message", "p50_us")
    peer99 = get("B4", "redis-pubsub", "1 subscriber, 1 message", "p99_us")
    w(f"For scale, Redis PUBLISH -> SUBSCRIBE of one alert, same run: p50 "
      f"{fmt(peer50)} us, p99 {fmt(peer99)} us.")
    w("")

    w("## B5 slow subscriber: one of 100 stops reading")
    w("")
    w("| system | others' p99, one stalled | p99, none stalled (B3) | ratio | "
      "server RSS peak | target |")
    w("|---|---|---|---|---|---|")
    for system in ("tariff-alert", "redis-pubsub"):
        for c in cases(values, "B5", system):
            stalled = get("B5", system, c, "p99_us")
            base_case = c.replace(",one stalled", "")
            base = get("B3", system, base_case, "p99_us")
            rss = get("B5", system, c, "server_rss_peak_kib")
            ratio = stalled / base if stalled and base else None
            target = ("within 1.2x: " + ("met" if ratio and ratio <= 1.2 else "missed")
                      if system == "tariff-alert" else "-")
            w(f"| {system} ({base_case.replace('subs=', '').replace(',rate=', ' subs, ')}/s) "
              f"| {fmt(stalled, ' us')} | {fmt(base, ' us')} | {fmt(ratio)}x | "
              f"{fmt(rss / 1024 if rss else None, ' MiB')} | {target} |")
    w("")

    w("## B6 memory")
    w("")
    for c in cases(values, "B6", "tariff-alert"):
        g = lambda m: get("B6", "tariff-alert", c, m)
        if g("rss_per_subscriber_kib") is not None:
            w(f"- {c} idle streams: server RSS {fmt(g('rss_before_kib') / 1024, ' MiB')}"
              f" -> {fmt(g('rss_kib') / 1024, ' MiB')}, "
              f"{fmt(g('rss_per_subscriber_kib'), ' KiB')} per idle subscriber "
              f"(target <= 64 KiB: "
              f"{'met' if g('rss_per_subscriber_kib') <= 64 else 'missed'}).")
        if g("rss_kib_with_table") is not None:
            mib = g("rss_kib_with_table") / 1024
            w(f"- tariff-alertd with the {c} table loaded: RSS {fmt(mib, ' MiB')} "
              f"(target <= 100 MB: {'met' if mib * 1.048576 <= 100 else 'missed'}).")
        if g("peak_kib_swap") is not None:
            steady = g("rss_kib_with_table")
            first = g("peak_kib_first_load")
            peak = g("peak_kib_swap")
            ratio = peak / steady if steady else None
            w(f"- peak RSS: {fmt(first / 1024, ' MiB')} loading the table at start, "
              f"{fmt(peak / 1024, ' MiB')} once a new version of it was swapped in "
              f"({fmt(ratio)}x the steady figure; target <= 2x: "
              f"{'met' if ratio is not None and ratio <= 2 else 'missed'}); "
              f"RSS after the swap {fmt(g('rss_kib_after_swap') / 1024, ' MiB')}.")
    w("")
    out.extend(curves(values, png))
    print("\n".join(out))


if __name__ == "__main__":
    main()
