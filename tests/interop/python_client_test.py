"""Interop: a client on Debian's grpcio (/usr/bin/python3), with stubs generated
from the project's protos at test time, publishes an event and receives its
alerts over a stream from the real server.

Usage: python_client_test.py SERVER_BIN CLI_BIN PROTO_DIR
"""

import os
import queue
import subprocess
import sys
import threading
import unittest

import grpc

import harness

SERVER_BIN, CLI_BIN, PROTO_DIR = sys.argv[1:4]
del sys.argv[1:4]


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = harness.Harness(SERVER_BIN, CLI_BIN)
        harness.generate_stubs(PROTO_DIR, cls.h.path(""))
        global pb, events_grpc, alerts_pb, alerts_grpc
        from tariffalert.v1 import tariff_event_pb2 as pb
        from tariffalert.v1 import tariff_event_service_pb2 as events_pb
        from tariffalert.v1 import tariff_event_service_pb2_grpc as events_grpc
        from tariffalert.v1 import alert_service_pb2 as alerts_pb
        from tariffalert.v1 import alert_service_pb2_grpc as alerts_grpc
        from tariffalert.v1 import tariff_book_service_pb2 as book_pb
        from tariffalert.v1 import tariff_book_service_pb2_grpc as book_grpc
        cls.events_pb = events_pb
        cls.book_pb = book_pb
        cls.book_grpc = book_grpc
        from tariffalert.v1 import alert_pb2
        cls.alert_pb = alert_pb2
        loaded = cls.h.load(cls.h.write("companies.csv", harness.COMPANIES),
                            cls.h.write("exposures.csv", harness.EXPOSURES))
        assert loaded.returncode == 0, loaded.stderr
        cls.h.start_server("--heartbeat-seconds", "0.2")
        cls.channel = grpc.insecure_channel(cls.h.address)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.h.close()

    def subscribe(self, request):
        """Reads the stream on a thread into a queue; returns (queue, call)."""
        stub = alerts_grpc.AlertServiceStub(self.channel)
        call = stub.SubscribeAlerts(request, timeout=30)
        messages = queue.Queue()

        def read():
            try:
                for response in call:
                    messages.put(response)
            except grpc.RpcError as e:
                messages.put(e)
        threading.Thread(target=read, daemon=True).start()
        return messages, call

    def test_publish_then_receive_the_alerts_over_a_stream(self):
        request = alerts_pb.SubscribeAlertsRequest()
        request.filter.tickers.extend(["AAPL", "BBY"])
        messages, call = self.subscribe(request)
        first = messages.get(timeout=10)
        self.assertTrue(first.HasField("heartbeat"), first)

        event = pb.TariffEvent(event_id="py-us-cn", imposing_country="US",
                               target_countries=["CN"], new_rate_pct=145,
                               stage=pb.STAGE_EFFECTIVE, headline="from python")
        stub = events_grpc.TariffEventServiceStub(self.channel)
        response = stub.PublishEvent(self.events_pb.PublishEventRequest(event=event),
                                     timeout=10)
        self.assertFalse(response.duplicate)
        self.assertGreater(response.alert_count, 0)

        received = []
        while len(received) < 2:
            message = messages.get(timeout=10)
            self.assertNotIsInstance(message, grpc.RpcError)
            received.extend(message.alerts)
        call.cancel()
        self.assertEqual([a.subject for a in received], ["BBY", "AAPL"])
        sequences = [a.sequence for a in received]
        self.assertEqual(sequences, sorted(sequences))
        for a in received:
            self.assertEqual(a.event_id, "py-us-cn")
            self.assertLess(a.score_bps, 0)
            self.assertIn("0% -> 145%", a.explanation)
            self.assertGreaterEqual(a.sequence, response.first_sequence)
            self.assertLessEqual(a.sequence, response.last_sequence)
            total = sum(c.bps for c in a.contributions)
            self.assertAlmostEqual(total, a.score_bps, places=6)

        again = stub.PublishEvent(self.events_pb.PublishEventRequest(event=event),
                                  timeout=10)
        self.assertTrue(again.duplicate)
        self.assertEqual(again.first_sequence, response.first_sequence)

    def test_bad_input_is_invalid_argument_naming_the_field(self):
        stub = events_grpc.TariffEventServiceStub(self.channel)
        event = pb.TariffEvent(event_id="py-bad", imposing_country="United States",
                               new_rate_pct=10, stage=pb.STAGE_EFFECTIVE)
        with self.assertRaises(grpc.RpcError) as caught:
            stub.PublishEvent(self.events_pb.PublishEventRequest(event=event), timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(caught.exception.details().startswith("event.imposing_country"))

    def test_stacked_tariff_and_a_what_if_from_python(self):
        publish = events_grpc.TariffEventServiceStub(self.channel).PublishEvent
        book = self.book_grpc.TariffBookServiceStub(self.channel)
        for event_id, measure, rate in (("py-fent", "py-us-cn-fentanyl", 20),
                                        ("py-recip", "py-us-cn-recip", 125)):
            publish(self.events_pb.PublishEventRequest(event=pb.TariffEvent(
                event_id=event_id, imposing_country="US", target_countries=["CN"],
                measure_id=measure, new_rate_pct=rate, stage=pb.STAGE_EFFECTIVE)),
                timeout=10)
        tariff = book.GetTariff(self.book_pb.GetTariffRequest(
            imposing_country="US", exporting_country="CN", product_code="85"), timeout=10)
        self.assertGreaterEqual(tariff.effective_rate_pct, 145)
        ids = [m.measure_id for m in tariff.measures]
        self.assertIn("py-us-cn-fentanyl", ids)
        self.assertIn("py-us-cn-recip", ids)

        pause = pb.TariffEvent(
            event_id="py-what-if", imposing_country="US", target_countries=["CN"],
            measure_id="py-us-cn-recip", new_rate_pct=10, stage=pb.STAGE_PAUSED)
        pause.expires_time.FromJsonString("2100-01-01T00:00:00Z")
        answer = book.ScoreScenario(self.book_pb.ScoreScenarioRequest(
            events=[pause], holdings=[self.alert_pb.Holding(
                ticker="AAPL", position_value=1e6)]), timeout=10)
        self.assertEqual(len(answer.steps), 1)
        change = answer.steps[0].rate_changes[0]
        self.assertAlmostEqual(change.previous_rate_pct - change.new_rate_pct, 115)
        self.assertGreater(answer.steps[0].portfolio.impact_value, 0)
        self.assertEqual(answer.book_revision, tariff.book_revision)
        after = book.GetTariff(self.book_pb.GetTariffRequest(
            imposing_country="US", exporting_country="CN", product_code="85"), timeout=10)
        self.assertEqual(after.book_revision, tariff.book_revision)
        self.assertEqual(after.effective_rate_pct, tariff.effective_rate_pct)

    def test_health_service_reports_serving(self):
        # grpc.health.v1.Health/Check by hand: HealthCheckRequest{service=1}
        # and HealthCheckResponse{status=1}; SERVING is 1.
        check = self.channel.unary_unary("/grpc.health.v1.Health/Check",
                                         request_serializer=lambda b: b,
                                         response_deserializer=lambda b: b)
        name = b"tariffalert.v1.AlertService"
        reply = check(b"\x0a" + bytes([len(name)]) + name, timeout=10)
        self.assertEqual(reply, b"\x08\x01")

    def test_reflection_lists_the_services_and_health(self):
        # grpc.reflection.v1alpha ServerReflectionInfo by hand: a request with
        # list_services (field 7) set; the reply names every service.
        info = self.channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=lambda b: b, response_deserializer=lambda b: b)
        replies = list(info(iter([b"\x3a\x00"]), timeout=10))
        self.assertEqual(len(replies), 1)
        for service in (b"tariffalert.v1.TariffEventService", b"tariffalert.v1.AlertService",
                        b"tariffalert.v1.TariffBookService", b"grpc.health.v1.Health"):
            self.assertIn(service, replies[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
