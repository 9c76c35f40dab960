"""Starts the real tariff-alertd and runs the real tariff-alert CLI for tests.

Every process talks to 127.0.0.1 only, every wait is bounded, and everything
started is stopped at the end. The Redis address comes from TA_TEST_REDIS
(tests/run.sh starts that redis-server), the ACL user and its password file
from TA_TEST_REDIS_USER and TA_TEST_REDIS_PASSWORD_FILE; each harness uses its
own key prefix under TEST_KEY_ROOT, the keys that user may touch.
"""

import os
import signal
import subprocess
import tempfile
import time
import uuid

# The start of every test key prefix (tests/run.sh's ACL: ~test:*).
TEST_KEY_ROOT = "test:"


def generate_stubs(proto_dir, out_dir):
    """Python stubs from the project's protos, importable as tariffalert.v1."""
    protos = [os.path.join("tariffalert/v1", p) for p in
              ("tariff_event.proto", "alert.proto", "tariff_event_service.proto",
               "alert_service.proto", "tariff_book.proto", "tariff_book_service.proto",
               "console_service.proto")]
    subprocess.run(
        ["protoc", "-I", proto_dir, "--python_out=" + out_dir, "--grpc_out=" + out_dir,
         "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"] + protos,
        check=True)
    import sys
    sys.path.insert(0, out_dir)


def stop_process(process, timeout):
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds;
    nothing if it is None or gone."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def health_status(channel, service):
    """grpc.health.v1.Health/Check by hand: 1 SERVING, 2 NOT_SERVING."""
    check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)
    name = service.encode()
    reply = check(b"\x0a" + bytes([len(name)]) + name, timeout=10)
    return reply[1] if len(reply) == 2 else 0


class Harness:
    def __init__(self, server_bin, cli_bin):
        self.server_bin = server_bin
        self.cli_bin = cli_bin
        redis = os.environ.get("TA_TEST_REDIS")
        if not redis:
            raise RuntimeError("TA_TEST_REDIS is not set: run the suite with tests/run.sh")
        self.redis = redis
        self.redis_user = os.environ.get("TA_TEST_REDIS_USER", "")
        self.redis_password_file = os.environ.get("TA_TEST_REDIS_PASSWORD_FILE", "")
        self.prefix = "%spy-%s:" % (TEST_KEY_ROOT, uuid.uuid4().hex[:12])
        self.tmp = tempfile.TemporaryDirectory(prefix="tariff-alert-test-")
        self.server = None
        self.port = None

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def redis_env(self):
        """The environment for a process that talks to the test Redis: the
        credentials as tariff-alertd and `tariff-alert load` read them, never
        on a command line."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("TARIFF_ALERT_REDIS_USER", "TARIFF_ALERT_REDIS_PASSWORD",
                            "REDISCLI_AUTH")}
        if self.redis_password_file:
            with open(self.redis_password_file) as f:
                env["TARIFF_ALERT_REDIS_PASSWORD"] = f.readline().rstrip("\r\n")
        if self.redis_user:
            env["TARIFF_ALERT_REDIS_USER"] = self.redis_user
        return env

    def cli(self, *args, stdin=None, timeout=30, env=None):
        """Runs tariff-alert; returns the CompletedProcess."""
        argv = [self.cli_bin] + [str(a) for a in args]
        return subprocess.run(argv, input=stdin, capture_output=True, text=True,
                              timeout=timeout, env=env)

    def load(self, companies, exposures):
        return self.cli("load", "--redis", self.redis, "--redis-prefix", self.prefix,
                        companies, exposures, env=self.redis_env())

    def start_server(self, *extra, security=("--insecure",), listen="127.0.0.1:0"):
        """Starts tariff-alertd; `security`: its TLS and token flags (by
        default plaintext on loopback without tokens); `listen`: its address
        (a fixed port to restart a replica where its clients look for it)."""
        port_file = self.path("port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        with open(self.path("server.log"), "a") as log:
            self.server = subprocess.Popen(
                [self.server_bin, "--listen", listen, "--redis", self.redis,
                 "--redis-prefix", self.prefix, "--port-file", port_file,
                 "--exposure-poll-ms", "50"] + list(security) + list(extra),
                stdout=log, stderr=subprocess.STDOUT, env=self.redis_env())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    self.port = int(f.read().strip())
                return self.port
            if self.server.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("server did not start: " + self.server_log())

    def server_log(self):
        try:
            with open(self.path("server.log")) as f:
                return f.read()
        except OSError:
            return ""

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def stop_server(self, timeout=10):
        """SIGTERM, then wait; returns the exit code."""
        if self.server is None or self.server.poll() is not None:
            return self.server.returncode if self.server else None
        self.server.send_signal(signal.SIGTERM)
        try:
            return self.server.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
            raise

    def close(self):
        if self.server is not None and self.server.poll() is None:
            self.server.kill()
            self.server.wait()
        self.tmp.cleanup()


COMPANIES = """ticker,name,sector,country,market_cap_usd,cogs_ratio,operating_margin
AAPL,Apple Inc.,Information Technology,US,3000000000000,0.54,0.31
BBY,Best Buy,Consumer Discretionary,US,20000000000,0.77,0.04
STZ,Constellation Brands,Consumer Staples,US,40000000000,0.49,0.33
NUE,Nucor,Materials,US,35000000000,0.85,0.12
"""

EXPOSURES = """ticker,kind,country,product,share
AAPL,revenue,US,*,0.43
AAPL,sourcing,CN,*,0.7
BBY,revenue,US,*,0.92
BBY,sourcing,CN,*,0.55
STZ,revenue,US,*,0.98
STZ,production,MX,*,0.85
NUE,revenue,US,*,0.95
NUE,production,US,*,1
"""
