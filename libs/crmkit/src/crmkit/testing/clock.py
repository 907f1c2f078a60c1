"""Moving a running service's test clock from a test, through its gRPC port. The service must run
with CRM_<NAME>_TEST_CLOCK_CONTROL=true (crmkit.clock_control); the caller needs a signed identity
(`TestKeys.metadata`), as for any other call."""

from __future__ import annotations

import datetime as dt

import grpc
from google.protobuf.duration_pb2 import Duration

from crm.testing.v1 import clock_control_pb2, clock_control_pb2_grpc

Metadata = tuple[tuple[str, str], ...]


def _advance_request(by: dt.timedelta) -> clock_control_pb2.AdvanceRequest:
    duration = Duration()
    duration.FromTimedelta(by)
    return clock_control_pb2.AdvanceRequest(duration=duration)


async def advance_service_clock(channel: grpc.aio.Channel, by: dt.timedelta, *, metadata: Metadata) -> dt.datetime:
    """Move the service's clock forward by `by`; returns its new time. Its due jobs start at once."""
    stub = clock_control_pb2_grpc.ClockControlServiceStub(channel)
    moved = await stub.Advance(_advance_request(by), metadata=metadata, timeout=5.0)
    return moved.now.ToDatetime(tzinfo=dt.UTC)


def advance_service_clock_sync(address: str, by: dt.timedelta, *, metadata: Metadata) -> dt.datetime:
    """`advance_service_clock` for synchronous (end-to-end) tests: `address` is host:port."""
    with grpc.insecure_channel(address) as channel:
        stub = clock_control_pb2_grpc.ClockControlServiceStub(channel)
        moved = stub.Advance(_advance_request(by), metadata=metadata, timeout=5.0)
    return moved.now.ToDatetime(tzinfo=dt.UTC)
