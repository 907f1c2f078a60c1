"""JSON logs carry the trace id of the span they were written in."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from opentelemetry import propagate
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from crmkit.telemetry import JsonFormatter, current_trace_id, tracer_provider


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("crm.test", logging.INFO, __file__, 1, message, None, None)


def test_log_line_inside_a_span_carries_its_trace_id() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("reserve_credit") as span:
        line = json.loads(JsonFormatter("crm-credit").format(record("额度已预留")))
        expected = format(span.get_span_context().trace_id, "032x")
    assert line["trace_id"] == expected
    assert line["msg"] == "额度已预留"
    assert line["service"] == "crm-credit"
    assert line["level"] == "info"


def test_log_line_outside_a_span_has_no_trace_id() -> None:
    line = json.loads(JsonFormatter("crm-credit").format(record("idle")))
    assert "trace_id" not in line
    assert current_trace_id() == ""


def test_log_line_keeps_the_exception_text() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        entry = logging.LogRecord("crm.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = json.loads(JsonFormatter("crm-credit").format(entry))
    assert "ValueError: boom" in line["exc"]


class _Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """A stand-in OTLP collector: keeps what it is sent."""

    def __init__(self) -> None:
        self.requests: list[trace_service_pb2.ExportTraceServiceRequest] = []

    def Export(self, request: Any, context: Any) -> trace_service_pb2.ExportTraceServiceResponse:
        self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
def collector() -> Iterator[tuple[_Collector, int]]:
    received = _Collector()
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(received, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield received, port
    finally:
        server.stop(None)


def test_spans_are_exported_to_the_otlp_endpoint_from_the_environment(
    collector: tuple[_Collector, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    received, port = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
    provider = tracer_provider("crm-credit")

    with provider.get_tracer("test").start_as_current_span("reserve_credit"):
        pass
    assert provider.force_flush(timeout_millis=10_000)
    provider.shutdown()

    spans = [
        (resource.resource, span.name)
        for request in received.requests
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert [name for _, name in spans] == ["reserve_credit"]
    attributes = {a.key: a.value.string_value for a in spans[0][0].attributes}
    assert attributes["service.name"] == "crm-credit"


def test_without_an_exporter_spans_are_not_recorded_but_still_carry_trace_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    tracer = tracer_provider("crm-credit").get_tracer("test")

    with tracer.start_as_current_span("reserve_credit") as span:
        context = span.get_span_context()
        line = json.loads(JsonFormatter("crm-credit").format(record("额度已预留")))
        with tracer.start_as_current_span("write_outbox") as child:
            child_trace = child.get_span_context().trace_id

    assert not span.is_recording()
    assert context.is_valid
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert child_trace == context.trace_id


def test_without_an_exporter_a_trace_the_caller_sampled_stays_sampled(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    tracer = tracer_provider("crm-customer").get_tracer("test")
    incoming = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}

    with tracer.start_as_current_span("GetCustomer", context=propagate.extract(incoming)):
        outgoing: dict[str, str] = {}
        propagate.inject(outgoing)

    # Passed on still sampled, so a service further on that exports keeps the whole trace.
    assert outgoing["traceparent"].startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    assert outgoing["traceparent"].endswith("-01")
