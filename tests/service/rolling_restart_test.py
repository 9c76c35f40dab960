"""A rolling restart under load loses nothing: two real tariff-alertd
replicas on one real redis-server, a publisher (Debian's Python grpcio)
publishing all the while to whichever replica answers, and the project's own
`tariff-alert watch --server A,B` streaming. Each replica in turn gets
SIGTERM, drains within --drain-seconds and is started again on its port.
The watcher must receive every acknowledged sequence exactly once, in
order, having moved between the replicas.

Usage: rolling_restart_test.py SERVER_BIN CLI_BIN PROTO_DIR REPO_ROOT
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import grpc

SERVER_BIN, CLI_BIN, PROTO_DIR, ROOT = sys.argv[1:5]
del sys.argv[1:5]
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
import harness  # noqa: E402

STUBS = tempfile.TemporaryDirectory(prefix="rolling-stubs-")
harness.generate_stubs(PROTO_DIR, STUBS.name)
from tariffalert.v1 import tariff_event_pb2 as pb  # noqa: E402
from tariffalert.v1 import tariff_event_service_pb2 as events_pb  # noqa: E402
from tariffalert.v1 import tariff_event_service_pb2_grpc as events_grpc  # noqa: E402

DRAIN_SECONDS = 2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Publisher(threading.Thread):
    """Publishes an event every 50 ms to the first replica that takes it;
    records what was acknowledged."""

    def __init__(self, addresses):
        super().__init__(daemon=True)
        self.channels = [grpc.insecure_channel(a) for a in addresses]
        self.stubs = [events_grpc.TariffEventServiceStub(c) for c in self.channels]
        self.stop = threading.Event()
        self.acknowledged = {}  # first sequence -> last sequence
        self.refusals = 0
        self.events = 0

    def run(self):
        n = 0
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            n += 1
            event = pb.TariffEvent(event_id="roll-%d" % n, imposing_country="US",
                                   target_countries=["CN"], measure_id="m-roll",
                                   new_rate_pct=10 + n % 40, stage=pb.STAGE_EFFECTIVE)
            done = False
            for attempt in range(40):
                stub = self.stubs[(n + attempt) % len(self.stubs)]
                try:
                    r = stub.PublishEvent(events_pb.PublishEventRequest(event=event),
                                          timeout=5)
                except grpc.RpcError:
                    self.refusals += 1
                    time.sleep(0.05)
                    continue
                if r.alert_count > 0:
                    self.acknowledged[r.first_sequence] = r.last_sequence
                done = True
                break
            if done:
                self.events += 1
            time.sleep(0.05)
        for c in self.channels:
            c.close()


class RollingRestartTest(unittest.TestCase):
    def setUp(self):
        self.a = harness.Harness(SERVER_BIN, CLI_BIN)
        self.b = harness.Harness(SERVER_BIN, CLI_BIN)
        self.b.prefix = self.a.prefix
        loaded = self.a.load(self.a.write("companies.csv", harness.COMPANIES),
                             self.a.write("exposures.csv", harness.EXPOSURES))
        self.assertEqual(loaded.returncode, 0, loaded.stderr)
        self.listen = {}
        for h in (self.a, self.b):
            self.listen[h] = "127.0.0.1:%d" % free_port()
            self.start(h)
        self.watch = None

    def tearDown(self):
        if self.watch is not None and self.watch.poll() is None:
            self.watch.kill()
            self.watch.wait()
        for h in (self.a, self.b):
            h.close()

    def start(self, h):
        h.start_server("--heartbeat-seconds", "0.5", "--drain-seconds", str(DRAIN_SECONDS),
                       listen=self.listen[h])

    def restart(self, h):
        """SIGTERM, wait for the drain, start again on the same port; returns
        the seconds from the signal to the exit."""
        t0 = time.monotonic()
        code = h.stop_server(timeout=DRAIN_SECONDS + 10)
        took = time.monotonic() - t0
        self.assertEqual(code, 0, h.server_log()[-2000:])
        self.start(h)
        return took

    def test_no_gap_no_repeat_while_each_replica_restarts(self):
        addresses = [self.listen[self.a], self.listen[self.b]]
        out = open(self.a.path("watch.out"), "w")
        err = open(self.a.path("watch.err"), "w")
        self.watch = subprocess.Popen(
            [CLI_BIN, "watch", "--server", ",".join(addresses), "--json",
             "--resume-after", "0", "--heartbeat-timeout-seconds", "3",
             "--duration-seconds", "90"],
            stdout=out, stderr=err)
        publisher = Publisher(addresses)
        publisher.start()

        def received():
            """The sequences of the whole lines the watcher wrote so far (the
            last one may be half written while it runs)."""
            seqs = []
            with open(self.a.path("watch.out")) as f:
                for line in f:
                    if not line.endswith("\n"):
                        break
                    line = line.strip()
                    if line.startswith("{"):
                        seqs.append(int(json.loads(line)["sequence"]))
            return seqs

        def watch_log():
            with open(self.a.path("watch.err")) as f:
                return f.read()

        def streaming(reconnects, timeout=30):
            """Until the watcher has reconnected `reconnects` times and
            streams again: it received an alert acknowledged from now on, with
            ten more events published meanwhile (publishing goes on under
            every restart). Fails after `timeout` seconds."""
            events = publisher.events
            acked = set(list(publisher.acknowledged))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                fresh = [first for first in list(publisher.acknowledged) if first not in acked]
                seqs = received()
                if (publisher.events >= events + 10 and fresh and seqs and
                        seqs[-1] >= min(fresh) and
                        "# live" in watch_log() and
                        watch_log().count("reconnect") >= reconnects):
                    return
                time.sleep(0.05)
            self.fail("the watcher not streaming after %d reconnect(s) within %d s "
                      "(%d events published):\n%s" % (reconnects, timeout, publisher.events,
                                                       watch_log()[-3000:]))

        streaming(0)
        drains = [self.restart(self.a)]
        streaming(1)
        drains.append(self.restart(self.b))
        streaming(2)
        publisher.stop.set()
        publisher.join(timeout=30)
        self.assertFalse(publisher.is_alive())
        self.assertGreater(publisher.events, 20)
        self.assertTrue(publisher.acknowledged)
        last = max(publisher.acknowledged.values())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not received() or received()[-1] < last):
            time.sleep(0.2)
        self.watch.send_signal(signal.SIGINT)
        self.watch.wait(timeout=10)
        out.close()
        err.close()
        seqs = received()
        expected = []
        for first, end in sorted(publisher.acknowledged.items()):
            expected.extend(range(first, end + 1))
        self.assertEqual(len(seqs), len(set(seqs)), "a sequence was delivered twice")
        self.assertEqual(seqs, sorted(seqs), "out of order")
        missing = sorted(set(expected) - set(seqs))
        self.assertEqual(missing, [], "acknowledged but never received")
        watch_log = watch_log()
        # It did move: each drain ended its stream (resumed elsewhere).
        self.assertGreaterEqual(watch_log.count("reconnect"), 2, watch_log[-3000:])
        for took in drains:
            self.assertLess(took, DRAIN_SECONDS + 3)
        print("rolling restart: %d events, %d alerts, drains %s s, publishes refused "
              "during restarts %d" % (publisher.events, len(expected),
                                     ["%.2f" % d for d in drains], publisher.refusals))


if __name__ == "__main__":
    unittest.main()
