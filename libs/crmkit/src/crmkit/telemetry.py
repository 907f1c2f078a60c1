"""JSON logs carrying the trace id, and the OpenTelemetry tracer provider for a process."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # An audit line's fields (`log.info(..., extra={"audit": {...}})`), kept machine-readable.
        audit = getattr(record, "audit", None)
        if isinstance(audit, dict):
            entry["audit"] = audit
        return json.dumps(entry, ensure_ascii=False)


def current_trace_id() -> str:
    span = trace.get_current_span().get_span_context()
    return format(span.trace_id, "032x") if span.is_valid else ""


def setup_logging(service: str, *, json_logs: bool = True, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("nats", "aiosqlite", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# The standard variables of the OTLP exporter; the Helm chart sets the first from `otlpEndpoint`.
OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracer_provider(service: str, *, console: bool = False) -> TracerProvider:
    """A provider whose spans go to the OTLP collector named by the environment, if any.

    With an endpoint, spans are batched to it over OTLP/gRPC; the exporter reads the rest of
    its settings (headers, TLS, timeout, sampler) from the standard OTEL_* variables. Without
    one, the traces this process starts are not recorded (nothing would read them; recording
    cost ~4% of the gateway's time under load): spans are non-recording but still get trace
    ids, which flow into logs, error replies, gRPC metadata and events. A trace a caller
    sampled stays sampled through this process, so processes further on that do export keep
    the whole trace.
    """
    exporting = any(os.environ.get(name) for name in OTLP_ENDPOINT_VARIABLES)
    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or service}),
        sampler=None if exporting or console else ParentBased(root=ALWAYS_OFF),
    )
    if exporting:
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if console:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    return provider


def setup_tracing(service: str, *, console: bool = False) -> None:
    """Install the process's tracer provider once (see tracer_provider)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    trace.set_tracer_provider(tracer_provider(service, console=console))
