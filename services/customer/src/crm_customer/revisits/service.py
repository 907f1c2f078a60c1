"""Revisit plans and tasks: the tenant's plans, lists of open tasks, a customer's history,
completing a task (a follow-up logged and the task done in one transaction), and open tasks
following their customer when its owner changes (owner_changes.py). Scheduling and overdue tasks are the job's
(revisits/job.py). Functions take the session and never commit: the caller does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.customers.service import get_customer
from crm_customer.follow_ups.models import Interaction, InteractionInput
from crm_customer.follow_ups.service import log_interaction
from crm_customer.revisits import events as revisit_events
from crm_customer.revisits.models import (
    CANCELLED,
    DEFAULT_PLANS,
    DONE,
    OPEN,
    Plan,
    RevisitPlanRow,
    RevisitTask,
)
from crmkit.clock import shanghai_date
from crmkit.errors import FailedPrecondition, NotFound, PermissionDenied
from crmkit.identity import DataScope, Identity, Role
from crmkit.jobs import request_run
from crmkit.paging import KeysetOrder
from crmkit.scope import scope_clause

PLAN_EDITORS = (Role.ADMIN, Role.BOSS)
EARLIEST_DUE_FIRST = KeysetOrder("due_asc", RevisitTask.due_date, RevisitTask.id, descending=False, value_kind="date")
LATEST_DUE_FIRST = KeysetOrder("due_desc", RevisitTask.due_date, RevisitTask.id, descending=True, value_kind="date")
# What a completed revisit's follow-up says under "outcome" (at most 500 characters).
MAX_OUTCOME = 500


# --------------------------------------------------------------------------- plans


# The periodic job that schedules revisit tasks (revisits.job).
REVISIT_JOB_NAME = "revisit-tasks"


async def plans_of(session: AsyncSession, *, tenant_id: str) -> dict[str, Plan]:
    """The tenant's plan per tier, the defaults where it set none."""
    rows = (await session.scalars(select(RevisitPlanRow).where(RevisitPlanRow.tenant_id == tenant_id))).all()
    return {**DEFAULT_PLANS, **{row.tier: Plan(row.interval_days, row.assignee) for row in rows}}


async def set_plans(session: AsyncSession, *, identity: Identity, plans: Mapping[str, Plan]) -> dict[str, Plan]:
    """Replace the tenant's plans (admins and bosses). Open tasks keep their date and assignee;
    the next task of each customer follows the new plan."""
    identity.require_role(*PLAN_EDITORS)
    await session.execute(delete(RevisitPlanRow).where(RevisitPlanRow.tenant_id == identity.tenant_id))
    session.add_all(
        RevisitPlanRow(
            tenant_id=identity.tenant_id, tier=tier, interval_days=plan.interval_days, assignee=plan.assignee
        )
        for tier, plan in plans.items()
    )
    # Schedule by the new plans now rather than at the job's next daily run.
    await request_run(session, REVISIT_JOB_NAME)
    return {**DEFAULT_PLANS, **plans}


# --------------------------------------------------------------------------- who may do what


def _is_assignee(identity: Identity, task: RevisitTask) -> bool:
    """The owner of an owner task; a service user at or above the customer's unit for the queue."""
    if task.assignee_kind == "service":
        return identity.role is Role.SERVICE and task.org_path.startswith(identity.org_path)
    return task.assignee_id == identity.principal_id


def _supervises(identity: Identity, task: RevisitTask) -> bool:
    if identity.role in (Role.ADMIN, Role.BOSS):
        return True
    return identity.role is Role.SUPERVISOR and task.org_path.startswith(identity.org_path)


async def _task_for_completion(
    session: AsyncSession, identity: Identity, task_id: str, now: dt.datetime
) -> RevisitTask:
    """The task, locked, if the caller may complete it. A task of a customer the caller cannot
    see is missing (404); one they can see but is not theirs to do is refused (403)."""
    task = await session.scalar(
        select(RevisitTask)
        .where(RevisitTask.id == task_id, RevisitTask.tenant_id == identity.tenant_id)
        .with_for_update()
    )
    if task is None:
        raise NotFound("revisit task", task_id)
    if _is_assignee(identity, task) or _supervises(identity, task):
        return task
    try:
        await get_customer(session, identity=identity, customer_id=task.customer_id, now=now)
    except NotFound:
        raise NotFound("revisit task", task_id) from None
    raise PermissionDenied(
        "only the task's assignee or their supervisors may complete it / 只有回访任务的负责人或其主管可以完成"
    )


# --------------------------------------------------------------------------- completing


@dataclass(frozen=True)
class Completion:
    """A completed revisit as a request gives it, validated (`revisits.validation`)."""

    satisfaction: int
    new_needs: str
    follow_up: InteractionInput


def _outcome(completion: Completion) -> str:
    outcome = f"定期回访，满意度{completion.satisfaction}/5"
    if completion.new_needs:
        outcome += f"；新需求：{completion.new_needs}"
    return outcome if len(outcome) <= MAX_OUTCOME else outcome[: MAX_OUTCOME - 1] + "…"


async def complete_task(
    session: AsyncSession,
    *,
    identity: Identity,
    task_id: str,
    completion: Completion,
    events: CustomerEvents,
    now: dt.datetime,
) -> tuple[RevisitTask, Interaction, str]:
    """Log the revisit as a follow-up of the customer (its bookkeeping and `interaction_logged`
    as for any follow-up) and mark the task done, on time if done on or before its due date in
    Asia/Shanghai. Returns the task, the follow-up and the customer's name."""
    task = await _task_for_completion(session, identity, task_id, now)
    if task.status == DONE:
        raise FailedPrecondition("this revisit is done already / 该回访任务已完成")
    if task.status == CANCELLED:
        raise FailedPrecondition("this revisit was cancelled / 该回访任务已取消")
    follow_up = completion.follow_up
    if not follow_up.outcome:
        follow_up = InteractionInput(**{**follow_up.__dict__, "outcome": _outcome(completion)})
    interaction = await log_interaction(
        session, identity=identity, customer_id=task.customer_id, data=follow_up, events=events, now=now
    )
    task.status = DONE
    task.completed_at, task.completed_by = now, identity.principal_id
    task.satisfaction, task.new_needs = completion.satisfaction, completion.new_needs
    task.interaction_id = interaction.id
    task.on_time = shanghai_date(now) <= task.due_date
    task.version += 1
    customer = await session.get(Customer, task.customer_id)
    name = customer.name if customer is not None else ""
    await session.flush()
    await revisit_events.write(
        session, events, [revisit_events.completed(events, task, name, identity.principal_id, now)]
    )
    return task, interaction, name


# --------------------------------------------------------------------------- lists


@dataclass(frozen=True)
class TaskQuery:
    first: dt.date | None
    last: dt.date | None
    mine: bool = False
    assignee_id: str | None = None
    org_unit_id: str | None = None


def _task_scope(identity: Identity, mine: bool) -> list[ColumnElement[bool]]:
    """A rep's own tasks; service staff the service queue of their subtree; supervisors and
    wider their scope's tasks, or with `mine` their own."""
    if identity.role is Role.SERVICE:
        return [
            scope_clause(identity, tenant=RevisitTask.tenant_id, org_path=RevisitTask.org_path, owner=None),
            RevisitTask.assignee_kind == "service",
        ]
    scope = [
        scope_clause(
            identity, tenant=RevisitTask.tenant_id, org_path=RevisitTask.org_path, owner=RevisitTask.assignee_id
        )
    ]
    if mine and identity.scope is not DataScope.OWN:
        scope.append(RevisitTask.assignee_id == identity.principal_id)
    return scope


async def list_tasks(
    session: AsyncSession, *, identity: Identity, query: TaskQuery, page_size: int, page_token: str
) -> tuple[list[tuple[RevisitTask, str]], str]:
    """Open tasks due in the query's days, earliest first, each with its customer's name."""
    statement = (
        select(RevisitTask, Customer.name)
        .join(Customer, Customer.id == RevisitTask.customer_id)
        .where(*_task_scope(identity, query.mine), RevisitTask.status == OPEN)
    )
    if query.first is not None:
        statement = statement.where(RevisitTask.due_date >= query.first)
    if query.last is not None:
        statement = statement.where(RevisitTask.due_date <= query.last)
    if query.assignee_id:
        statement = statement.where(RevisitTask.assignee_id == query.assignee_id)
    if query.org_unit_id:
        statement = statement.where(RevisitTask.org_path.contains(f"/{query.org_unit_id}/", autoescape=True))
    rows = (await session.execute(EARLIEST_DUE_FIRST.apply(statement, page_token).limit(page_size + 1))).all()
    page, token = EARLIEST_DUE_FIRST.page(rows, page_size, lambda row: (row[0].due_date, row[0].id))
    return [(row[0], row[1]) for row in page], token


async def customer_revisits(
    session: AsyncSession, *, identity: Identity, customer_id: str, page_size: int, page_token: str, now: dt.datetime
) -> tuple[list[RevisitTask], str, str]:
    """A customer's revisits, latest due first, for anyone who may see the customer; and its name."""
    customer = await get_customer(session, identity=identity, customer_id=customer_id, now=now)
    statement = select(RevisitTask).where(RevisitTask.customer_id == customer.id)
    rows = (await session.scalars(LATEST_DUE_FIRST.apply(statement, page_token).limit(page_size + 1))).all()
    page, token = LATEST_DUE_FIRST.page(rows, page_size, lambda task: (task.due_date, task.id))
    return page, token, customer.name
