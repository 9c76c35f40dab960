"""The tariff-alert CLI against the real server binary: load, publish (flags,
file, stdin) and watch (table and JSON, with holdings), as a user runs them.

Usage: cli_test.py SERVER_BIN CLI_BIN SCENARIO_JSONL
"""

import json
import os
import subprocess
import sys
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
        table = subprocess.Popen(
            [CLI_BIN, "watch", "--server", addr, "--tickers", "STZ", "--explain",
             "--max-alerts", "1", "--duration-seconds", "30"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.kill, table)
        # Wait until both watchers are live (they say so on stderr).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(self.h.path("watch.err")) as f:
                if "# live" in f.read():
                    break
            time.sleep(0.05)
        time.sleep(0.3)

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
        out, err = table.communicate(timeout=30)
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
