"""JSON logs carry the trace id of the span they were written in."""

from __future__ import annotations

import json
import logging
import sys

from opentelemetry.sdk.trace import TracerProvider

from crmkit.telemetry import JsonFormatter, current_trace_id


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
