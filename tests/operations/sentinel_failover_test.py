"""Redis failover under Sentinel, end to end (docs/redis.md, "High
availability with Sentinel"; docs/delivery.md).

Its own Redis, all on free loopback ports in a temp dir, without passwords
(the suite's ACL Redis is separate; Sentinel AUTH is documented): one
primary and two replicas (so that after the primary's loss one replica is
left for --redis-min-replicas 1 to be met), three sentinels (quorum 2,
down-after-milliseconds 1000). Two tariff-alertd replicas find the primary
through the sentinels; the exposure table is loaded through them with the
CLI. A subscriber stream on each replica (Debian's grpcio) records every
alert; a publisher publishes events in a loop, alternating replicas and
retrying each UNAVAILABLE with the same event_id, as a client does. The
primary gets SIGKILL; publishes succeed again once Sentinel has promoted a
replica. Asserted: every acknowledged alert (sequence and event_id) reached
every subscriber exactly once. The time from the SIGKILL until a publish is
acknowledged again is printed (it goes into docs/redis.md), bounded only
generously.

Usage: sentinel_failover_test.py SERVER_BIN CLI_BIN PROTO_DIR
"""

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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402

SERVER_BIN, CLI_BIN, PROTO_DIR = sys.argv[1:4]
del sys.argv[1:4]

MASTER = "ta"
PREFIX = "{ta}:failover:"  # one hash tag: the Cluster-ready key schema
BOUND = 30.0  # generous bound on every wait; the figures are printed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_cli(port, *args, timeout=3):
    r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port)] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return r.stdout


def wait_for(what, predicate, bound=BOUND, step=0.05):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, subprocess.SubprocessError):
            pass
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


class Procs:
    """Every process the test starts; all killed at the end."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.all = []

    def start(self, name, argv, env=None):
        log = open(os.path.join(self.tmp, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        self.all.append(p)
        return p

    def close(self):
        for p in self.all:
            if p.poll() is None:
                p.kill()
        for p in self.all:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


class SentinelFailoverTest(unittest.TestCase):
    def setUp(self):
        self.tmpdir = tempfile.TemporaryDirectory(prefix="tariff-alert-sentinel-")
        self.tmp = self.tmpdir.name
        self.procs = Procs(self.tmp)
        harness.generate_stubs(PROTO_DIR, self.tmp)
        # No Redis credentials from the caller: this Redis has none.
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("TARIFF_ALERT_REDIS")}

    def tearDown(self):
        for c in getattr(self, "calls", []):
            c.cancel()
        self.procs.close()
        self.tmpdir.cleanup()

    def start_redis(self, name, port, *extra):
        d = os.path.join(self.tmp, name)
        os.mkdir(d)
        p = self.procs.start(name, [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
            "--save", "", "--appendonly", "no", "--repl-diskless-sync", "yes",
            "--repl-diskless-sync-delay", "0"] + list(extra))
        wait_for(name, lambda: redis_cli(port, "PING").strip() == "PONG")
        return p

    def start_sentinel(self, name, port, primary_port):
        conf = os.path.join(self.tmp, name + ".conf")
        with open(conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\ndir %s\n"
                    "sentinel monitor %s 127.0.0.1 %d 2\n"
                    "sentinel down-after-milliseconds %s 1000\n"
                    "sentinel failover-timeout %s 4000\n"
                    "sentinel parallel-syncs %s 2\n"
                    % (port, self.tmp, MASTER, primary_port, MASTER, MASTER, MASTER))
        p = self.procs.start(name, ["redis-sentinel", conf])
        wait_for(name, lambda: redis_cli(port, "PING").strip() == "PONG")
        return p

    def sentinel_field(self, port, field):
        out = redis_cli(port, "SENTINEL", "master", MASTER).split("\n")
        for i in range(0, len(out) - 1, 2):
            if out[i] == field:
                return out[i + 1]
        return None

    def master_port(self, sentinel_port):
        out = redis_cli(sentinel_port, "SENTINEL", "get-master-addr-by-name", MASTER).split()
        return int(out[1]) if len(out) == 2 else None

    def start_server(self, name, sentinels):
        port_file = os.path.join(self.tmp, name + ".port")
        p = self.procs.start(name, [
            SERVER_BIN, "--listen", "127.0.0.1:0", "--insecure", "--port-file", port_file,
            "--redis-sentinels", sentinels, "--redis-master", MASTER,
            "--redis-prefix", PREFIX, "--heartbeat-seconds", "0.2",
            "--exposure-poll-ms", "50"], env=self.env)
        wait_for(name + " port", lambda: os.path.exists(port_file) or p.poll() is not None)
        self.assertIsNone(p.poll(), self.log(name))
        with open(port_file) as f:
            return "127.0.0.1:%d" % int(f.read())

    def log(self, name):
        with open(os.path.join(self.tmp, name + ".log")) as f:
            return f.read()

    def test_failover_loses_no_acknowledged_alert(self):
        from tariffalert.v1 import tariff_event_pb2 as pb
        from tariffalert.v1 import tariff_event_service_pb2 as events_pb
        from tariffalert.v1 import tariff_event_service_pb2_grpc as events_grpc
        from tariffalert.v1 import alert_service_pb2 as alerts_pb
        from tariffalert.v1 import alert_service_pb2_grpc as alerts_grpc

        ports = [free_port() for _ in range(3)]
        primary = self.start_redis("redis0", ports[0])
        for i in (1, 2):
            self.start_redis("redis%d" % i, ports[i], "--replicaof", "127.0.0.1",
                             str(ports[0]))
        wait_for("2 replicas online",
                 lambda: redis_cli(ports[0], "INFO", "replication").count("state=online") == 2)
        sentinel_ports = [free_port() for _ in range(3)]
        for i, p in enumerate(sentinel_ports):
            self.start_sentinel("sentinel%d" % i, p, ports[0])
        # Each sentinel knows both replicas and the two other sentinels.
        for p in sentinel_ports:
            wait_for("sentinel %d discovery" % p,
                     lambda p=p: self.sentinel_field(p, "num-slaves") == "2" and
                     self.sentinel_field(p, "num-other-sentinels") == "2")
        sentinels = ",".join("127.0.0.1:%d" % p for p in sentinel_ports)

        companies = os.path.join(self.tmp, "companies.csv")
        exposures = os.path.join(self.tmp, "exposures.csv")
        with open(companies, "w") as f:
            f.write(harness.COMPANIES)
        with open(exposures, "w") as f:
            f.write(harness.EXPOSURES)
        loaded = subprocess.run(
            [CLI_BIN, "load", "--redis-sentinels", sentinels, "--redis-master", MASTER,
             "--redis-prefix", PREFIX, companies, exposures],
            capture_output=True, text=True, timeout=30, env=self.env)
        self.assertEqual(loaded.returncode, 0, loaded.stderr)

        addresses = [self.start_server("tariff-alertd%d" % i, sentinels) for i in (0, 1)]
        channels = [grpc.insecure_channel(a) for a in addresses]
        self.calls = []
        received = [[] for _ in channels]  # (sequence, event_id) per subscriber
        ended = [None for _ in channels]
        live = [threading.Event() for _ in channels]

        def subscribe(i):
            call = alerts_grpc.AlertServiceStub(channels[i]).SubscribeAlerts(
                alerts_pb.SubscribeAlertsRequest(), timeout=BOUND * 4)
            self.calls.append(call)

            def read():
                try:
                    for m in call:
                        live[i].set()
                        received[i].extend((a.sequence, a.event_id) for a in m.alerts)
                except grpc.RpcError as e:
                    ended[i] = e
            threading.Thread(target=read, daemon=True).start()
        for i in range(len(channels)):
            subscribe(i)
        for i in range(len(channels)):
            self.assertTrue(live[i].wait(10), "subscriber %d: no heartbeat" % i)

        stubs = [events_grpc.TariffEventServiceStub(c) for c in channels]
        acked = []  # (event_id, first, last, alert_count, acked_at)
        failures = []  # (time, code)
        stop = threading.Event()

        def publisher():
            n = 0
            while not stop.is_set():
                n += 1
                target = ("CN", "MX")[n % 2]
                event = pb.TariffEvent(
                    event_id="failover-%d" % n, imposing_country="US",
                    target_countries=[target], measure_id="m-" + target,
                    new_rate_pct=10 + (n % 97), stage=pb.STAGE_EFFECTIVE)
                started = time.monotonic()
                attempt = 0
                while True:  # a client: retry with the same event_id
                    stub = stubs[(n + attempt) % 2]
                    attempt += 1
                    try:
                        r = stub.PublishEvent(events_pb.PublishEventRequest(event=event),
                                              timeout=5)
                        acked.append((r.event_id, r.first_sequence, r.last_sequence,
                                      r.alert_count, started, time.monotonic()))
                        break
                    except grpc.RpcError as e:
                        failures.append((time.monotonic(), e.code()))
                        if e.code() != grpc.StatusCode.UNAVAILABLE:
                            raise AssertionError("publish: %s %s" % (e.code(), e.details()))
                        if time.monotonic() - started > BOUND:
                            raise AssertionError("publish never recovered")
                        time.sleep(0.02)
        pub_error = []

        def run_publisher():
            try:
                publisher()
            except AssertionError as e:
                pub_error.append(e)
        thread = threading.Thread(target=run_publisher, daemon=True)
        thread.start()

        wait_for("11 publishes acknowledged before the kill",
                 lambda: len(acked) > 10 or pub_error)
        self.assertFalse(pub_error, pub_error)
        before = len(acked)
        self.assertGreater(before, 10, "publishes before the kill")
        primary.kill()
        killed = time.monotonic()
        primary.wait(timeout=10)
        wait_for("a publish acknowledged after the kill",
                 lambda: any(a[4] > killed for a in acked) or pub_error)
        recovered = min(a[5] for a in acked if a[4] > killed)
        # Publishing goes on after the failover, through both servers (the
        # publisher alternates): each follows the new master.
        wait_for("10 publishes acknowledged after the failover",
                 lambda: len([a for a in acked if a[4] > killed]) >= 10 or pub_error)
        for i in (0, 1):
            wait_for("tariff-alertd%d to follow the new master" % i,
                     lambda i=i: "redis: the sentinels name a new master; following it"
                     in self.log("tariff-alertd%d" % i) or pub_error)
        stop.set()
        thread.join(timeout=BOUND)
        self.assertFalse(pub_error, pub_error)
        new_master = self.master_port(sentinel_ports[0])
        self.assertIn(new_master, ports[1:])
        # The operator reads the failover in each server's log, once per
        # connection, naming the new primary and the old one.
        for i in (0, 1):
            log = self.log("tariff-alertd%d" % i)
            self.assertIn("redis: the sentinels name a new master; following it", log)
            self.assertIn("address=127.0.0.1:%d" % new_master, log)
            self.assertIn("previous=127.0.0.1:%d" % ports[0], log)

        expected = {}
        for event_id, first, last, count, _, _ in acked:
            self.assertEqual(last - first + 1 if count else 0, count, event_id)
            for s in range(first, last + 1) if count else ():
                expected[s] = event_id
        top = max(expected)
        for i in range(len(channels)):
            wait_for("subscriber %d to reach %d" % (i, top),
                     lambda i=i: any(s >= top for s, _ in received[i]) or ended[i])
            self.assertIsNone(ended[i], "subscriber %d: the stream ended" % i)
            got = {}
            for s, e in received[i]:
                got.setdefault(s, []).append(e)
            missing = sorted(s for s in expected if s not in got)
            repeated = sorted(s for s, es in got.items() if len(es) > 1)
            wrong = sorted(s for s in expected if s in got and got[s][0] != expected[s])
            self.assertEqual((missing, repeated, wrong), ([], [], []),
                             "subscriber %d: missing, repeated, other event" % i)
            unacked = len(got) - len([s for s in got if s in expected])
        print("sentinel failover figures: publishes acknowledged again %.2f s after "
              "SIGKILL of the primary; %d events acknowledged (%d before the kill), "
              "%d alerts, every one at both subscribers exactly once; %d failed "
              "attempts retried; %d alerts streamed that no publish acknowledged"
              % (recovered - killed, len(acked), before, len(expected), len(failures),
                 unacked))
        for c in channels:
            c.close()

    def test_too_few_replicas_fails_then_retry_is_deduplicated(self):
        """--redis-min-replicas 1 on a Redis without replicas: the publish
        fails UNAVAILABLE naming the count, yet the alert is in the log and
        streamed; once a replica is attached, the retry with the same
        event_id answers the same sequences and nothing is streamed twice."""
        from tariffalert.v1 import tariff_event_pb2 as pb
        from tariffalert.v1 import tariff_event_service_pb2 as events_pb
        from tariffalert.v1 import tariff_event_service_pb2_grpc as events_grpc
        from tariffalert.v1 import alert_service_pb2 as alerts_pb
        from tariffalert.v1 import alert_service_pb2_grpc as alerts_grpc

        port = free_port()
        self.start_redis("alone", port)
        companies = os.path.join(self.tmp, "companies.csv")
        exposures = os.path.join(self.tmp, "exposures.csv")
        with open(companies, "w") as f:
            f.write(harness.COMPANIES)
        with open(exposures, "w") as f:
            f.write(harness.EXPOSURES)
        loaded = subprocess.run(
            [CLI_BIN, "load", "--redis", "127.0.0.1:%d" % port, "--redis-prefix", PREFIX,
             companies, exposures], capture_output=True, text=True, timeout=30,
            env=self.env)
        self.assertEqual(loaded.returncode, 0, loaded.stderr)
        port_file = os.path.join(self.tmp, "alone.port")
        server = self.procs.start("tariff-alertd", [
            SERVER_BIN, "--listen", "127.0.0.1:0", "--insecure", "--port-file", port_file,
            "--redis", "127.0.0.1:%d" % port, "--redis-prefix", PREFIX,
            "--redis-min-replicas", "1", "--redis-wait-timeout-ms", "200",
            "--heartbeat-seconds", "0.2"], env=self.env)
        wait_for("port", lambda: os.path.exists(port_file) or server.poll() is not None)
        self.assertIsNone(server.poll(), self.log("tariff-alertd"))
        with open(port_file) as f:
            channel = grpc.insecure_channel("127.0.0.1:%d" % int(f.read()))
        received = []
        call = alerts_grpc.AlertServiceStub(channel).SubscribeAlerts(
            alerts_pb.SubscribeAlertsRequest(), timeout=60)
        self.calls = [call]

        def read():
            try:
                for m in call:
                    received.extend((a.sequence, a.event_id) for a in m.alerts)
            except grpc.RpcError:
                pass
        threading.Thread(target=read, daemon=True).start()
        stub = events_grpc.TariffEventServiceStub(channel)
        request = events_pb.PublishEventRequest(event=pb.TariffEvent(
            event_id="unconfirmed", imposing_country="US", target_countries=["CN"],
            measure_id="m-cn", new_rate_pct=40, stage=pb.STAGE_EFFECTIVE))
        with self.assertRaises(grpc.RpcError) as refused:
            stub.PublishEvent(request, timeout=10)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertIn("WAIT confirmed 0 of the 1 replicas", refused.exception.details())
        self.assertIn("same event_id", refused.exception.details())
        # In the primary, not confirmed: the log has it, the stream shows it.
        wait_for("the unconfirmed alerts streamed", lambda: len(received) > 0, bound=10)
        streamed = sorted(received)

        self.start_redis("replica", free_port(), "--replicaof", "127.0.0.1", str(port))
        wait_for("replica online",
                 lambda: "state=online" in redis_cli(port, "INFO", "replication"))
        # "online" is the primary's view once the copy is sent; the replica
        # acknowledges writes only after loading it, which under load can
        # take longer than the server's 200 ms WAIT. Ready once a write of
        # this test's own is confirmed by WAIT on the same connection.
        def acknowledging():
            r = subprocess.run(
                ["redis-cli", "-h", "127.0.0.1", "-p", str(port)],
                input="SET %sprobe 1\nWAIT 1 100\n" % PREFIX,
                capture_output=True, text=True, timeout=3)
            return r.stdout.split()[-1:] == ["1"]
        wait_for("replica acknowledging", acknowledging)
        r = stub.PublishEvent(request, timeout=10)
        self.assertEqual([(s, "unconfirmed") for s in
                          range(r.first_sequence, r.last_sequence + 1)], streamed)
        # A later event's alerts are streamed after anything the retry
        # streamed again.
        after = stub.PublishEvent(events_pb.PublishEventRequest(event=pb.TariffEvent(
            event_id="after-retry", imposing_country="US", target_countries=["CN"],
            measure_id="m-cn", new_rate_pct=41, stage=pb.STAGE_EFFECTIVE)), timeout=10)
        self.assertGreater(after.alert_count, 0)
        wait_for("the later event's alerts streamed",
                 lambda: any(s >= after.last_sequence for s, _ in received), bound=10)
        self.assertEqual(sorted(received), streamed + [
            (s, "after-retry") for s in range(after.first_sequence, after.last_sequence + 1)])
        print("unconfirmed publish: UNAVAILABLE (%s); %d alerts streamed once; the "
              "retry answered sequences %d-%d" % (refused.exception.details(),
                                                  len(streamed), r.first_sequence,
                                                  r.last_sequence))
        channel.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
