"""gRPC edge of crm.analytics.v1.AnalyticsService."""

from __future__ import annotations

import datetime as dt

from crm.analytics.v1 import analytics_pb2 as pb
from crm.analytics.v1 import analytics_pb2_grpc
from crm_analytics.customer_summary.service import customer_summary, ownership_summary
from crm_analytics.revisit_rate.servicer import RevisitRateRpcs
from crmkit.clock import SHANGHAI, Clock, utcnow
from crmkit.db import SessionFactory
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.validate import identifier, iso_date

MAX_RANGE_DAYS = 366
# Filters name org units and users; longer than any id, shorter than anything harmful.
FILTER_ID_MAX = 64


def _filter_id(value: str, field_name: str) -> str | None:
    return identifier(value, field_name, required=False, max_len=FILTER_ID_MAX) or None


class AnalyticsServicer(RevisitRateRpcs, analytics_pb2_grpc.AnalyticsServiceServicer):
    def __init__(self, *, sessions: SessionFactory, clock: Clock = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock

    def _range(self, from_value: str, to_value: str) -> tuple[dt.date, dt.date]:
        """A request's inclusive day range; default the 30 days up to today (Asia/Shanghai)."""
        today = self._clock().astimezone(SHANGHAI).date()
        to_date = iso_date(to_value, "to_date") or today
        # Clamped so a "to" in the first days of year 1 cannot underflow the calendar.
        from_date = iso_date(from_value, "from_date") or to_date - dt.timedelta(
            days=min(29, (to_date - dt.date.min).days)
        )
        if from_date > to_date:
            raise InvalidArgument("from_date", "is after to_date / 开始日期晚于结束日期")
        if (to_date - from_date).days >= MAX_RANGE_DAYS:
            raise InvalidArgument("from_date", f"range longer than {MAX_RANGE_DAYS} days / 日期范围过长")
        return from_date, to_date

    async def GetOwnershipSummary(
        self, request: pb.GetOwnershipSummaryRequest, context: RpcContext
    ) -> pb.GetOwnershipSummaryResponse:
        from_date, to_date = self._range(request.from_date, request.to_date)
        async with self._sessions() as session:
            summary = await ownership_summary(
                session,
                identity=current_identity(),
                org_unit_id=_filter_id(request.org_unit_id, "org_unit_id"),
                from_date=from_date,
                to_date=to_date,
                now=self._clock(),
            )
        return pb.GetOwnershipSummaryResponse(
            pools=[pb.PoolSize(pool_id=pool_id, customers=n) for pool_id, n in summary.pools],
            movements=[
                pb.DailyPoolMovements(date=day.isoformat(), pool_id=pool_id, kind=kind, count=n)
                for day, pool_id, kind, n in summary.movements
            ],
            coverage=[
                pb.FollowUpCoverage(owner_id=owner, customers=n, contacted_30d=c) for owner, n, c in summary.coverage
            ],
        )

    async def GetCustomerSummary(
        self, request: pb.GetCustomerSummaryRequest, context: RpcContext
    ) -> pb.GetCustomerSummaryResponse:
        from_date, to_date = self._range(request.from_date, request.to_date)
        async with self._sessions() as session:
            summary = await customer_summary(
                session,
                identity=current_identity(),
                org_unit_id=identifier(request.org_unit_id, "org_unit_id", required=False, max_len=FILTER_ID_MAX)
                or None,
                owner_id=identifier(request.owner_id, "owner_id", required=False, max_len=FILTER_ID_MAX) or None,
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
