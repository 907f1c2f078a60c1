"""Test-only: move a running service's clock over gRPC (crm.testing.v1.ClockControlService).

A service serves it only when its settings say `test_clock_control`
(CRM_<NAME>_TEST_CLOCK_CONTROL=true), which end-to-end tests set to make scheduled work fall due
through the processes; it then runs on a `MovableClock`. Otherwise the service is not registered
at all and a call gets UNIMPLEMENTED. The Helm chart refuses the setting. Calls pass the call
guard like any other, so a caller needs a signed identity.
"""

from __future__ import annotations

import datetime as dt
import logging

from google.protobuf.duration_pb2 import Duration

from crm.testing.v1 import clock_control_pb2, clock_control_pb2_grpc
from crmkit.clock import MovableClock
from crmkit.errors import InvalidArgument
from crmkit.events import timestamp_of
from crmkit.grpc_server import RpcContext

log = logging.getLogger(__name__)


class ClockControlServicer(clock_control_pb2_grpc.ClockControlServiceServicer):
    def __init__(self, service: str, clock: MovableClock) -> None:
        self._service = service
        self._clock = clock

    async def Advance(
        self, request: clock_control_pb2.AdvanceRequest, context: RpcContext
    ) -> clock_control_pb2.AdvanceResponse:
        if not request.HasField("duration"):
            raise InvalidArgument("duration", "required / 必填")
        by = request.duration.ToTimedelta()
        if by <= dt.timedelta(0):
            raise InvalidArgument("duration", "must be positive: the clock only moves forward / 时钟只能向前拨")
        now = self._clock.advance(by)
        log.warning("test clock of crm-%s moved forward by %s to %s", self._service, by, now.isoformat())
        return clock_control_pb2.AdvanceResponse(now=timestamp_of(now), offset=_duration(self._clock.offset))

    async def Get(self, request: clock_control_pb2.GetRequest, context: RpcContext) -> clock_control_pb2.GetResponse:
        return clock_control_pb2.GetResponse(now=timestamp_of(self._clock()), offset=_duration(self._clock.offset))


def _duration(value: dt.timedelta) -> Duration:
    duration = Duration()
    duration.FromTimedelta(value)
    return duration
