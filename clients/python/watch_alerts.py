#!/usr/bin/python3
"""Watch a tariff-alert server's alert stream from Python, losing nothing.

The same behaviour as the C++ client library (docs/client.md), in one file:
subscribe; remember the last sequence seen (alerts, and heartbeats'
newest_sequence); when the stream ends -- server shutdown (UNAVAILABLE), slow
consumer cut-off (RESOURCE_EXHAUSTED, with the ta-last-sequence trailer), a
network error, or no message for --heartbeat-timeout seconds (the call is
cancelled and a new channel made) -- reconnect with backoff (100 ms doubling
to 2 s, +-20% jitter, reset after a stream that delivered anything) and resume
with resume_after_sequence. Repeats are dropped, so every alert is printed
once, in sequence order, as one JSON line on stdout. A resume point that fell
out of the server's retention (OUT_OF_RANGE naming the oldest retained
sequence) is reported as a gap on stderr and passed over; INVALID_ARGUMENT and
other permanent errors end the program with status 1.

Runs on Debian's /usr/bin/python3 with python3-grpcio and python3-protobuf.
The stubs are generated at start-up with protoc and /usr/bin/grpc_python_plugin
from the project's protos (--proto-dir) into a temporary directory.

  /usr/bin/python3 clients/python/watch_alerts.py --server 127.0.0.1:50051 \
      --tls-ca ca.pem --token-file subscriber.token \
      --tickers AAPL,BBY --max-alerts 100 --duration-seconds 60

TLS and the token take the same settings as the CLI (--tls-ca, --tls-cert and
--tls-key for mutual TLS, --token-file or TARIFF_ALERT_TOKEN); plaintext only
to a loopback address unless --insecure.
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import grpc
from google.protobuf import json_format

PROTOS = ("tariff_event.proto", "alert.proto", "alert_service.proto")
PERMANENT = {
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.UNAUTHENTICATED,
}
OLDEST_RETAINED = re.compile(r"oldest retained(?: sequence is)? (\d+)")


def load_stubs(proto_dir, out_dir):
    """protoc + grpc_python_plugin into out_dir (never a grpc/... path, which
    would shadow the grpc package); returns the three modules."""
    protos = [os.path.join("tariffalert", "v1", p) for p in PROTOS]
    subprocess.run(
        ["protoc", "-I", proto_dir, "--python_out=" + out_dir, "--grpc_out=" + out_dir,
         "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"] + protos,
        check=True)
    sys.path.insert(0, out_dir)
    from tariffalert.v1 import alert_pb2, alert_service_pb2, alert_service_pb2_grpc
    return alert_pb2, alert_service_pb2, alert_service_pb2_grpc


class Backoff:
    def __init__(self, initial=0.1, maximum=2.0, jitter=0.2):
        self.initial, self.maximum, self.jitter = initial, maximum, jitter
        self.next = initial

    def reset(self):
        self.next = self.initial

    def delay(self):
        d = self.next * (1 + self.jitter * (2 * random.random() - 1))
        self.next = min(self.next * 2, self.maximum)
        return min(max(d, 0.0), self.maximum)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def is_loopback(server):
    host = server.rsplit(":", 1)[0].strip("[]").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def channel_credentials(args):
    """TLS credentials from --tls-ca/--tls-cert/--tls-key (or --tls for the
    system's roots), or None for plaintext, which only a loopback server gets
    unless --insecure."""
    if not (args.tls or args.tls_ca or args.tls_cert or args.tls_key):
        if not args.insecure and not is_loopback(args.server):
            raise SystemExit("plaintext to %s is not a loopback address: use "
                             "--tls-ca (or --tls), or --insecure" % args.server)
        return None
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("a client certificate needs both --tls-cert and --tls-key")
    return grpc.ssl_channel_credentials(
        root_certificates=read_file(args.tls_ca) if args.tls_ca else None,
        private_key=read_file(args.tls_key) if args.tls_key else None,
        certificate_chain=read_file(args.tls_cert) if args.tls_cert else None)


def load_token(args):
    """The bearer token from --token-file or TARIFF_ALERT_TOKEN; never
    printed."""
    if args.token_file:
        with open(args.token_file) as f:
            return f.readline().strip()
    return os.environ.get("TARIFF_ALERT_TOKEN", "").strip()


def new_channel(server, receive_window_bytes=None, credentials=None,
                server_name=None):
    window = []
    if receive_window_bytes:
        # A fixed HTTP/2 window instead of one that grows to megabytes: a
        # stalled reader is cut off by the server (and resumes) sooner.
        window = [("grpc.http2.bdp_probe", 0),
                  ("grpc.http2.lookahead_bytes", receive_window_bytes)]
    if server_name:
        window.append(("grpc.ssl_target_name_override", server_name))
    options = window + [
        ("grpc.keepalive_time_ms", 20000),        # the server allows 10 s
        ("grpc.keepalive_timeout_ms", 10000),
        ("grpc.http2.max_pings_without_data", 0),  # keep pinging a quiet stream
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 2000),
        ("grpc.use_local_subchannel_pool", 1),     # a new channel, a new connection
    ]
    if credentials is not None:
        return grpc.secure_channel(server, credentials, options=options)
    return grpc.insecure_channel(server, options=options)


def log(text):
    print(text, file=sys.stderr, flush=True)


def watch(args, alert_pb, pb, pb_grpc):
    """Returns the exit code: 0 when --max-alerts or --duration-seconds is
    reached, 1 on a permanent error."""
    deadline = time.monotonic() + args.duration_seconds if args.duration_seconds else None
    last = args.resume_after          # None: live, position unknown
    last_portfolio = None             # the sequence of the last portfolio alert
    delivered = 0
    backoff = Backoff()
    credentials = channel_credentials(args)
    token = load_token(args)
    metadata = [("authorization", "Bearer " + token)] if token else None
    channel = new_channel(args.server, args.receive_window_bytes, credentials,
                          args.tls_server_name)
    stub = pb_grpc.AlertServiceStub(channel)
    request = pb.SubscribeAlertsRequest()
    if args.tickers:
        request.filter.tickers.extend(args.tickers.split(","))
    if args.countries:
        request.filter.countries.extend(args.countries.split(","))
    request.filter.respect_silences = args.respect_silences

    while True:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return 0
        if last is not None:
            request.resume_after_sequence = last
        call = stub.SubscribeAlerts(request, timeout=remaining, metadata=metadata)

        # Heartbeat silence: a watchdog cancels the call when nothing came for
        # --heartbeat-timeout (measured while waiting, not while printing).
        state = {"seen": time.monotonic(), "silence": False, "busy": False}
        stream_done = threading.Event()

        def watchdog(call=call, state=state, stream_done=stream_done):
            while not stream_done.wait(0.05):
                if (not state["busy"] and
                        time.monotonic() - state["seen"] > args.heartbeat_timeout):
                    state["silence"] = True
                    call.cancel()
                    return
        threading.Thread(target=watchdog, daemon=True).start()

        delivered_any = False
        code, details, trailers = grpc.StatusCode.OK, "stream ended", ()
        try:
            for response in call:
                state["busy"] = True
                delivered_any = True
                for alert in response.alerts:
                    portfolio = alert.subject_kind == alert_pb.SUBJECT_KIND_PORTFOLIO
                    fresh = last is None or alert.sequence > last or (
                        portfolio and alert.sequence == last and last_portfolio != last)
                    if not fresh:
                        continue                      # a repeat: drop it
                    last = alert.sequence
                    if portfolio:
                        last_portfolio = last
                    print(json.dumps(json_format.MessageToDict(alert),
                                     separators=(",", ":")), flush=True)
                    delivered += 1
                    if args.max_alerts and delivered >= args.max_alerts:
                        call.cancel()
                        return 0
                if response.HasField("heartbeat"):
                    newest = response.heartbeat.newest_sequence
                    if last is None or newest > last:
                        last = newest
                state["seen"] = time.monotonic()
                state["busy"] = False
        except grpc.RpcError as e:
            code, details = e.code(), e.details()
            trailers = e.trailing_metadata() or ()
        finally:
            stream_done.set()

        if state["silence"]:
            code = grpc.StatusCode.UNAVAILABLE
            details = "heartbeat silence: nothing for %.1f s" % args.heartbeat_timeout
            channel.close()                           # the connection may be dead
            channel = new_channel(args.server, args.receive_window_bytes,
                                  credentials, args.tls_server_name)
            stub = pb_grpc.AlertServiceStub(channel)
        if deadline is not None and time.monotonic() >= deadline:
            return 0
        if code == grpc.StatusCode.OUT_OF_RANGE:
            m = OLDEST_RETAINED.search(details or "")
            if not m:                                 # ahead of the server's log
                log("watch_alerts: stream ended: %s: %s" % (code.name, details))
                return 1
            oldest = int(m.group(1))
            if last is None or oldest > last + 1:
                log("# gap: alerts after %s are no longer retained; continuing "
                    "from the oldest retained, %d" % (last, oldest))
                last = oldest - 1
        elif code in PERMANENT:
            log("watch_alerts: stream ended: %s: %s" % (code.name, details))
            return 1
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED and last is None:
            for key, value in trailers:
                if key == "ta-last-sequence":
                    last = int(value)
        if delivered_any:
            backoff.reset()
        delay = backoff.delay()
        if remaining is not None:
            delay = min(delay, max(deadline - time.monotonic(), 0))
        log("# reconnecting in %.2fs after %s: %s; resuming %s" % (
            delay, code.name, details,
            "live" if last is None else "after %d" % last))
        time.sleep(delay)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="127.0.0.1:50051", help="host:port")
    parser.add_argument("--tickers", help="only these tickers, comma-separated")
    parser.add_argument("--countries",
                        help="only events involving, or companies listed in, these")
    parser.add_argument("--respect-silences", action="store_true",
                        help="leave out alerts an active console silence matches")
    parser.add_argument("--resume-after", type=int,
                        help="replay the retained alerts after this sequence first")
    parser.add_argument("--max-alerts", type=int, help="exit after this many alerts")
    parser.add_argument("--duration-seconds", type=float, help="exit after this long")
    parser.add_argument("--heartbeat-timeout", type=float, default=15.0,
                        help="reconnect after this long without a message (3 x the "
                             "server's 5 s heartbeat)")
    parser.add_argument("--receive-window-bytes", type=int,
                        help="fixed HTTP/2 receive window (default: gRPC's, growing)")
    parser.add_argument("--tls-ca", help="PEM CA bundle the server's certificate "
                        "must chain to (TLS)")
    parser.add_argument("--tls", action="store_true",
                        help="TLS verified against the system's roots")
    parser.add_argument("--tls-cert", help="PEM client certificate (mutual TLS)")
    parser.add_argument("--tls-key", help="PEM key of --tls-cert")
    parser.add_argument("--tls-server-name",
                        help="name the server's certificate must carry")
    parser.add_argument("--insecure", action="store_true",
                        help="allow plaintext to a non-loopback server")
    parser.add_argument("--token-file", help="file whose first line is the bearer "
                        "token; default: TARIFF_ALERT_TOKEN")
    parser.add_argument("--proto-dir", default=os.path.join(here, "..", "..", "proto"))
    args = parser.parse_args()
    stubs = tempfile.mkdtemp(prefix="tariff-alert-stubs-")
    try:
        return watch(args, *load_stubs(args.proto_dir, stubs))
    except KeyboardInterrupt:
        return 0
    finally:
        shutil.rmtree(stubs, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
