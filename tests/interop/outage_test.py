"""Redis outages, end to end: a private redis-server (append-only, fsync on
every write, so a SIGKILL loses no acknowledged write) under the real
tariff-alertd, a stream and publishes from Debian's grpcio.

Redis stopped (SIGSTOP) and killed (SIGKILL, then restarted on its files):
publish answers UNAVAILABLE and nothing is half-stored, health turns
NOT_SERVING for the publish and book services while the stream stays open,
and once Redis is back the server recovers by itself; retrying with the same
event_id then gives one set of alerts. Every acknowledged event's alerts
reach the stream, dense, no duplicates. Recovery times are printed (they go
into docs/delivery.md), not asserted beyond a generous bound.

Usage: outage_test.py SERVER_BIN CLI_BIN PROTO_DIR
"""

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

import grpc

import harness

SERVER_BIN, CLI_BIN, PROTO_DIR = sys.argv[1:4]
del sys.argv[1:4]

# Generous bounds on waits; the measured figures are printed.
RECOVERY_BOUND = 15.0
EVENT = "tariffalert.v1.TariffEventService"
STREAM = "tariffalert.v1.AlertService"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self, directory):
        self.dir = directory
        self.port = free_port()
        self.proc = None

    def start(self):
        # The test Redis's users and passwords (tests/run.sh), from a file.
        auth = os.environ.get("TA_TEST_REDIS_AUTH_CONF")
        self.proc = subprocess.Popen(
            ["redis-server"] + ([auth] if auth else []) +
            ["--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", self.dir, "--appendonly", "yes", "--appendfsync", "always",
             "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    # Up: it answers (NOAUTH when it needs a password).
                    if s.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=10)


class OutageTest(unittest.TestCase):
    def setUp(self):
        self.h = harness.Harness(SERVER_BIN, CLI_BIN)
        harness.generate_stubs(PROTO_DIR, self.h.path(""))
        global pb, events_pb, events_grpc, alerts_pb, alerts_grpc
        from tariffalert.v1 import tariff_event_pb2 as pb
        from tariffalert.v1 import tariff_event_service_pb2 as events_pb
        from tariffalert.v1 import tariff_event_service_pb2_grpc as events_grpc
        from tariffalert.v1 import alert_service_pb2 as alerts_pb
        from tariffalert.v1 import alert_service_pb2_grpc as alerts_grpc
        self.redis = PrivateRedis(self.h.tmp.name)
        self.redis.start()
        self.h.redis = "127.0.0.1:%d" % self.redis.port
        loaded = self.h.load(self.h.write("companies.csv", harness.COMPANIES),
                             self.h.write("exposures.csv", harness.EXPOSURES))
        self.assertEqual(loaded.returncode, 0, loaded.stderr)
        self.h.start_server("--heartbeat-seconds", "0.2")
        self.channel = grpc.insecure_channel(self.h.address)
        self.publish_stub = events_grpc.TariffEventServiceStub(self.channel)
        self.messages = queue.Queue()
        stub = alerts_grpc.AlertServiceStub(self.channel)
        self.call = stub.SubscribeAlerts(alerts_pb.SubscribeAlertsRequest(), timeout=120)
        threading.Thread(target=self.read, daemon=True).start()
        first = self.messages.get(timeout=10)  # the first heartbeat: live
        self.assertTrue(first.HasField("heartbeat"), first)

    def tearDown(self):
        self.call.cancel()
        self.channel.close()
        self.h.close()
        self.redis.close()

    def read(self):
        try:
            for response in self.call:
                self.messages.put(response)
        except grpc.RpcError as e:
            self.messages.put(e)

    def publish(self, event_id, target, rate):
        event = pb.TariffEvent(event_id=event_id, imposing_country="US",
                               target_countries=[target], measure_id="m-" + target,
                               new_rate_pct=rate, stage=pb.STAGE_EFFECTIVE)
        return self.publish_stub.PublishEvent(
            events_pb.PublishEventRequest(event=event), timeout=15)

    def publish_until_ok(self, *args):
        """Retries with the same event_id until it goes through; returns
        (response, seconds)."""
        start = time.monotonic()
        while True:
            try:
                return self.publish(*args), time.monotonic() - start
            except grpc.RpcError as e:
                self.assertEqual(e.code(), grpc.StatusCode.UNAVAILABLE, e.details())
                self.assertLess(time.monotonic() - start, RECOVERY_BOUND, "no recovery")
                time.sleep(0.05)

    def wait_health(self, service, status):
        """Waits for `status`; returns the monotonic time it was seen."""
        deadline = time.monotonic() + RECOVERY_BOUND
        while time.monotonic() < deadline:
            if harness.health_status(self.channel, service) == status:
                return time.monotonic()
            time.sleep(0.05)
        self.fail("%s never became %d" % (service, status))

    def drain(self, until_sequence, bound=RECOVERY_BOUND):
        """Everything the stream sent until `until_sequence` arrives:
        (alerts, heartbeats)."""
        alerts, heartbeats = [], 0
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            try:
                m = self.messages.get(timeout=0.2)
            except queue.Empty:
                if alerts and alerts[-1].sequence >= until_sequence:
                    return alerts, heartbeats
                continue
            if isinstance(m, Exception):
                self.fail("the stream ended: %s" % m)
            alerts.extend(m.alerts)
            if m.HasField("heartbeat"):
                heartbeats += 1
            if until_sequence == 0 and heartbeats >= 3:
                return alerts, heartbeats
        self.fail("the stream did not reach %d" % until_sequence)

    def test_redis_stopped_and_killed(self):
        acked = [self.publish("before", "CN", 30)]
        self.assertEqual(harness.health_status(self.channel, EVENT), 1)

        # SIGSTOP: Redis hangs; every call times out.
        self.redis.signal(signal.SIGSTOP)
        stopped = time.monotonic()
        with self.assertRaises(grpc.RpcError) as refused:
            self.publish("during-stop", "MX", 25)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAVAILABLE)
        not_serving = self.wait_health(EVENT, 2) - stopped
        self.assertEqual(harness.health_status(self.channel, STREAM), 1)
        seen, heartbeats = self.drain(0)  # the stream lives on: heartbeats
        self.assertGreaterEqual(heartbeats, 3)
        time.sleep(max(0.0, 5 - (time.monotonic() - stopped)))
        self.redis.signal(signal.SIGCONT)
        continued = time.monotonic()
        response, stop_recovery = self.publish_until_ok("during-stop", "MX", 25)
        acked.append(response)
        serving_again = self.wait_health(EVENT, 1) - continued

        # SIGKILL, then a restart on the same files.
        self.redis.kill()
        with self.assertRaises(grpc.RpcError) as refused:
            self.publish("during-kill", "CN", 60)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.redis.start()
        response, kill_recovery = self.publish_until_ok("during-kill", "CN", 60)
        acked.append(response)

        last = max(r.last_sequence for r in acked)
        more, _ = self.drain(last)
        alerts = seen + more
        sequences = [a.sequence for a in alerts]
        self.assertEqual(sequences, list(range(sequences[0], last + 1)))
        self.assertEqual(sequences[0], 1)
        for r in acked:
            got = [a for a in alerts if a.event_id == r.event_id]
            self.assertEqual(len(got), r.alert_count, r.event_id)
            self.assertEqual([a.sequence for a in got],
                             list(range(r.first_sequence, r.last_sequence + 1)))
        print("outage figures: NOT_SERVING %.2f s after SIGSTOP; publish ok %.2f s "
              "after SIGCONT, SERVING %.2f s after SIGCONT; publish ok %.2f s after the "
              "restart following SIGKILL; %d alerts, none lost, none twice"
              % (not_serving, stop_recovery, serving_again, kill_recovery, len(alerts)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
