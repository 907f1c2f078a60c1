"""Garbage-collector tuning for long-running servers.

A full collection walks every tracked object. A gateway or service holds ~300,000 of them
after start-up (FastAPI, pydantic, protobuf descriptors, OpenTelemetry), so each full pass
stalled every in-flight request for ~90 ms on the development machine and set the p99
(docs/performance.md). Frozen objects are skipped by the collector; what start-up built lives
as long as the process anyway.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Call once the process has finished starting, just before it serves."""
    gc.collect()
    gc.freeze()
