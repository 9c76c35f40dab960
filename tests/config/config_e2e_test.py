"""tariff-alertd --config and --log-format=json, end to end.

The real tariff-alertd started from a YAML file alone (listen, Redis and its
credentials, tokens, log format) against the suite's Redis; an event
published with the CLI and a publisher token. Every stderr line parses as a
JSON object with time, level, message and source; the publish line carries
event_id, sequence and the token's name, never the token. --print-config
names the password file but never the password, and is accepted by --config
again; the sample deploy/config/tariff-alertd.yaml parses; a bad value and an
unknown key are refused naming file:line. access-log: true logs the
publish call with its code, duration and token name.

Usage: config_e2e_test.py SERVER_BIN CLI_BIN SOURCE_DIR
"""

import json
import os
import subprocess
import sys
import time
import unittest

SERVER_BIN, CLI_BIN, SOURCE_DIR = sys.argv[1:4]
del sys.argv[1:4]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
import harness  # noqa: E402

EVENT = "cfg-e2e-ev-1"


def clean_env():
    """No Redis credentials from the environment: the file gives them."""
    return {k: v for k, v in os.environ.items()
            if k not in ("TARIFF_ALERT_REDIS_USER", "TARIFF_ALERT_REDIS_PASSWORD",
                         "REDISCLI_AUTH")}


class ConfigE2ETest(unittest.TestCase):
    def setUp(self):
        self.h = harness.Harness(SERVER_BIN, CLI_BIN)
        self.server = None
        self.password = ""
        if self.h.redis_password_file:
            with open(self.h.redis_password_file) as f:
                self.password = f.readline().rstrip("\r\n")

    def tearDown(self):
        if self.server is not None and self.server.poll() is None:
            self.server.kill()
            self.server.wait()
        self.h.close()

    def run_server(self, *args, timeout=20):
        return subprocess.run([SERVER_BIN] + list(args), capture_output=True, text=True,
                              timeout=timeout, env=clean_env())

    def assert_no_secret(self, text):
        if self.password:
            self.assertNotIn(self.password, text)
        for token in getattr(self, "tokens", {}).values():
            self.assertNotIn(token, text)

    def write_config(self, tokens_file):
        lines = [
            "# written by config_e2e_test.py",
            "listen: 127.0.0.1:0",
            "redis: %s" % self.h.redis,
            "redis-prefix: '%s'" % self.h.prefix,
            "port-file: %s" % self.h.path("port"),
            "exposure-poll-ms: 50",
            "insecure: true",
            "tokens-file: %s" % tokens_file,
            "log-format: json",
            "log-level: info",
            "access-log: true",
        ]
        if self.h.redis_user:
            lines.append("redis-user: %s" % self.h.redis_user)
        if self.h.redis_password_file:
            lines.append("redis-password-file: %s" % self.h.redis_password_file)
        return self.h.write("tariff-alertd.yaml", "\n".join(lines) + "\n")

    def test_json_logs_from_a_config_file(self):
        tokens_file = self.h.path("tokens.txt")
        self.tokens = {}
        r = self.h.cli("token", "new", "--name", "feed-bot", "--roles", "publisher",
                       "--line-file", tokens_file)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.tokens["feed-bot"] = r.stdout.strip()
        token_file = self.h.write("feed.token", self.tokens["feed-bot"] + "\n")
        os.chmod(token_file, 0o600)
        r = self.h.cli("load", "--redis", self.h.redis, "--redis-prefix", self.h.prefix,
                       "--dir", os.path.join(SOURCE_DIR, "data", "exposure"),
                       env=self.h.redis_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        config = self.write_config(tokens_file)

        # --print-config: the effective configuration, no password, and
        # --config takes it back.
        r = self.run_server("--config", config, "--print-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_no_secret(r.stdout + r.stderr)
        self.assertIn("log-format: json", r.stdout)
        if self.h.redis_password_file:
            self.assertIn("redis-password-file: " + self.h.redis_password_file, r.stdout)
        printed = self.h.write("printed.yaml", r.stdout)
        r2 = self.run_server("--config", printed, "--print-config")
        self.assertEqual(r2.returncode, 0, r2.stderr)
        self.assertEqual(r2.stdout, r.stdout)
        # The command line wins over the file.
        r3 = self.run_server("--config", config, "--log-format", "text", "--print-config")
        self.assertEqual(r3.returncode, 0, r3.stderr)
        self.assertIn("log-format: text", r3.stdout)

        log_path = self.h.path("server.log")
        with open(log_path, "w") as log:
            self.server = subprocess.Popen([SERVER_BIN, "--config", config],
                                           stdout=subprocess.DEVNULL, stderr=log,
                                           env=clean_env())
        port_file = self.h.path("port")
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file):
            self.assertIsNone(self.server.poll(), self.read(log_path))
            self.assertLess(time.monotonic(), deadline, "server did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            address = "127.0.0.1:%d" % int(f.read().strip())

        r = self.h.cli("publish", "--server", address, "--token-file", token_file,
                       "--event-id", EVENT, "--imposing", "US", "--targets", "CN",
                       "--rate", "145", "--headline", "US tariff on \"CN\" goods: 145% \u2192 ok")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_no_secret(r.stdout + r.stderr)
        # A call refused for want of a token is logged as JSON too.
        r = self.h.cli("publish", "--server", address, "--event-id", EVENT + "-x",
                       "--imposing", "US", "--targets", "CN", "--rate", "1")
        self.assertNotEqual(r.returncode, 0)

        deadline = time.monotonic() + 10
        while True:
            entries = self.entries(log_path)
            published = [e for e in entries if e["message"] == "published"]
            if published or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertIsNone(self.server.poll(), self.read(log_path))
        self.server.terminate()
        self.assertEqual(self.server.wait(timeout=15), 0)
        entries = self.entries(log_path)
        text = self.read(log_path)
        self.assert_no_secret(text)

        self.assertTrue(entries)
        for e in entries:
            for key in ("time", "level", "message", "source"):
                self.assertIn(key, e)
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(e["level"], ("debug", "info", "warning", "error"))
            self.assertRegex(e["source"], r"^[\w.-]+:\d+$")
        published = [e for e in entries if e["message"] == "published"]
        self.assertEqual(len(published), 1, text)
        self.assertEqual(published[0]["event_id"], EVENT)
        self.assertIsInstance(published[0]["sequence"], int)
        self.assertGreater(published[0]["sequence"], 0)
        self.assertEqual(published[0]["token"], "feed-bot")
        # The access log (access-log: true): the publish, with its token's name.
        rpcs = [e for e in entries if e["message"] == "rpc"
                and e.get("method") == "/tariffalert.v1.TariffEventService/PublishEvent"]
        self.assertEqual(len(rpcs), 1, text)
        self.assertEqual(rpcs[0]["code"], "OK")
        self.assertEqual(rpcs[0]["token"], "feed-bot")
        self.assertIsInstance(rpcs[0]["duration_ms"], (int, float))
        self.assertTrue(rpcs[0]["peer"])
        refused = [e for e in entries if e["message"].startswith("refused a call")]
        self.assertTrue(refused, text)
        self.assertEqual(refused[0]["code"], "UNAUTHENTICATED")

    @staticmethod
    def read(path):
        with open(path) as f:
            return f.read()

    def entries(self, path):
        """Every line of `path` as a JSON object (fails on any other line)."""
        out = []
        for line in self.read(path).splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                self.fail("not a JSON line: %r" % line)
            self.assertIsInstance(e, dict, line)
            out.append(e)
        return out

    def test_sample_config_parses(self):
        sample = os.path.join(SOURCE_DIR, "deploy", "config", "tariff-alertd.yaml")
        r = self.run_server("--config", sample, "--print-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("listen: ", r.stdout)

    def test_errors_name_file_and_line(self):
        bad = self.h.write("bad.yaml", "listen: 127.0.0.1:0\n\nexposure-poll-ms: 1\n")
        r = self.run_server("--config", bad, "--print-config")
        self.assertEqual(r.returncode, 2)
        self.assertIn(bad + ":3:", r.stderr)
        unknown = self.h.write("unknown.yaml", "listen: 127.0.0.1:0\nlisten-addr: x\n")
        r = self.run_server("--config", unknown, "--print-config")
        self.assertEqual(r.returncode, 2)
        self.assertIn(unknown + ":2: unknown key 'listen-addr'", r.stderr)
        level = self.h.write("level.yaml", "log-level: loud\n")
        r = self.run_server("--config", level)
        self.assertEqual(r.returncode, 2)
        self.assertIn(level + ":1:", r.stderr)


if __name__ == "__main__":
    unittest.main()
