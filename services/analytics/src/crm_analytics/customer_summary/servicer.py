"""gRPC edge of crm.analytics.v1.AnalyticsService."""

from __future__ import annotations

import datetime as dt

from crm.analytics.v1 import analytics_pb2 as pb
from crm.analytics.v1 import analytics_pb2_grpc
from crm_analytics.customer_summary.service import customer_summary
from crmkit.clock import SHANGHAI, Clock, utcnow
from crmkit.db import SessionFactory
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity

MAX_RANGE_DAYS = 366


def _date(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidArgument(field, "must be a date YYYY-MM-DD / 日期格式应为YYYY-MM-DD") from exc


def _short_id(value: str, field: str) -> str:
    if len(value) > 64:
        raise InvalidArgument(field, "longer than 64 characters / 超过64个字符")
    if any(ord(ch) < 32 for ch in value):
        raise InvalidArgument(field, "contains control characters / 含有控制字符")
    return value


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    def __init__(self, *, sessions: SessionFactory, clock: Clock = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock

    async def GetCustomerSummary(
        self, request: pb.GetCustomerSummaryRequest, context: RpcContext
    ) -> pb.GetCustomerSummaryResponse:
        today = self._clock().astimezone(SHANGHAI).date()
        to_date = _date(request.to_date, "to_date") or today
        # Clamped so a "to" in the first days of year 1 cannot underflow the calendar.
        from_date = _date(request.from_date, "from_date") or to_date - dt.timedelta(
            days=min(29, (to_date - dt.date.min).days)
        )
        if from_date > to_date:
            raise InvalidArgument("from_date", "is after to_date / 开始日期晚于结束日期")
        if (to_date - from_date).days >= MAX_RANGE_DAYS:
            raise InvalidArgument("from_date", f"range longer than {MAX_RANGE_DAYS} days / 日期范围过长")
        async with self._sessions() as session:
            summary = await customer_summary(
                session,
                identity=current_identity(),
                org_unit_id=_short_id(request.org_unit_id, "org_unit_id") or None,
                owner_id=_short_id(request.owner_id, "owner_id") or None,
                from_date=from_date,
                to_date=to_date,
            )
        return pb.GetCustomerSummaryResponse(
            total=summary.total,
            counts=[
                pb.CustomerCount(
                    org_unit_id=c.org_unit_id,
                    owner_id=c.owner_id,
                    lifecycle_stage=c.lifecycle_stage,
                    type=c.type,
                    count=c.count,
                )
                for c in summary.counts
            ],
            new_per_day=[pb.DailyNewCustomers(date=day.isoformat(), count=n) for day, n in summary.new_per_day],
        )
