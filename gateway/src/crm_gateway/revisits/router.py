"""/api/v1/revisit-plans, /api/v1/revisit-tasks and /api/v1/customers/{id}/revisits: revisit
plans (定期回访) and their tasks, each call forwarded to the customer service."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Query
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import revisits_pb2 as rpb
from crm_gateway.customers.schemas import shanghai
from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.profile.schemas import ALERTS_DESCRIPTION, AlertOut, row_alerts
from crm_gateway.web import Caller, GatewayState, State
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["revisits"])

Tier = Literal["vip", "key", "normal"]
Assignee = Literal["owner", "service"]
Status = Literal["open", "done", "cancelled"]
InteractionKind = Literal["phone", "wechat", "visit", "email", "meeting", "other"]
ASSIGNEES = ProtoEnum(rpb.RevisitAssignee)
STATUSES = ProtoEnum(rpb.RevisitTaskStatus)
KINDS = ProtoEnum(fpb.InteractionKind)
DUE = {
    "today": rpb.REVISIT_DUE_TODAY,
    "overdue": rpb.REVISIT_DUE_OVERDUE,
    "this_week": rpb.REVISIT_DUE_THIS_WEEK,
    "open": rpb.REVISIT_DUE_ALL_OPEN,
}


class RevisitPlan(ApiModel):
    tier: Tier = Field(description="客户层级：vip (VIP), key (重点), normal (一般)")
    interval_days: int = Field(
        ge=0, le=365, description="回访周期（天），0 表示该层级不回访 / days between revisits, 0: none"
    )
    assignee: Assignee = Field(description="回访人：owner 负责人，service 客服（客户所在组织及上级的客服共享队列）")


class RevisitPlansIn(ApiModel):
    plans: list[RevisitPlan] = Field(
        max_length=3, description="每个层级至多一次；未列出的层级恢复默认 / each tier once"
    )


class RevisitPlansOut(BaseModel):
    plans: list[RevisitPlan] = Field(
        description="vip, key, normal; 默认 VIP 14 天、重点 30 天、一般 60 天，均由负责人回访"
    )


class RevisitTaskOut(BaseModel):
    id: str
    customer_id: str
    customer_name: str
    org_unit_id: str = Field(description="客户所在组织 / the customer's org unit")
    assignee_kind: Assignee
    assignee_id: str = Field(description="负责人；客服队列为空 / the owner, empty for the service queue")
    assignee_name: str = Field(description="Empty for the service queue or a user who is gone")
    due_date: dt.date = Field(description="应回访日期（Asia/Shanghai）")
    status: Status = Field(description="open 待回访, done 已完成, cancelled 已取消")
    tier: Tier
    tier_label: str = Field("", description="The tenant's name of the tier, e.g. VIP, 重点, 一般")
    interval_days: int
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    overdue_at: dt.datetime | None = Field(description="逾期通知时间；未逾期为 null / when announced overdue")
    completed_at: dt.datetime | None = Field(description="Asia/Shanghai")
    completed_by: str
    completed_by_name: str
    satisfaction: int | None = Field(description="满意度 1–5；未完成为 null")
    new_needs: str = Field(description="新需求")
    follow_up_id: str | None = Field(description="完成时记录的跟进 / the follow-up it logged")
    on_time: bool | None = Field(description="是否按期（在应回访日当天或之前完成）；未完成为 null")
    cancel_reason: str = Field(description="pool（进入公海）或 archived（已归档）")
    alerts: list[AlertOut] = Field(default_factory=list, description=ALERTS_DESCRIPTION)


class RevisitTaskPage(BaseModel):
    items: list[RevisitTaskOut]
    next_page_token: str | None


class RevisitCompletionIn(ApiModel):
    """完成回访：记录满意度和新需求，并作为一条跟进记录。"""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    satisfaction: int = Field(ge=1, le=5, description="满意度 1（很不满意）到 5（很满意），必填")
    new_needs: str = Field("", max_length=1000, description="新需求")
    kind: InteractionKind = Field(
        description="回访方式：电话 phone, 微信 wechat, 拜访 visit, 邮件 email, 会议 meeting, 其他 other"
    )
    content: str = Field(min_length=1, max_length=2000, description="回访内容")
    contact_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(default_factory=list, max_length=20)
    occurred_at: AwareDatetime | None = Field(None, description="When it happened; default now; not in the future")
    next_follow_up_date: dt.date | None = Field(None, description="下次跟进日期（Asia/Shanghai），今天或以后")
    request_id: str | None = Field(None, max_length=64, description="Idempotency key: a retry returns the first result")


def _plan(plan: rpb.RevisitPlan) -> RevisitPlan:
    return RevisitPlan(
        tier=cast(Tier, plan.tier),
        interval_days=plan.interval_days,
        assignee=cast(Assignee, ASSIGNEES.from_proto(plan.assignee)),
    )


async def _render(state: GatewayState, identity: Identity, tasks: list[rpb.RevisitTask]) -> list[RevisitTaskOut]:
    names = await state.display_names.lookup(
        tenant_id=identity.tenant_id, user_ids={u for t in tasks for u in (t.assignee_id, t.completed_by) if u}
    )
    labels = await state.profile_labels.for_caller(state, identity)
    done = rpb.REVISIT_TASK_STATUS_DONE
    return [
        RevisitTaskOut(
            id=t.id,
            customer_id=t.customer_id,
            customer_name=t.customer_name,
            org_unit_id=t.org_unit_id,
            assignee_kind=cast(Assignee, ASSIGNEES.from_proto(t.assignee_kind)),
            assignee_id=t.assignee_id,
            assignee_name=names.get(t.assignee_id, ""),
            due_date=dt.date.fromisoformat(t.due_date),
            status=cast(Status, STATUSES.from_proto(t.status)),
            tier=cast(Tier, t.tier),
            tier_label=labels.tier("value", t.tier),
            interval_days=t.interval_days,
            created_at=shanghai(t.create_time),
            overdue_at=shanghai(t.overdue_time) if t.HasField("overdue_time") else None,
            completed_at=shanghai(t.complete_time) if t.HasField("complete_time") else None,
            completed_by=t.completed_by,
            completed_by_name=names.get(t.completed_by, ""),
            satisfaction=t.satisfaction if t.status == done else None,
            new_needs=t.new_needs,
            follow_up_id=t.interaction_id or None,
            on_time=t.on_time if t.status == done else None,
            cancel_reason=t.cancel_reason,
            alerts=row_alerts(t.special_requirements, labels),
        )
        for t in tasks
    ]


@router.get("/revisit-plans", summary="Revisit plans per tier 回访计划")
async def get_revisit_plans(state: State, identity: Caller) -> RevisitPlansOut:
    found = await state.customers.GetRevisitPlans(
        rpb.GetRevisitPlansRequest(), metadata=state.identity_metadata.for_caller(identity)
    )
    return RevisitPlansOut(plans=[_plan(p) for p in found.plans])


@router.put(
    "/revisit-plans",
    summary="Set the revisit plans 设置回访计划",
    description="Admins and bosses. Open tasks keep their date and assignee; each customer's next task follows the "
    "new plan.",
)
async def set_revisit_plans(body: RevisitPlansIn, state: State, identity: Caller) -> RevisitPlansOut:
    saved = await state.customers.SetRevisitPlans(
        rpb.SetRevisitPlansRequest(
            plans=[
                rpb.RevisitPlan(
                    tier=p.tier,
                    interval_days=p.interval_days,
                    assignee=ASSIGNEES.to_proto(p.assignee),  # type: ignore[arg-type]
                )
                for p in body.plans
            ]
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return RevisitPlansOut(plans=[_plan(p) for p in saved.plans])


@router.get(
    "/revisit-tasks",
    summary="Open revisit tasks: yours, your queue, your team's 回访任务",
    description="Open tasks due today, before today (overdue), from today to Sunday (this_week) or whenever (open), "
    "in Asia/Shanghai days, earliest first. A rep sees their own; service staff the service queue of their org unit "
    "and below; a supervisor their subtree's (`mine=true`: only their own).",
)
async def list_revisit_tasks(
    state: State,
    identity: Caller,
    due: Literal["today", "overdue", "this_week", "open"] = "today",
    mine: bool = False,
    assignee_id: Annotated[str | None, Query(max_length=36)] = None,
    org_unit_id: Annotated[str | None, Query(max_length=36)] = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> RevisitTaskPage:
    found = await state.customers.ListRevisitTasks(
        rpb.ListRevisitTasksRequest(
            due=DUE[due],
            mine=mine,
            assignee_id=assignee_id or "",
            org_unit_id=org_unit_id or "",
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    items = await _render(state, identity, list(found.tasks))
    return RevisitTaskPage(items=items, next_page_token=found.next_page_token or None)


@router.get(
    "/customers/{customer_id}/revisits",
    summary="A customer's revisits, latest due first 回访记录",
    description="Every revisit of the customer with its satisfaction and new needs, for anyone who may see it.",
)
async def list_customer_revisits(
    customer_id: str,
    state: State,
    identity: Caller,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> RevisitTaskPage:
    found = await state.customers.ListCustomerRevisits(
        rpb.ListCustomerRevisitsRequest(
            customer_id=path_id(customer_id, "customer_id"), page_size=page_size, page_token=page_token
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    items = await _render(state, identity, list(found.tasks))
    return RevisitTaskPage(items=items, next_page_token=found.next_page_token or None)


def _stamp(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    try:
        stamp.FromDatetime(moment.astimezone(dt.UTC))
    except (OverflowError, ValueError) as exc:
        raise InvalidArgument("occurred_at", "is not a valid time / 时间无效") from exc
    return stamp


@router.post(
    "/revisit-tasks/{task_id}/complete",
    summary="Complete a revisit 完成回访",
    description="The assignee (the owner; for the service queue, service staff over the customer) or their "
    "supervisors. Logs a follow-up (it counts as one) and marks the task done, on time when done on or before its "
    "due date (Asia/Shanghai). A task of a customer you cannot see is 404; one you see but is not yours, 403.",
)
async def complete_revisit_task(
    task_id: str, body: RevisitCompletionIn, state: State, identity: Caller
) -> RevisitTaskOut:
    request = rpb.CompleteRevisitTaskRequest(
        request_id=body.request_id or str(uuid.uuid4()),
        task_id=path_id(task_id, "task_id"),
        satisfaction=body.satisfaction,
        new_needs=body.new_needs,
        kind=KINDS.to_proto(body.kind),  # type: ignore[arg-type]
        content=body.content,
        contact_ids=body.contact_ids,
        next_follow_up_date=body.next_follow_up_date.isoformat() if body.next_follow_up_date else "",
    )
    if body.occurred_at is not None:
        request.occur_time.CopyFrom(_stamp(body.occurred_at))
    done = await state.customers.CompleteRevisitTask(request, metadata=state.identity_metadata.for_caller(identity))
    return (await _render(state, identity, [done.task]))[0]
