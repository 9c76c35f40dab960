"""tariff-alert backtest, the real binary on a fixture whose figures were
worked out by hand (testdata/backtest/README.md): the printed table, the
JSON, the points CSV, errors that name file:line and the field, and the
chart script on the points. No server, no Redis. Also runs the shipped
sample (data/backtest) so that a timeline whose event ids no longer match
data/backtest/days.csv fails here, by name.

Usage: backtest_cli_test.py CLI_BIN TESTDATA_DIR PLOT_SCRIPT DATA_DIR
"""

import csv
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import unittest

CLI_BIN, TESTDATA, PLOT, DATA = sys.argv[1:5]
del sys.argv[1:5]

POINT_COLUMNS = ["date", "ticker", "index", "return_pct", "index_return_pct",
                 "net_return_pct", "score_bps", "event_ids", "explanation"]


class BacktestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="tariff-alert-backtest-")
        with open(os.path.join(TESTDATA, "returns.csv")) as f:
            cls.returns = f.read()
        with open(os.path.join(TESTDATA, "days.csv")) as f:
            cls.days = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def backtest(self, *args, returns=None, days=None, data=TESTDATA,
                 timeline="timeline.jsonl"):
        return subprocess.run(
            [CLI_BIN, "backtest", "--timeline", os.path.join(data, timeline),
             "--exposure-dir", os.path.join(data, "exposure"),
             "--returns", returns or os.path.join(data, "returns.csv"),
             "--days", days or os.path.join(data, "days.csv")] + list(args),
            capture_output=True, text=True, timeout=120)

    @staticmethod
    def table(stdout):
        """The figures table: {label: [events, n, moved, hits, wrong, no call,
        hit rate, Spearman]}."""
        rows = {}
        for line in stdout.splitlines():
            m = re.match(r"^(\d{4}-\d\d-\d\d|all)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)"
                         r"\s+(\d+)\s+(\S+)\s+(\S+)$", line)
            if m:
                rows[m.group(1)] = list(m.groups()[1:])
        return rows

    def test_the_printed_figures_are_the_hand_worked_ones(self):
        r = self.backtest()
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.table(r.stdout)
        self.assertEqual(rows["2025-03-04"], ["1", "5", "4", "2", "1", "1", "50.0%", "0.30"])
        self.assertEqual(rows["2025-03-06"], ["1", "4", "2", "2", "0", "0", "100.0%", "0.74"])
        self.assertEqual(rows["all"], ["2", "9", "6", "4", "1", "1", "66.7%", "0.51"])
        self.assertIn("not in the table (left out): ZZZ", r.stdout)
        self.assertNotIn("ZZZ ", r.stdout.replace("left out): ZZZ", ""))
        # The misses, largest |net| first: EEE (no alert, 3.00) then CCC
        # (wrong sign, 2.50), with the alert's explanation.
        day = r.stdout[r.stdout.index("2025-03-04: t-us-cn-20"):
                       r.stdout.index("2025-03-06: t-us-cn-10")]
        self.assertLess(day.index("EEE"), day.index("CCC"))
        self.assertRegex(day, r"EEE\s+score\s+\+0\.000 bps\s+net\s+-3\.00%.*no call")
        self.assertIn("no alert for EEE from the day's events", day)
        self.assertRegex(day, r"CCC\s+score\s+-100\.000 bps\s+net\s+\+2\.50%.*wrong sign")
        self.assertIn("CCC -100.0 bps of revenue (-10% of operating profit) from US tariff "
                      "on CN goods 0% -> 20% (+20 pp)", day)
        after = r.stdout[r.stdout.index("2025-03-06: t-us-cn-10"):]
        self.assertIn("no misses", after)
        self.assertRegex(r.stderr, r"^backtest: 2 events, 2 days, 9 points\n$")

    def test_json_has_the_same_figures(self):
        r = self.backtest("--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        report = json.loads(r.stdout)
        self.assertEqual(report["threshold_pct"], 1)
        first, second = report["days"]
        self.assertEqual(first["date"], "2025-03-04")
        self.assertEqual(first["not_in_table"], ["ZZZ"])
        self.assertEqual((first["n"], first["moved"], first["hits"], first["wrong_sign"],
                          first["no_calls"]), (5, 4, 2, 1, 1))
        self.assertAlmostEqual(first["hit_rate"], 0.5, places=6)
        self.assertAlmostEqual(first["spearman"], 0.3, places=6)
        self.assertEqual([m["ticker"] for m in first["largest_misses"]], ["EEE", "CCC"])
        self.assertEqual(first["largest_misses"][1]["net_return_pct"], 2.5)
        self.assertEqual(first["largest_misses"][1]["score_bps"], -100)
        self.assertAlmostEqual(second["spearman"], 3.5 / math.sqrt(5 * 4.5), places=6)
        self.assertEqual(second["largest_misses"], [])
        pooled = report["all"]
        self.assertAlmostEqual(pooled["hit_rate"], 4 / 6, places=6)
        self.assertAlmostEqual(pooled["spearman"], 30.5 / math.sqrt(60 * 59.5), places=6)

    def test_the_points_csv(self):
        out = self.path("points.csv")
        r = self.backtest("--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(" -> " + out, r.stderr)
        with open(out, newline="") as f:
            text = f.read()
        reader = csv.DictReader(io.StringIO(text))
        self.assertEqual(reader.fieldnames, POINT_COLUMNS)
        points = {(p["date"], p["ticker"]): p for p in reader}
        self.assertEqual(len(points), 9)
        self.assertNotIn(("2025-03-04", "ZZZ"), points)
        aaa = points[("2025-03-04", "AAA")]
        self.assertEqual((aaa["index"], aaa["return_pct"], aaa["index_return_pct"],
                          aaa["net_return_pct"], aaa["score_bps"], aaa["event_ids"]),
                         ("^GSPC", "-5.00", "-1.00", "-4.00", "-200.000", "t-us-cn-20"))
        self.assertTrue(aaa["explanation"].startswith("AAA -200.0 bps of revenue"))
        eee = points[("2025-03-04", "EEE")]
        self.assertEqual((eee["score_bps"], eee["event_ids"], eee["explanation"]),
                         ("0.000", "", ""))
        # Netted to the inputs' decimals: 2.5 - 0.5 is "2.0", 0.5 - 0.5 is "0.0".
        self.assertEqual(points[("2025-03-06", "BBB")]["net_return_pct"], "2.0")
        self.assertEqual(points[("2025-03-06", "DDD")]["net_return_pct"], "0.0")
        self.assertEqual(points[("2025-03-06", "CCC")]["score_bps"], "50.000")
        # The same input gives the same bytes.
        again = self.path("again.csv")
        self.assertEqual(self.backtest("--out", again).returncode, 0)
        with open(again, newline="") as f:
            self.assertEqual(f.read(), text)

    def test_the_threshold_decides_which_names_are_judged(self):
        r = self.backtest("--threshold-pct", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.table(r.stdout)
        # CCC's -1.0 now counts (a wrong sign); DDD's 0.0 still does not.
        self.assertEqual(rows["2025-03-06"], ["1", "4", "3", "2", "1", "0", "66.7%", "0.74"])
        r = self.backtest("--threshold-pct", "5")
        self.assertEqual(self.table(r.stdout)["2025-03-04"],
                         ["1", "5", "0", "0", "0", "0", "n/a", "0.30"])
        r = self.backtest("--threshold-pct", "-1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--threshold-pct", r.stderr)

    def test_an_unknown_event_id_in_days_names_the_line(self):
        days = self.write("days-unknown.csv", self.days + "2025-03-06,t-us-cn-pause,renamed\n")
        out = self.path("unwritten.csv")
        r = self.backtest("--out", out, days=days)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "%s:4: event_id: 't-us-cn-pause' is not an event of %s\n"
                         % (days, os.path.join(TESTDATA, "timeline.jsonl")))
        self.assertEqual(r.stdout, "")
        self.assertFalse(os.path.exists(out))

    def test_other_bad_days(self):
        cases = [
            ("2025-03-04,t-us-cn-10,twice\n",
             ":4: event_id: 't-us-cn-10' is already on 2025-03-06 (line 3)"),
            ("2025-3-7,t-x,\n", ":4: date: '2025-3-7' is not a YYYY-MM-DD date"),
        ]
        for extra, error in cases:
            days = self.write("days-bad.csv", self.days + extra)
            r = self.backtest(days=days)
            self.assertEqual(r.returncode, 2, extra)
            self.assertIn(days + error, r.stderr)
        early = self.write("days-early.csv", self.days.replace("2025-03-06,t-us-cn-10",
                                                               "2025-03-04,t-us-cn-10"))
        r = self.backtest(days=early)
        self.assertEqual(r.returncode, 2)
        self.assertIn(early + ":3: date: 2025-03-04 is before event 't-us-cn-10' was "
                      "announced (2025-03-05T00:00:00Z)", r.stderr)

    def test_a_missing_index_row_names_the_company_row(self):
        lines = self.returns.splitlines(keepends=True)
        self.assertTrue(lines[8].startswith("2025-03-06,^GSPC,"))
        returns = self.write("returns-no-index.csv", "".join(lines[:8] + lines[9:]))
        r = self.backtest(returns=returns)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, returns + ":9: index: no ^GSPC row on 2025-03-06 to net "
                         "AAA against\n")
        self.assertEqual(r.stdout, "")

    def test_other_bad_returns(self):
        cases = [
            ("2025-03-04,AAA,-5.00,close_to_close,^GSPC",
             "2025-03-04,AAA,-5.00,intraday,^GSPC",
             ":3: basis: 'intraday' is not a closing move (close_to_close, "
             "close_to_close_local, close_to_close_qualitative_flat)"),
            ("2025-03-04,AAA,-5.00,", "2025-03-04,AAA,-5%,", ":3: return_pct: '-5%' is not a "
             "number like -4.84"),
            ("2025-03-04,AAA,-5.00,", "2025-03-04,AAA,1e3,", ":3: return_pct: '1e3' is not a "
             "number like -4.84"),
            ("2025-03-04,BBB,", "2025-03-04,AAA,", ":4: ticker: AAA already has a return on "
             "2025-03-04 (line 3)"),
            ("2025-03-04,CCC,1.50,close_to_close,^GSPC", "2025-03-04,CCC,1.50,close_to_close,AAA",
             ":5: index: AAA on 2025-03-04 is a company row (line 3), not an index"),
        ]
        for old, new, error in cases:
            self.assertIn(old, self.returns)
            returns = self.write("returns-bad.csv", self.returns.replace(old, new, 1))
            r = self.backtest(returns=returns)
            self.assertEqual(r.returncode, 2, new)
            self.assertIn(returns + error, r.stderr)
        r = self.backtest(returns=self.path("none.csv"))
        self.assertEqual(r.returncode, 2)
        self.assertIn(self.path("none.csv") + ": cannot open", r.stderr)
        noheader = self.write("returns-columns.csv", "date,ticker,return_pct\n")
        r = self.backtest(returns=noheader)
        self.assertEqual(r.returncode, 2)
        self.assertIn(noheader, r.stderr)
        self.assertIn("basis", r.stderr)

    def test_until_is_accepted_and_reported(self):
        r = self.backtest("--until", "2025-12-31")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("clock carried to 2025-12-31T00:00:00Z", r.stderr)
        r = self.backtest("--until", "soon")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--until", r.stderr)

    def test_the_chart_script_draws_one_png_per_day(self):
        # scripts/install-deps.sh installs Debian's python3-matplotlib for
        # this test.
        import matplotlib  # noqa: F401
        out = self.path("points-for-chart.csv")
        self.assertEqual(self.backtest("--out", out).returncode, 0)
        charts = self.path("charts")
        r = subprocess.run([sys.executable, PLOT, out, charts], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        names = sorted(os.listdir(charts))
        self.assertEqual(names, ["backtest-2025-03-04.png", "backtest-2025-03-06.png"])
        self.assertEqual(r.stdout.split(), [os.path.join(charts, n) for n in names])
        for name in names:
            with open(os.path.join(charts, name), "rb") as f:
                head = f.read(24)
            self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
            width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
            self.assertGreater(width, 400)
            self.assertGreater(height, 300)
        # The script's titles carry the command's figures.
        sys.path.insert(0, os.path.dirname(PLOT))
        sys.dont_write_bytecode = True  # no __pycache__ in the source tree
        import plot_backtest
        days = plot_backtest.load(out)
        self.assertEqual(plot_backtest.title("2025-03-04", days["2025-03-04"], 1.0),
                         "2025-03-04: n 5, hit rate 50.0% (2 of 4), Spearman 0.30")
        self.assertEqual(plot_backtest.title("2025-03-06", days["2025-03-06"], 1.0),
                         "2025-03-06: n 4, hit rate 100.0% (2 of 2), Spearman 0.74")

    def test_the_shipped_sample_runs_clean(self):
        # Every event id of data/backtest/days.csv is in the shipped timeline
        # and every company row has its index row.
        r = subprocess.run(
            [CLI_BIN, "backtest", "--timeline", os.path.join(DATA, "scenarios", "july-2025.jsonl"),
             "--exposure-dir", os.path.join(DATA, "exposure"),
             "--returns", os.path.join(DATA, "backtest", "returns.csv"),
             "--days", os.path.join(DATA, "backtest", "days.csv")],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"backtest: \d+ events, 6 days, 45 points")
        self.assertIn("all ", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
