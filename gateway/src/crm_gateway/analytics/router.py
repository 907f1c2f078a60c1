"""/api/v1/analytics: read models from the analytics service."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from google.protobuf import json_format

from crm.analytics.v1 import analytics_pb2 as pb
from crm_gateway.web import Caller, State

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


@router.get("/customer-summary", summary="Customer counts and new customers per day 客户概况")
async def customer_summary(
    state: State,
    identity: Caller,
    org_unit_id: Annotated[str | None, Query(max_length=64)] = None,
    owner_id: Annotated[str | None, Query(max_length=64)] = None,
    from_date: Annotated[dt.date | None, Query(alias="from", description="YYYY-MM-DD, Asia/Shanghai")] = None,
    to_date: Annotated[dt.date | None, Query(alias="to", description="YYYY-MM-DD, Asia/Shanghai")] = None,
) -> dict[str, Any]:
    summary = await state.analytics.GetCustomerSummary(
        pb.GetCustomerSummaryRequest(
            org_unit_id=org_unit_id or "",
            owner_id=owner_id or "",
            from_date=from_date.isoformat() if from_date else "",
            to_date=to_date.isoformat() if to_date else "",
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    result = json_format.MessageToDict(
        summary, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    result["total"] = int(summary.total)
    for cell in result["counts"]:
        cell["count"] = int(cell["count"])
    for day in result["new_per_day"]:
        day["count"] = int(day["count"])
    return result
