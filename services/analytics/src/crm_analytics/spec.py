"""What the analytics service serves and consumes; the kit runs it."""

from __future__ import annotations

from pathlib import Path

from crm.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from crm_analytics import Base
from crm_analytics.customer_summary.events import CUSTOMER_SUMMARY
from crm_analytics.customer_summary.servicer import AnalyticsServicer
from crmkit.service import GrpcService, ServiceSpec

SPEC = ServiceSpec(
    name="analytics",
    metadata=Base.metadata,
    migrations=Path(__file__).resolve().parent / "migrations" / "versions",
    grpc=[
        GrpcService(
            descriptor=analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"],
            add_to_server=analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server,
            build=lambda runtime: AnalyticsServicer(sessions=runtime.read_sessions, clock=runtime.clock),
        )
    ],
    subscriptions=[CUSTOMER_SUMMARY],
)
