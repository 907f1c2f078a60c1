"""Handlers for the customer service's revisit events: each upserts its task's fact row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import events_pb2
from crm.customer.v1 import revisits_pb2 as rpb
from crm.events.v1.envelope_pb2 import Envelope
from crm_analytics.revisit_rate.models import RevisitTaskFact
from crmkit.consumer import PermanentEventError
from crmkit.enums import ProtoEnum
from crmkit.service import Subscription

ASSIGNEES = ProtoEnum(rpb.RevisitAssignee)
STATUSES = ProtoEnum(rpb.RevisitTaskStatus)

RevisitEvent = (
    events_pb2.RevisitTaskScheduled
    | events_pb2.RevisitTaskCompleted
    | events_pb2.RevisitTaskOverdue
    | events_pb2.RevisitTaskReassigned
    | events_pb2.RevisitTaskCancelled
)


async def apply_task(session: AsyncSession, envelope: Envelope, task: rpb.RevisitTask) -> None:
    """Apply the task as it was after the event, unless a newer version is already in."""
    if not task.id or envelope.aggregate_id != task.id:
        raise PermanentEventError(f"event {envelope.id} carries no revisit task of its aggregate")
    if task.status not in (
        rpb.REVISIT_TASK_STATUS_OPEN,
        rpb.REVISIT_TASK_STATUS_DONE,
        rpb.REVISIT_TASK_STATUS_CANCELLED,
    ):
        raise PermanentEventError(f"event {envelope.id} has unknown task status {task.status}")
    if task.assignee_kind not in (rpb.REVISIT_ASSIGNEE_OWNER, rpb.REVISIT_ASSIGNEE_SERVICE):
        raise PermanentEventError(f"event {envelope.id} has unknown assignee kind {task.assignee_kind}")
    version = envelope.aggregate_version or task.version
    fact = await session.get(RevisitTaskFact, (envelope.tenant_id, task.id), with_for_update=True)
    if fact is not None and fact.version >= version:
        return
    values = {
        "customer_id": task.customer_id,
        "org_unit_id": task.org_unit_id,
        "org_path": task.org_path,
        "assignee_kind": ASSIGNEES.from_proto(task.assignee_kind),
        "assignee_id": task.assignee_id,
        "due_date": _date(envelope, task.due_date),
        "due_month": task.due_date[:7],
        "status": STATUSES.from_proto(task.status),
        "on_time": task.on_time,
        "satisfaction": task.satisfaction,
        "version": version,
    }
    if fact is None:
        session.add(RevisitTaskFact(tenant_id=envelope.tenant_id, task_id=task.id, **values))
    else:
        for key, value in values.items():
            setattr(fact, key, value)


def _date(envelope: Envelope, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise PermanentEventError(f"event {envelope.id} has a bad due date {value!r}") from exc


async def on_revisit_event(session: AsyncSession, event: RevisitEvent, envelope: Envelope) -> None:
    """Every revisit event carries the task as it was after it."""
    await apply_task(session, envelope, event.task)


REVISIT_RATE = Subscription(
    "revisit-rate",
    {
        events_pb2.RevisitTaskScheduled: on_revisit_event,
        events_pb2.RevisitTaskCompleted: on_revisit_event,
        events_pb2.RevisitTaskOverdue: on_revisit_event,
        events_pb2.RevisitTaskReassigned: on_revisit_event,
        events_pb2.RevisitTaskCancelled: on_revisit_event,
    },
)
