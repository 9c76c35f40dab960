"""Security end to end: the real tariff-alertd on TLS and mutual TLS with
bearer tokens, certificates made at test time with openssl, and its real
clients (the CLI and the C++ client library behind `watch`, Debian's Python
grpcio, clients/python/watch_alerts.py). Every wrong credential is refused
with its code; a rotated certificate is served to new connections while an
old stream goes on; revoked tokens stop working; no token ever shows in a log.

Usage: security_e2e_test.py SERVER_BIN CLI_BIN PROTO_DIR REPO_ROOT
"""

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

import grpc

SERVER_BIN, CLI_BIN, PROTO_DIR, ROOT = sys.argv[1:5]
del sys.argv[1:5]
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
import harness  # noqa: E402

DEV_CREDENTIALS = os.path.join(ROOT, "scripts", "dev-credentials.sh")
WATCH_PY = os.path.join(ROOT, "clients", "python", "watch_alerts.py")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def openssl(*args, cwd):
    r = run(["openssl"] + list(args), cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (args[0], r.stderr))


def make_key_and_csr(d, name, subject):
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-out", name + ".key", cwd=d)
    openssl("req", "-new", "-key", name + ".key", "-out", name + ".csr", "-subj", subject,
            cwd=d)


def sign(d, name, ca, days, ext):
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(ext)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", str(days),
            "-extfile", name + ".ext", cwd=d)


def served_serial(port):
    """The serial of the certificate the server presents to a new connection."""
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                        "-servername", "localhost"],
                       input="", capture_output=True, text=True, timeout=20)
    cert = r.stdout[r.stdout.find("-----BEGIN CERTIFICATE-----"):
                    r.stdout.find("-----END CERTIFICATE-----") + 25]
    if not cert.startswith("-----BEGIN"):
        return None
    s = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=cert,
                       capture_output=True, text=True, timeout=20)
    return s.stdout.strip()


def file_serial(path):
    return run(["openssl", "x509", "-noout", "-serial", "-in", path]).stdout.strip()


class SecurityE2eTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = harness.Harness(SERVER_BIN, CLI_BIN)
        harness.generate_stubs(PROTO_DIR, cls.h.path(""))
        global pb, events_pb, events_grpc, alerts_pb, alerts_grpc
        from tariffalert.v1 import tariff_event_pb2 as pb
        from tariffalert.v1 import tariff_event_service_pb2 as events_pb
        from tariffalert.v1 import tariff_event_service_pb2_grpc as events_grpc
        from tariffalert.v1 import alert_service_pb2 as alerts_pb
        from tariffalert.v1 import alert_service_pb2_grpc as alerts_grpc
        cls.outputs = []  # every client output, grepped for tokens at the end
        d = cls.creds = cls.h.path("creds")
        r = run([DEV_CREDENTIALS, d, CLI_BIN])
        assert r.returncode == 0, r.stderr
        cls.outputs += [r.stdout, r.stderr]
        # An expired client certificate of the same CA, another CA and its
        # client, and a second client of ours (CN=ops).
        make_key_and_csr(d, "expired", "/O=tariff-alert dev/CN=old-desk")
        sign(d, "expired", "ca", -1, "extendedKeyUsage=clientAuth\n")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "2",
                "-subj", "/CN=another CA", cwd=d)
        make_key_and_csr(d, "stranger", "/O=tariff-alert dev/CN=desk1")
        sign(d, "stranger", "other-ca", 2, "extendedKeyUsage=clientAuth\n")
        make_key_and_csr(d, "ops", "/O=tariff-alert dev/CN=ops")
        sign(d, "ops", "ca", 2, "extendedKeyUsage=clientAuth\n")
        cls.tokens = {}
        for role in ("publisher", "subscriber", "admin"):
            with open(os.path.join(d, role + ".token")) as f:
                cls.tokens[role] = f.read().strip()
        # A token bound to desk1's certificate, and one to revoke later.
        for name, extra in (("bound", ["--cert-subject", "CN=desk1,O=tariff-alert dev"]),
                            ("revokee", [])):
            r = run([CLI_BIN, "token", "new", "--name", name, "--roles", "subscriber",
                     "--line-file", os.path.join(d, "tokens.txt")] + extra)
            assert r.returncode == 0, r.stderr
            cls.tokens[name] = r.stdout.strip()
        loaded = cls.h.load(cls.h.write("companies.csv", harness.COMPANIES),
                            cls.h.write("exposures.csv", harness.EXPOSURES))
        assert loaded.returncode == 0, loaded.stderr
        # Certificates the server reads, so a test can rotate them.
        for f in ("server.pem", "server.key"):
            shutil.copy(os.path.join(d, f), cls.h.path("live-" + f))
        cls.h.start_server(
            "--heartbeat-seconds", "0.2", "--tls-reload-seconds", "1",
            security=["--tls-cert", cls.h.path("live-server.pem"),
                      "--tls-key", cls.h.path("live-server.key"),
                      "--tls-client-ca", os.path.join(d, "ca.pem"),
                      "--tokens-file", os.path.join(d, "tokens.txt")])
        cls.event_number = 0

    @classmethod
    def tearDownClass(cls):
        cls.h.close()

    # -- helpers --------------------------------------------------------------

    def cred(self, name):
        return os.path.join(self.creds, name)

    def tls(self, client="client"):
        """Python TLS credentials with `client`'s certificate (None: none)."""
        with open(self.cred("ca.pem"), "rb") as f:
            ca = f.read()
        if client is None:
            return grpc.ssl_channel_credentials(root_certificates=ca)
        with open(self.cred(client + ".key"), "rb") as f:
            key = f.read()
        with open(self.cred(client + ".pem"), "rb") as f:
            cert = f.read()
        return grpc.ssl_channel_credentials(ca, key, cert)

    def channel(self, client="client"):
        # A channel of its own each time: a new connection and handshake.
        return grpc.secure_channel(self.h.address, self.tls(client),
                                   options=[("grpc.use_local_subchannel_pool", 1)])

    @staticmethod
    def md(token):
        return [("authorization", "Bearer " + token)] if token else None

    def event(self, rate):
        SecurityE2eTest.event_number += 1
        e = pb.TariffEvent(event_id="sec-%d" % self.event_number, imposing_country="US",
                           new_rate_pct=rate, stage=pb.STAGE_EFFECTIVE)
        e.target_countries.append("CN")
        return e

    def publish(self, channel, token, rate):
        stub = events_grpc.TariffEventServiceStub(channel)
        return stub.PublishEvent(events_pb.PublishEventRequest(event=self.event(rate)),
                                 metadata=self.md(token), timeout=10)

    def code_of(self, fn):
        try:
            fn()
        except grpc.RpcError as e:
            self.outputs.append(e.details() or "")
            return e.code(), e.details() or ""
        return grpc.StatusCode.OK, ""

    def cli(self, *args, env=None):
        r = self.h.cli(*args, env=env)
        self.outputs += [r.stdout, r.stderr]
        return r

    def cli_tls(self):
        return ["--server", self.h.address, "--tls-ca", self.cred("ca.pem"),
                "--tls-cert", self.cred("client.pem"), "--tls-key", self.cred("client.key")]

    def subscribe(self, channel, token, request=None):
        stub = alerts_grpc.AlertServiceStub(channel)
        call = stub.SubscribeAlerts(request or alerts_pb.SubscribeAlertsRequest(),
                                    metadata=self.md(token), timeout=60)
        messages = queue.Queue()

        def read():
            try:
                for response in call:
                    messages.put(response)
            except grpc.RpcError as e:
                messages.put(e)
        threading.Thread(target=read, daemon=True).start()
        return messages, call

    def wait_for(self, messages, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                m = messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if isinstance(m, grpc.RpcError):
                return m
            if predicate(m):
                return m
        self.fail("nothing matching arrived within %s s" % timeout)

    # -- tests ----------------------------------------------------------------

    def test_cli_publishes_and_watches_over_mutual_tls(self):
        r = self.cli("publish", *self.cli_tls(), "--token-file", self.cred("publisher.token"),
                     "--event-id", "cli-tls-1", "--imposing", "US", "--targets", "CN",
                     "--rate", "41")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("cli-tls-1:", r.stdout)
        # `watch` is the C++ client library (AlertSubscriber) on TLS.
        env = dict(os.environ, TARIFF_ALERT_TOKEN=self.tokens["subscriber"])
        r = self.cli("watch", *self.cli_tls(), "--resume-after", "0", "--max-alerts", "2",
                     "--json", "--duration-seconds", "20", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len([l for l in r.stdout.splitlines() if l.startswith("{")]), 2,
                         r.stdout)

    def test_cli_refusals_name_the_problem(self):
        base = ["publish", "--event-id", "cli-no", "--imposing", "US", "--targets", "CN",
                "--rate", "42"]
        cases = [
            # (extra args, token env, expected in stderr)
            (self.cli_tls() + ["--token-file", self.cred("subscriber.token")], None,
             "PERMISSION_DENIED"),
            (self.cli_tls(), None, "UNAUTHENTICATED"),
            (self.cli_tls(), "ta_not-a-real-token", "UNAUTHENTICATED"),
            # No client certificate: the handshake fails.
            (["--server", self.h.address, "--tls-ca", self.cred("ca.pem"),
              "--token-file", self.cred("publisher.token")], None, "UNAVAILABLE"),
            # Plaintext to the TLS port.
            (["--server", self.h.address, "--token-file", self.cred("publisher.token")],
             None, "UNAVAILABLE"),
        ]
        for extra, token, expected in cases:
            env = {k: v for k, v in os.environ.items() if k != "TARIFF_ALERT_TOKEN"}
            if token:
                env["TARIFF_ALERT_TOKEN"] = token
            r = self.cli(*(base + extra), env=env)
            self.assertEqual(r.returncode, 1, (extra, r.stdout, r.stderr))
            self.assertIn(expected, r.stdout + r.stderr, extra)
        # Plaintext to a non-loopback address is refused by the client itself.
        r = self.cli(*(base + ["--server", "192.0.2.1:1"]))
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a loopback address", r.stderr)

    def test_python_client_roles(self):
        ch = self.channel()
        self.assertEqual(self.code_of(lambda: self.publish(ch, self.tokens["publisher"], 43))[0],
                         grpc.StatusCode.OK)
        self.assertEqual(self.code_of(lambda: self.publish(ch, self.tokens["admin"], 44))[0],
                         grpc.StatusCode.OK)
        code, details = self.code_of(lambda: self.publish(ch, self.tokens["subscriber"], 45))
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("needs the role 'publisher'", details)
        self.assertNotIn(self.tokens["subscriber"], details)
        code, details = self.code_of(lambda: self.publish(ch, None, 46))
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertIn("no token", details)
        code, details = self.code_of(lambda: self.publish(ch, "ta_guess", 47))
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertIn("unknown token", details)
        # The publisher may not read; the subscriber may.
        stub = alerts_grpc.AlertServiceStub(ch)
        list_alerts = lambda token: stub.ListAlerts(alerts_pb.ListAlertsRequest(page_size=5),
                                                    metadata=self.md(token), timeout=10)
        self.assertEqual(self.code_of(lambda: list_alerts(self.tokens["publisher"]))[0],
                         grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.code_of(lambda: list_alerts(self.tokens["subscriber"]))[0],
                         grpc.StatusCode.OK)
        # Health is open; reflection needs admin.
        self.assertEqual(harness.health_status(ch, "tariffalert.v1.AlertService"), 1)
        reflect = ch.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=lambda b: b, response_deserializer=lambda b: b)
        list_services = b"\x3a\x00"  # ServerReflectionRequest{list_services: ""}
        for token, expected in ((None, grpc.StatusCode.UNAUTHENTICATED),
                                (self.tokens["subscriber"], grpc.StatusCode.PERMISSION_DENIED),
                                (self.tokens["admin"], grpc.StatusCode.OK)):
            def call():
                replies = list(reflect(iter([list_services]), metadata=self.md(token),
                                       timeout=10))
                self.assertTrue(any(b"tariffalert.v1.AlertService" in r for r in replies))
            self.assertEqual(self.code_of(call)[0], expected, token and "token")
        ch.close()

    def test_wrong_certificates_are_refused_in_the_handshake(self):
        for client in (None, "stranger", "expired"):
            ch = self.channel(client)
            code, _ = self.code_of(lambda: self.publish(ch, self.tokens["publisher"], 48))
            self.assertEqual(code, grpc.StatusCode.UNAVAILABLE, client)
            ch.close()
        # Plaintext to the TLS port.
        ch = grpc.insecure_channel(self.h.address)
        code, _ = self.code_of(lambda: self.publish(ch, self.tokens["publisher"], 48))
        self.assertEqual(code, grpc.StatusCode.UNAVAILABLE)
        ch.close()

    def test_a_bound_token_needs_its_certificate(self):
        ch = self.channel("client")  # CN=desk1
        messages, call = self.subscribe(ch, self.tokens["bound"])
        self.assertFalse(isinstance(self.wait_for(messages, lambda m: True), grpc.RpcError))
        call.cancel()
        ch.close()
        ch = self.channel("ops")
        messages, call = self.subscribe(ch, self.tokens["bound"])
        err = self.wait_for(messages, lambda m: False)
        self.assertIsInstance(err, grpc.RpcError)
        self.assertEqual(err.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertIn("bound to a client certificate", err.details())
        ch.close()

    def test_revoked_and_added_tokens_take_effect_without_a_restart(self):
        ch = self.channel()
        stub = alerts_grpc.AlertServiceStub(ch)
        list_alerts = lambda token: stub.ListAlerts(alerts_pb.ListAlertsRequest(page_size=1),
                                                    metadata=self.md(token), timeout=10)
        self.assertEqual(self.code_of(lambda: list_alerts(self.tokens["revokee"]))[0],
                         grpc.StatusCode.OK)
        # A stream of the token, open when it is revoked, and one of another.
        revoked_stream, revoked_call = self.subscribe(ch, self.tokens["revokee"])
        self.wait_for(revoked_stream, lambda m: True)
        other_stream, other_call = self.subscribe(ch, self.tokens["subscriber"])
        self.wait_for(other_stream, lambda m: True)
        path = self.cred("tokens.txt")
        with open(path) as f:
            lines = f.readlines()
        with open(path + ".new", "w") as f:
            f.writelines(l for l in lines if not l.startswith("revokee "))
        os.replace(path + ".new", path)  # as an operator's deploy would
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            code, details = self.code_of(lambda: list_alerts(self.tokens["revokee"]))
            if code != grpc.StatusCode.OK:
                break
            time.sleep(0.1)
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)
        # The open stream of the revoked token is ended; the other goes on.
        err = self.wait_for(revoked_stream, lambda m: False)
        self.assertIsInstance(err, grpc.RpcError)
        self.assertEqual(err.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertIn("revoked", err.details())
        reply = self.publish(ch, self.tokens["publisher"], 50)
        m = self.wait_for(other_stream, lambda m: any(
            a.event_id == reply.event_id for a in m.alerts))
        self.assertNotIsInstance(m, grpc.RpcError)
        other_call.cancel()
        # A new token works at once after SIGHUP.
        r = run([CLI_BIN, "token", "new", "--name", "late", "--roles", "subscriber",
                 "--line-file", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        late = r.stdout.strip()
        self.tokens["late"] = late
        self.h.server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            code, _ = self.code_of(lambda: list_alerts(late))
            if code == grpc.StatusCode.OK:
                break
            time.sleep(0.05)
        self.assertEqual(code, grpc.StatusCode.OK)
        ch.close()

    def test_python_example_watches_over_mutual_tls(self):
        env = dict(os.environ, TARIFF_ALERT_TOKEN=self.tokens["subscriber"])
        r = subprocess.run(
            ["/usr/bin/python3", WATCH_PY, "--server", self.h.address,
             "--tls-ca", self.cred("ca.pem"), "--tls-cert", self.cred("client.pem"),
             "--tls-key", self.cred("client.key"), "--resume-after", "0",
             "--max-alerts", "1", "--duration-seconds", "20", "--proto-dir", PROTO_DIR],
            capture_output=True, text=True, timeout=60, env=env)
        self.outputs += [r.stdout, r.stderr]
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"sequence"', r.stdout)

    def test_zz_rotated_certificate_serves_new_connections_and_old_stream_goes_on(self):
        ch = self.channel()
        messages, call = self.subscribe(ch, self.tokens["subscriber"])
        self.wait_for(messages, lambda m: True)  # live
        old = served_serial(self.h.port)
        self.assertEqual(old, file_serial(self.cred("server.pem")))
        d = self.creds
        make_key_and_csr(d, "server2", "/O=tariff-alert dev/CN=tariff-alertd")
        sign(d, "server2", "ca", 2,
             "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        # Key first, then the certificate, each replaced whole.
        for src, dst in (("server2.key", "live-server.key"), ("server2.pem", "live-server.pem")):
            shutil.copy(self.cred(src), self.h.path(dst + ".new"))
            os.replace(self.h.path(dst + ".new"), self.h.path(dst))
        new = file_serial(self.cred("server2.pem"))
        deadline = time.monotonic() + 15
        served = old
        while time.monotonic() < deadline and served != new:
            time.sleep(0.2)
            served = served_serial(self.h.port)
        self.assertEqual(served, new)
        # New connections work with the new certificate...
        ch2 = self.channel()
        reply = self.publish(ch2, self.tokens["publisher"], 49)
        self.assertGreater(reply.alert_count, 0)
        # ...and the stream opened before the rotation gets its alerts.
        m = self.wait_for(messages, lambda m: any(
            a.event_id == reply.event_id for a in m.alerts))
        self.assertNotIsInstance(m, grpc.RpcError)
        call.cancel()
        ch.close()
        ch2.close()

    def test_zzz_no_token_in_any_log(self):
        texts = self.outputs + [self.h.server_log()]
        for name, token in self.tokens.items():
            for t in texts:
                self.assertNotIn(token, t, "token %s appears in a log" % name)


class StartupTest(unittest.TestCase):
    """Refusals at start: each names the problem and the file."""

    @classmethod
    def setUpClass(cls):
        cls.h = harness.Harness(SERVER_BIN, CLI_BIN)
        cls.d = cls.h.path("creds")
        r = run([DEV_CREDENTIALS, cls.d, CLI_BIN])
        assert r.returncode == 0, r.stderr
        make_key_and_csr(cls.d, "expired", "/CN=tariff-alertd")
        sign(cls.d, "expired", "ca", -1, "subjectAltName=IP:127.0.0.1\n")

    @classmethod
    def tearDownClass(cls):
        cls.h.close()

    def start(self, *args):
        r = subprocess.run([SERVER_BIN, "--redis", self.h.redis, "--redis-prefix",
                            self.h.prefix] + list(args),
                           capture_output=True, text=True, timeout=30, env=self.h.redis_env())
        return r.returncode, r.stderr

    def test_every_flag_the_deploy_docs_pass_exists(self):
        import re
        help_text = run([SERVER_BIN, "--help"]).stdout
        for doc in ("deploy/README.md", "deploy/systemd/tariff-alertd.service",
                    "docs/security.md"):
            with open(os.path.join(ROOT, doc)) as f:
                text = f.read()
            # The server's command lines: those that name tariff-alertd or
            # its flags variable, and the lines continuing them.
            flags = set()
            continuing = False
            for line in text.splitlines():
                if "tariff-alertd " in line or "TARIFF_ALERT_FLAGS=" in line or continuing:
                    flags.update(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", line))
                    continuing = line.rstrip().endswith("\\")
            self.assertTrue(flags or doc != "deploy/README.md", doc)
            for flag in flags:
                self.assertRegex(help_text, r"(?m)^\s+" + re.escape(flag) + r"\b",
                                 "%s passes %s, which tariff-alertd --help lacks" % (doc, flag))

    def test_refusals(self):
        d = lambda n: os.path.join(self.d, n)
        cases = [
            (["--listen", "127.0.0.1:0"], "no TLS certificate"),
            (["--listen", "0.0.0.0:0", "--insecure"], "only on a loopback address"),
            (["--listen", "127.0.0.1:0", "--tls-cert", d("server.pem"), "--tls-key",
              d("server.key")], "--tokens-file is required with TLS"),
            (["--listen", "127.0.0.1:0", "--tls-cert", d("server.pem"), "--tls-key",
              d("client.key"), "--tokens-file", d("tokens.txt")],
             "does not belong to the certificate"),
            (["--listen", "127.0.0.1:0", "--tls-cert", d("expired.pem"), "--tls-key",
              d("expired.key"), "--tokens-file", d("tokens.txt")],
             "expired.pem: the certificate has expired"),
            (["--listen", "127.0.0.1:0", "--tls-cert", d("server.pem"), "--tls-key",
              d("server.key"), "--tokens-file", d("server.pem")], "server.pem:1:"),
        ]
        for args, expected in cases:
            code, stderr = self.start(*args)
            self.assertNotEqual(code, 0, args)
            self.assertIn(expected, stderr, args)


class LimitsTest(unittest.TestCase):
    """Stream limits per token and in all, and the message size limit; the
    other clients are unaffected."""

    @classmethod
    def setUpClass(cls):
        cls.h = harness.Harness(SERVER_BIN, CLI_BIN)
        harness.generate_stubs(PROTO_DIR, cls.h.path(""))
        from tariffalert.v1 import tariff_event_pb2 as pb_
        from tariffalert.v1 import tariff_event_service_pb2 as events_pb_
        from tariffalert.v1 import tariff_event_service_pb2_grpc as events_grpc_
        from tariffalert.v1 import alert_service_pb2 as alerts_pb_
        from tariffalert.v1 import alert_service_pb2_grpc as alerts_grpc_
        cls.pb, cls.events_pb, cls.events_grpc = pb_, events_pb_, events_grpc_
        cls.alerts_pb, cls.alerts_grpc = alerts_pb_, alerts_grpc_
        d = cls.d = cls.h.path("creds")
        r = run([DEV_CREDENTIALS, d, CLI_BIN])
        assert r.returncode == 0, r.stderr
        cls.tokens = {}
        for role in ("publisher", "subscriber", "admin"):
            with open(os.path.join(d, role + ".token")) as f:
                cls.tokens[role] = f.read().strip()
        # Plaintext on loopback with tokens: the same checks as on TLS.
        cls.h.start_server("--heartbeat-seconds", "0.2", "--max-streams-per-token", "2",
                           "--max-streams", "3",
                           security=["--insecure", "--tokens-file",
                                     os.path.join(d, "tokens.txt")])
        cls.channel = grpc.insecure_channel(cls.h.address)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.h.close()

    def open_stream(self, token):
        stub = self.alerts_grpc.AlertServiceStub(self.channel)
        call = stub.SubscribeAlerts(self.alerts_pb.SubscribeAlertsRequest(),
                                    metadata=[("authorization", "Bearer " + token)],
                                    timeout=30)
        it = iter(call)
        try:
            next(it)  # the first heartbeat: the stream is open
            return call, None
        except grpc.RpcError as e:
            return None, e

    def test_stream_limits_per_token_and_in_all(self):
        a1, e = self.open_stream(self.tokens["subscriber"])
        self.assertIsNone(e)
        a2, e = self.open_stream(self.tokens["subscriber"])
        self.assertIsNone(e)
        _, e = self.open_stream(self.tokens["subscriber"])
        self.assertEqual(e.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("token dev-subscriber has 2 streams open, its limit (--max-streams-per-token 2)", e.details())
        # Another token is unaffected by the first one's limit...
        b1, e = self.open_stream(self.tokens["admin"])
        self.assertIsNone(e)
        # ...until the server's total is reached.
        _, e = self.open_stream(self.tokens["admin"])
        self.assertEqual(e.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("--max-streams 3", e.details())
        # A stream that ends gives its place back.
        a1.cancel()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            c, e = self.open_stream(self.tokens["subscriber"])
            if e is None:
                break
            time.sleep(0.05)
        self.assertIsNone(e)
        for call in (a2, b1, c):
            call.cancel()

    def test_a_2_mib_request_is_refused_and_the_server_goes_on(self):
        stub = self.events_grpc.TariffEventServiceStub(self.channel)
        e = self.pb.TariffEvent(event_id="big", imposing_country="US", new_rate_pct=10,
                                stage=self.pb.STAGE_EFFECTIVE, headline="x" * (2 << 20))
        md = [("authorization", "Bearer " + self.tokens["publisher"])]
        with self.assertRaises(grpc.RpcError) as err:
            stub.PublishEvent(self.events_pb.PublishEventRequest(event=e), metadata=md,
                              timeout=10)
        self.assertEqual(err.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        e.headline = "small"
        e.event_id = "small"
        reply = stub.PublishEvent(self.events_pb.PublishEventRequest(event=e), metadata=md,
                                  timeout=10)
        self.assertEqual(reply.event_id, "small")


if __name__ == "__main__":
    unittest.main(verbosity=2)
