"""The console's shared state end to end: two real tariff-alertd replicas on
one real redis-server, tokens with roles, Debian's Python grpcio as the
client. Acknowledgements and silences made on one replica are seen on the
other within a second, streamed as audit records with a sequence of their
own; a silence hides alerts from streams that respect silences, never from
the log; a pause puts an inhibition in force; roles are enforced.

Usage: console_state_e2e_test.py SERVER_BIN CLI_BIN PROTO_DIR REPO_ROOT
"""

import os
import queue
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

STUBS = tempfile.TemporaryDirectory(prefix="console-stubs-")
harness.generate_stubs(PROTO_DIR, STUBS.name)
from google.protobuf import timestamp_pb2  # noqa: E402
from tariffalert.v1 import alert_service_pb2 as alert_pb2  # noqa: E402
from tariffalert.v1 import alert_service_pb2_grpc as alert_grpc  # noqa: E402
from tariffalert.v1 import console_service_pb2 as con  # noqa: E402
from tariffalert.v1 import console_service_pb2_grpc as con_grpc  # noqa: E402


def bounded(predicate, timeout=5.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


class ConsoleStateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = harness.Harness(SERVER_BIN, CLI_BIN)
        cls.b = harness.Harness(SERVER_BIN, CLI_BIN)
        cls.b.prefix = cls.a.prefix  # replicas of one deployment
        tokens = cls.a.path("tokens.txt")
        cls.tokens = {}
        for name, roles in (("ana", "analyst"), ("sub", "subscriber"),
                            ("pub", "publisher")):
            r = cls.a.cli("token", "new", "--name", name, "--roles", roles,
                          "--line-file", tokens)
            assert r.returncode == 0, r.stderr
            cls.tokens[name] = r.stdout.strip()
            cls.a.write(name + ".token", cls.tokens[name] + "\n")
        loaded = cls.a.load(cls.a.write("companies.csv", harness.COMPANIES),
                            cls.a.write("exposures.csv", harness.EXPOSURES))
        assert loaded.returncode == 0, loaded.stderr
        security = ["--insecure", "--tokens-file", tokens]
        cls.a.start_server("--heartbeat-seconds", "0.5", security=security)
        cls.b.start_server("--heartbeat-seconds", "0.5", security=security)
        cls.channels = [grpc.insecure_channel(h.address) for h in (cls.a, cls.b)]
        cls.console = [con_grpc.ConsoleServiceStub(c) for c in cls.channels]
        cls.alerts = [alert_grpc.AlertServiceStub(c) for c in cls.channels]
        cls.events = 0

    @classmethod
    def tearDownClass(cls):
        for c in cls.channels:
            c.close()
        for h in (cls.a, cls.b):
            h.stop_server()
        for h in (cls.a, cls.b):
            h.close()

    def md(self, name):
        return (("authorization", "Bearer " + self.tokens[name]),)

    def publish(self, *args):
        type(self).events += 1
        event_id = "console-e%d" % self.events
        r = self.a.cli("publish", "--server", self.a.address, "--insecure",
                       "--token-file", self.a.path("pub.token"),
                       "--event-id", event_id, *args)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        return event_id

    def list_alerts(self, event_id):
        reply = self.alerts[0].ListAlerts(alert_pb2.ListAlertsRequest(page_size=1000),
                                          metadata=self.md("sub"), timeout=10)
        return [a for a in reply.alerts if a.event_id == event_id]

    def state(self, replica, name="sub"):
        return self.console[replica].GetConsoleState(con.GetConsoleStateRequest(),
                                                     metadata=self.md(name), timeout=10)

    def test_session_names_token_and_roles(self):
        s = self.console[0].GetSession(con.GetSessionRequest(), metadata=self.md("ana"),
                                       timeout=10)
        self.assertEqual(s.token_name, "ana")
        self.assertEqual(list(s.roles), ["analyst"])
        self.assertTrue(s.can_change_state)
        s = self.console[1].GetSession(con.GetSessionRequest(), metadata=self.md("pub"),
                                       timeout=10)
        self.assertEqual(s.token_name, "pub")
        self.assertFalse(s.can_change_state)
        with self.assertRaises(grpc.RpcError) as e:
            self.console[0].GetSession(con.GetSessionRequest(),
                                       metadata=(("authorization", "Bearer nope"),),
                                       timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_roles_read_and_change(self):
        with self.assertRaises(grpc.RpcError) as e:
            self.console[0].AcknowledgeEvent(con.AcknowledgeEventRequest(event_id="x"),
                                             metadata=self.md("sub"), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("analyst", e.exception.details())
        # An analyst reads what a subscriber reads.
        self.state(0, "ana")
        with self.assertRaises(grpc.RpcError) as e:
            self.state(0, "pub")
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

    def test_ack_on_one_replica_is_seen_and_streamed_on_the_other(self):
        event_id = self.publish("--imposing", "US", "--targets", "CN", "--rate", "40")
        alerts = bounded(lambda: self.list_alerts(event_id))
        self.assertTrue(alerts)
        target = alerts[0].alert_id
        records = queue.Queue()
        call = self.console[1].WatchConsoleState(con.WatchConsoleStateRequest(),
                                                 metadata=self.md("sub"), timeout=30)

        def read():
            try:
                for m in call:
                    records.put(m)
            except grpc.RpcError:
                pass
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        first = records.get(timeout=10)
        self.assertTrue(first.HasField("snapshot"))
        start_seq = first.snapshot.audit_sequence

        made = self.console[0].AcknowledgeAlert(
            con.AcknowledgeAlertRequest(alert_id=target, comment="seen, desk told"),
            metadata=self.md("ana"), timeout=10)
        self.assertEqual(made.action, con.AUDIT_ACTION_ACKNOWLEDGED)
        self.assertGreater(made.sequence, start_seq)
        self.assertEqual(made.actor, "ana")
        t0 = time.monotonic()
        got = None
        while time.monotonic() - t0 < 5:
            m = records.get(timeout=5)
            if m.HasField("record") and m.record.sequence == made.sequence:
                got = m.record
                break
        elapsed = time.monotonic() - t0
        self.assertIsNotNone(got, "the other replica did not stream the record")
        self.assertLess(elapsed, 1.5)
        self.assertEqual(got.acknowledgement.alert_id, target)
        self.assertEqual(got.acknowledgement.comment, "seen, desk told")
        acks = {a.alert_id: a for a in self.state(1).acknowledgements}
        self.assertIn(target, acks)
        self.assertEqual(acks[target].actor, "ana")
        call.cancel()
        reader.join(timeout=5)

        # Resume after a sequence: exactly the records after it.
        resumed = self.console[0].WatchConsoleState(
            con.WatchConsoleStateRequest(resume_after_sequence=made.sequence - 1),
            metadata=self.md("sub"), timeout=10)
        seen = []
        for m in resumed:
            if m.HasField("record"):
                seen.append(m.record.sequence)
            if seen and seen[-1] >= made.sequence:
                break
        resumed.cancel()
        self.assertEqual(seen[0], made.sequence)

        # Take it back; deleting again is NOT_FOUND.
        self.console[1].DeleteAcknowledgement(
            con.DeleteAcknowledgementRequest(alert_id=target), metadata=self.md("ana"),
            timeout=10)
        # The other replica has it within its next read of the audit stream.
        self.assertTrue(bounded(lambda: target not in {
            a.alert_id for a in self.state(0).acknowledgements}, timeout=3))
        with self.assertRaises(grpc.RpcError) as e:
            self.console[1].DeleteAcknowledgement(
                con.DeleteAcknowledgementRequest(alert_id=target),
                metadata=self.md("ana"), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_bad_silences_name_the_field(self):
        end = timestamp_pb2.Timestamp()
        end.FromSeconds(int(time.time()) + 3600)
        cases = [
            (con.Silence(end_time=end, comment="x"), "silence.matchers"),
            (con.Silence(matchers=[con.Matcher(field=con.MATCHER_FIELD_COUNTRY, value="ZZZ")],
                         end_time=end, comment="x"), "silence.matchers[0].value"),
            (con.Silence(matchers=[con.Matcher(field=con.MATCHER_FIELD_TICKER, value="AAPL")],
                         comment="x"), "silence.end_time"),
            (con.Silence(matchers=[con.Matcher(field=con.MATCHER_FIELD_TICKER, value="AAPL")],
                         end_time=end), "silence.comment"),
        ]
        # Both replicas caught up with the earlier tests' changes first.
        self.assertTrue(bounded(
            lambda: self.state(0).audit_sequence == self.state(1).audit_sequence))
        before = self.state(0).audit_sequence
        for silence, field in cases:
            with self.assertRaises(grpc.RpcError) as e:
                self.console[0].CreateSilence(con.CreateSilenceRequest(silence=silence),
                                              metadata=self.md("ana"), timeout=10)
            self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertTrue(e.exception.details().startswith(field), e.exception.details())
        # Nothing half-stored: no audit record for a refused change.
        self.assertEqual(self.state(0).audit_sequence, before)

    def test_silence_hides_from_respecting_streams_only_until_it_ends(self):
        def stream(respect):
            out = queue.Queue()
            f = alert_pb2.AlertFilter(tickers=["BBY"], respect_silences=respect)
            call = self.alerts[1].SubscribeAlerts(
                alert_pb2.SubscribeAlertsRequest(filter=f), metadata=self.md("sub"),
                timeout=60)

            def read():
                try:
                    for m in call:
                        for a in m.alerts:
                            out.put(a.event_id)
                        if m.HasField("heartbeat"):
                            out.put(None)
                except grpc.RpcError:
                    pass
            threading.Thread(target=read, daemon=True).start()
            self.assertIsNone(out.get(timeout=10))  # the first heartbeat
            return call, out

        def events_until(out, event, timeout=10):
            """The events streamed to `out` up to and including `event` (the
            stream is in sequence order: anything published before `event`
            was streamed before it); fails after `timeout` seconds."""
            got = []
            deadline = time.monotonic() + timeout
            while event not in got:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.fail("%s not streamed within %d s; got %s" % (event, timeout, got))
                try:
                    e = out.get(timeout=min(left, 0.2))
                except queue.Empty:
                    continue
                if e and e not in got:
                    got.append(e)
            return got

        def file_has(path, text, timeout=10):
            deadline = time.monotonic() + timeout
            while True:
                with open(path) as f:
                    content = f.read()
                if text in content or time.monotonic() > deadline:
                    return content
                time.sleep(0.05)

        end = timestamp_pb2.Timestamp()
        end.FromSeconds(int(time.time()) + 3600)
        made = self.console[0].CreateSilence(con.CreateSilenceRequest(silence=con.Silence(
            matchers=[con.Matcher(field=con.MATCHER_FIELD_TICKER, value="bby")],
            end_time=end, comment="handled: BBY desk informed")),
            metadata=self.md("ana"), timeout=10)
        silence_id = made.silence.id
        self.assertTrue(silence_id.startswith("s-"))
        self.assertEqual(made.silence.matchers[0].value, "BBY")
        self.assertEqual(made.silence.created_by, "ana")
        bounded(lambda: any(s.id == silence_id for s in self.state(1).silences))

        respecting, r_out = stream(True)
        plain, p_out = stream(False)
        # The CLI's watch asks for the same.
        watch_out, watch_err = self.a.path("silence-watch.out"), self.a.path("silence-watch.err")
        with open(watch_out, "w") as out, open(watch_err, "w") as err:
            watch = subprocess.Popen(
                [CLI_BIN, "watch", "--server", self.b.address, "--insecure",
                 "--token-file", self.a.path("sub.token"), "--tickers", "BBY",
                 "--respect-silences", "--json", "--duration-seconds", "30"],
                stdout=out, stderr=err)
        self.addCleanup(lambda: watch.poll() is None and (watch.kill(), watch.wait()))
        # Live: its first heartbeat came, it is subscribed.
        self.assertIn("# live", file_has(watch_err, "# live"))
        silenced_event = self.publish("--imposing", "US", "--targets", "CN", "--rate", "55")
        self.assertIn(silenced_event, events_until(p_out, silenced_event))
        # Never hidden from the log.
        self.assertTrue(any(a.subject == "BBY" for a in self.list_alerts(silenced_event)))

        expired = self.console[1].ExpireSilence(
            con.ExpireSilenceRequest(silence_id=silence_id), metadata=self.md("ana"),
            timeout=10)
        self.assertEqual(expired.action, con.AUDIT_ACTION_SILENCE_EXPIRED)
        self.assertEqual(expired.silence.expired_by, "ana")
        bounded(lambda: all(s.end_time.ToSeconds() <= time.time() + 1
                            for s in self.state(1).silences if s.id == silence_id))
        with self.assertRaises(grpc.RpcError) as e:
            self.console[0].ExpireSilence(con.ExpireSilenceRequest(silence_id=silence_id),
                                          metadata=self.md("ana"), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        after_event = self.publish("--imposing", "US", "--targets", "CN", "--rate", "60")
        # Once the silence is gone its BBY alerts come: those of the silenced
        # event, published before, would have come ahead of them.
        self.assertNotIn(silenced_event, events_until(r_out, after_event))
        watched = file_has(watch_out, after_event)
        self.assertIn(after_event, watched)
        watch.terminate()
        watch.wait(timeout=10)
        self.assertNotIn(silenced_event, watched)
        respecting.cancel()
        plain.cancel()

    def test_pause_puts_an_inhibition_in_force_on_every_replica(self):
        self.publish("--imposing", "US", "--targets", "MX", "--rate", "25",
                     "--measure-id", "us-mx-test")
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
        self.publish("--imposing", "US", "--targets", "MX", "--rate", "10",
                     "--measure-id", "us-mx-test", "--stage", "paused",
                     "--expires-time", expires)
        for replica in (0, 1):
            found = bounded(lambda: [i for i in self.state(replica).inhibitions
                                     if i.measure_id == "us-mx-test"], timeout=5)
            self.assertTrue(found, "replica %d shows no inhibition" % replica)
            self.assertEqual(found[0].rule, "threat-during-pause")
            self.assertIn("paused", found[0].reason)
            self.assertEqual(list(found[0].target_stages), [1])  # THREATENED

    def test_watch_streams_per_token_are_limited(self):
        def watch():
            call = self.console[0].WatchConsoleState(con.WatchConsoleStateRequest(),
                                                     metadata=self.md("sub"), timeout=30)
            first = next(call)  # admitted: the snapshot
            self.assertTrue(first.HasField("snapshot"))
            return call
        calls = [watch() for _ in range(16)]
        try:
            refused = self.console[0].WatchConsoleState(con.WatchConsoleStateRequest(),
                                                        metadata=self.md("sub"), timeout=10)
            with self.assertRaises(grpc.RpcError) as e:
                next(refused)
            self.assertEqual(e.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
            self.assertIn("16", e.exception.details())
            self.assertNotIn(self.tokens["sub"], e.exception.details())
            # Another token is not held back, and a closed stream frees its place.
            other = self.console[0].WatchConsoleState(con.WatchConsoleStateRequest(),
                                                      metadata=self.md("ana"), timeout=10)
            self.assertTrue(next(other).HasField("snapshot"))
            other.cancel()
            calls.pop().cancel()
            again = bounded(lambda: self._try_watch(), timeout=5)
            self.assertIsNotNone(again)
            again.cancel()
        finally:
            for c in calls:
                c.cancel()

    def _try_watch(self):
        call = self.console[0].WatchConsoleState(con.WatchConsoleStateRequest(),
                                                 metadata=self.md("sub"), timeout=10)
        try:
            next(call)
            return call
        except grpc.RpcError:
            return None

    def test_server_status_lists_both_replicas(self):
        status = bounded(lambda: (lambda s: s if len(s.replicas) >= 2 else None)(
            self.console[0].GetServerStatus(con.GetServerStatusRequest(),
                                            metadata=self.md("sub"), timeout=10)))
        self.assertIsNotNone(status)
        self.assertTrue(status.redis_reachable)
        ports = {r.replica_id.rsplit(":", 1)[1] for r in status.replicas if r.answering}
        self.assertEqual(ports, {str(self.a.port), str(self.b.port)})
        self.assertEqual(sum(r.this_replica for r in status.replicas), 1)
        for r in status.replicas:
            self.assertTrue(r.exposure_version)


if __name__ == "__main__":
    unittest.main()
