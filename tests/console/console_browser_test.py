"""The web console's browser test: starts the processes, then runs
console_browser_test.mjs (puppeteer-core driving Debian's chromium).

  console_browser_test.py SERVER_BIN CLI_BIN CONSOLE_BIN SOURCE_DIR NODE_DIR ARTIFACTS_DIR

Starts, all on 127.0.0.1 and all stopped at the end: two tariff-alertd
replicas sharing the test Redis (TA_TEST_REDIS, tests/run.sh) under a key
prefix of their own, with a tokens file (two analysts, a subscriber, a
publisher); two tariff-console gateways, one per replica; loads data/exposure
with the CLI. The screenshots and results.json go to ARTIFACTS_DIR; with
TA_CONSOLE_SCREENSHOTS_TO_DOCS=1 the screenshots are also copied to
docs/console/ (for a commit when they change meaningfully).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
import harness  # noqa: E402

SCREENSHOTS = ("live-view", "alert-detail", "event-view", "whatif", "health", "portfolio")


def wait_for_port_file(path, proc, what, log, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                text = f.read().strip()
            if text:
                return int(text)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("%s did not start:\n%s" % (what, read(log)))


def wait_for_url(log, proc, what, timeout=20):
    """tariff-console prints "tariff-console: serving http://127.0.0.1:PORT/"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(r"serving (http://127\.0\.0\.1:\d+/)", read(log))
        if m:
            return m.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("%s did not start:\n%s" % (what, read(log)))


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def stop(proc, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    server_bin, cli_bin, console_bin, root, node_dir, artifacts = sys.argv[1:7]
    os.makedirs(artifacts, exist_ok=True)
    # puppeteer-core by name from npm, when missing (never a browser of its own).
    subprocess.run(["bash", os.path.join(HERE, "install-node-deps.sh"), node_dir], check=True, timeout=330)
    h = harness.Harness(server_bin, cli_bin)
    procs = []
    try:
        env = h.redis_env()
        tokens = h.path("tokens")
        os.makedirs(tokens)
        lines = os.path.join(tokens, "tokens.txt")
        open(lines, "w").close()
        for name, role in (("analyst-a", "analyst"), ("analyst-b", "analyst"),
                           ("subscriber", "subscriber"), ("publisher", "publisher")):
            r = h.cli("token", "new", "--name", "e2e-" + name, "--roles", role, "--line-file", lines)
            if r.returncode != 0:
                raise RuntimeError("token new: " + r.stderr)
            with open(os.path.join(tokens, name + ".token"), "w") as f:
                f.write(r.stdout.strip() + "\n")

        r = h.cli("load", "--redis", h.redis, "--redis-prefix", h.prefix,
                  "--dir", os.path.join(root, "data", "exposure"), env=env)
        if r.returncode != 0:
            raise RuntimeError("load: " + r.stderr + r.stdout)

        servers = []
        for i in (1, 2):
            port_file = h.path("server%d.port" % i)
            log = h.path("server%d.log" % i)
            with open(log, "w") as out:
                p = subprocess.Popen(
                    [server_bin, "--listen", "127.0.0.1:0", "--port-file", port_file,
                     "--redis", h.redis, "--redis-prefix", h.prefix, "--exposure-poll-ms", "50",
                     "--insecure", "--tokens-file", lines, "--heartbeat-seconds", "1",
                     "--book-clock", "events"],
                    stdout=out, stderr=subprocess.STDOUT, env=env)
            procs.append(p)
            servers.append("127.0.0.1:%d" % wait_for_port_file(port_file, p, "tariff-alertd %d" % i, log))

        urls = []
        for i, server in enumerate(servers, 1):
            log = h.path("console%d.log" % i)
            key = h.write("csrf%d.key" % i, os.urandom(32).hex() + "\n")
            os.chmod(key, 0o600)
            with open(log, "w") as out:
                p = subprocess.Popen(
                    [console_bin, "--listen", "127.0.0.1:0", "--server", server, "--insecure",
                     "--csrf-key-file", key, "--web-root", os.path.join(root, "web", "console")],
                    stdout=out, stderr=subprocess.STDOUT)
            procs.append(p)
            urls.append(wait_for_url(log, p, "tariff-console %d" % i))

        work = h.path("work")
        os.makedirs(work)
        test_env = dict(os.environ, TA_NODE_DIR=node_dir, TA_URL_A=urls[0], TA_URL_B=urls[1],
                        TA_SERVER_A=servers[0], TA_CLI=cli_bin, TA_TOKENS=tokens, TA_ROOT=root,
                        TA_ARTIFACTS=artifacts, TA_WORK=work)
        for k in ("TARIFF_ALERT_TOKEN", "PUPPETEER_EXECUTABLE_PATH"):
            test_env.pop(k, None)
        node = subprocess.run(["node", os.path.join(HERE, "console_browser_test.mjs")], env=test_env,
                              timeout=240)
        ok = node.returncode == 0
        if not ok:
            for name in ("server1.log", "server2.log", "console1.log", "console2.log"):
                text = read(h.path(name))
                sys.stdout.write("---- %s (last lines)\n%s\n" % (name, "\n".join(text.splitlines()[-25:])))
        for name in ("console1.log", "console2.log", "server1.log", "server2.log"):
            text = read(h.path(name))
            for t in os.listdir(tokens):
                if t.endswith(".token"):
                    secret = read(os.path.join(tokens, t)).strip()
                    if secret and secret in text:
                        print("FAIL a token shows in %s" % name)
                        ok = False
        if os.environ.get("TA_CONSOLE_SCREENSHOTS_TO_DOCS") == "1":
            docs = os.path.join(root, "docs", "console")
            os.makedirs(docs, exist_ok=True)
            for s in SCREENSHOTS:
                src = os.path.join(artifacts, s + ".png")
                if os.path.exists(src):
                    shutil.copy(src, os.path.join(docs, s + ".png"))
        print("screenshots and results.json in %s" % artifacts)
        return 0 if ok else 1
    finally:
        for p in reversed(procs):
            stop(p)
        h.close()


if __name__ == "__main__":
    sys.exit(main())
