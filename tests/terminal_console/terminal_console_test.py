"""The terminal console end to end: `tariff-alert console` in a real tmux
(a private socket, a 200x50 pane), against the real tariff-alertd with
tokens, the real redis-server of the suite (TA_TEST_REDIS) and the sample
exposure table (data/exposure).

An event published with the CLI shows in the live list; `a` acknowledges the
selected alert, the pane marks it and the server's state (GetConsoleState,
through Debian's grpcio) has it, and a real web console page (a tariff-console
gateway on the same server, Debian's chromium driven by npm's puppeteer-core:
web_check.mjs) logged in with the analyst's token shows that alert as
acknowledged by desk1 within 10 s; a second console with a subscriber token
shows the acknowledgement too (its history comes from the log) and gets a
permission error in its status line when it presses `a`; `s` silences alerts
of the selected ticker (the server has the silence, both consoles hide the
alerts, `x` shows them marked); `q` quits, SIGTERM stops the other, both
with status 0 and in bounded time. No token ever shows on a screen.

Usage: terminal_console_test.py SERVER_BIN CLI_BIN PROTO_DIR REPO_ROOT \
           [CONSOLE_BIN NODE_DIR ARTIFACTS_DIR]

CONSOLE_BIN is tariff-console, NODE_DIR where tests/console/install-node-deps.sh
puts puppeteer-core (installed by name when missing), ARTIFACTS_DIR where the
web page's screenshot goes; without them (no tariff-console in the build) the
web half is skipped, saying so.
"""

import os
import re
import signal
import subprocess
import sys
import time
import unittest
import uuid

import grpc

SERVER_BIN, CLI_BIN, PROTO_DIR, ROOT = sys.argv[1:5]
CONSOLE_BIN, NODE_DIR, ARTIFACTS = (sys.argv[5:8] + [None] * 3)[:3]
del sys.argv[1:8]
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
import harness  # noqa: E402

EVENT = "tui-e1"
# An alert row of the list: "  > " when selected, "    " otherwise, the
# holdings mark, the subject.
ROW = re.compile(r"^  ([> ]) (.) (\S+)\s+(INFO|LOW|MEDIUM|HIGH|CRITICAL)\s+(\S+) bps")


def generate_stubs(out_dir):
    """As harness.generate_stubs, with the console service."""
    protos = [os.path.join("tariffalert/v1", p) for p in
              ("tariff_event.proto", "alert.proto", "alert_service.proto",
               "console_service.proto")]
    subprocess.run(
        ["protoc", "-I", PROTO_DIR, "--python_out=" + out_dir, "--grpc_out=" + out_dir,
         "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"] + protos,
        check=True, timeout=60)
    sys.path.insert(0, out_dir)


class Tmux:
    """A private tmux server (its own socket and config) for the test."""

    def __init__(self, tmp):
        self.socket = "ta-tui-%s" % uuid.uuid4().hex[:10]
        self.conf = os.path.join(tmp, "tmux.conf")
        with open(self.conf, "w") as f:
            # A pane stays after its process exits, so its exit status can
            # be read; nothing from the user's ~/.tmux.conf.
            f.write("set -g remain-on-exit on\nset -g history-limit 100\n"
                    "set -g default-shell /bin/sh\n")

    def run(self, *args, check=True):
        r = subprocess.run(["tmux", "-L", self.socket, "-f", self.conf] + list(args),
                           capture_output=True, text=True, timeout=20)
        if check and r.returncode != 0:
            raise RuntimeError("tmux %s: %s" % (args[0], r.stderr))
        return r.stdout

    def new_session(self, name, argv, status_file):
        """Runs argv in a new 200x50 session; its exit status goes to
        status_file (written by the shell that waits for it: tmux itself may
        be late to reap a pane's process)."""
        quoted = " ".join("'%s'" % a.replace("'", "'\\''") for a in argv)
        command = "%s; echo $? > '%s.tmp' && mv '%s.tmp' '%s'" % (
            quoted, status_file, status_file, status_file)
        self.run("new-session", "-d", "-s", name, "-x", "200", "-y", "50", command)

    def capture(self, name):
        return self.run("capture-pane", "-p", "-t", name)

    def keys(self, name, *keys):
        self.run("send-keys", "-t", name, *keys)

    def pane(self, name, fmt):
        return self.run("display-message", "-p", "-t", name, fmt).strip()

    def kill(self):
        self.run("kill-server", check=False)


class TerminalConsoleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmux = cls.channel = cls.gateway = cls.gateway_url = None
        cls.h = harness.Harness(SERVER_BIN, CLI_BIN)
        try:
            cls.set_up()
        except BaseException:
            # tearDownClass does not run when setUpClass fails: nothing
            # started may be left behind.
            cls.tearDownClass()
            raise

    @classmethod
    def set_up(cls):
        if CONSOLE_BIN:
            # puppeteer-core by name from npm when missing (as the browser
            # test: never a browser of its own).
            subprocess.run(["bash", os.path.join(ROOT, "tests", "console", "install-node-deps.sh"),
                            NODE_DIR], check=True, timeout=330)
        generate_stubs(cls.h.path(""))
        global console_pb, console_grpc
        from tariffalert.v1 import console_service_pb2 as console_pb
        from tariffalert.v1 import console_service_pb2_grpc as console_grpc
        tokens_file = cls.h.path("tokens.txt")
        cls.tokens = {}
        cls.token_files = {}
        # The analyst reads what a subscriber reads and changes the state.
        for name, roles in (("desk1", "analyst"), ("viewer", "subscriber"),
                            ("feed", "publisher")):
            r = cls.h.cli("token", "new", "--name", name, "--roles", roles,
                          "--line-file", tokens_file)
            assert r.returncode == 0, r.stderr
            cls.tokens[name] = r.stdout.strip()
            cls.token_files[name] = cls.h.write(name + ".token", cls.tokens[name] + "\n")
        r = cls.h.cli("load", "--redis", cls.h.redis, "--redis-prefix", cls.h.prefix,
                      "--dir", os.path.join(ROOT, "data", "exposure"),
                      env=cls.h.redis_env())
        assert r.returncode == 0, r.stderr
        cls.h.start_server("--heartbeat-seconds", "0.5", "--tokens-file", tokens_file)
        cls.channel = grpc.insecure_channel(cls.h.address)
        cls.console = console_grpc.ConsoleServiceStub(cls.channel)
        cls.tmux = Tmux(cls.h.tmp.name)
        cls.screens = []
        if CONSOLE_BIN:
            cls.start_gateway()

    @classmethod
    def start_gateway(cls):
        """A tariff-console gateway on the same tariff-alertd, on 127.0.0.1
        with a free port."""
        os.makedirs(ARTIFACTS, exist_ok=True)
        key = cls.h.write("csrf.key", os.urandom(32).hex() + "\n")
        os.chmod(key, 0o600)
        log = cls.h.path("console.log")
        with open(log, "w") as out:
            cls.gateway = subprocess.Popen(
                [CONSOLE_BIN, "--listen", "127.0.0.1:0", "--server", cls.h.address, "--insecure",
                 "--csrf-key-file", key, "--web-root", os.path.join(ROOT, "web", "console")],
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = re.search(r"tariff-console: serving (http://127\.0\.0\.1:\d+/)", cls.read(log))
            if m:
                cls.gateway_url = m.group(1)
                return
            if cls.gateway.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("tariff-console did not start:\n" + cls.read(log)[-3000:])

    @staticmethod
    def read(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""

    @classmethod
    def tearDownClass(cls):
        if cls.tmux is not None:
            cls.tmux.kill()
        harness.stop_process(cls.gateway, 10)
        if cls.channel is not None:
            cls.channel.close()
        cls.h.close()

    # ----- helpers

    def start_console(self, session, token):
        self.tmux.new_session(session, [
            CLI_BIN, "console", "--server", self.h.address,
            "--token-file", self.token_files[token]], self.h.path(session + ".status"))

    def console_pid(self, session):
        """The console process: the child of the pane's shell."""
        shell = self.tmux.pane(session, "#{pane_pid}")
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == shell:
                return int(entry)
        self.fail("no console process under the pane of " + session)

    def wait_screen(self, session, predicate, what, timeout=10):
        """Captures the pane until predicate(text) holds; fails showing the
        last screen after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.tmux.capture(session)
            if predicate(text):
                self.screens.append(text)
                return text
            time.sleep(0.1)
        self.fail("%s: not on the screen of %s after %d s:\n%s\nserver log:\n%s" %
                  (what, session, timeout, text, self.h.server_log()[-3000:]))

    def rows(self, text):
        """The alert rows of a screen: (selected, subject, the whole line)."""
        out = []
        for line in text.splitlines():
            m = ROW.match(line)
            if m:
                out.append((m.group(1) == ">", m.group(3), line))
        return out

    def status_line(self, text):
        return text.rstrip("\n").splitlines()[-1] if text.strip() else ""

    def state(self):
        return self.console.GetConsoleState(
            console_pb.GetConsoleStateRequest(),
            metadata=[("authorization", "Bearer " + self.tokens["viewer"])], timeout=10)

    def wait_exit(self, session, timeout=5):
        """The console's exit status, within `timeout` seconds."""
        path = self.h.path(session + ".status")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    return int(f.read().strip())
            time.sleep(0.05)
        self.fail("%s did not exit within %d s:\n%s" %
                  (session, timeout, self.tmux.capture(session)))

    def web_check(self, alert_id, actor, token):
        """web_check.mjs: a real web console page shows alert_id as
        acknowledged by actor. In a session of its own, so that on a timeout
        node and its chromium are stopped together."""
        work = self.h.path("web")
        os.makedirs(work, exist_ok=True)
        env = dict(os.environ, TA_NODE_DIR=NODE_DIR, TA_URL=self.gateway_url,
                   TA_TOKEN_FILE=self.token_files[token], TA_ALERT_ID=alert_id, TA_ACTOR=actor,
                   TA_ARTIFACTS=ARTIFACTS, TA_WORK=work, TA_WAIT_MS="10000")
        for k in ("TARIFF_ALERT_TOKEN", "PUPPETEER_EXECUTABLE_PATH"):
            env.pop(k, None)
        node = subprocess.Popen(["node", os.path.join(HERE, "web_check.mjs")], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        try:
            out, _ = node.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(node.pid, signal.SIGKILL)
            out, _ = node.communicate()
            out += "\n(web_check.mjs stopped after 90 s)"
        for t in self.tokens.values():
            out = out.replace(t, "<token>")
        print(out.rstrip())
        return node.returncode == 0, out

    # ----- the test

    def test_console(self):
        self.start_console("analyst", "desk1")
        self.wait_screen("analyst",
                         lambda t: "alerts LIVE" in t and "state LIVE" in t
                         and "as desk1" in t, "the analyst console live")

        r = self.h.cli("publish", "--server", self.h.address,
                       "--token-file", self.token_files["feed"], "--event-id", EVENT,
                       "--imposing", "US", "--targets", "CN", "--rate", "145",
                       "--headline", "US raises the tariff on Chinese goods to 145%")
        self.assertEqual(r.returncode, 0, r.stderr)
        published = time.monotonic()
        # The whole frame: tmux can capture the pane while the console is
        # still writing it (the new list over the old frame's detail pane).
        screen = self.wait_screen(
            "analyst", lambda t: ("== " + EVENT) in t and any(s for s, _, _ in self.rows(t))
            and "contributions:" in t,
            "the published event's alerts and the selected one's detail", timeout=5)
        print("alerts shown %.2f s after the publish" % (time.monotonic() - published))
        self.assertIn("US raises the tariff on Chinese goods to 145%", screen)
        # Grouped by sector within the event, a detail pane for the selection.
        self.assertRegex(screen, r"(?m)^  -- \S.*\(\d+, sum \|score\| ")
        self.assertIn("contributions:", screen)
        self.assertRegex(screen, r"model \S+\s+exposure version \S+\s+book revision \d+")
        selected = [s for s in self.rows(screen) if s[0]]
        self.assertEqual(len(selected), 1, screen)
        ticker = selected[0][1]
        alert_id = "%s/T/%s" % (EVENT, ticker)
        self.assertNotIn("ACK", selected[0][2])

        # a: acknowledged on the screen and in the server's state.
        self.tmux.keys("analyst", "a")
        # The row's ACK comes with the state stream, the status line with
        # the RPC's answer: either may be drawn first, so wait for both.
        done = "acknowledge %s (%s): done" % (ticker, EVENT)
        screen = self.wait_screen(
            "analyst",
            lambda t: done in t and any(s and sub == ticker and "ACK" in line
                                        for s, sub, line in self.rows(t)),
            "%s marked ACK and the acknowledgement answered" % ticker)
        self.assertIn("acknowledged by desk1", screen)
        acks = [a for a in self.state().acknowledgements if a.alert_id == alert_id]
        self.assertEqual(len(acks), 1, self.state())
        self.assertEqual(acks[0].actor, "desk1")

        # The web console: a real page on a tariff-console gateway, logged in
        # as the analyst, shows the row of that alert acknowledged by desk1.
        if self.gateway_url:
            ok, out = self.web_check(alert_id, "desk1", "desk1")
            if not ok:
                gateway_log = self.read(self.h.path("console.log"))[-3000:]
                for t in self.tokens.values():
                    gateway_log = gateway_log.replace(t, "<token>")
                self.fail("the web console does not show %s as acknowledged (above); "
                          "tariff-console log:\n%s" % (alert_id, gateway_log))
        else:
            print("SKIP the web console check: no tariff-console in this build")

        # A second console, read-only: the history shows the event with the
        # acknowledgement; its `a` is refused in its status line.
        self.start_console("viewer", "viewer")
        screen = self.wait_screen(
            "viewer",
            lambda t: "state LIVE" in t and any(sub == ticker and "ACK" in line
                                                for _, sub, line in self.rows(t)),
            "the acknowledgement on the viewer's console")
        self.assertIn("read-only", screen)
        self.tmux.keys("viewer", "j", "a")
        screen = self.wait_screen(
            "viewer", lambda t: "PERMISSION_DENIED" in self.status_line(t),
            "the permission error in the viewer's status line")
        self.assertRegex(self.status_line(screen), r"acknowledge \S+ \(%s\): "
                         r"PERMISSION_DENIED" % EVENT)

        # s: silence the selected ticker for an hour, with a comment.
        self.tmux.keys("analyst", "s")
        self.wait_screen("analyst", lambda t: "comment" in self.status_line(t),
                         "the silence's comment prompt")
        self.tmux.keys("analyst", "-l", "checked with the desk")
        self.tmux.keys("analyst", "Enter")
        screen = self.wait_screen(
            "analyst",
            lambda t: "silences 1 (1 hidden)" in t and
            all(sub != ticker for _, sub, _ in self.rows(t)),
            "%s hidden by the silence" % ticker)
        silences = [s for s in self.state().silences
                    if [(m.field, m.value) for m in s.matchers] ==
                    [(console_pb.MATCHER_FIELD_TICKER, ticker)]]
        self.assertEqual(len(silences), 1, self.state())
        self.assertEqual(silences[0].comment, "checked with the desk")
        self.assertEqual(silences[0].created_by, "desk1")
        length = silences[0].end_time.seconds - silences[0].start_time.seconds
        self.assertTrue(3590 <= length <= 3610, length)
        # The other console hides them too.
        self.wait_screen("viewer", lambda t: all(sub != ticker for _, sub, _ in self.rows(t))
                         and "silences 1 (1 hidden)" in t, "the silence on the viewer's console")
        # x: shown again, marked.
        self.tmux.keys("analyst", "x")
        self.wait_screen("analyst",
                         lambda t: any(sub == ticker and "ACK,SIL" in line
                                       for _, sub, line in self.rows(t)),
                         "%s shown as silenced with x" % ticker)

        # q quits; SIGTERM stops the other; both at once and with status 0.
        self.tmux.keys("analyst", "q")
        self.assertEqual(self.wait_exit("analyst"), 0)
        os.kill(self.console_pid("viewer"), signal.SIGTERM)
        self.assertEqual(self.wait_exit("viewer"), 0)

        for text in self.screens + [self.h.server_log(), self.read(self.h.path("console.log"))]:
            for token in self.tokens.values():
                self.assertNotIn(token, text)
        # For a reviewer: the analyst's screen after the silence.
        with open(self.h.path("screen.txt"), "w") as f:
            f.write("\n\n".join(self.screens))
        print("\n".join(self.screens[-4].splitlines()[:30]))


if __name__ == "__main__":
    unittest.main()
