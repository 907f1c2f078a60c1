"""Revisit validation at the gRPC edge: a tenant's plans, a completion, a task query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import revisits_pb2 as rpb
from crm_customer.follow_ups.validation import interaction_input
from crm_customer.revisits.models import ASSIGNEES, MAX_INTERVAL_DAYS, TIERS, Plan
from crm_customer.revisits.service import Completion
from crmkit.clock import shanghai_date
from crmkit.errors import InvalidArgument
from crmkit.validate import text

MAX_NEW_NEEDS = 1000


def plans(values: Sequence[rpb.RevisitPlan]) -> dict[str, Plan]:
    found: dict[str, Plan] = {}
    for index, value in enumerate(values):
        at = f"plans[{index}]"
        if value.tier not in TIERS:
            raise InvalidArgument(f"{at}.tier", "must be vip, key or normal / 客户层级须为 vip、key 或 normal")
        if value.tier in found:
            raise InvalidArgument(f"{at}.tier", f"{value.tier!r} is listed twice / 客户层级重复")
        if not 0 <= value.interval_days <= MAX_INTERVAL_DAYS:
            raise InvalidArgument(
                f"{at}.interval_days",
                f"must be 0 (no plan) to {MAX_INTERVAL_DAYS} days / 回访周期须为0（不回访）到{MAX_INTERVAL_DAYS}天",
            )
        assignee = ASSIGNEES.parse(value.assignee, f"{at}.assignee", unknown="unknown assignee / 未知的回访人")
        found[value.tier] = Plan(value.interval_days, assignee)
    return found


def completion(request: rpb.CompleteRevisitTaskRequest, now: dt.datetime) -> Completion:
    """Satisfaction 1 to 5, new needs, and the follow-up it logs, checked as any follow-up is (the
    refusal names the request's own field: `kind`, `content`, `contact_ids[0]` ...)."""
    if request.satisfaction == 0:
        raise InvalidArgument("satisfaction", "is required, 1 to 5 / 满意度必填，1到5分")
    if not 1 <= request.satisfaction <= 5:
        raise InvalidArgument("satisfaction", "must be 1 to 5 / 满意度须为1到5分")
    new_needs = text(request.new_needs, "new_needs", max_len=MAX_NEW_NEEDS, multiline=True)
    message = fpb.Interaction(
        kind=request.kind,
        content=request.content,
        contact_ids=list(request.contact_ids),
        next_follow_up_date=request.next_follow_up_date,
    )
    if request.HasField("occur_time"):
        message.occur_time.CopyFrom(request.occur_time)
    try:
        follow_up = interaction_input(message, now)
    except InvalidArgument as refusal:
        raise InvalidArgument(
            refusal.field.removeprefix("interaction.") if refusal.field else "", refusal.reason
        ) from None
    return Completion(satisfaction=request.satisfaction, new_needs=new_needs, follow_up=follow_up)


def due_window(due: int, now: dt.datetime) -> tuple[dt.date | None, dt.date | None]:
    """The (first, last) due dates a list covers, in Asia/Shanghai days; None is open-ended."""
    today = shanghai_date(now)
    if due == rpb.REVISIT_DUE_TODAY:
        return today, today
    if due == rpb.REVISIT_DUE_OVERDUE:
        return None, today - dt.timedelta(days=1)
    if due == rpb.REVISIT_DUE_THIS_WEEK:
        return today, today + dt.timedelta(days=6 - today.weekday())
    if due == rpb.REVISIT_DUE_ALL_OPEN:
        return None, None
    if due == rpb.REVISIT_DUE_UNSPECIFIED:
        raise InvalidArgument("due", "is required / 必填")
    raise InvalidArgument("due", "unknown due window / 未知的到期范围")
