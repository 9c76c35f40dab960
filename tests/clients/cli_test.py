"""The tariff-alert CLI against the real server binary: load, publish (flags,
file, stdin) and watch (table and JSON, with holdings), as a user runs them;
and replay, the offline backtest, on the shipped 2025 timeline and sample table.

Usage: cli_test.py SERVER_BIN CLI_BIN SCENARIO_JSONL
"""

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "interop"))
import harness  # noqa: E402

SERVER_BIN, CLI_BIN, SCENARIO = sys.argv[1:4]
del sys.argv[1:4]


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = harness.Harness(SERVER_BIN, CLI_BIN)
        cls.companies = cls.h.write("companies.csv", harness.COMPANIES)
        cls.exposures = cls.h.write("exposures.csv", harness.EXPOSURES)

    @classmethod
    def tearDownClass(cls):
        cls.h.close()

    @staticmethod
    def kill(process):
        if process.poll() is None:
            process.kill()
        process.communicate()

    def wait_live(self, names, timeout=10):
        """Until each of the files `names` (watchers' stderr) has the
        watcher's "# live" line; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = []
            for name in names:
                with open(self.h.path(name)) as f:
                    if "# live" not in f.read():
                        waiting.append(name)
            if not waiting or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(waiting, [], "watchers not live after %d s:\n%s" % (
            timeout, self.h.server_log()[-2000:]))

    def test_1_load_rejects_a_bad_file_whole_then_loads_a_good_one(self):
        bad = self.h.write("bad.csv", harness.EXPOSURES + "AAPL,revenue,XX,*,0.1\n"
                           "AAPL,sourcing,CN,85,0.2\n")
        r = self.h.load(self.companies, bad)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("nothing was loaded", r.stderr)
        self.assertIn(bad + ":10: country: 'XX'", r.stderr)
        self.assertIn(bad + ":11: product: 85 overlaps *", r.stderr)
        r = self.h.load(self.companies, self.exposures)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("4 companies, 8 exposure rows; now current (previous: none)", r.stdout)
        r = self.h.load(self.companies, self.h.path("missing.csv"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.csv: cannot open", r.stderr)

    def test_2_publish_and_watch(self):
        self.h.start_server("--heartbeat-seconds", "0.2")
        addr = self.h.address
        with open(self.h.path("watch.json"), "w") as out, \
                open(self.h.path("watch.err"), "w") as err:
            watch = subprocess.Popen(
                [CLI_BIN, "watch", "--server", addr, "--json",
                 "--duration-seconds", "30", "--until-sequence", "1000000"],
                stdout=out, stderr=err)
        self.addCleanup(self.kill, watch)
        with open(self.h.path("table.err"), "w") as err:
            table = subprocess.Popen(
                [CLI_BIN, "watch", "--server", addr, "--tickers", "STZ", "--explain",
                 "--max-alerts", "1", "--duration-seconds", "30"],
                stdout=subprocess.PIPE, stderr=err, text=True)
        self.addCleanup(self.kill, table)
        # Wait until both watchers are live (each says so on stderr once the
        # server's first heartbeat came: it is subscribed).
        self.wait_live(["watch.err", "table.err"])

        # From flags.
        r = self.h.cli("publish", "--server", addr, "--event-id", "cli-1",
                       "--imposing", "US", "--targets", "CN", "--rate", "30",
                       "--previous-rate", "25", "--headline", "flags")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"cli-1: \d+ alerts \(sequences 1-\d+\), book revision 1; US<-CN 0% -> 30%")
        self.assertIn("warning: previous_rate_pct 25 differs from the book's 0%", r.stdout)
        # From a file of JSON lines (the first three scenario events).
        with open(SCENARIO) as f:
            lines = [line for line in f if line.strip()][:3]
        path = self.h.write("events.jsonl", "".join(lines))
        r = self.h.cli("publish", "--server", addr, "--file", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        published = [line for line in r.stdout.splitlines() if line.startswith(path)]
        self.assertEqual(len(published), 3, r.stdout)
        # From stdin, JSON out; a repeat is a duplicate.
        mx = json.dumps({"eventId": "cli-mx", "imposingCountry": "US",
                         "targetCountries": ["MX"], "newRatePct": 25,
                         "stage": "STAGE_EFFECTIVE", "headline": "Mexico"})
        r = self.h.cli("publish", "--server", addr, "--file", "-", "--json",
                       stdin=mx + "\n" + mx + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        first, again = [json.loads(line) for line in r.stdout.strip().splitlines()]
        self.assertNotIn("duplicate", first)
        self.assertTrue(again["duplicate"])
        self.assertEqual(first["lastSequence"], again["lastSequence"])
        last = int(first["lastSequence"])

        # Errors: the field is named, the exit code says so.
        r = self.h.cli("publish", "--server", addr, "--event-id", "cli-bad",
                       "--imposing", "Mars", "--rate", "10")
        self.assertEqual(r.returncode, 1)
        self.assertIn("INVALID_ARGUMENT: event.imposing_country: 'Mars'", r.stderr)
        bad_json = self.h.write("bad.jsonl", '{"eventId": "x", "rate": 5}\n')
        r = self.h.cli("publish", "--server", addr, "--file", bad_json)
        self.assertEqual(r.returncode, 2)
        self.assertIn(bad_json + ":1: not a TariffEvent in JSON", r.stderr)

        # The table watcher saw Constellation under the Mexico tariff.
        out, _ = table.communicate(timeout=30)
        with open(self.h.path("table.err")) as f:
            err = f.read()
        self.assertEqual(table.returncode, 0, err)
        self.assertIn("== cli-mx: Mexico", out)
        self.assertRegex(out, r"\s\d+\s+STZ\s+Constellation Brands\s+Consumer Staples\s+-\d+\.\d")
        self.assertIn("export -", out)

        # The JSON watcher: stop it once it has the last alert (bounded wait).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(self.h.path("watch.json")) as f:
                if '"sequence":"%d"' % last in f.read():
                    break
            time.sleep(0.05)
        watch.terminate()
        watch.wait(timeout=10)
        with open(self.h.path("watch.json")) as f:
            alerts = [json.loads(line) for line in f if line.strip()]
        # Every alert, once, in order: 1..last.
        self.assertEqual([int(a["sequence"]) for a in alerts], list(range(1, last + 1)))
        self.assertIn("STZ", {a["subject"] for a in alerts if a["eventId"] == "cli-mx"})

    def test_2b_watch_with_holdings(self):
        if self.h.server is None:
            self.h.start_server("--heartbeat-seconds", "0.2")
        addr = self.h.address
        r = self.h.cli("publish", "--server", addr, "--event-id", "cli-hold",
                       "--imposing", "US", "--targets", "CN", "--rate", "77",
                       "--headline", "holdings", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        published = json.loads(r.stdout.strip().splitlines()[-1])
        first, last = int(published["firstSequence"]), int(published["lastSequence"])

        # Resume just before the event: the replay ends with the portfolio
        # line, which carries the event's last sequence; --until-sequence
        # waits for it. The filter (Nucor only) does not hold it back.
        r = self.h.cli("watch", "--server", addr, "--json", "--tickers", "NUE",
                       "--holdings", "AAPL=1000000,BBY=500000,ZZZZ=100",
                       "--resume-after", first - 1, "--until-sequence", last,
                       "--duration-seconds", "20")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        portfolio = [a for a in lines if a.get("subjectKind") == "SUBJECT_KIND_PORTFOLIO"]
        self.assertEqual(len(portfolio), 1, r.stdout)
        p = portfolio[0]
        self.assertEqual(lines[-1], p)
        self.assertEqual(int(p["sequence"]), last)
        self.assertEqual(p["alertId"], "cli-hold/P/portfolio")
        self.assertEqual(p["eventId"], "cli-hold")
        for a in lines[:-1]:
            self.assertEqual(a["subject"], "NUE")
        impact = p["portfolio"]
        self.assertEqual(impact["unknownTickers"], ["ZZZZ"])
        self.assertEqual({h["ticker"] for h in impact["topHoldings"]}, {"AAPL", "BBY"})
        # value x operating-profit change for each holding, their sum, and
        # bps of the gross book (1,500,100).
        total = 0.0
        for h in impact["topHoldings"]:
            expected = h["positionValue"] * h["operatingProfitChangePct"] / 100
            self.assertAlmostEqual(h["impactValue"], expected, places=4)
            total += expected
        self.assertAlmostEqual(impact["impactValue"], total, places=4)
        self.assertAlmostEqual(impact["positionValue"], 1500100)
        self.assertAlmostEqual(p["scoreBps"], total / 1500100 * 10000, places=6)
        self.assertLess(p["scoreBps"], 0)

        # The table: the same from a holdings file, a line of its own.
        book = self.h.write("book.csv", "ticker,position_value\nAAPL,1000000\nBBY,500000\n")
        r = self.h.cli("watch", "--server", addr, "--holdings-file", book,
                       "--top-per-event", "1", "--explain",
                       "--resume-after", first - 1, "--until-sequence", last,
                       "--duration-seconds", "20")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("== cli-hold: holdings", r.stdout)
        self.assertRegex(r.stdout, r"\s%d\s+PORTFOLIO\s+-[\d.]+[kM] of 1\.50M: " % last)
        self.assertIn("Portfolio -", r.stdout)

        # Bad holdings: the flag's syntax here, the values at the server.
        r = self.h.cli("watch", "--server", addr, "--holdings", "AAPL")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--holdings: 'AAPL' is not TICKER=VALUE", r.stderr)
        r = self.h.cli("watch", "--server", addr, "--holdings", "AAPL=0",
                       "--duration-seconds", "10")
        self.assertEqual(r.returncode, 1)
        self.assertIn("holdings[0].position_value", r.stderr)
        bad = self.h.write("bad-book.csv", "ticker,position_value\nAAPL,lots\n")
        r = self.h.cli("watch", "--server", addr, "--holdings-file", bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn(bad + ":2: position_value: 'lots' is not a number", r.stderr)

    def test_3_server_stops_cleanly_on_sigterm(self):
        if self.h.server is None:
            self.h.start_server()
        started = time.monotonic()
        code = self.h.stop_server(timeout=10)
        self.assertEqual(code, 0, self.h.server_log())
        self.assertLess(time.monotonic() - started, 6)
        self.assertIn("shutting down", self.h.server_log())


REPLAY_COLUMNS = [
    "step", "event_id", "event_time", "stage", "measure_id", "snap_back", "rate_changes",
    "book_revision", "subject_kind", "subject", "name", "sector", "score_bps", "severity",
    "operating_profit_change_pct", "probability", "top_channel", "explanation"]


class ReplayTest(unittest.TestCase):
    """tariff-alert replay: no server, no Redis."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="tariff-alert-replay-")
        cls.exposure = os.path.join(os.path.dirname(SCENARIO), "..", "exposure")
        with open(SCENARIO) as f:
            cls.lines = [line for line in f if line.strip()]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def replay(self, *args, scenario=SCENARIO):
        return subprocess.run(
            [CLI_BIN, "replay", scenario, "--exposure-dir", self.exposure] + list(args),
            capture_output=True, text=True, timeout=120)

    @staticmethod
    def rows(text):
        reader = csv.DictReader(io.StringIO(text))
        assert reader.fieldnames == REPLAY_COLUMNS, reader.fieldnames
        return list(reader)

    def score(self, rows, event_id, ticker):
        for r in rows:
            if r["event_id"] == event_id and r["subject"] == ticker:
                return float(r["score_bps"])
        self.fail("%s has no row for %s" % (ticker, event_id))

    def test_past_november_10_the_pauses_snap_back(self):
        out = self.path("until.csv")
        r = self.replay("--until", "2025-11-11", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"replay: %d events, 2 snap-backs, \d+ rows, clock carried "
                         r"to 2025-11-11T00:00:00Z -> " % len(self.lines))
        with open(out, newline="") as f:
            text = f.read()
        rows = self.rows(text)
        snaps = [row for row in rows if row["snap_back"] == "1"]
        self.assertEqual({row["measure_id"] for row in snaps},
                         {"us-cn-reciprocal", "cn-us-reciprocal"})
        us = [row for row in snaps if row["measure_id"] == "us-cn-reciprocal"]
        self.assertEqual(us[0]["event_id"], "us-cn-reciprocal/snap-back/2025-11-10T05:01:00Z")
        self.assertEqual(us[0]["event_time"], "2025-11-10T05:01:00Z")
        self.assertEqual(us[0]["stage"], "EFFECTIVE")
        # With the all-goods MFN average of the base rates, 4.24%.
        self.assertEqual(us[0]["rate_changes"], "CN *: 34.24->58.24")
        cn = [row for row in snaps if row["measure_id"] == "cn-us-reciprocal"]
        self.assertEqual(cn[0]["rate_changes"], "US *: 10->34")
        # Step order: the snap-backs come last, China's (04:01Z) first.
        self.assertEqual(rows[-1]["snap_back"], "1")
        self.assertLess(int(cn[0]["step"]), int(us[0]["step"]))
        # What a trader checks: Apple and Best Buy hurt at 145%; Best Buy
        # relieved by the pause and hurt again by the snap-back (Apple's
        # phones and computers are out of the reciprocal duty from April 11);
        # Boeing hurt by China's answer.
        self.assertLess(self.score(rows, "2025-04-10-us-cn-145", "AAPL"), -250)
        self.assertGreater(self.score(rows, "2025-04-11-us-cn-electronics-exempt", "AAPL"), 500)
        self.assertGreater(self.score(rows, "2025-05-12-us-cn-geneva-pause", "BBY"), 500)
        self.assertLess(self.score(rows, us[0]["event_id"], "BBY"), -100)
        self.assertLess(self.score(rows, cn[0]["event_id"], "BA"), 0)
        pause = [row for row in rows if row["event_id"] == "2025-05-12-us-cn-geneva-pause"]
        self.assertEqual(pause[0]["rate_changes"], "CN *: 149.24->34.24")
        self.assertEqual(pause[0]["stage"], "PAUSED")
        # Both kinds of subject, explanations quoted, one row per alert.
        self.assertEqual({row["subject_kind"] for row in rows}, {"TICKER", "SECTOR"})
        self.assertIn(',"AAPL ', text)

    def test_without_until_nothing_snaps_back(self):
        r = self.replay()
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.rows(r.stdout)
        self.assertTrue(rows)
        self.assertEqual({row["snap_back"] for row in rows}, {"0"})
        self.assertIn(" 0 snap-backs", r.stderr)
        # The extensions move no rate: no row.
        self.assertFalse([row for row in rows if "pause-extended" in row["event_id"]])

    def test_the_same_input_gives_the_same_bytes(self):
        outputs = []
        for name in ("a.csv", "b.csv"):
            r = self.replay("--until", "2025-11-11T00:00:00Z", "--out", self.path(name))
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(self.path(name), "rb") as f:
                outputs.append(f.read())
        self.assertGreater(len(outputs[0]), 10000)
        self.assertEqual(outputs[0], outputs[1])
        # stdout gives the same bytes as --out.
        r = subprocess.run([CLI_BIN, "replay", SCENARIO, "--exposure-dir", self.exposure,
                            "--until", "2025-11-11"], capture_output=True, timeout=120)
        self.assertEqual(r.stdout, outputs[0])

    def test_filters(self):
        r = self.replay("--tickers", "AAPL,BBY", "--min-abs-bps", "100")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.rows(r.stdout)
        self.assertEqual({row["subject"] for row in rows}, {"AAPL", "BBY"})
        self.assertTrue(all(abs(float(row["score_bps"])) >= 100 for row in rows))
        r = self.replay("--subjects", "sectors")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual({row["subject_kind"] for row in self.rows(r.stdout)}, {"SECTOR"})

    def test_a_starting_book(self):
        # The book up to the Geneva pause, then the rest: the same snap-back.
        split = next(i for i, line in enumerate(self.lines)
                     if "2025-06-04-us-all-232-steel-alu-50" in line)
        book = self.write("book.jsonl", "".join(self.lines[:split]))
        rest = self.write("rest.jsonl", "".join(self.lines[split:]))
        r = self.replay("--book", book, "--until", "2025-11-11", scenario=rest)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("after %d starting-book events" % split, r.stderr)
        rows = self.rows(r.stdout)
        self.assertFalse([row for row in rows if row["event_id"] == "2025-04-10-us-cn-145"])
        full = self.rows(self.replay("--until", "2025-11-11").stdout)
        snap = "us-cn-reciprocal/snap-back/2025-11-10T05:01:00Z"
        self.assertEqual(self.score(rows, snap, "BBY"), self.score(full, snap, "BBY"))
        self.assertEqual([row["book_revision"] for row in rows if row["event_id"] == snap][0],
                         [row["book_revision"] for row in full if row["event_id"] == snap][0])

    def test_bad_input_names_the_file_and_line(self):
        # Line 4 (after a comment and a blank line) is not JSON.
        bad = self.write("bad.jsonl", self.lines[0] + "# a comment\n\n" + '{"eventId": \n')
        r = self.replay(scenario=bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn(bad + ":4: not a TariffEvent in JSON", r.stderr)
        self.assertEqual(r.stdout, "")
        # Line 3 is valid JSON the book rejects: an extension of a pause that
        # is not there.
        extend = json.dumps({
            "eventId": "x-extend", "measureId": "us-cn-fentanyl", "imposingCountry": "US",
            "stage": "STAGE_EXTENDED", "announcedTime": "2025-03-05T00:00:00Z",
            "expiresTime": "2025-06-01T00:00:00Z"})
        fentanyl = next(line for line in self.lines if "2025-02-04-us-cn-fentanyl-10" in line)
        rejected = self.write("rejected.jsonl", fentanyl + "\n" + extend + "\n")
        r = self.replay(scenario=rejected)
        self.assertEqual(r.returncode, 2)
        self.assertIn(rejected + ":3: event 'x-extend' rejected: FAILED_PRECONDITION: "
                      "event.stage: EXTENDED needs a paused measure", r.stderr)
        # A field the validator rejects, on the starting book.
        book = self.write("badbook.jsonl", json.dumps({
            "eventId": "b1", "imposingCountry": "US", "stage": "STAGE_EFFECTIVE"}) + "\n")
        r = self.replay("--book", book)
        self.assertEqual(r.returncode, 2)
        self.assertIn(book + ":1: event 'b1' rejected: INVALID_ARGUMENT: "
                      "event.new_rate_pct: is required", r.stderr)
        r = self.replay("--until", "next week")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--until", r.stderr)
        r = subprocess.run([CLI_BIN, "replay", SCENARIO, "--exposure-dir", self.path("none")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("companies.csv", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
