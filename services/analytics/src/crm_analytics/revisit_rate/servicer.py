"""gRPC edge of 回访率: GetRevisitRate, a mixin of crm.analytics.v1.AnalyticsService."""

from __future__ import annotations

import re

from crm.analytics.v1 import revisit_rate_pb2 as rpb
from crm_analytics.revisit_rate.service import RateRow, revisit_rate
from crmkit.clock import Clock, shanghai_date
from crmkit.db import SessionFactory
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.validate import identifier

MAX_MONTHS = 24
DEFAULT_MONTHS = 6
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
# Filters name org units and users; longer than any id, shorter than anything harmful.
FILTER_ID_MAX = 64


def _month(value: str, field_name: str) -> tuple[int, int] | None:
    if not value:
        return None
    if not MONTH.fullmatch(value):
        raise InvalidArgument(field_name, "must be a month YYYY-MM / 月份格式应为YYYY-MM")
    return int(value[:4]), int(value[5:])


def _months_between(first: tuple[int, int], last: tuple[int, int]) -> int:
    return (last[0] - first[0]) * 12 + last[1] - first[1] + 1


def _shift(month: tuple[int, int], by: int) -> tuple[int, int]:
    index = month[0] * 12 + month[1] - 1 + by
    return index // 12, index % 12 + 1


def _to_proto(row: RateRow) -> rpb.RevisitRate:
    return rpb.RevisitRate(
        month=row.month,
        assignee_kind=row.assignee_kind,
        assignee_id=row.assignee_id,
        org_unit_id=row.org_unit_id,
        due=row.due,
        done_on_time=row.done_on_time,
        done_late=row.done_late,
        rate=row.rate,
    )


class RevisitRateRpcs:
    """GetRevisitRate; the servicer that composes it provides the read sessions and the clock."""

    _sessions: SessionFactory
    _clock: Clock

    def _month_range(self, request: rpb.GetRevisitRateRequest) -> tuple[str, str]:
        """The request's inclusive months; default the six up to this one (Asia/Shanghai)."""
        today = shanghai_date(self._clock())
        last = _month(request.to_month, "to_month") or (today.year, today.month)
        first = _month(request.from_month, "from_month") or _shift(last, 1 - DEFAULT_MONTHS)
        if first > last:
            raise InvalidArgument("from_month", "is after to_month / 开始月份晚于结束月份")
        if _months_between(first, last) > MAX_MONTHS:
            raise InvalidArgument("from_month", f"range longer than {MAX_MONTHS} months / 月份范围过长")
        return f"{first[0]:04d}-{first[1]:02d}", f"{last[0]:04d}-{last[1]:02d}"

    async def GetRevisitRate(
        self, request: rpb.GetRevisitRateRequest, context: RpcContext
    ) -> rpb.GetRevisitRateResponse:
        from_month, to_month = self._month_range(request)
        async with self._sessions() as session:
            rate = await revisit_rate(
                session,
                identity=current_identity(),
                from_month=from_month,
                to_month=to_month,
                org_unit_id=identifier(request.org_unit_id, "org_unit_id", required=False, max_len=FILTER_ID_MAX)
                or None,
                assignee_id=identifier(request.assignee_id, "assignee_id", required=False, max_len=FILTER_ID_MAX)
                or None,
                today=shanghai_date(self._clock()),
            )
        return rpb.GetRevisitRateResponse(
            by_assignee=[_to_proto(r) for r in rate.by_assignee],
            by_org_unit=[_to_proto(r) for r in rate.by_org_unit],
            totals=[_to_proto(r) for r in rate.totals],
        )
