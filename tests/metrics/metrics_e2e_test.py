"""tariff-alertd's /metrics scraped by Debian's real Prometheus.

Starts tariff-alertd with --metrics-listen on a free loopback port and
/usr/bin/prometheus (a config written here: one job scraping it every
second, the project's alerting rules loaded, storage in a temporary
directory, its web port on 127.0.0.1, nothing configured that reaches the
network), publishes events with the CLI while `tariff-alert watch` follows,
and reads the counts back through Prometheus' HTTP API (/api/v1/query)
within a bounded wait: published by result, the latency histograms, alerts
produced and written to the stream, the Redis commits, the exposure version,
the book. Also: a non-loopback --metrics-listen is refused without
--metrics-any-address.

Usage: metrics_e2e_test.py SERVER_BIN CLI_BIN ALERTS_YML
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "interop"))
import harness  # noqa: E402

SERVER_BIN, CLI_BIN, ALERTS_YML = sys.argv[1:4]
del sys.argv[1:4]

PROMETHEUS = "/usr/bin/prometheus"
EVENTS = 5
# Every wait below is bounded by this.
WAIT_SECONDS = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read(path):
    with open(path) as f:
        return f.read()


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


class MetricsE2ETest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = harness.Harness(SERVER_BIN, CLI_BIN)
        cls.prometheus = None

    @classmethod
    def tearDownClass(cls):
        harness.stop_process(cls.prometheus, 15)
        cls.h.stop_server()
        cls.h.close()

    def prometheus_log(self):
        try:
            with open(self.h.path("prometheus.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def query(self, promql):
        """The instant vector of `promql` as [(labels, value)]."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.prometheus_port, urllib.parse.urlencode({"query": promql}))
        reply = json.loads(http_get(url))
        self.assertEqual(reply["status"], "success", reply)
        return [(r["metric"], float(r["value"][1])) for r in reply["data"]["result"]]

    def wait_for(self, what, condition):
        deadline = time.monotonic() + WAIT_SECONDS
        last = None
        while time.monotonic() < deadline:
            try:
                last = condition()
                if last:
                    return last
            except (OSError, ValueError) as e:  # not up yet
                last = e
            if self.prometheus.poll() is not None:
                self.fail("prometheus exited: " + self.prometheus_log())
            time.sleep(0.25)
        self.fail("%s: not within %d s (last: %r)\nprometheus log:\n%s\nserver log:\n%s"
                  % (what, WAIT_SECONDS, last, self.prometheus_log(),
                     self.h.server_log()[-4000:]))

    def test_0_prometheus_runs_here(self):
        r = subprocess.run([PROMETHEUS, "--version"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("prometheus, version", r.stdout + r.stderr)

    def test_1_a_non_loopback_metrics_address_needs_the_flag(self):
        r = subprocess.run(
            [SERVER_BIN, "--listen", "127.0.0.1:0", "--insecure",
             "--redis", self.h.redis, "--redis-prefix", self.h.prefix,
             "--metrics-listen", "0.0.0.0:%d" % free_port()],
            capture_output=True, text=True, timeout=30, env=self.h.redis_env())
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--metrics-any-address", r.stderr)

    def test_2_prometheus_scrapes_the_published_events(self):
        companies = self.h.write("companies.csv", harness.COMPANIES)
        exposures = self.h.write("exposures.csv", harness.EXPOSURES)
        r = self.h.load(companies, exposures)
        self.assertEqual(r.returncode, 0, r.stderr)
        metrics_port = free_port()
        self.h.start_server("--metrics-listen", "127.0.0.1:%d" % metrics_port)
        self.assertIn("metrics on http://127.0.0.1:%d/metrics" % metrics_port,
                      self.h.server_log())
        # The endpoint itself, before Prometheus: the text format.
        text = http_get("http://127.0.0.1:%d/metrics" % metrics_port)
        self.assertIn("# TYPE tariffalert_events_published_total counter", text)
        self.assertIn('tariffalert_events_published_total{result="ok",stage="effective"} 0',
                      text)
        self.assertIn("tariffalert_stream_queue_fullest_alerts 0", text)

        self.prometheus_port = free_port()
        config = self.h.write("prometheus.yml", """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: tariff-alertd
    static_configs:
      - targets: ['127.0.0.1:%d']
""" % (os.path.abspath(ALERTS_YML), metrics_port))
        storage = self.h.path("tsdb")
        os.mkdir(storage)
        with open(self.h.path("prometheus.log"), "w") as log:
            type(self).prometheus = subprocess.Popen(
                [PROMETHEUS, "--config.file=" + config,
                 "--storage.tsdb.path=" + storage,
                 "--storage.tsdb.retention.time=1h",
                 "--web.listen-address=127.0.0.1:%d" % self.prometheus_port,
                 "--web.external-url=http://127.0.0.1:%d/" % self.prometheus_port,
                 "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        # Prometheus scrapes tariff-alertd: up == 1.
        self.wait_for("up{job=\"tariff-alertd\"} == 1", lambda: any(
            v == 1 for _, v in self.query('up{job="tariff-alertd"}')))
        # The rules it loaded are the project's, and healthy.
        rules = json.loads(http_get(
            "http://127.0.0.1:%d/api/v1/rules" % self.prometheus_port))
        names = {r["name"]: r["health"] for g in rules["data"]["groups"]
                 for r in g["rules"]}
        self.assertIn("TariffAlertdDown", names)
        self.assertIn("TariffAlertdPublishLatencyHigh", names)

        # A subscriber, live before the events.
        with open(self.h.path("watch.err"), "w") as err:
            watch = subprocess.Popen(
                [CLI_BIN, "watch", "--server", self.h.address, "--json",
                 "--duration-seconds", "60"],
                stdout=subprocess.DEVNULL, stderr=err)
        self.addCleanup(lambda: (watch.poll() is None and watch.kill(), watch.wait()))
        self.wait_for("the watcher live", lambda: "# live" in read(self.h.path("watch.err")))

        # N events: rate changes, the last one a pause (its snap-back pending).
        for i in range(EVENTS):
            pause = ["--stage", "paused", "--expires-time", "2030-01-01T00:00:00Z"] \
                if i == EVENTS - 1 else []
            r = self.h.cli("publish", "--server", self.h.address,
                           "--event-id", "metrics-e2e-%d" % i, "--imposing", "US",
                           "--targets", "CN", "--rate", str(30 + i),
                           "--headline", "metrics e2e %d" % i, *pause)
            self.assertEqual(r.returncode, 0, r.stderr)
        # A repeat and a refusal count apart from the N published.
        r = self.h.cli("publish", "--server", self.h.address, "--event-id",
                       "metrics-e2e-0", "--imposing", "US", "--targets", "CN",
                       "--rate", "30", "--headline", "metrics e2e 0")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.h.cli("publish", "--server", self.h.address, "--event-id",
                       "metrics-e2e-bad", "--imposing", "Mars", "--rate", "10")
        self.assertEqual(r.returncode, 1, r.stdout)

        def published(result, stage=None):
            found = self.query(
                'sum(tariffalert_events_published_total{job="tariff-alertd",result="%s"%s})'
                % (result, ',stage="%s"' % stage if stage else ""))
            return found[0][1] if found else None

        self.wait_for("events_published_total{result=\"ok\"} == %d" % EVENTS,
                      lambda: published("ok") == EVENTS)
        # By stage: the pause apart from the rate changes.
        self.assertEqual(published("ok", "effective"), EVENTS - 1)
        self.assertEqual(published("ok", "paused"), 1)
        self.assertEqual(published("ok", "threatened"), 0)
        self.wait_for("duplicate and invalid counted",
                      lambda: published("duplicate") == 1 and published("invalid") == 1)
        self.assertEqual(published("unavailable"), 0)
        latency = self.wait_for(
            "a publish-latency histogram with a non-zero count",
            lambda: [v for _, v in self.query(
                'tariffalert_publish_duration_seconds_count{job="tariff-alertd"}')
                if v > 0])
        self.assertEqual(latency[0], EVENTS + 2)
        # Buckets are exposed, so the rules' p99 can be computed.
        self.wait_for("histogram_quantile over the buckets", lambda: [
            v for _, v in self.query(
                'histogram_quantile(0.99, sum by (le) '
                '(tariffalert_publish_duration_seconds_bucket{job="tariff-alertd"}))')
            if v > 0])
        self.wait_for("scoring observed", lambda: [
            v for _, v in self.query(
                'tariffalert_scoring_duration_seconds_count{job="tariff-alertd"}')
            if v >= EVENTS])
        produced = self.wait_for("alerts produced", lambda: [
            v for _, v in self.query('tariffalert_alerts_produced_total') if v > 0])[0]
        # The watcher got every one of them, in stream writes.
        self.wait_for("the stream's alerts written", lambda: [
            v for _, v in self.query('tariffalert_stream_alerts_written_total')
            if v == produced])
        self.assertEqual([v for _, v in self.query('tariffalert_streams_active')], [1])
        self.wait_for("a heartbeat written", lambda: [
            v for _, v in self.query('tariffalert_stream_heartbeats_total') if v >= 1])
        self.assertEqual([v for _, v in self.query('tariffalert_slow_consumer_cutoffs_total')],
                         [0])
        # A watcher that keeps up leaves nothing queued (a stopped one is in
        # tests/service/slow_consumer_e2e_test.cc).
        self.wait_for("the queues empty", lambda: [
            v for _, v in self.query('tariffalert_stream_queued_alerts') if v == 0])
        # The publishes' commits went to Redis as EVAL round trips.
        self.wait_for("redis EVAL timed", lambda: [
            v for _, v in self.query(
                'tariffalert_redis_command_duration_seconds_count{command="EVAL"}')
            if v >= EVENTS])
        self.wait_for("the exposure version serving", lambda: [
            m for m, v in self.query('tariffalert_exposure_info') if v == 1])
        self.wait_for("the book's revision", lambda: [
            v for _, v in self.query('tariffalert_book_revision') if v == EVENTS])
        self.assertEqual([v for _, v in self.query('tariffalert_book_pauses_pending')], [1])
        self.assertEqual([v for _, v in self.query('tariffalert_log_tailer_lag_sequences')],
                         [0])

        # The watcher gone, no stream is left.
        watch.kill()
        watch.wait()
        self.wait_for("no stream active", lambda: [
            v for _, v in self.query('tariffalert_streams_active') if v == 0])

        # Stop everything: Prometheus first, then the server.
        self.prometheus.send_signal(signal.SIGTERM)
        self.assertEqual(self.prometheus.wait(timeout=30), 0, self.prometheus_log())
        self.assertEqual(self.h.stop_server(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
