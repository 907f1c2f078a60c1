"""回访率 from the customer service's revisit events: done on time out of due, per assignee, per
org unit and in total, by month of the due date, within the caller's scope."""

from __future__ import annotations

import datetime as dt
import uuid

from google.protobuf.message import Message

from crm.customer.v1 import events_pb2
from crm.customer.v1 import revisits_pb2 as rpb
from crm.events.v1.envelope_pb2 import Envelope
from crm_analytics.revisit_rate.service import RevisitRate, revisit_rate
from crmkit.events import event_type_of, timestamp_of
from crmkit.identity import Identity, Role
from crmkit.runtime import ServiceRuntime
from crmkit.testing.events import eventually, row_count

TODAY = dt.date(2026, 11, 30)


def _task(events, unit: str, assignee: str, due: str, **fields) -> rpb.RevisitTask:  # type: ignore[no-untyped-def]
    org = events.org
    return rpb.RevisitTask(
        id=str(uuid.uuid4()),
        customer_id=str(uuid.uuid4()),
        org_unit_id=unit,
        org_path=org.path(unit),
        assignee_kind=rpb.REVISIT_ASSIGNEE_OWNER if assignee else rpb.REVISIT_ASSIGNEE_SERVICE,
        assignee_id=assignee,
        due_date=due,
        status=rpb.REVISIT_TASK_STATUS_OPEN,
        tier="vip",
        interval_days=14,
        **fields,
    )


def _envelope(events, message_type: type[Message], task: rpb.RevisitTask, version: int) -> Envelope:  # type: ignore[no-untyped-def]
    task.version = version
    envelope = Envelope(
        id=str(uuid.uuid4()),
        type=event_type_of(message_type),
        tenant_id=events.org.tenant_id,
        org_unit_id=task.org_unit_id,
        aggregate_id=task.id,
        aggregate_version=version,
        occurred_at=timestamp_of(dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC)),
    )
    envelope.payload.Pack(message_type(task=task))
    return envelope


def _done(task: rpb.RevisitTask, *, on_time: bool) -> rpb.RevisitTask:
    done = rpb.RevisitTask()
    done.CopyFrom(task)
    done.status, done.on_time, done.satisfaction = rpb.REVISIT_TASK_STATUS_DONE, on_time, 5
    return done


async def _rate(runtime: ServiceRuntime, identity: Identity) -> RevisitRate:
    async with runtime.sessions() as session:
        return await revisit_rate(
            session,
            identity=identity,
            from_month="2026-10",
            to_month="2026-12",
            org_unit_id=None,
            assignee_id=None,
            today=TODAY,
        )


async def test_the_rate_counts_tasks_done_on_time_out_of_those_due(start_analytics, events, pg_database_url) -> None:  # type: ignore[no-untyped-def]
    org = events.org
    runtime = await start_analytics(pg_database_url)
    rep_a = org.person(Role.SALES, org.shop_a)
    a = rep_a.principal_id
    on_time = _task(events, org.shop_a, a, "2026-11-10")
    missed = _task(events, org.shop_a, a, "2026-11-20")
    not_yet = _task(events, org.shop_a, a, "2026-11-30")
    cancelled = _task(events, org.shop_a, a, "2026-11-12")
    late = _task(events, org.shop_b, "rep-b", "2026-11-05")
    queue = _task(events, org.shop_a, "", "2026-11-15")
    envelopes = [
        _envelope(events, events_pb2.RevisitTaskScheduled, on_time, 1),
        _envelope(events, events_pb2.RevisitTaskCompleted, _done(on_time, on_time=True), 3),
        # An older state arriving after the newer one changes nothing.
        _envelope(events, events_pb2.RevisitTaskOverdue, on_time, 2),
        _envelope(events, events_pb2.RevisitTaskScheduled, missed, 1),
        _envelope(events, events_pb2.RevisitTaskOverdue, missed, 2),
        _envelope(events, events_pb2.RevisitTaskScheduled, not_yet, 1),
        _envelope(events, events_pb2.RevisitTaskScheduled, cancelled, 1),
        _envelope(
            events,
            events_pb2.RevisitTaskCancelled,
            rpb.RevisitTask(**{**_fields(cancelled), "status": rpb.REVISIT_TASK_STATUS_CANCELLED}),
            2,
        ),
        _envelope(events, events_pb2.RevisitTaskCompleted, _done(late, on_time=False), 2),
        _envelope(events, events_pb2.RevisitTaskCompleted, _done(queue, on_time=True), 2),
    ]
    for envelope in envelopes:
        await events.publish(envelope)
    await eventually(lambda: row_count(runtime.sessions, runtime.tables.inbox), lambda n: n >= len(envelopes))

    boss = await _rate(runtime, org.person(Role.BOSS, org.hq))
    supervisor = await _rate(runtime, org.person(Role.SUPERVISOR, org.sub_a))
    rep = await _rate(runtime, rep_a)

    def figures(rows):  # type: ignore[no-untyped-def]
        return {
            (r.assignee_kind, r.assignee_id, r.org_unit_id): (r.due, r.done_on_time, r.done_late, r.rate) for r in rows
        }

    assert figures(boss.by_assignee) == {
        ("owner", a, ""): (2, 1, 0, 0.5),
        ("owner", "rep-b", ""): (1, 0, 1, 0.0),
        ("service", "", ""): (1, 1, 0, 1.0),
    }
    assert figures(boss.by_org_unit) == {("", "", org.shop_a): (3, 2, 0, 0.6667), ("", "", org.shop_b): (1, 0, 1, 0.0)}
    assert [(t.month, t.due, t.done_on_time) for t in boss.totals] == [("2026-11", 4, 2)]
    assert figures(supervisor.by_assignee) == {("owner", a, ""): (2, 1, 0, 0.5), ("service", "", ""): (1, 1, 0, 1.0)}
    assert figures(rep.by_assignee) == {("owner", a, ""): (2, 1, 0, 0.5)}
    assert [(t.month, t.due, t.done_on_time, t.rate) for t in rep.totals] == [("2026-11", 2, 1, 0.5)]


def _fields(task: rpb.RevisitTask) -> dict[str, object]:
    return {field.name: value for field, value in task.ListFields()}
