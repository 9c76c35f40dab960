"""Redis authentication, end to end: a private redis-server that needs a
password (requirepass for the default user) and has an ACL user limited to the
project's keys (ta:*) and exactly the commands scripts/lib.sh grants
(TA_REDIS_ACL_COMMANDS, the ACL docs/redis.md gives deployments).

The real tariff-alertd and `tariff-alert load`, with a wrong password, an
unknown user, no password at all, and a prefix the ACL does not cover, exit
non-zero at once with a message that names the address, the user and Redis's
reason; with the right credentials (from a file or the environment, in both
AUTH forms) they load, serve and publish. No password ever appears in
anything the test captured or any log it wrote.

Usage: redis_auth_test.py SERVER_BIN CLI_BIN LIB_SH
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import harness

SERVER_BIN, CLI_BIN, LIB_SH = sys.argv[1:4]
del sys.argv[1:4]

USER = "ta"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def security_flags():
    """Plaintext on loopback: --insecure where the server has that flag."""
    out = subprocess.run([SERVER_BIN, "--help"], capture_output=True, text=True).stdout
    return ["--insecure"] if "--insecure" in out else []


def project_acl():
    """The commands scripts/lib.sh grants the project's user."""
    out = subprocess.run(["bash", "-c", 'source "$0"; echo "$TA_REDIS_ACL_COMMANDS"', LIB_SH],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out.startswith("-@all +"), out
    return out


class RedisAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="tariff-alert-auth-")
        cls.password = secrets.token_hex(16)
        cls.admin_password = secrets.token_hex(16)
        cls.captured = []  # every stdout/stderr the test saw
        conf = cls.path("redis.conf")
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("requirepass %s\n" % cls.admin_password)
            f.write("user %s on >%s resetkeys ~ta:* resetchannels %s\n"
                    % (USER, cls.password, project_acl()))
        cls.port = free_port()
        cls.redis = subprocess.Popen(
            ["redis-server", conf, "--port", str(cls.port), "--bind", "127.0.0.1",
             "--dir", cls.tmp.name, "--save", "", "--appendonly", "no",
             "--logfile", cls.path("redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", cls.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"-NOAUTH"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        cls.address = "127.0.0.1:%d" % cls.port
        cls.companies = cls.write("companies.csv", harness.COMPANIES)
        cls.exposures = cls.write("exposures.csv", harness.EXPOSURES)
        cls.password_file = cls.write("redis.pass", cls.password + "\n", 0o600)

    @classmethod
    def tearDownClass(cls):
        cls.redis.kill()
        cls.redis.wait(timeout=10)
        cls.tmp.cleanup()

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp.name, name)

    @classmethod
    def write(cls, name, text, mode=0o644):
        with open(cls.path(name), "w") as f:
            f.write(text)
        os.chmod(cls.path(name), mode)
        return cls.path(name)

    def env(self, user=None, password=None):
        env = {k: v for k, v in os.environ.items()
               if k not in ("TARIFF_ALERT_REDIS_USER", "TARIFF_ALERT_REDIS_PASSWORD")}
        if user is not None:
            env["TARIFF_ALERT_REDIS_USER"] = user
        if password is not None:
            env["TARIFF_ALERT_REDIS_PASSWORD"] = password
        return env

    def run_cli(self, args, env):
        r = subprocess.run([CLI_BIN] + args, capture_output=True, text=True,
                           timeout=30, env=env)
        self.captured += [r.stdout, r.stderr]
        return r

    def load(self, env, *extra, prefix="ta:"):
        return self.run_cli(["load", "--redis", self.address, "--redis-prefix", prefix]
                            + list(extra) + [self.companies, self.exposures], env)

    def start_server(self, env, *extra, prefix="ta:", name="server"):
        """Starts tariff-alertd; returns (process, port or None if it exited)."""
        port_file = self.path(name + ".port")
        log = open(self.path(name + ".log"), "w")
        proc = subprocess.Popen(
            [SERVER_BIN, "--listen", "127.0.0.1:0", "--redis", self.address,
             "--redis-prefix", prefix, "--port-file", port_file] + security_flags()
            + list(extra),
            stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    return proc, int(f.read().strip())
            if proc.poll() is not None:
                return proc, None
            time.sleep(0.02)
        proc.kill()
        proc.wait()
        self.fail("tariff-alertd neither served nor exited: " + self.log(name))

    def log(self, name="server"):
        with open(self.path(name + ".log")) as f:
            return f.read()

    def assert_refused(self, env, expected, *extra, prefix="ta:", load_code=1,
                       server_code=1):
        """Both programs refuse at once, naming `expected`, never a password."""
        r = self.load(env, *extra, prefix=prefix)
        self.assertEqual(r.returncode, load_code, r.stderr)
        self.assertIn(expected, r.stderr)
        self.assertIn("nothing was loaded" if load_code == 1 else "load: ", r.stderr)
        if load_code == 1:
            self.assertIn("redis %s: " % self.address, r.stderr)
        name = "refused-%d" % len(self.captured)
        proc, port = self.start_server(env, *extra, prefix=prefix, name=name)
        self.assertIsNone(port, "tariff-alertd served with bad credentials")
        self.assertEqual(proc.wait(timeout=10), server_code, self.log(name))
        self.assertIn(expected, self.log(name))
        for text in (r.stderr, self.log(name)):
            self.assertNotIn(self.password, text)
            self.assertNotIn(self.admin_password, text)

    def test_a_wrong_password_for_the_user(self):
        self.assert_refused(
            self.env(USER, "wrong-" + secrets.token_hex(4)),
            "redis %s: AUTH rejected for user 'ta': WRONGPASS invalid username-password "
            "pair or user is disabled." % self.address)

    def test_an_unknown_user_with_a_real_password(self):
        self.assert_refused(
            self.env("nobody", self.password),
            "redis %s: AUTH rejected for user 'nobody': WRONGPASS" % self.address)

    def test_a_wrong_password_for_the_default_user(self):
        self.assert_refused(
            self.env(None, self.password),
            "redis %s: AUTH rejected for the default user: WRONGPASS" % self.address)

    def test_no_password_is_noauth(self):
        self.assert_refused(
            self.env(),
            "NOAUTH Authentication required. (no password was given: "
            "set TARIFF_ALERT_REDIS_PASSWORD or --redis-password-file)")

    def test_a_prefix_outside_the_acl_is_noperm(self):
        self.assert_refused(
            self.env(USER, self.password),
            "NOPERM this user has no permissions to access one of the keys used as "
            "arguments (user 'ta')", prefix="other:")

    def test_bad_credential_sources_are_usage_errors(self):
        self.assert_refused(self.env(USER), "redis user 'ta' needs a password: "
                            "--redis-password-file FILE or TARIFF_ALERT_REDIS_PASSWORD",
                            load_code=2, server_code=2)
        missing = self.path("missing.pass")
        self.assert_refused(self.env(), "redis password file '%s': cannot open" % missing,
                            "--redis-password-file", missing, load_code=2,
                            server_code=2)

    def test_the_right_credentials_load_serve_and_publish(self):
        # The user from the flag, the password from a file of mode 600: no
        # warning.
        r = self.load(self.env(), "--redis-user", USER,
                      "--redis-password-file", self.password_file)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("4 companies, 8 exposure rows", r.stdout)
        self.assertNotIn("may be read by group or others", r.stderr)
        # A password file others may read works, with a warning.
        loose = self.write("loose.pass", self.password + "\n", 0o644)
        r = self.load(self.env(USER), "--redis-password-file", loose)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("redis password file '%s' may be read by group or others "
                      "(mode 0644); chmod 600 it" % loose, r.stderr)
        # The server from the environment, in both AUTH forms: the limited
        # user (the project's ACL is enough to start, publish and stream),
        # and the default user's password.
        for name, env in (("user", self.env(USER, self.password)),
                          ("default", self.env(None, self.admin_password))):
            proc, port = self.start_server(env, name=name)
            try:
                self.assertIsNotNone(port, self.log(name))
                r = self.run_cli(["publish", "--server", "127.0.0.1:%d" % port,
                                  "--event-id", "auth-" + name, "--imposing", "US",
                                  "--targets", "CN", "--rate", "30"], self.env())
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertRegex(r.stdout, r"auth-%s: \d+ alerts" % name)
                r = self.run_cli(["watch", "--server", "127.0.0.1:%d" % port, "--json",
                                  "--resume-after", "0", "--until-sequence", "1",
                                  "--duration-seconds", "20"], self.env())
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn('"sequence":"1"', r.stdout)
            finally:
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=15), 0, self.log(name))

    def test_z_no_password_in_any_output_or_log(self):
        # Runs last (unittest sorts by name): every process output captured
        # and every file the test and redis-server wrote.
        texts = list(self.captured)
        for name in sorted(os.listdir(self.tmp.name)):
            if name.endswith((".log", ".port")):
                with open(self.path(name), errors="replace") as f:
                    texts.append(f.read())
        self.assertTrue(any("AUTH rejected" in t for t in texts))
        for text in texts:
            self.assertNotIn(self.password, text)
            self.assertNotIn(self.admin_password, text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
