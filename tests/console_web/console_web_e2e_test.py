"""The web console's gateway end to end: the real tariff-console in front of
two real tariff-alertd replicas (plaintext on loopback, with a tokens file)
on the test Redis, driven over HTTP as the page drives it (docs/console.md).

Login with a right and a wrong token and the cookie's flags; CSRF refused
without the header, with a wrong one and from another origin; forwarded
ListAlerts, GetTariff and GetEvent; a method off the list is 404; gRPC errors
come back with their HTTP status; the alert stream delivers an event
published with the CLI with id = sequence, resumes from Last-Event-ID with no
gap and no repeat, and moves to the other replica when its replica stops;
the stream cap, HTTPS, plaintext refused beyond loopback, a prompt shutdown;
no token ever in the gateway's output.

Usage: console_web_e2e_test.py CONSOLE_BIN SERVER_BIN CLI_BIN REPO_ROOT
"""

import hashlib
import hmac
import http.client
import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

CONSOLE_BIN, SERVER_BIN, CLI_BIN, ROOT = sys.argv[1:5]
del sys.argv[1:5]
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
import harness  # noqa: E402

DEV_CREDENTIALS = os.path.join(ROOT, "scripts", "dev-credentials.sh")
WAIT = 15  # seconds: the bound on every wait


class Gateway:
    """A tariff-console process; its stdout and stderr are kept for the
    token check."""

    def __init__(self, workdir, name, *args):
        self.out_path = os.path.join(workdir, name + ".out")
        self.err_path = os.path.join(workdir, name + ".err")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(
                [CONSOLE_BIN, "--listen", "127.0.0.1:0", "--log-level", "debug"] + list(args),
                stdout=out, stderr=err)
        self.url = None
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with open(self.out_path) as f:
                line = f.readline()
            if line.endswith("\n"):
                prefix = "tariff-console: serving "
                assert line.startswith(prefix), line
                self.url = line[len(prefix):].strip()
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if self.url is None:
            raise RuntimeError("tariff-console did not start: " + self.output())
        parsed = urllib.parse.urlparse(self.url)
        self.scheme, self.host, self.port = parsed.scheme, parsed.hostname, parsed.port
        self.origin = "%s://%s:%d" % (self.scheme, self.host, self.port)

    def output(self):
        text = ""
        for p in (self.out_path, self.err_path):
            with open(p) as f:
                text += f.read()
        return text

    def connection(self, context=None):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=WAIT,
                                               context=context)
        return http.client.HTTPConnection(self.host, self.port, timeout=WAIT)

    def request(self, method, path, body=None, headers=None, context=None):
        """(status, headers, parsed JSON or text)."""
        c = self.connection(context)
        try:
            h = {"Host": "%s:%d" % (self.host, self.port)}
            h.update(headers or {})
            data = None
            if body is not None:
                data = body if isinstance(body, (bytes, str)) else json.dumps(body)
                h.setdefault("Content-Type", "application/json")
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            text = r.read().decode()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            return r.status, r.headers, parsed
        finally:
            c.close()

    def stop(self, timeout=WAIT):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode


class EventStream:
    """One Server-Sent Events response read on a thread into a queue of
    (event, id, data)."""

    def __init__(self, gateway, path, headers):
        self.conn = gateway.connection()
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        self.events = queue.Queue()
        self.retry = None
        if self.response.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event, eid, data = None, None, None
        try:
            while True:
                line = self.response.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line == "":
                    if event is not None or data is not None:
                        self.events.put((event, eid, json.loads(data) if data else None))
                    event, eid, data = None, None, None
                elif line.startswith("retry: "):
                    self.retry = int(line[7:])
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("id: "):
                    eid = int(line[4:])
                elif line.startswith("data: "):
                    data = line[6:]
        except Exception:  # noqa: BLE001 -- closed under the reader by close()
            pass
        self.events.put(("closed", None, None))

    def next(self, kinds, timeout=WAIT):
        """The next event whose kind is in `kinds` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s event within %ss" % (kinds, timeout))
            try:
                e = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if e[0] in kinds or e[0] == "closed":
                return e

    def alerts(self, count, timeout=WAIT):
        """`count` alert events, [(id, alert)], failing on end or close."""
        got = []
        while len(got) < count:
            kind, eid, data = self.next(("alert", "end"), timeout)
            if kind != "alert":
                raise AssertionError("stream ended (%s %s) after %d alerts" % (kind, data, len(got)))
            got.append((eid, data))
        return got

    def close(self):
        self.conn.close()


class ConsoleWebE2eTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = harness.Harness(SERVER_BIN, CLI_BIN)
        d = cls.creds = cls.h.path("creds")
        r = subprocess.run([DEV_CREDENTIALS, d, CLI_BIN], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        cls.tokens = {}
        for role in ("publisher", "subscriber", "admin"):
            with open(os.path.join(d, role + ".token")) as f:
                cls.tokens[role] = f.read().strip()
        loaded = cls.h.load(cls.h.write("companies.csv", harness.COMPANIES),
                            cls.h.write("exposures.csv", harness.EXPOSURES))
        assert loaded.returncode == 0, loaded.stderr
        security = ["--insecure", "--tokens-file", os.path.join(d, "tokens.txt")]
        cls.h.start_server("--heartbeat-seconds", "0.2", security=security)
        # A second replica on the same Redis and key prefix.
        cls.h2 = harness.Harness(SERVER_BIN, CLI_BIN)
        cls.h2.prefix = cls.h.prefix
        cls.h2.start_server("--heartbeat-seconds", "0.2", security=security)
        cls.key = "k" * 8 + os.urandom(16).hex()
        cls.key_file = cls.h.write("csrf.key", cls.key + "\n")
        cls.gateways = []
        cls.gw = cls.gateway("main", "--server", "%s,%s" % (cls.h.address, cls.h2.address))
        cls.events = 0

    @classmethod
    def gateway(cls, name, *args):
        g = Gateway(cls.h.path(""), name, "--csrf-key-file", cls.key_file, *args)
        cls.gateways.append(g)
        return g

    @classmethod
    def tearDownClass(cls):
        outputs = []
        for g in cls.gateways:
            g.stop()
            outputs.append(g.output())
        cls.h2.close()
        cls.h.close()
        # The token check over every gateway's whole output.
        secrets = list(cls.tokens.values()) + [cls.key, "wrong-" + cls.tokens["subscriber"]]
        for text in outputs:
            for secret in secrets:
                assert secret not in text, "a secret in the gateway's output"

    # -- helpers --------------------------------------------------------------

    def csrf(self, token):
        return hmac.new(self.key.encode(), token.encode(), hashlib.sha256).hexdigest()

    def auth(self, role="subscriber", csrf=True, gateway=None):
        token = self.tokens[role]
        h = {"Cookie": "ta_session=" + token}
        if csrf:
            h["X-CSRF-Token"] = self.csrf(token)
        h["Origin"] = (gateway or self.gw).origin
        return h

    def rpc(self, method, body, headers=None, gateway=None):
        return (gateway or self.gw).request("POST", "/api/rpc/" + method, body,
                                            headers if headers is not None else self.auth())

    def publish(self, rate, server=None):
        """Publishes one event with the CLI; returns its sequences."""
        type(self).events += 1
        event_id = "web-e%d-%d" % (self.events, int(time.time() * 1000))
        r = self.h.cli("publish", "--server", server or self.h.address,
                       "--token-file", os.path.join(self.creds, "publisher.token"),
                       "--event-id", event_id, "--imposing", "US", "--targets", "CN",
                       "--rate", str(rate))
        self.assertEqual(r.returncode, 0, r.stderr)
        # "e1: 4 alerts (sequences 1-4), ..."
        seqs = r.stdout.split("(sequences ")[1].split(")")[0]
        first, _, last = seqs.partition("-")
        return event_id, list(range(int(first), int(last or first) + 1))

    def stream(self, path="/api/alerts/stream", headers=None, gateway=None):
        h = {"Cookie": "ta_session=" + self.tokens["subscriber"]}
        h.update(headers or {})
        s = EventStream(gateway or self.gw, path, h)
        self.addCleanup(s.close)
        return s

    def login_or_skip(self, token):
        status, headers, body = self.gw.request("POST", "/api/login", {"token": token},
                                                {"Origin": self.gw.origin})
        if status == 500 and isinstance(body, dict) and body.get("code") == "UNIMPLEMENTED":
            self.skipTest("this tariff-alertd has no ConsoleService.GetSession yet")
        return status, headers, body

    # -- login ----------------------------------------------------------------

    def test_login_with_the_right_token_sets_an_http_only_strict_cookie(self):
        token = self.tokens["subscriber"]
        status, headers, body = self.login_or_skip(token)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["csrf_token"], self.csrf(token))
        self.assertEqual(body["session"]["token_name"], "dev-subscriber")
        self.assertIn("subscriber", body["session"]["roles"])
        self.assertIs(body["session"]["can_change_state"], False)
        cookie = headers["Set-Cookie"]
        parts = [p.strip() for p in cookie.split(";")]
        self.assertEqual(parts[0], "ta_session=" + token)
        self.assertIn("HttpOnly", parts)
        self.assertIn("SameSite=Strict", parts)
        self.assertIn("Path=/", parts)
        self.assertNotIn("Secure", parts)  # plain HTTP on loopback
        # The session answers for the cookie.
        status, _, body = self.gw.request("GET", "/api/session", headers=self.auth())
        self.assertEqual(status, 200, body)
        self.assertEqual(body["csrf_token"], self.csrf(token))

    def test_login_with_a_wrong_token_is_401_without_a_cookie(self):
        for token in ("wrong-" + self.tokens["subscriber"], "x;y"):
            status, headers, body = self.gw.request("POST", "/api/login", {"token": token})
            self.assertEqual(status, 401, body)
            self.assertEqual(body["code"], "UNAUTHENTICATED")
            self.assertNotIn(token, json.dumps(body))
            self.assertNotIn("ta_session=w", headers.get("Set-Cookie", ""))

    def test_login_needs_a_json_body_with_a_token(self):
        for body in ("not json", {"tok": "x"}, {"token": 5}):
            status, _, reply = self.gw.request("POST", "/api/login", body)
            self.assertEqual(status, 400, reply)
            self.assertEqual(reply["code"], "INVALID_ARGUMENT")

    def test_session_without_a_cookie_is_401(self):
        status, _, body = self.gw.request("GET", "/api/session")
        self.assertEqual(status, 401, body)
        self.assertEqual(body["code"], "UNAUTHENTICATED")

    def test_logout_clears_the_cookie(self):
        status, headers, _ = self.gw.request("POST", "/api/logout", "", self.auth())
        self.assertEqual(status, 200)
        self.assertIn("ta_session=;", headers["Set-Cookie"])
        self.assertIn("Max-Age=0", headers["Set-Cookie"])

    # -- CSRF -----------------------------------------------------------------

    def test_a_post_without_the_csrf_token_is_refused(self):
        status, _, body = self.rpc("AlertService/ListAlerts", {}, self.auth(csrf=False))
        self.assertEqual((status, body["code"]), (403, "PERMISSION_DENIED"))
        self.assertEqual(body["message"], "missing or wrong CSRF token")

    def test_a_post_with_a_wrong_csrf_token_is_refused(self):
        h = self.auth()
        right = h["X-CSRF-Token"]
        # The right token with its last hex digit changed (never equal to it).
        one_digit_off = right[:-1] + ("1" if right[-1] == "0" else "0")
        for wrong in (self.csrf(self.tokens["admin"]), one_digit_off, ""):
            self.assertNotEqual(wrong, right)
            h["X-CSRF-Token"] = wrong
            status, _, body = self.rpc("AlertService/ListAlerts", {}, h)
            self.assertEqual((status, body["code"]), (403, "PERMISSION_DENIED"))

    def test_a_post_from_another_origin_is_refused(self):
        h = self.auth()
        for origin in ("http://evil.example", "null", "https://%s:%d" % (self.gw.host, self.gw.port)):
            h["Origin"] = origin
            status, _, body = self.rpc("AlertService/ListAlerts", {}, h)
            self.assertEqual(status, 403, body)
        # No Origin at all (not every client sends one) is fine with the token.
        del h["Origin"]
        status, _, body = self.rpc("AlertService/ListAlerts", {}, h)
        self.assertEqual(status, 200, body)

    def test_a_post_without_a_cookie_is_401(self):
        status, _, body = self.rpc("AlertService/ListAlerts", {}, {"X-CSRF-Token": "x"})
        self.assertEqual((status, body["code"]), (401, "UNAUTHENTICATED"))

    # -- forwarded calls ------------------------------------------------------

    def test_list_alerts_is_forwarded_as_protobuf_json(self):
        event_id, seqs = self.publish(60)
        status, _, body = self.rpc("AlertService/ListAlerts",
                                   {"filter": {"tickers": ["AAPL", "BBY"]}, "page_size": 1000})
        self.assertEqual(status, 200, body)
        mine = [a for a in body["alerts"] if a["event_id"] == event_id]
        self.assertEqual(sorted(a["subject"] for a in mine), ["AAPL", "BBY"])
        for a in mine:
            self.assertIn(int(a["sequence"]), seqs)  # uint64 as a string
            self.assertEqual(a["subject_kind"], "SUBJECT_KIND_TICKER")  # enum names
        # Every field printed, also the empty ones.
        self.assertIn("next_page_token", body)

    def test_get_tariff_and_get_event_are_forwarded(self):
        event_id, _ = self.publish(70)
        status, _, body = self.rpc("TariffBookService/GetTariff",
                                   {"imposing_country": "US", "exporting_country": "CN"})
        self.assertEqual(status, 200, body)
        self.assertIn("effective_rate_pct", body)
        status, _, body = self.rpc("TariffEventService/GetEvent", {"event_id": event_id})
        self.assertEqual(status, 200, body)
        self.assertIn(event_id, json.dumps(body))

    def test_a_method_off_the_list_is_404(self):
        for method in ("TariffEventService/PublishEvent", "AlertService/SubscribeAlerts",
                       "Nope/Nope", "grpc.health.v1.Health/Check"):
            status, _, body = self.rpc(method, {})
            self.assertEqual(status, 404, (method, body))
            self.assertEqual(body["code"], "NOT_FOUND")

    def test_grpc_errors_come_back_with_their_http_status(self):
        # NOT_FOUND from the server.
        status, _, body = self.rpc("TariffEventService/GetEvent", {"event_id": "no-such-event"})
        self.assertEqual((status, body["code"]), (404, "NOT_FOUND"), body)
        self.assertIn("no-such-event", body["message"])
        # A wrong field name: 400 naming it, before any call.
        status, _, body = self.rpc("AlertService/ListAlerts", {"pagesize": 1})
        self.assertEqual((status, body["code"]), (400, "INVALID_ARGUMENT"))
        self.assertIn("pagesize", body["message"])
        status, _, body = self.rpc("AlertService/ListAlerts", "{not json")
        self.assertEqual((status, body["code"]), (400, "INVALID_ARGUMENT"))
        # INVALID_ARGUMENT from the server.
        status, _, body = self.rpc("TariffBookService/GetTariff",
                                   {"imposing_country": "??", "exporting_country": "CN"})
        self.assertEqual((status, body["code"]), (400, "INVALID_ARGUMENT"), body)
        # A publisher may not read alerts: PERMISSION_DENIED.
        status, _, body = self.rpc("AlertService/ListAlerts", {}, self.auth("publisher"))
        self.assertEqual((status, body["code"]), (403, "PERMISSION_DENIED"), body)
        # A token the server does not know: UNAUTHENTICATED, and not echoed.
        bad = "wrong-" + self.tokens["subscriber"]
        status, _, body = self.rpc("AlertService/ListAlerts", {},
                                   {"Cookie": "ta_session=" + bad, "X-CSRF-Token": self.csrf(bad)})
        self.assertEqual((status, body["code"]), (401, "UNAUTHENTICATED"), body)
        self.assertNotIn(bad, body["message"])

    def test_a_body_over_the_limit_is_413(self):
        status, _, _ = self.rpc("AlertService/ListAlerts", "{" + " " * (2 << 20) + "}")
        self.assertEqual(status, 413)

    # -- the page -------------------------------------------------------------

    def test_the_page_is_served_with_a_strict_content_security_policy(self):
        for path in ("/", "/api/presets", "/api/session", "/nowhere"):
            status, headers, _ = self.gw.request("GET", path)
            self.assertIn("default-src 'self'", headers["Content-Security-Policy"], path)
            self.assertEqual(headers["X-Content-Type-Options"], "nosniff", path)
            self.assertEqual(headers["X-Frame-Options"], "DENY", path)
        web = os.path.join(ROOT, "web", "console")
        if os.path.exists(os.path.join(web, "index.html")):
            status, headers, body = self.gw.request("GET", "/")
            self.assertEqual(status, 200)
            self.assertIn("text/html", headers["Content-Type"])
            self.assertEqual(headers["Cache-Control"], "no-store")
        if os.path.exists(os.path.join(web, "presets.json")):
            status, headers, body = self.gw.request("GET", "/api/presets")
            self.assertEqual(status, 200)
            with open(os.path.join(web, "presets.json")) as f:
                self.assertEqual(body, json.load(f))
        for path in ("/static/../../etc/passwd", "/static/..%2F..%2Fetc%2Fpasswd",
                     "/static/.hidden", "/static/nope.js"):
            status, _, _ = self.gw.request("GET", path)
            self.assertEqual(status, 404, path)

    # -- the alert stream -----------------------------------------------------

    def test_an_event_published_with_the_cli_arrives_with_id_its_sequence(self):
        s = self.stream()
        self.assertEqual(s.response.status, 200)
        self.assertEqual(s.response.headers["Content-Type"], "text/event-stream")
        self.assertEqual(s.response.headers["Cache-Control"], "no-store")
        self.assertEqual(s.response.headers["X-Accel-Buffering"], "no")
        kind, eid, hb = s.next(("heartbeat",))
        self.assertEqual((kind, eid), ("heartbeat", None))  # heartbeats carry no id
        self.assertEqual(s.retry, 1000)
        event_id, seqs = self.publish(90)
        got = s.alerts(len(seqs))
        self.assertEqual([eid for eid, _ in got], seqs)
        for eid, alert in got:
            self.assertEqual(int(alert["sequence"]), eid)
            self.assertEqual(alert["event_id"], event_id)

    def test_resuming_from_last_event_id_gives_no_gap_and_no_repeat(self):
        _, first = self.publish(100)
        _, second = self.publish(110)
        start = first[0] - 1
        # The page reads part of the replay, then its connection drops.
        s = self.stream(headers={"Last-Event-ID": str(start)})
        got = s.alerts(len(first))
        s.close()
        last_id = got[-1][0]
        # EventSource reconnects with Last-Event-ID (over ?after=).
        s2 = self.stream("/api/alerts/stream?after=0", headers={"Last-Event-ID": str(last_id)})
        got += s2.alerts(len(second))
        _, third = self.publish(120)
        got += s2.alerts(len(third))
        ids = [eid for eid, _ in got]
        self.assertEqual(ids, list(range(start + 1, third[-1] + 1)))  # dense, once each

    def test_the_stream_takes_after_and_a_filter(self):
        _, seqs = self.publish(130)
        f = urllib.parse.quote(json.dumps({"tickers": ["AAPL"]}))
        s = self.stream("/api/alerts/stream?after=%d&filter=%s" % (seqs[0] - 1, f))
        kind, eid, alert = s.next(("alert",))
        self.assertEqual(alert["subject"], "AAPL")
        self.assertIn(eid, seqs)
        for path, headers in (("/api/alerts/stream?filter=%7B%22tickerz%22%3A1%7D", {}),
                              ("/api/alerts/stream?after=x", {}),
                              ("/api/alerts/stream", {"Last-Event-ID": "-1"})):
            s = self.stream(path, headers)
            self.assertEqual(s.response.status, 400, path)
            body = json.loads(s.response.read())
            self.assertEqual(body["code"], "INVALID_ARGUMENT")
        s = EventStream(self.gw, "/api/alerts/stream", {})
        self.addCleanup(s.close)
        self.assertEqual(s.response.status, 401)

    def test_the_console_stream_ends_with_end_or_starts_with_a_snapshot(self):
        s = self.stream("/api/console/stream")
        self.assertEqual(s.response.status, 200)
        kind, eid, data = s.next(("snapshot", "end"))
        if kind == "end":
            # A server without WatchConsoleState yet.
            self.assertEqual(data["code"], "UNIMPLEMENTED")
        else:
            self.assertEqual(eid, int(data["audit_sequence"]))

    def test_streams_beyond_max_streams_are_503(self):
        g = self.gateway("capped", "--server", self.h.address, "--max-streams", "1")
        s = self.stream(gateway=g)
        s.next(("heartbeat",))
        s2 = self.stream(gateway=g)
        self.assertEqual(s2.response.status, 503)
        s.close()
        # The place comes back once the gateway sees the browser gone (at the
        # next heartbeat).
        deadline = time.monotonic() + WAIT
        while True:
            s3 = self.stream(gateway=g)
            if s3.response.status == 200 or time.monotonic() > deadline:
                break
            s3.close()
            time.sleep(0.1)
        self.assertEqual(s3.response.status, 200)
        g.stop()

    def test_shutdown_ends_open_streams_and_exits_promptly(self):
        g = self.gateway("stopping", "--server", self.h.address)
        s = self.stream(gateway=g)
        s.next(("heartbeat",))
        c = self.stream("/api/console/stream", gateway=g)
        started = time.monotonic()
        self.assertEqual(g.stop(), 0)
        self.assertLess(time.monotonic() - started, 4.0)
        kind, _, data = s.next(("end",))
        self.assertEqual(kind, "end")
        self.assertEqual(data["code"], "UNAVAILABLE")

    # -- start-up -------------------------------------------------------------

    def test_plaintext_beyond_loopback_is_refused(self):
        r = subprocess.run([CONSOLE_BIN, "--listen", "0.0.0.0:0", "--server", self.h.address],
                           capture_output=True, text=True, timeout=WAIT)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--console-tls-cert", r.stderr)
        r = subprocess.run([CONSOLE_BIN, "--csrf-key-file", self.h.write("short.key", "abc\n")],
                           capture_output=True, text=True, timeout=WAIT)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--csrf-key-file", r.stderr)
        self.assertNotIn("abc", r.stderr.replace("--csrf-key-file", ""))

    def test_https_with_a_certificate(self):
        g = self.gateway("https", "--server", self.h.address,
                         "--console-tls-cert", os.path.join(self.creds, "server.pem"),
                         "--console-tls-key", os.path.join(self.creds, "server.key"))
        self.assertTrue(g.url.startswith("https://127.0.0.1:"), g.url)
        context = ssl.create_default_context(cafile=os.path.join(self.creds, "ca.pem"))
        status, headers, body = g.request("POST", "/api/rpc/AlertService/ListAlerts", {},
                                          self.auth(gateway=g), context=context)
        self.assertEqual(status, 200, body)
        status, headers, body = g.request("POST", "/api/login",
                                          {"token": self.tokens["subscriber"]},
                                          {"Origin": g.origin}, context=context)
        if status == 200:
            self.assertIn("Secure", [p.strip() for p in headers["Set-Cookie"].split(";")])
        g.stop()

    # -- replicas (last: it stops the first replica) --------------------------

    def test_zz_the_stream_moves_to_the_other_replica_and_resumes(self):
        s = self.stream()
        s.next(("heartbeat",))
        _, before = self.publish(140)
        got = s.alerts(len(before))
        self.assertEqual(self.h.stop_server(), 0)
        # Published on the second replica while the first is gone.
        _, after = self.publish(150, server=self.h2.address)
        got += s.alerts(len(after))
        self.assertEqual([eid for eid, _ in got], before + after)
        # Unary calls move too.
        status, _, body = self.rpc("AlertService/ListAlerts", {"page_size": 1})
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
