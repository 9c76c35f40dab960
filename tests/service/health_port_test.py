"""--health-listen: a plaintext port that answers the gRPC health service
with the main port's statuses and nothing else, for probes that cannot
present a client certificate (Kubernetes' native grpc probes). The main
port is mutual TLS with tokens; the health port must not open it.

Usage: health_port_test.py SERVER_BIN CLI_BIN PROTO_DIR REPO_ROOT
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import grpc

SERVER_BIN, CLI_BIN, PROTO_DIR, ROOT = sys.argv[1:5]
del sys.argv[1:5]
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
import harness  # noqa: E402

STUBS = tempfile.TemporaryDirectory(prefix="health-stubs-")
harness.generate_stubs(PROTO_DIR, STUBS.name)
from tariffalert.v1 import alert_service_pb2 as alert_pb2  # noqa: E402
from tariffalert.v1 import alert_service_pb2_grpc as alert_grpc  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HealthPortTest(unittest.TestCase):
    def test_health_only_in_plaintext_with_the_main_ports_statuses(self):
        h = harness.Harness(SERVER_BIN, CLI_BIN)
        try:
            creds = h.path("creds")
            r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "dev-credentials.sh"),
                                creds, CLI_BIN], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            port = free_port()
            h.start_server(
                "--health-listen", "127.0.0.1:%d" % port,
                security=["--tls-cert", os.path.join(creds, "server.pem"),
                          "--tls-key", os.path.join(creds, "server.key"),
                          "--tls-client-ca", os.path.join(creds, "ca.pem"),
                          "--tokens-file", os.path.join(creds, "tokens.txt")])
            channel = grpc.insecure_channel("127.0.0.1:%d" % port)
            for service in ("tariffalert.v1.TariffEventService",
                            "tariffalert.v1.AlertService", ""):
                self.assertEqual(harness.health_status(channel, service), 1, service)
            # Nothing but health: no way around TLS and tokens.
            with self.assertRaises(grpc.RpcError) as e:
                alert_grpc.AlertServiceStub(channel).ListAlerts(
                    alert_pb2.ListAlertsRequest(), timeout=5)
            self.assertEqual(e.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
            channel.close()
            self.assertEqual(h.stop_server(), 0)
            # Gone with the server.
            with socket.socket() as s:
                s.settimeout(2)
                self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0)
        finally:
            h.close()


if __name__ == "__main__":
    unittest.main()
