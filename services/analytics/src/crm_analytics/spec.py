"""What the analytics service serves and consumes; the kit runs it."""

from __future__ import annotations

from crm_analytics import Base
from crm_analytics.customer_summary.events import CUSTOMER_SUMMARY
from crm_analytics.customer_summary.servicer import AnalyticsServicer
from crm_analytics.revisit_rate.events import REVISIT_RATE
from crmkit.service import ServiceSpec

SPEC = ServiceSpec(
    name="analytics",
    metadata=Base.metadata,
    servicers=[lambda runtime: AnalyticsServicer(sessions=runtime.read_sessions, clock=runtime.clock)],
    subscriptions=[CUSTOMER_SUMMARY, REVISIT_RATE],
)
