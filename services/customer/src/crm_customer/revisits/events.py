"""Revisit task events, written into the caller's transaction through the service's outbox
(`CustomerEvents`' tables and namespace). Each event's aggregate is the task: its id and version,
so a consumer keeps each task's newest state whatever order the events arrive in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import events_pb2
from crm_customer.customers.events import CustomerEvents
from crm_customer.revisits.models import RevisitTask, task_to_proto
from crmkit.events import add_events, outbox_row


def _row(events: CustomerEvents, message: Message, task: RevisitTask, actor_id: str, at: dt.datetime) -> dict[str, Any]:
    _, row = outbox_row(
        message=message,
        tenant_id=task.tenant_id,
        org_unit_id=task.org_unit_id,
        aggregate_id=task.id,
        aggregate_version=task.version,
        occurred_at=at,
        actor_id=actor_id,
        namespace=events.namespace,
    )
    return row


def scheduled(events: CustomerEvents, task: RevisitTask, customer_name: str, at: dt.datetime) -> dict[str, Any]:
    """A new task, or one whose due date moved (the scheduler is the job: no actor)."""
    return _row(events, events_pb2.RevisitTaskScheduled(task=task_to_proto(task, customer_name)), task, "", at)


def overdue(events: CustomerEvents, task: RevisitTask, customer_name: str, at: dt.datetime) -> dict[str, Any]:
    return _row(events, events_pb2.RevisitTaskOverdue(task=task_to_proto(task, customer_name)), task, "", at)


def reassigned(
    events: CustomerEvents,
    task: RevisitTask,
    customer_name: str,
    previous_assignee_id: str,
    actor_id: str,
    at: dt.datetime,
) -> dict[str, Any]:
    message = events_pb2.RevisitTaskReassigned(
        task=task_to_proto(task, customer_name), previous_assignee_id=previous_assignee_id
    )
    return _row(events, message, task, actor_id, at)


def cancelled(
    events: CustomerEvents, task: RevisitTask, customer_name: str, actor_id: str, at: dt.datetime
) -> dict[str, Any]:
    return _row(events, events_pb2.RevisitTaskCancelled(task=task_to_proto(task, customer_name)), task, actor_id, at)


def completed(
    events: CustomerEvents, task: RevisitTask, customer_name: str, actor_id: str, at: dt.datetime
) -> dict[str, Any]:
    return _row(events, events_pb2.RevisitTaskCompleted(task=task_to_proto(task, customer_name)), task, actor_id, at)


async def write(session: AsyncSession, events: CustomerEvents, rows: Sequence[dict[str, Any]]) -> None:
    """The rows in one INSERT, in their order."""
    await add_events(session, events.tables, rows)
