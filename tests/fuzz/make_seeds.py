#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
from the project's own sample data: data/exposure, data/scenarios/*.jsonl and
config/scoring.textproto, and, for the targets that read protos, requests and
stored records built here with the real .proto files.

Run with Debian's /usr/bin/python3 (python3-protobuf) from anywhere:
  /usr/bin/python3 tests/fuzz/make_seeds.py
The output is committed; rerun it when the protos or the sample data change.
"""

import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
SEPARATOR = "\n%%\n"  # exposure_csv_fuzz.cc's kSeparator


def load_protos(tmp):
    protos = ["tariffalert/v1/%s.proto" % p for p in
              ("tariff_event", "alert", "tariff_event_service", "alert_service",
               "tariff_book", "console_service")]
    subprocess.run(["protoc", "-I", os.path.join(ROOT, "proto"),
                    "-I", "/usr/include", "--python_out", tmp] + protos,
                   check=True)
    sys.path.insert(0, tmp)
    from tariffalert.v1 import (alert_pb2, alert_service_pb2, console_service_pb2,
                                tariff_book_pb2, tariff_event_pb2,
                                tariff_event_service_pb2)
    return alert_pb2, alert_service_pb2, tariff_book_pb2, tariff_event_pb2, \
        tariff_event_service_pb2, console_service_pb2


_CLEARED = set()


def write(target, name, data):
    """Writes one seed; the first write to a target in a run clears its
    directory (the corpora not made here, credentials', stay as they are)."""
    d = os.path.join(CORPUS, target)
    if target not in _CLEARED:
        _CLEARED.add(target)
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*path):
    with open(os.path.join(ROOT, *path), newline="") as f:
        return f.read()


def csv_subset(text, keep):
    """The header and the rows for which keep(row) holds, as written."""
    lines = text.splitlines(keepends=True)
    out = [lines[0]]
    header = next(csv.reader([lines[0]]))
    for line in lines[1:]:
        row = dict(zip(header, next(csv.reader([line]))))
        if keep(row):
            out.append(line)
    return "".join(out)


def exposure_seeds():
    companies = read("data", "exposure", "companies.csv")
    exposures = read("data", "exposure", "exposures.csv")
    links = read("data", "exposure", "links.csv")
    # Companies linked to one another, so links.csv checks too.
    tickers = {"AAPL", "2317.TW", "2330.TW", "NVDA", "QCOM", "005930.KS"}
    pick = lambda col: (lambda row: row[col] in tickers)
    write("exposure_csv", "apple_suppliers",
          csv_subset(companies, pick("ticker")) + SEPARATOR[1:] +
          csv_subset(exposures, pick("ticker")) + SEPARATOR[1:] +
          csv_subset(links, lambda r: r["supplier"] in tickers and
                     r["customer"] in tickers))
    # Carmakers with product rows (HS headings) and EU rows, no links.
    cars = {"GM", "F", "STLA", "BMW.DE", "TSLA"}
    write("exposure_csv", "carmakers_no_links",
          csv_subset(companies, lambda r: r["ticker"] in cars) + SEPARATOR[1:] +
          csv_subset(exposures, lambda r: r["ticker"] in cars))
    # The corner cases of the reader: BOM, CRLF, quoted commas and quotes, a
    # line break inside a quoted field (of an ignored column: a name is one
    # line), columns in another order, blank lines.
    write("exposure_csv", "reader_corners",
          "\ufeffname,ticker,sector,country,market_cap_usd,cogs_ratio,"
          "operating_margin,source\r\n"
          "\"Apple, \"\"Inc.\"\"\",AAPL,Information Technology,US,"
          "3e12,0.55,0.3,\"10-K,\nFY2024\"\r\n\r\n"
          " \"Tesla\" , TSLA ,Consumer Discretionary,US,8e11,0.8,-0.08,\r\n"
          "%%\n"
          "share,ticker,kind,country,product\n"
          "0.4,AAPL,revenue,US,*\n0.2,AAPL,revenue,EU,*\n0.7,AAPL,product,,85\n"
          "0.3,AAPL,product,,8471\n0.6,TSLA,production,US,87\n"
          "0.4,TSLA,sourcing,CN,8507\n"
          "%%\n"
          "supplier,customer,share\nTSLA,AAPL,0.1\n")


def event_seeds(tariff_event_pb2, tariff_event_service_pb2):
    from google.protobuf import json_format
    lines = [l for l in read("data", "scenarios", "july-2025.jsonl").splitlines()
             if l.strip() and not l.lstrip().startswith("#")]
    # One event of each stage and shape: all goods, product scopes,
    # exclusions, a pause, an extension, a threat with a probability.
    chosen = []
    seen = set()
    for line in lines:
        e = json.loads(line)
        shape = (e.get("stage"), "productCodes" in e,
                 "excludedProductCodes" in e, "excludedTargetCountries" in e,
                 "probability" in e, "expiresTime" in e)
        if shape not in seen:
            seen.add(shape)
            chosen.append((e["eventId"], line))
    for event_id, line in chosen:
        write("event_json", event_id, line + "\n")
        event = tariff_event_pb2.TariffEvent()
        json_format.Parse(line, event)
        request = tariff_event_service_pb2.PublishEventRequest()
        request.event.CopyFrom(event)
        write("publish_request", event_id, request.SerializeToString())
    # A file as publish --file reads it: comments, blank lines, three events.
    write("event_json", "file_with_comments",
          "# july 2025\n\n" + "\n".join(l for _, l in chosen[:3]) + "\n")
    # The flag path's event (EventFromFlags) in JSON, every field set.
    write("event_json", "every_field", json.dumps({
        "eventId": "e-1", "imposingCountry": "EU", "targetCountries": [],
        "excludedTargetCountries": ["US", "CH"], "productCodes": ["72", "7601"],
        "excludedProductCodes": ["7208"], "stage": "STAGE_PAUSED",
        "newRatePct": 0, "previousRatePct": 25, "snapBackRatePct": 25,
        "probability": 0.5, "measureId": "eu-steel.safeguard_2",
        "announcedTime": "2025-07-01T00:00:00Z",
        "effectiveTime": "2025-07-02T00:00:00.5+02:00",
        "expiresTime": "2025-10-01T00:00:00Z", "headline": "h",
        "sourceUrl": "https://example.com/a"}) + "\n")


def book_seeds(tariff_book_pb2, tariff_event_pb2):
    b = tariff_book_pb2.BookState()
    b.revision = 12
    b.clock_time.seconds = 1752000000
    m = b.measures.add()
    m.measure_id, m.imposing_country, m.event_id = "US>CN:*", "US", "e1"
    m.target_countries.append("CN")
    m.in_force, m.rate_pct = True, 30
    m = b.measures.add()
    m.measure_id, m.imposing_country, m.event_id = "us-steel", "US", "e2"
    m.product_codes.extend(["72", "73", "7601"])
    m.excluded_product_codes.append("7208")
    m.excluded_target_countries.extend(["GB"])
    m.in_force, m.rate_pct = True, 50
    m = b.measures.add()
    m.measure_id, m.imposing_country, m.event_id = "cn-us-reciprocal", "CN", "e3"
    m.target_countries.append("US")
    m.in_force, m.rate_pct = True, 10
    m.pause.snap_back_rate_pct = 34
    m.pause.expires_time.seconds = 1755000000
    m.pause.event_id = "e3"
    m = b.measures.add()
    m.measure_id, m.imposing_country, m.event_id = "eu-us-threat", "EU", "e4"
    m.target_countries.append("US")
    m.pending.stage = tariff_event_pb2.STAGE_THREATENED
    m.pending.rate_pct, m.pending.probability = 30, 0.35
    m.pending.event_id = "e4"
    write("book_codec", "four_measures", b.SerializeToString())
    write("book_codec", "empty_book_revision_1",
          tariff_book_pb2.BookState(revision=1).SerializeToString())


def alert_seeds(alert_pb2, alert_service_pb2):
    a = alert_pb2.Alert()
    a.alert_id, a.event_id = "e1/T/AAPL", "e1"
    a.subject_kind = alert_pb2.SUBJECT_KIND_TICKER
    a.subject, a.name, a.sector, a.country = "AAPL", "Apple Inc.", \
        "Information Technology", "US"
    a.score_bps, a.severity = -182.5, alert_pb2.SEVERITY_MEDIUM
    a.imposing_country = "US"
    a.target_countries.append("CN")
    a.explanation = "sourcing from CN"
    a.operating_profit_change_pct = -3.1
    a.exposure_version, a.book_revision, a.model_version = "v7", 3, "m+0"
    a.created_time.seconds, a.created_time.nanos = 1752000000, 123000
    s = alert_pb2.Alert(subject_kind=alert_pb2.SUBJECT_KIND_SECTOR,
                        subject="Materials", sector="Materials",
                        imposing_country="EU", score_bps=35, event_id="e2")
    # As the log stores them: sequence unset, the entry id carries it
    # (alert_log_fuzz.cc's format: the id before the first entry, then per
    # entry its id step, its length and its value).
    def entries(before_first, values):
        out = struct.pack("<Q", before_first)
        for step, v in values:
            out += struct.pack("<BH", step, len(v)) + v
        return out
    write("alert_log", "ticker_alert_seq_42",
          entries(41, [(1, a.SerializeToString())]))
    write("alert_log", "sector_alert_seq_1",
          entries(0, [(1, s.SerializeToString())]))
    b = alert_pb2.Alert()
    b.CopyFrom(a)
    b.alert_id, b.subject, b.name = "e1/T/DELL", "DELL", "Dell Technologies"
    write("alert_log", "one_read_two_events_seq_7_to_9",
          entries(6, [(1, a.SerializeToString()), (1, b.SerializeToString()),
                      (1, s.SerializeToString())]))
    # The layout of one entry per event: the high bit of the step byte,
    # then each alert preceded by its length (a varint).
    def varint(n):
        out = b""
        while n >= 0x80:
            out += bytes([(n & 0x7F) | 0x80])
            n >>= 7
        return out + bytes([n])
    def packed(*alerts):
        out = b""
        for x in alerts:
            v = x.SerializeToString()
            out += varint(len(v)) + v
        return out
    write("alert_log", "packed_event_seq_7_to_9_then_old_layout_10",
          entries(6, [(0x80 | 3, packed(a, b, s)),
                      (1, a.SerializeToString())]))

    r = alert_service_pb2.SubscribeAlertsRequest()
    r.filter.tickers.extend(["AAPL", "SAP"])
    r.filter.countries.extend(["CN", "EU"])
    r.filter.min_abs_score_bps = 50
    r.filter.min_severity = alert_pb2.SEVERITY_LOW
    r.filter.subject_kinds.extend([alert_pb2.SUBJECT_KIND_TICKER,
                                   alert_pb2.SUBJECT_KIND_PORTFOLIO])
    r.resume_after_sequence = 41
    write("alert_filter", "tickers_countries", r.SerializeToString())
    r = alert_service_pb2.SubscribeAlertsRequest()
    r.filter.sectors.append("Materials")
    r.filter.countries.append("DE")
    h = r.holdings.add()
    h.ticker, h.position_value = "AAPL", 1e6
    h = r.holdings.add()
    h.ticker, h.position_value = "SAP", -2.5e5
    write("alert_filter", "sector_with_holdings", r.SerializeToString())
    write("alert_filter", "empty_request", b"")

    q = alert_service_pb2.ListAlertsRequest()
    q.filter.tickers.append("AAPL")
    q.filter.min_abs_score_bps = 40
    q.start_time.seconds, q.end_time.seconds = 60, 250
    q.page_size = 2
    write("list_alerts", "aapl_range_pages_of_2", q.SerializeToString())
    q = alert_service_pb2.ListAlertsRequest()
    q.filter.sectors.append("Materials")
    q.filter.countries.append("EU")
    q.page_size = 5000
    write("list_alerts", "sector_eu_page_size_5000", q.SerializeToString())
    q = alert_service_pb2.ListAlertsRequest()
    q.page_token = "dGExOjEwOmRlYWRiZWVm"  # "ta1:10:deadbeef", another query's
    write("list_alerts", "foreign_page_token", q.SerializeToString())
    write("list_alerts", "empty_request", b"")


def scoring_seeds():
    write("scoring_config", "default", read("config", "scoring.textproto"))
    write("scoring_config", "minimal",
          'model_name: "m"\n'
          'default_sector { pass_through: 0.5 export_kappa: 0.5 '
          'protection_gamma: 0.1 }\n'
          'severity_bands { low_bps: 10 medium_bps: 50 high_bps: 200 '
          'critical_bps: 500 }\n'
          'stage_probability { threatened: 0.3 announced: 0.7 effective: 1 '
          'paused: 0.5 extended: 0.5 revoked: 0 }\n'
          'import_shares { importer: "EU" partners { partner: "US" share: 0.2 }'
          ' partners { partner: "CN" share: 0.3 } }\n'
          'import_shares { importer: "US" partners { partner: "EU" share: 0.2 }'
          ' }\n')

def console_seeds(alert_pb2, alert_service_pb2, c):
    # console_config: the built-in config, and a refusal of each kind.
    write("console_config", "default", read("config", "console.textproto"))
    write("console_config", "two_rules",
          'inhibition_rules {\n  name: "a"\n  source_state: MEASURE_STATE_PAUSED\n'
          '  target_stages: STAGE_THREATENED\n  target_stages: STAGE_ANNOUNCED\n}\n'
          'inhibition_rules {\n  name: "b"\n  source_state: MEASURE_STATE_PAUSED\n'
          '  target_stages: STAGE_EFFECTIVE\n  escalations_only: true\n}\n'
          'audit_retention: 500\nexpired_silence_hours: 1\n')
    write("console_config", "name_used_twice",
          'inhibition_rules { name: "x" source_state: MEASURE_STATE_PAUSED '
          'target_stages: STAGE_THREATENED }\n'
          'inhibition_rules { name: "x" source_state: MEASURE_STATE_PAUSED '
          'target_stages: STAGE_ANNOUNCED }\n')
    write("console_config", "no_target_stage",
          'inhibition_rules {\n  name: "no-stage"\n'
          '  source_state: MEASURE_STATE_PAUSED\n}\n')
    write("console_config", "unknown_field",
          "# unknown field\naudit_retention: 10\nretention_days: 3\n")
    write("console_config", "numeric_enums",
          'inhibition_rules { name: "n" source_state: 1 target_stages: 9 }\n')
    write("console_config", "empty", "")

    # console_request (console_request_fuzz.cc's chunks: kind, u16 length,
    # payload). Now is 2025-07-08 00:00 UTC unless a chunk 0 sets it.
    now = 1751932800
    def chunk(kind, payload):
        return struct.pack("<BH", kind, len(payload)) + payload
    def now_chunk(t):
        return chunk(0, struct.pack("<q", t))

    def alert(seq, event, subject, kind=alert_pb2.SUBJECT_KIND_TICKER,
              sector="Information Technology", score=-120.0,
              severity=alert_pb2.SEVERITY_MEDIUM, measure="us-cn-34",
              stage=1, delta=10.0):
        a = alert_pb2.Alert(sequence=seq, event_id=event, subject_kind=kind,
                            subject=subject, sector=sector, score_bps=score,
                            severity=severity, measure_id=measure, stage=stage,
                            imposing_country="US", country="US",
                            headline="US threatens " + event)
        a.alert_id = "%s/%s/%s" % (event, "S" if kind == 2 else "T", subject)
        a.target_countries.append("CN")
        a.contributions.add(channel=1, country="CN", delta_pct=delta,
                            bps=score)
        return a.SerializeToString()
    alerts = [alert(1, "e1", "AAPL"),
              alert(2, "e1", "DELL", score=40),
              alert(3, "e1", "Materials", kind=alert_pb2.SUBJECT_KIND_SECTOR,
                    sector="Materials", score=15,
                    severity=alert_pb2.SEVERITY_LOW),
              alert(4, "e2", "SAP", sector="Information Technology",
                    measure="us-eu-30", stage=3,
                    severity=alert_pb2.SEVERITY_HIGH, score=-300),
              alert(5, "e2", "book", kind=alert_pb2.SUBJECT_KIND_PORTFOLIO,
                    sector="", score=-80)]

    silence = c.CreateSilenceRequest()
    silence.silence.matchers.add(field=c.MATCHER_FIELD_TICKER, value="aapl")
    silence.silence.matchers.add(field=c.MATCHER_FIELD_COUNTRY, value="cn")
    silence.silence.end_time.seconds = now + 3600
    silence.silence.comment = "handled: the pause holds"
    write("console_request", "silence_of_aapl_then_alerts",
          chunk(1, silence.SerializeToString()) +
          b"".join(chunk(4, a) for a in alerts))

    refused = c.CreateSilenceRequest()
    refused.silence.matchers.add(field=c.MATCHER_FIELD_SEVERITY, value="huge")
    refused.silence.end_time.seconds = now + 31 * 86400
    refused.silence.comment = " "
    write("console_request", "silence_refused_bad_severity",
          chunk(1, refused.SerializeToString()))
    write("console_request", "silence_not_set", chunk(1, b""))

    state = c.ConsoleState(audit_sequence=10)
    state.acknowledgements.add(alert_id="e1/T/AAPL", event_id="e1",
                               actor="ana", comment="seen")
    state.acknowledgements.add(event_id="e2", actor="bo")
    s = state.silences.add(id="s-00000000000000aa", created_by="ana",
                           comment="noise")
    s.matchers.add(field=c.MATCHER_FIELD_SEVERITY, value="LOW")
    s.start_time.seconds, s.end_time.seconds = now - 60, now + 600
    inh = state.inhibitions.add(rule="threat-during-pause",
                                measure_id="us-cn-34",
                                reason="measure us-cn-34 is paused",
                                escalations_only=True)
    inh.target_stages.append(1)
    inh.until_time.seconds = now + 86400
    ack = c.AuditRecord(sequence=11, actor="cy",
                        action=c.AUDIT_ACTION_ACKNOWLEDGED)
    ack.acknowledgement.alert_id = "e1/T/DELL"
    ack.acknowledgement.actor = "cy"
    gap = c.AuditRecord(sequence=13, actor="cy",
                        action=c.AUDIT_ACTION_ACKNOWLEDGEMENT_DELETED)
    gap.acknowledgement.event_id = "e2"
    expired = c.AuditRecord(sequence=12, actor="ana",
                            action=c.AUDIT_ACTION_SILENCE_EXPIRED)
    expired.silence.CopyFrom(s)
    expired.silence.end_time.seconds = now
    expired.silence.expired_by = "ana"
    write("console_request", "state_records_gap_and_alerts",
          now_chunk(now) + chunk(2, state.SerializeToString()) +
          chunk(3, ack.SerializeToString()) + chunk(3, gap.SerializeToString()) +
          chunk(3, expired.SerializeToString()) +
          chunk(3, gap.SerializeToString()) +
          b"".join(chunk(4, a) for a in alerts))
    # (A state at 2^64 - 1 and a record 0: regressions/console_request/.)

    # console_web_input (console_web_input_fuzz.cc: first byte picks the
    # part, % 6).
    web = "console_web_input"
    write(web, "resume_last_event_id_wins", b"\x00\x03" + b"42\n7")
    write(web, "resume_after_only", b"\x00\x02" + b"\n18446744073709551615")
    write(web, "resume_overflow", b"\x00\x01" + b"18446744073709551616\n")
    write(web, "resume_not_digits", b"\x00\x03" + b"-1\n+5")
    # The forwarded methods, in console_web_input_fuzz.cc's kMethods order;
    # 12 is the login body.
    write(web, "rpc_create_silence", b"\x01\x06" + json.dumps({
        "silence": {"matchers": [{"field": "MATCHER_FIELD_TICKER",
                                  "value": "AAPL"},
                                 {"field": 5, "value": "LOW"}],
                    "endTime": "2025-07-08T01:00:00Z",
                    "comment": "handled"}}).encode())
    write(web, "rpc_list_alerts", b"\x01\x08" + json.dumps({
        "filter": {"tickers": ["AAPL"], "min_severity": "SEVERITY_LOW"},
        "page_size": 20, "start_time": "2025-04-01T00:00:00.5Z"}).encode())
    write(web, "rpc_acknowledge_unknown_field", b"\x01\x03" +
          b'{"alert_id": "e1/T/AAPL", "comment": "x", "who": "me"}')
    write(web, "rpc_score_scenario_empty", b"\x01\x0b")
    write(web, "login_body", b"\x01\x0c" + b'{"token": "ta_example"}')
    write(web, "csrf_key_session_header",
          b"\x02" + b"0123456789abcdef0123456789abcdef\nta_session-token\n" +
          b"00" * 32)
    write(web, "csrf_short_key", b"\x02" + b"short\nta_x\n")
    write(web, "path_create_silence", b"\x03ConsoleService/CreateSilence")
    write(web, "path_publish_event", b"\x03TariffEventService/PublishEvent")
    write(web, "server_error_with_newline",
          b"\x04\x0e" + b'replica "a"\r\ngone\\ \x01 \x7f')
    write(web, "stream_alert", b"\x05\x00" + alerts[0])
    watch = c.WatchConsoleStateResponse(audit_sequence=11)
    watch.record.CopyFrom(ack)
    watch.server_time.seconds = now
    write(web, "stream_console_record", b"\x05\x01" + watch.SerializeToString())


def main():
    with tempfile.TemporaryDirectory() as tmp:
        alert_pb2, alert_service_pb2, tariff_book_pb2, tariff_event_pb2, \
            tariff_event_service_pb2, console_service_pb2 = load_protos(tmp)
        exposure_seeds()
        event_seeds(tariff_event_pb2, tariff_event_service_pb2)
        book_seeds(tariff_book_pb2, tariff_event_pb2)
        alert_seeds(alert_pb2, alert_service_pb2)
        scoring_seeds()
        console_seeds(alert_pb2, alert_service_pb2, console_service_pb2)
    for target in sorted(os.listdir(CORPUS)):
        d = os.path.join(CORPUS, target)
        files = os.listdir(d)
        size = sum(os.path.getsize(os.path.join(d, f)) for f in files)
        print("%-16s %2d seeds, %6d bytes" % (target, len(files), size))


if __name__ == "__main__":
    main()
