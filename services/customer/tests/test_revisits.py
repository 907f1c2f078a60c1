"""Revisit plans (定期回访) on the service's moved clock: tasks scheduled once per customer at its
tier's interval, the owner or the service queue, completion as a follow-up on time or late,
overdue tasks announced once and listed for supervisors, tasks following owner changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from crm.customer.v1 import calendar_pb2 as cpb
from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import pools_pb2 as ppb
from crm.customer.v1 import revisits_pb2 as rpb
from crmkit.clock import SHANGHAI, shanghai_date
from crmkit.identity import Identity, Placement, Role
from crmkit.testing.jobs import ran_since

JOB = "revisit-tasks"


async def _run_job_after(harness, by: dt.timedelta) -> None:  # type: ignore[no-untyped-def]
    """Move the service's clock (a day at least: the job is daily) and wait for the job's run."""
    moved_to = harness.clock.advance(by)
    await ran_since(harness.runtime.sessions, JOB, moved_to)


async def _run_job_on(harness, day: dt.date, hour: int = 10) -> None:  # type: ignore[no-untyped-def]
    await _run_job_after(harness, dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI) - harness.clock())


async def _tasks(harness, who: Identity, due: int = rpb.REVISIT_DUE_ALL_OPEN, **query: Any) -> list[rpb.RevisitTask]:  # type: ignore[no-untyped-def]
    response = await harness.stub.ListRevisitTasks(
        rpb.ListRevisitTasksRequest(due=due, **query), metadata=harness.metadata(who)
    )
    return list(response.tasks)


async def _history(harness, who: Identity, customer_id: str) -> list[rpb.RevisitTask]:  # type: ignore[no-untyped-def]
    response = await harness.stub.ListCustomerRevisits(
        rpb.ListCustomerRevisitsRequest(customer_id=customer_id), metadata=harness.metadata(who)
    )
    return list(response.tasks)


def _complete(harness, who: Identity, task_id: str, satisfaction: int = 5, **fields: Any):  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {"kind": fpb.INTERACTION_KIND_VISIT, "content": "上门回访，了解近期用餐情况"} | fields
    return harness.stub.CompleteRevisitTask(
        rpb.CompleteRevisitTaskRequest(task_id=task_id, satisfaction=satisfaction, **values),
        metadata=harness.metadata(who),
    )


async def _events(harness, message_type: Any) -> list[Any]:  # type: ignore[no-untyped-def]
    name = f"crm.customer.v1.{_snake(message_type.DESCRIPTOR.name)}"
    found = []
    for row in await harness.outbox():
        if row.envelope.type == name:
            message = message_type()
            assert row.envelope.payload.Unpack(message)
            found.append(message)
    return found


def _snake(name: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name).lstrip("_")


def _day(customer: pb.Customer, days: int) -> str:
    return (shanghai_date(customer.create_time.ToDatetime(tzinfo=dt.UTC)) + dt.timedelta(days=days)).isoformat()


async def _set_plans(harness, who: Identity, *plans: rpb.RevisitPlan) -> Any:  # type: ignore[no-untyped-def]
    return await harness.stub.SetRevisitPlans(rpb.SetRevisitPlansRequest(plans=plans), metadata=harness.metadata(who))


async def _scheduled_once_at_each_tiers_interval(harness) -> None:  # type: ignore[no-untyped-def]
    org = harness.org
    rep, boss = org.person(Role.SALES, org.shop_a), org.person(Role.BOSS, org.hq)
    await _set_plans(
        harness,
        boss,
        rpb.RevisitPlan(tier="normal", interval_days=0, assignee=rpb.REVISIT_ASSIGNEE_OWNER),
        rpb.RevisitPlan(tier="key", interval_days=21, assignee=rpb.REVISIT_ASSIGNEE_OWNER),
    )
    vip = await harness.create(rep, name="南京鼓楼区实验小学食堂", tier="vip")
    key = await harness.create(rep, name="无锡梁溪区人民医院食堂", tier="key")
    await harness.create(rep, name="常州天宁区小吃店", tier="normal")

    await _run_job_after(harness, dt.timedelta(days=1))
    first = await _tasks(harness, rep)
    await _run_job_after(harness, dt.timedelta(days=1))
    again = await _tasks(harness, rep)
    scheduled = await _events(harness, events_pb2.RevisitTaskScheduled)

    assert sorted((t.customer_id, t.due_date, t.assignee_id, t.tier) for t in first) == sorted(
        [
            (vip.id, _day(vip, 14), rep.principal_id, "vip"),
            (key.id, _day(key, 21), rep.principal_id, "key"),
        ]
    )
    assert [t.id for t in again] == [t.id for t in first]
    assert sorted(e.task.customer_id for e in scheduled) == sorted([vip.id, key.id])


async def test_tasks_are_scheduled_once_at_each_tiers_interval(customer_service) -> None:
    await _scheduled_once_at_each_tiers_interval(customer_service)


async def test_tasks_are_scheduled_once_on_sqlite(customer_service_sqlite) -> None:
    await _scheduled_once_at_each_tiers_interval(customer_service_sqlite)


async def test_completing_on_time_logs_a_follow_up_and_the_next_task_counts_from_it(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="苏州姑苏区第一中学食堂", tier="vip")
    await _run_job_after(customer_service, dt.timedelta(days=1))
    (task,) = await _tasks(customer_service, rep)
    due = dt.date.fromisoformat(task.due_date)

    await _run_job_on(customer_service, due)
    today = await _tasks(customer_service, rep, due=rpb.REVISIT_DUE_TODAY)
    done = await _complete(customer_service, rep, task.id, satisfaction=5, new_needs="希望增加有机蔬菜的供应")
    again = await customer_service.refusal(_complete(customer_service, rep, task.id))
    follow_ups = await customer_service.stub.ListInteractions(
        fpb.ListInteractionsRequest(customer_id=customer.id), metadata=customer_service.metadata(rep)
    )
    after = await customer_service.stub.GetCustomer(
        pb.GetCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep)
    )
    await _run_job_after(customer_service, dt.timedelta(days=1))
    history = await _history(customer_service, rep, customer.id)
    completed = await _events(customer_service, events_pb2.RevisitTaskCompleted)
    logged = await _events(customer_service, events_pb2.InteractionLogged)

    assert [t.id for t in today] == [task.id]
    assert done.task.status == rpb.REVISIT_TASK_STATUS_DONE
    assert (done.task.on_time, done.task.satisfaction, done.task.new_needs) == (True, 5, "希望增加有机蔬菜的供应")
    assert (done.task.completed_by, done.task.interaction_id) == (rep.principal_id, done.interaction.id)
    assert again.code == grpc.StatusCode.FAILED_PRECONDITION
    assert [(i.id, i.kind) for i in follow_ups.interactions] == [(done.interaction.id, fpb.INTERACTION_KIND_VISIT)]
    assert "满意度5/5" in follow_ups.interactions[0].outcome
    assert after.customer.last_interaction_time == done.interaction.occur_time
    assert [(t.status, t.due_date) for t in history] == [
        (rpb.REVISIT_TASK_STATUS_OPEN, (due + dt.timedelta(days=14)).isoformat()),
        (rpb.REVISIT_TASK_STATUS_DONE, due.isoformat()),
    ]
    assert [(e.task.id, e.task.on_time, e.task.satisfaction) for e in completed] == [(task.id, True, 5)]
    assert [e.interaction.id for e in logged] == [done.interaction.id]


async def test_a_missed_task_is_announced_overdue_once_listed_for_supervisors_and_done_late(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    supervisor, elsewhere = org.person(Role.SUPERVISOR, org.sub_a), org.person(Role.SUPERVISOR, org.sub_b)
    await customer_service.create(rep, name="杭州西湖区幼儿园食堂", tier="vip")
    await _run_job_after(customer_service, dt.timedelta(days=1))
    (task,) = await _tasks(customer_service, rep)
    due = dt.date.fromisoformat(task.due_date)

    await _run_job_on(customer_service, due)
    on_the_day = await _events(customer_service, events_pb2.RevisitTaskOverdue)
    await _run_job_on(customer_service, due + dt.timedelta(days=1))
    await _run_job_on(customer_service, due + dt.timedelta(days=2))
    overdue = await _events(customer_service, events_pb2.RevisitTaskOverdue)
    for_supervisor = await _tasks(customer_service, supervisor, due=rpb.REVISIT_DUE_OVERDUE)
    for_elsewhere = await _tasks(customer_service, elsewhere, due=rpb.REVISIT_DUE_OVERDUE)
    late = await _complete(customer_service, rep, task.id, satisfaction=3, kind=fpb.INTERACTION_KIND_PHONE)

    assert on_the_day == []
    assert [(e.task.id, e.task.assignee_id, e.task.due_date) for e in overdue] == [
        (task.id, rep.principal_id, due.isoformat())
    ]
    assert [(t.id, t.customer_name) for t in for_supervisor] == [(task.id, "杭州西湖区幼儿园食堂")]
    assert for_supervisor[0].HasField("overdue_time")
    assert for_elsewhere == []
    assert (late.task.status, late.task.on_time) == (rpb.REVISIT_TASK_STATUS_DONE, False)


async def test_a_service_plan_puts_tasks_in_the_queue_of_service_staff_over_the_customer(customer_service) -> None:
    org = customer_service.org
    rep, boss = org.person(Role.SALES, org.shop_a), org.person(Role.BOSS, org.hq)
    service_a, service_b = org.person(Role.SERVICE, org.sub_a), org.person(Role.SERVICE, org.sub_b)
    await _set_plans(
        customer_service, boss, rpb.RevisitPlan(tier="key", interval_days=30, assignee=rpb.REVISIT_ASSIGNEE_SERVICE)
    )
    customer = await customer_service.create(rep, name="宁波鄞州区养老院食堂", tier="key")
    await _run_job_after(customer_service, dt.timedelta(days=1))

    queue_a = await _tasks(customer_service, service_a)
    queue_b = await _tasks(customer_service, service_b)
    reps = await _tasks(customer_service, rep)
    by_rep = await customer_service.refusal(_complete(customer_service, rep, queue_a[0].id))
    by_service = await _complete(customer_service, service_a, queue_a[0].id, satisfaction=4)

    assert [(t.customer_id, t.assignee_kind, t.assignee_id, t.due_date) for t in queue_a] == [
        (customer.id, rpb.REVISIT_ASSIGNEE_SERVICE, "", _day(customer, 30))
    ]
    assert queue_b == [] and reps == []
    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert (by_service.task.completed_by, by_service.interaction.author_id) == (service_a.principal_id,) * 2


async def test_an_open_task_follows_a_new_owner_and_is_cancelled_when_the_customer_goes_to_a_pool(
    customer_service,
) -> None:
    org = customer_service.org
    first, second = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_b)
    supervisor, boss = org.person(Role.SUPERVISOR, org.hq), org.person(Role.BOSS, org.hq)
    customer = await customer_service.create(first, name="温州鹿城区职业学校食堂", tier="vip")
    await _run_job_after(customer_service, dt.timedelta(days=1))
    (task,) = await _tasks(customer_service, first)

    await customer_service.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=pb.Customer(
                id=customer.id, owner_id=second.principal_id, org_unit_id=org.shop_b, org_path=org.path(org.shop_b)
            ),
            update_mask=FieldMask(paths=["owner_id"]),
            reason="区域调整",
        ),
        metadata=customer_service.metadata(
            replace(supervisor, placement=Placement(second.principal_id, org.shop_b, org.path(org.shop_b)))
        ),
    )
    firsts, seconds = await _tasks(customer_service, first), await _tasks(customer_service, second)
    await customer_service.stub.CreatePool(
        ppb.CreatePoolRequest(pool=ppb.Pool(name="总部公海", org_unit_id=org.hq, org_path=org.path(org.hq))),
        metadata=customer_service.metadata(boss),
    )
    await customer_service.stub.ReleaseToPool(
        ppb.ReleaseToPoolRequest(customer_id=customer.id, reason="客户暂停合作"),
        metadata=customer_service.metadata(second),
    )
    left = await _tasks(customer_service, second)
    history = await _history(customer_service, boss, customer.id)
    reassigned = await _events(customer_service, events_pb2.RevisitTaskReassigned)
    cancelled = await _events(customer_service, events_pb2.RevisitTaskCancelled)

    assert firsts == []
    assert [(t.id, t.assignee_id, t.org_unit_id, t.due_date) for t in seconds] == [
        (task.id, second.principal_id, org.shop_b, task.due_date)
    ]
    assert left == []
    assert [(t.id, t.status, t.cancel_reason) for t in history] == [
        (task.id, rpb.REVISIT_TASK_STATUS_CANCELLED, "pool")
    ]
    assert [(e.task.assignee_id, e.previous_assignee_id) for e in reassigned] == [
        (second.principal_id, first.principal_id)
    ]
    assert [e.task.id for e in cancelled] == [task.id]


async def test_only_the_assignee_or_their_supervisors_complete_and_bad_input_names_the_field(customer_service) -> None:
    org = customer_service.org
    rep, colleague = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    service, supervisor = org.person(Role.SERVICE, org.sub_a), org.person(Role.SUPERVISOR, org.sub_a)
    await customer_service.create(rep, name="嘉兴南湖区中心医院食堂", tier="vip")
    await _run_job_after(customer_service, dt.timedelta(days=1))
    (task,) = await _tasks(customer_service, rep)

    by_colleague = await customer_service.refusal(_complete(customer_service, colleague, task.id))
    by_service = await customer_service.refusal(_complete(customer_service, service, task.id))
    missing = await customer_service.refusal(_complete(customer_service, rep, "0f2b1d9e-0000-4000-8000-000000000000"))
    refusals = {
        "satisfaction 0": await customer_service.refusal(_complete(customer_service, rep, task.id, satisfaction=0)),
        "satisfaction 6": await customer_service.refusal(_complete(customer_service, rep, task.id, satisfaction=6)),
        "kind": await customer_service.refusal(_complete(customer_service, rep, task.id, kind=99)),
        "content": await customer_service.refusal(_complete(customer_service, rep, task.id, content=" ")),
    }
    by_supervisor = await _complete(customer_service, supervisor, task.id, satisfaction=2)

    assert by_colleague.code == grpc.StatusCode.NOT_FOUND
    assert by_service.code == grpc.StatusCode.PERMISSION_DENIED
    assert missing.code == grpc.StatusCode.NOT_FOUND
    assert {name: (r.code, r.field) for name, r in refusals.items()} == {
        "satisfaction 0": (grpc.StatusCode.INVALID_ARGUMENT, "satisfaction"),
        "satisfaction 6": (grpc.StatusCode.INVALID_ARGUMENT, "satisfaction"),
        "kind": (grpc.StatusCode.INVALID_ARGUMENT, "kind"),
        "content": (grpc.StatusCode.INVALID_ARGUMENT, "content"),
    }
    assert (by_supervisor.task.status, by_supervisor.task.completed_by) == (
        rpb.REVISIT_TASK_STATUS_DONE,
        supervisor.principal_id,
    )


async def test_admins_and_bosses_set_plans_and_bad_plans_name_the_field(customer_service) -> None:
    org = customer_service.org
    rep, admin = org.person(Role.SALES, org.shop_a), org.person(Role.ADMIN, org.hq)
    defaults = await customer_service.stub.GetRevisitPlans(
        rpb.GetRevisitPlansRequest(), metadata=customer_service.metadata(rep)
    )
    by_rep = await customer_service.refusal(
        _set_plans(
            customer_service, rep, rpb.RevisitPlan(tier="vip", interval_days=7, assignee=rpb.REVISIT_ASSIGNEE_OWNER)
        )
    )
    bad = [
        await customer_service.refusal(_set_plans(customer_service, admin, plan))
        for plan in (
            rpb.RevisitPlan(tier="gold", interval_days=7, assignee=rpb.REVISIT_ASSIGNEE_OWNER),
            rpb.RevisitPlan(tier="vip", interval_days=400, assignee=rpb.REVISIT_ASSIGNEE_OWNER),
            rpb.RevisitPlan(tier="vip", interval_days=7),
        )
    ]
    saved = await _set_plans(
        customer_service, admin, rpb.RevisitPlan(tier="vip", interval_days=7, assignee=rpb.REVISIT_ASSIGNEE_SERVICE)
    )

    assert [(p.tier, p.interval_days, p.assignee) for p in defaults.plans] == [
        ("vip", 14, rpb.REVISIT_ASSIGNEE_OWNER),
        ("key", 30, rpb.REVISIT_ASSIGNEE_OWNER),
        ("normal", 60, rpb.REVISIT_ASSIGNEE_OWNER),
    ]
    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert [(r.code, r.field) for r in bad] == [
        (grpc.StatusCode.INVALID_ARGUMENT, "plans[0].tier"),
        (grpc.StatusCode.INVALID_ARGUMENT, "plans[0].interval_days"),
        (grpc.StatusCode.INVALID_ARGUMENT, "plans[0].assignee"),
    ]
    assert [(p.tier, p.interval_days) for p in saved.plans] == [("vip", 7), ("key", 30), ("normal", 60)]


async def test_archiving_a_customer_cancels_its_open_revisit(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="湖州吴兴区敬老院食堂", tier="vip")
    await _run_job_after(customer_service, dt.timedelta(days=1))

    await customer_service.stub.ArchiveCustomer(
        pb.ArchiveCustomerRequest(id=customer.id), metadata=customer_service.metadata(rep)
    )
    await _run_job_after(customer_service, dt.timedelta(days=1))
    history = await _history(customer_service, rep, customer.id)

    assert await _tasks(customer_service, rep) == []
    assert [(t.status, t.cancel_reason) for t in history] == [(rpb.REVISIT_TASK_STATUS_CANCELLED, "archived")]


async def _close(harness, who: Identity, customer: pb.Customer, first: int, last: int) -> None:  # type: ignore[no-untyped-def]
    await harness.stub.CreateClosure(
        cpb.CreateClosureRequest(
            closure=cpb.Closure(
                customer_id=customer.id,
                start_date=_day(customer, first),
                end_date=_day(customer, last),
                reason=cpb.CLOSURE_REASON_WINTER_BREAK,
            )
        ),
        metadata=harness.metadata(who),
    )


async def test_no_revisit_falls_due_while_the_customer_is_closed(customer_service) -> None:
    """A task due inside one of its customer's closures moves to the day after it, whether the
    closure came before the task was scheduled or after; it is never announced overdue."""
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    closed_first = await customer_service.create(rep, name="杭州西湖区学军小学食堂", tier="vip")
    closed_later = await customer_service.create(rep, name="杭州西湖区求是小学食堂", tier="vip")
    await _close(customer_service, rep, closed_first, 10, 20)

    await _run_job_after(customer_service, dt.timedelta(days=1))
    scheduled = {t.customer_id: t.due_date for t in await _tasks(customer_service, rep)}
    await _close(customer_service, rep, closed_later, 13, 16)
    await _run_job_on(customer_service, dt.date.fromisoformat(_day(closed_later, 15)))
    moved = {t.customer_id: t.due_date for t in await _tasks(customer_service, rep)}

    assert scheduled[closed_later.id] == _day(closed_later, 14)
    assert moved == {closed_first.id: _day(closed_first, 21), closed_later.id: _day(closed_later, 17)}
    assert await _events(customer_service, events_pb2.RevisitTaskOverdue) == []
