"""Resume end to end with real processes: the Python example
(clients/python/watch_alerts.py) and `tariff-alert watch` against the real
server while events are published. Each must print every alert exactly once,
in sequence order, across heartbeat silences and slow-consumer cut-offs, and
say on stderr that it reconnected.

Usage: watch_resume_test.py SERVER_BIN CLI_BIN PROTO_DIR
"""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "interop"))
import harness  # noqa: E402

SERVER_BIN, CLI_BIN, PROTO_DIR = sys.argv[1:4]
del sys.argv[1:4]
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "clients", "python", "watch_alerts.py")


class WatchResumeTest(unittest.TestCase):
    def setUp(self):
        # A harness each: its own Redis prefix, so its own tariff book.
        self.h = harness.Harness(SERVER_BIN, CLI_BIN)
        self.addCleanup(self.h.close)
        loaded = self.h.load(self.h.write("companies.csv", harness.COMPANIES),
                             self.h.write("exposures.csv", harness.EXPOSURES))
        self.assertEqual(loaded.returncode, 0, loaded.stderr)
        self.n = 0

    def publish(self, count):
        """Publishes `count` events that each move a rate; returns the last
        sequence."""
        lines = []
        for _ in range(count):
            self.n += 1
            lines.append(json.dumps({
                "eventId": "ev-%d" % self.n, "imposingCountry": "US",
                "targetCountries": ["CN" if self.n % 2 else "MX"],
                "newRatePct": 10 + self.n % 900, "stage": "STAGE_EFFECTIVE"}))
        r = self.h.cli("publish", "--server", self.h.address, "--file", "-", "--json",
                       stdin="\n".join(lines) + "\n", timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        last = [json.loads(line) for line in r.stdout.strip().splitlines()][-1]
        return int(last["lastSequence"])

    def start(self, argv, name):
        out = open(self.h.path(name + ".out"), "w")
        err = open(self.h.path(name + ".err"), "w")
        p = subprocess.Popen(argv, stdout=out, stderr=err)
        out.close()
        err.close()

        def stop():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
                p.kill()
            p.wait(timeout=10)
        self.addCleanup(stop)
        return p

    def read(self, name):
        with open(self.h.path(name)) as f:
            return f.read()

    def wait_for(self, name, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.read(name):
                return True
            time.sleep(0.05)
        return False

    def sequences(self, name):
        return [int(json.loads(line)["sequence"])
                for line in self.read(name).splitlines() if line.strip()]

    def example(self, name, *extra):
        return self.start(["/usr/bin/python3", EXAMPLE, "--server", self.h.address,
                           "--proto-dir", PROTO_DIR, "--duration-seconds", "60"]
                          + list(extra), name)

    def cli_watch(self, name, *extra):
        return self.start([CLI_BIN, "watch", "--server", self.h.address, "--json",
                           "--duration-seconds", "60"] + list(extra), name)

    def test_heartbeat_silence_python_example(self):
        # Heartbeats every 30 s, silence after 0.5 s: the example reconnects
        # between the bursts and resumes after what it printed.
        self.h.start_server("--heartbeat-seconds", "30")
        last = self.publish(2)
        watch = self.example("py", "--heartbeat-timeout", "0.5", "--resume-after", "0")
        self.assertTrue(self.wait_for("py.out", '"sequence":"%d"' % last))
        for burst in range(3):
            self.assertTrue(self.wait_for("py.err", "resuming after %d" % last),
                            self.read("py.err"))
            last = self.publish(3)
            self.assertTrue(self.wait_for("py.out", '"sequence":"%d"' % last),
                            "burst %d: %s" % (burst, self.read("py.err")))
        watch.terminate()
        watch.wait(timeout=10)
        self.assertEqual(self.sequences("py.out"), list(range(1, last + 1)))
        err = self.read("py.err")
        self.assertIn("# reconnecting", err)
        self.assertIn("heartbeat silence", err)

    def stall_and_burst(self, name, watch, events):
        """SIGSTOPs the watcher while `events` are published, then lets it go:
        its server queue overflows and the stream is cut off."""
        os.kill(watch.pid, signal.SIGSTOP)
        try:
            last = self.publish(events)
        finally:
            os.kill(watch.pid, signal.SIGCONT)
        self.assertTrue(self.wait_for(name + ".out", '"sequence":"%d"' % last, timeout=40),
                        self.read(name + ".err"))
        return last

    def test_slow_consumer_python_example_and_cli(self):
        self.h.start_server("--heartbeat-seconds", "0.2", "--queue-max-alerts", "24")
        # A fixed 64 KiB window: the burst cannot hide in the transport.
        # Both start from sequence 0, so when they connect does not matter.
        window = ("--receive-window-bytes", "65536", "--resume-after", "0")
        py = self.example("py", *window)
        cli = self.cli_watch("cli", *window)
        last = self.publish(3)
        self.assertTrue(self.wait_for("py.out", '"sequence":"%d"' % last))
        self.assertTrue(self.wait_for("cli.out", '"sequence":"%d"' % last))
        for name, watch in (("py", py), ("cli", cli)):
            last = self.stall_and_burst(name, watch, 200)
            self.assertIn("RESOURCE_EXHAUSTED", self.read(name + ".err"))
            self.assertRegex(self.read(name + ".err"),
                             r"# reconnecting in .* resuming after \d+")
        # Both saw everything, the stalled one and the other.
        last = self.publish(2)
        for name, watch in (("py", py), ("cli", cli)):
            self.assertTrue(self.wait_for(name + ".out", '"sequence":"%d"' % last))
            watch.terminate()
            watch.wait(timeout=10)
            self.assertEqual(self.sequences(name + ".out"), list(range(1, last + 1)),
                             name)

    def test_a_bad_filter_ends_both_with_the_status(self):
        self.h.start_server()
        r = subprocess.run(["/usr/bin/python3", EXAMPLE, "--server", self.h.address,
                            "--proto-dir", PROTO_DIR, "--countries", "Narnia",
                            "--duration-seconds", "20"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("INVALID_ARGUMENT: filter.countries[0]", r.stderr)
        self.assertNotIn("# reconnecting", r.stderr)
        r = self.h.cli("watch", "--server", self.h.address, "--countries", "Narnia",
                       "--duration-seconds", "20")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("filter.countries[0]", r.stderr)
        self.assertNotIn("# reconnecting", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
