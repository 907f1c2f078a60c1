"""Closures (停工/放假): validation naming the field, no overlaps on one customer, who sees and
changes them, templates (校历) applied to many customers and followed by them when they change,
the closed-days helper, and the jobs that honour a closure (pool sweep, follow-up reminders)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from crm.customer.v1 import calendar_pb2 as cpb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import pools_pb2 as ppb
from crm_customer.closures.days import closed_days
from crmkit.clock import SHANGHAI, shanghai_date
from crmkit.events import event_type_of
from crmkit.identity import Identity, Role
from crmkit.testing.jobs import ran_since

WINTER = cpb.CLOSURE_REASON_WINTER_BREAK
SUMMER = cpb.CLOSURE_REASON_SUMMER_BREAK
SPRING = cpb.CLOSURE_REASON_SPRING_FESTIVAL
EVENTS = {
    m: event_type_of(m) for m in (events_pb2.ClosureScheduled, events_pb2.ClosureChanged, events_pb2.ClosureRemoved)
}


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


async def _close(harness, who: Identity, customer_id: str, start: Any, end: Any, reason: int = WINTER, note: str = ""):  # type: ignore[no-untyped-def]
    request = cpb.CreateClosureRequest(
        closure=cpb.Closure(customer_id=customer_id, start_date=str(start), end_date=str(end), reason=reason, note=note)
    )
    return (await harness.stub.CreateClosure(request, metadata=harness.metadata(who))).closure


async def _closures(harness, who: Identity, customer_id: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    found = await harness.stub.ListClosures(
        cpb.ListClosuresRequest(customer_id=customer_id), metadata=harness.metadata(who)
    )
    return [(c.start_date, c.end_date, c.template_id) for c in found.closures]


async def _closure_events(harness) -> list[tuple[str, Any]]:  # type: ignore[no-untyped-def]
    found = []
    for row in await harness.outbox():
        for message_type, name in EVENTS.items():
            if row.envelope.type == name:
                message = message_type()
                assert row.envelope.payload.Unpack(message)
                found.append((message_type.__name__, message))
    return found


def _school_calendar(name: str = "2027 杭州中小学校历") -> cpb.ClosureTemplate:
    return cpb.ClosureTemplate(
        name=name,
        ranges=[
            cpb.ClosureTemplateRange(start_date="2027-01-23", end_date="2027-02-20", reason=WINTER),
            cpb.ClosureTemplateRange(start_date="2027-07-03", end_date="2027-08-31", reason=SUMMER),
        ],
    )


async def test_bad_closures_are_refused_naming_the_field(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="杭州西湖区文三路小学食堂")
    cases = [
        (("2027-02-20", "2027-01-23", WINTER, ""), "closure.end_date"),
        (("2027-01-01", "2028-06-01", WINTER, ""), "closure.end_date"),
        (("2027-01-23", "2027-02-20", cpb.CLOSURE_REASON_UNSPECIFIED, ""), "closure.reason"),
        (("2027-01-23", "2027-02-20", 99, ""), "closure.reason"),
        (("2027-05-01", "2027-05-05", cpb.CLOSURE_REASON_OTHER, ""), "closure.note"),
        (("2027-13-01", "2027-02-20", WINTER, ""), "closure.start_date"),
        (("2207-01-23", "2207-02-20", WINTER, ""), "closure.start_date"),
        (("", "2027-02-20", WINTER, ""), "closure.start_date"),
    ]
    for (start, end, reason, note), field in cases:
        refused = await customer_service.refusal(_close(customer_service, rep, customer.id, start, end, reason, note))
        assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field), (start, end, refused)
    assert await _closures(customer_service, rep, customer.id) == []


async def test_overlapping_closures_on_one_customer_are_refused(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="杭州拱墅区莫干山路中学食堂")
    winter = await _close(customer_service, rep, customer.id, "2027-01-23", "2027-02-20")
    after = await _close(customer_service, rep, customer.id, "2027-02-21", "2027-02-28", cpb.CLOSURE_REASON_RENOVATION)

    overlapping = await customer_service.refusal(
        _close(customer_service, rep, customer.id, "2027-02-15", "2027-03-01", SPRING)
    )
    moved_into = await customer_service.refusal(
        customer_service.stub.UpdateClosure(
            cpb.UpdateClosureRequest(
                closure=cpb.Closure(id=after.id, customer_id=customer.id, start_date="2027-02-10"),
                update_mask=FieldMask(paths=["start_date"]),
            ),
            metadata=customer_service.metadata(rep),
        )
    )
    turned_round = await customer_service.refusal(
        customer_service.stub.UpdateClosure(
            cpb.UpdateClosureRequest(
                closure=cpb.Closure(id=winter.id, customer_id=customer.id, end_date="2027-01-01"),
                update_mask=FieldMask(paths=["end_date"]),
            ),
            metadata=customer_service.metadata(rep),
        )
    )

    assert (overlapping.code, overlapping.field) == (grpc.StatusCode.INVALID_ARGUMENT, "closure.start_date")
    assert overlapping.trailers["crm-error-code"] == "closure_overlap"
    assert "2027-01-23" in overlapping.message
    assert (moved_into.code, moved_into.field) == (grpc.StatusCode.INVALID_ARGUMENT, "closure.start_date")
    assert (turned_round.code, turned_round.field) == (grpc.StatusCode.INVALID_ARGUMENT, "closure.end_date")
    assert await _closures(customer_service, rep, customer.id) == [
        ("2027-01-23", "2027-02-20", ""),
        ("2027-02-21", "2027-02-28", ""),
    ]


async def test_service_staff_see_closures_finance_does_not_and_another_rep_finds_nothing(customer_service) -> None:
    org = customer_service.org
    rep, other_rep = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    service_staff, finance = org.person(Role.SERVICE, org.sub_a), org.person(Role.FINANCE, org.sub_a)
    customer = await customer_service.create(rep, name="杭州上城区解放路小学食堂")
    closure = await _close(customer_service, rep, customer.id, "2027-01-23", "2027-02-20")

    seen_by_service = await _closures(customer_service, service_staff, customer.id)
    by_finance = await customer_service.refusal(_closures(customer_service, finance, customer.id))
    by_other_rep = await customer_service.refusal(_closures(customer_service, other_rep, customer.id))
    written_by_service = await customer_service.refusal(
        _close(customer_service, service_staff, customer.id, "2027-07-03", "2027-08-31", SUMMER)
    )
    deleted_by_other = await customer_service.refusal(
        customer_service.stub.DeleteClosure(
            cpb.DeleteClosureRequest(customer_id=customer.id, closure_id=closure.id),
            metadata=customer_service.metadata(other_rep),
        )
    )

    assert seen_by_service == [("2027-01-23", "2027-02-20", "")]
    assert by_finance.code == grpc.StatusCode.PERMISSION_DENIED
    assert by_other_rep.code == grpc.StatusCode.NOT_FOUND
    assert written_by_service.code == grpc.StatusCode.PERMISSION_DENIED
    assert deleted_by_other.code == grpc.StatusCode.NOT_FOUND


async def test_own_closures_publish_scheduled_changed_and_removed_with_everything_a_consumer_needs(
    customer_service,
) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="宁波海曙区电子厂员工食堂")
    closure = await _close(
        customer_service, rep, customer.id, "2027-02-01", "2027-02-10", cpb.CLOSURE_REASON_FACTORY_SHUTDOWN
    )
    await customer_service.stub.UpdateClosure(
        cpb.UpdateClosureRequest(
            closure=cpb.Closure(id=closure.id, customer_id=customer.id, end_date="2027-02-14"),
            update_mask=FieldMask(paths=["end_date"]),
        ),
        metadata=customer_service.metadata(rep),
    )
    await customer_service.stub.DeleteClosure(
        cpb.DeleteClosureRequest(customer_id=customer.id, closure_id=closure.id),
        metadata=customer_service.metadata(rep),
    )

    events = await _closure_events(customer_service)

    assert [name for name, _ in events] == ["ClosureScheduled", "ClosureChanged", "ClosureRemoved"]
    for _, message in events:
        assert (message.tenant_id, message.customer_id, message.owner_id, message.org_unit_id) == (
            org.tenant_id,
            customer.id,
            rep.principal_id,
            org.shop_a,
        )
        assert message.customer_name == "宁波海曙区电子厂员工食堂"
        assert message.closure.reason == cpb.CLOSURE_REASON_FACTORY_SHUTDOWN
    scheduled, changed, removed = (m for _, m in events)
    assert (scheduled.closure.start_date, scheduled.closure.end_date, scheduled.closure.version) == (
        "2027-02-01",
        "2027-02-10",
        1,
    )
    assert (changed.closure.end_date, changed.previous_end_date, changed.closure.version) == (
        "2027-02-14",
        "2027-02-10",
        2,
    )
    assert (removed.closure.id, removed.closure.end_date, removed.closure.version) == (closure.id, "2027-02-14", 3)


async def test_a_template_applied_to_customers_schedules_their_closures_and_reports_the_rest(customer_service) -> None:
    org = customer_service.org
    admin, rep, other_rep = (
        org.person(Role.ADMIN, org.hq),
        org.person(Role.SALES, org.shop_a),
        org.person(Role.SALES, org.shop_a),
    )
    schools = [await customer_service.create(rep, name=f"杭州滨江区第{n}小学食堂") for n in range(1, 4)]
    busy = await customer_service.create(rep, name="杭州滨江区江南实验学校食堂")
    await _close(customer_service, rep, busy.id, "2027-02-10", "2027-02-25", cpb.CLOSURE_REASON_RENOVATION)
    await _close(customer_service, rep, busy.id, "2027-08-25", "2027-09-05", cpb.CLOSURE_REASON_RENOVATION)
    foreign = await customer_service.create(other_rep, name="杭州萧山区市心路小学食堂")
    template = (
        await customer_service.stub.CreateClosureTemplate(
            cpb.CreateClosureTemplateRequest(template=_school_calendar()), metadata=customer_service.metadata(admin)
        )
    ).template

    applied = await customer_service.stub.ApplyClosureTemplate(
        cpb.ApplyClosureTemplateRequest(
            template_id=template.id, customer_ids=[s.id for s in schools] + [busy.id, foreign.id]
        ),
        metadata=customer_service.metadata(rep),
    )
    again = await customer_service.stub.ApplyClosureTemplate(
        cpb.ApplyClosureTemplateRequest(template_id=template.id, customer_ids=[schools[0].id]),
        metadata=customer_service.metadata(rep),
    )
    counted = await customer_service.stub.GetClosureTemplate(
        cpb.GetClosureTemplateRequest(id=template.id), metadata=customer_service.metadata(rep)
    )
    scheduled = [m for name, m in await _closure_events(customer_service) if name == "ClosureScheduled"]

    assert sorted(applied.applied_customer_ids) == sorted(s.id for s in schools)
    assert list(applied.not_found_customer_ids) == [foreign.id]
    assert [(c.customer_id, c.closure.start_date) for c in applied.conflicts] == [(busy.id, "2027-02-10")]
    # The report names the customer and every overlap that kept it out: its closure and the range.
    (conflict,) = applied.conflicts
    assert conflict.customer_name == "杭州滨江区江南实验学校食堂"
    assert [
        (o.closure.start_date, o.range.start_date, o.range.end_date, o.range.reason) for o in conflict.overlaps
    ] == [
        ("2027-02-10", "2027-01-23", "2027-02-20", WINTER),
        ("2027-08-25", "2027-07-03", "2027-08-31", SUMMER),
    ]
    assert (list(again.applied_customer_ids), list(again.already_applied_customer_ids)) == ([], [schools[0].id])
    assert counted.template.customer_count == 3
    assert await _closures(customer_service, rep, schools[0].id) == [
        ("2027-01-23", "2027-02-20", template.id),
        ("2027-07-03", "2027-08-31", template.id),
    ]
    template_events = [m for m in scheduled if m.closure.template_id]
    assert sorted((m.customer_id, m.closure.start_date) for m in template_events) == sorted(
        (s.id, day) for s in schools for day in ("2027-01-23", "2027-07-03")
    )
    assert {(m.tenant_id, m.closure.template_name, m.owner_id) for m in template_events} == {
        (org.tenant_id, "2027 杭州中小学校历", rep.principal_id)
    }


@pytest.mark.parametrize("backend", ["customer_service", "customer_service_sqlite"], indirect=True)
async def test_a_template_change_follows_on_every_customer_and_leaving_it_removes_its_closures(
    backend,
) -> None:
    customer_service = backend
    org = customer_service.org
    admin, rep = org.person(Role.ADMIN, org.hq), org.person(Role.SALES, org.shop_a)
    schools = [await customer_service.create(rep, name=f"杭州西湖区翠苑第{n}小学食堂") for n in range(1, 3)]
    template = (
        await customer_service.stub.CreateClosureTemplate(
            cpb.CreateClosureTemplateRequest(template=_school_calendar()), metadata=customer_service.metadata(admin)
        )
    ).template
    await customer_service.stub.ApplyClosureTemplate(
        cpb.ApplyClosureTemplateRequest(template_id=template.id, customer_ids=[s.id for s in schools]),
        metadata=customer_service.metadata(admin),
    )
    winter, _summer = template.ranges
    before = len(await _closure_events(customer_service))

    # Winter break a week longer, summer break dropped, the Spring Festival added.
    updated = await customer_service.stub.UpdateClosureTemplate(
        cpb.UpdateClosureTemplateRequest(
            template=cpb.ClosureTemplate(
                id=template.id,
                ranges=[
                    cpb.ClosureTemplateRange(
                        id=winter.id, start_date="2027-01-16", end_date="2027-02-20", reason=WINTER
                    ),
                    cpb.ClosureTemplateRange(
                        start_date="2027-09-30", end_date="2027-10-07", reason=SPRING, note="国庆"
                    ),
                ],
            ),
            update_mask=FieldMask(paths=["ranges"]),
        ),
        metadata=customer_service.metadata(admin),
    )
    changes = (await _closure_events(customer_service))[before:]
    await customer_service.stub.RemoveClosureTemplateCustomers(
        cpb.RemoveClosureTemplateCustomersRequest(template_id=template.id, customer_ids=[schools[1].id]),
        metadata=customer_service.metadata(rep),
    )
    removal = (await _closure_events(customer_service))[before + len(changes) :]

    assert updated.closures_changed == 6
    assert sorted((name, m.customer_id, m.closure.start_date) for name, m in changes) == sorted(
        [("ClosureChanged", s.id, "2027-01-16") for s in schools]
        + [("ClosureRemoved", s.id, "2027-07-03") for s in schools]
        + [("ClosureScheduled", s.id, "2027-09-30") for s in schools]
    )
    assert {m.previous_start_date for name, m in changes if name == "ClosureChanged"} == {"2027-01-23"}
    assert await _closures(customer_service, rep, schools[0].id) == [
        ("2027-01-16", "2027-02-20", template.id),
        ("2027-09-30", "2027-10-07", template.id),
    ]
    assert await _closures(customer_service, rep, schools[1].id) == []
    assert sorted((name, m.customer_id) for name, m in removal) == [("ClosureRemoved", schools[1].id)] * 2


async def test_a_template_closure_changes_only_with_its_template_and_a_clash_is_refused(customer_service) -> None:
    org = customer_service.org
    admin, rep = org.person(Role.ADMIN, org.hq), org.person(Role.SALES, org.shop_a)
    school = await customer_service.create(rep, name="杭州余杭区良睦路小学食堂")
    await _close(customer_service, rep, school.id, "2027-06-20", "2027-06-30", cpb.CLOSURE_REASON_RENOVATION)
    template = (
        await customer_service.stub.CreateClosureTemplate(
            cpb.CreateClosureTemplateRequest(template=_school_calendar()), metadata=customer_service.metadata(admin)
        )
    ).template
    await customer_service.stub.ApplyClosureTemplate(
        cpb.ApplyClosureTemplateRequest(template_id=template.id, customer_ids=[school.id]),
        metadata=customer_service.metadata(rep),
    )
    listed = await customer_service.stub.ListClosures(
        cpb.ListClosuresRequest(customer_id=school.id), metadata=customer_service.metadata(rep)
    )
    from_template = next(c for c in listed.closures if c.template_id)
    winter, summer = template.ranges

    edited_alone = await customer_service.refusal(
        customer_service.stub.DeleteClosure(
            cpb.DeleteClosureRequest(customer_id=school.id, closure_id=from_template.id),
            metadata=customer_service.metadata(rep),
        )
    )
    clashing = await customer_service.refusal(
        customer_service.stub.UpdateClosureTemplate(
            cpb.UpdateClosureTemplateRequest(
                template=cpb.ClosureTemplate(
                    id=template.id,
                    ranges=[
                        winter,
                        cpb.ClosureTemplateRange(
                            id=summer.id, start_date="2027-06-26", end_date="2027-08-31", reason=SUMMER
                        ),
                    ],
                ),
                update_mask=FieldMask(paths=["ranges"]),
            ),
            metadata=customer_service.metadata(admin),
        )
    )
    by_rep = await customer_service.refusal(
        customer_service.stub.UpdateClosureTemplate(
            cpb.UpdateClosureTemplateRequest(
                template=cpb.ClosureTemplate(id=template.id, name="改名"), update_mask=FieldMask(paths=["name"])
            ),
            metadata=customer_service.metadata(rep),
        )
    )
    overlapping_ranges = await customer_service.refusal(
        customer_service.stub.CreateClosureTemplate(
            cpb.CreateClosureTemplateRequest(
                template=cpb.ClosureTemplate(
                    name="重叠的校历",
                    ranges=[
                        cpb.ClosureTemplateRange(start_date="2027-01-23", end_date="2027-02-20", reason=WINTER),
                        cpb.ClosureTemplateRange(start_date="2027-02-01", end_date="2027-02-10", reason=SPRING),
                    ],
                )
            ),
            metadata=customer_service.metadata(admin),
        )
    )

    assert from_template.template_name == "2027 杭州中小学校历"
    assert edited_alone.code == grpc.StatusCode.FAILED_PRECONDITION
    assert (clashing.code, clashing.field) == (grpc.StatusCode.INVALID_ARGUMENT, "template.ranges[1]")
    assert "杭州余杭区良睦路小学食堂" in clashing.message
    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert (overlapping_ranges.code, overlapping_ranges.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "template.ranges[1].start_date",
    )


async def test_a_template_applied_by_filter_takes_only_the_callers_matching_customers(customer_service) -> None:
    org = customer_service.org
    admin, rep, other_rep = (
        org.person(Role.ADMIN, org.hq),
        org.person(Role.SALES, org.shop_a),
        org.person(Role.SALES, org.shop_a),
    )
    schools = [
        await customer_service.create(rep, name=f"温州鹿城区第{n}中学食堂", type="学校食堂") for n in range(1, 3)
    ]
    await customer_service.create(rep, name="温州鹿城区五马街酒楼", type="中餐")
    await customer_service.create(other_rep, name="温州鹿城区第九中学食堂", type="学校食堂")
    template = (
        await customer_service.stub.CreateClosureTemplate(
            cpb.CreateClosureTemplateRequest(template=_school_calendar("2027 温州中小学校历")),
            metadata=customer_service.metadata(admin),
        )
    ).template

    applied = await customer_service.stub.ApplyClosureTemplate(
        cpb.ApplyClosureTemplateRequest(template_id=template.id, filter=cpb.ClosureCustomerFilter(type="学校食堂")),
        metadata=customer_service.metadata(rep),
    )
    empty_filter = await customer_service.refusal(
        customer_service.stub.ApplyClosureTemplate(
            cpb.ApplyClosureTemplateRequest(template_id=template.id, filter=cpb.ClosureCustomerFilter()),
            metadata=customer_service.metadata(rep),
        )
    )
    members = await customer_service.stub.ListClosureTemplateCustomers(
        cpb.ListClosureTemplateCustomersRequest(template_id=template.id), metadata=customer_service.metadata(rep)
    )

    assert sorted(applied.applied_customer_ids) == sorted(s.id for s in schools)
    assert (empty_filter.code, empty_filter.field) == (grpc.StatusCode.INVALID_ARGUMENT, "filter")
    assert sorted(m.customer_name for m in members.customers) == ["温州鹿城区第1中学食堂", "温州鹿城区第2中学食堂"]


async def test_closed_days_of_a_batch_come_merged_and_clipped_from_one_query(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    first, second, open_all_year = [
        await customer_service.create(rep, name=name) for name in ("绍兴越城区食堂", "绍兴柯桥区食堂", "绍兴上虞区食堂")
    ]
    await _close(customer_service, rep, first.id, "2027-01-23", "2027-02-20")
    await _close(customer_service, rep, first.id, "2027-02-21", "2027-02-23", cpb.CLOSURE_REASON_RENOVATION)
    await _close(customer_service, rep, second.id, "2027-02-10", "2027-02-12", SPRING)

    async with customer_service.runtime.sessions() as session:
        days = await closed_days(
            session, [first.id, second.id, open_all_year.id], _day("2027-02-01"), _day("2027-02-28")
        )

    assert days.spans[first.id] == [(_day("2027-02-01"), _day("2027-02-23"))]
    assert days.count(first.id) == 23
    assert days.count(second.id, _day("2027-02-11"), _day("2027-02-28")) == 2
    assert days.count(open_all_year.id) == 0
    assert days.closed_customers(_day("2027-02-22")) == {first.id}


async def _sweep(harness, by: dt.timedelta) -> None:  # type: ignore[no-untyped-def]
    moved_to = harness.clock.advance(by)
    await ran_since(harness.runtime.sessions, "pool-sweep", moved_to)


@pytest.mark.parametrize("backend", ["customer_service", "customer_service_sqlite"], indirect=True)
async def test_the_pool_clock_stands_still_while_a_customer_is_closed_and_it_returns_later_by_the_closed_days(
    backend,
) -> None:
    customer_service = backend
    org = customer_service.org
    rep, boss = org.person(Role.SALES, org.shop_a), org.person(Role.BOSS, org.hq)
    await customer_service.stub.CreatePool(
        ppb.CreatePoolRequest(
            pool=ppb.Pool(
                name="公海",
                org_unit_id=org.sub_a,
                org_path=org.path(org.sub_a),
                rules=ppb.PoolRules(no_follow_up_days={"normal": 15}, warn_days_before=3),
            )
        ),
        metadata=customer_service.metadata(boss),
    )
    closed = await customer_service.create(rep, name="嘉兴南湖区实验小学食堂")
    neglected = await customer_service.create(rep, name="嘉兴秀洲区实验小学食堂")
    today = shanghai_date(customer_service.clock())
    # Closed over the day its 15 days run out: days 10 to 20, eleven days.
    await _close(customer_service, rep, closed.id, today + dt.timedelta(days=10), today + dt.timedelta(days=20), WINTER)

    await _sweep(customer_service, dt.timedelta(days=16, hours=1))
    while_closed = await customer_service.list_names(rep)
    await _sweep(customer_service, dt.timedelta(days=5))
    after_the_closure = await customer_service.list_names(rep)
    await _sweep(customer_service, dt.timedelta(days=5))
    fifteen_open_days_later = await customer_service.list_names(rep)

    assert while_closed == [closed.name]
    assert after_the_closure == [closed.name]
    assert fifteen_open_days_later == []
    assert neglected.name not in while_closed


async def test_no_follow_up_reminder_falls_on_a_closed_day(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    closed, open_ = (
        await customer_service.create(rep, name="湖州吴兴区食堂"),
        await customer_service.create(rep, name="湖州南浔区食堂"),
    )
    tomorrow = shanghai_date(customer_service.clock()) + dt.timedelta(days=1)
    await _close(customer_service, rep, closed.id, tomorrow, tomorrow + dt.timedelta(days=3), SPRING)
    for customer in (closed, open_):
        await customer_service.stub.LogInteraction(
            fpb.LogInteractionRequest(
                interaction=fpb.Interaction(
                    customer_id=customer.id,
                    kind=fpb.INTERACTION_KIND_PHONE,
                    content="约好明天再联系",
                    next_follow_up_date=tomorrow.isoformat(),
                )
            ),
            metadata=customer_service.metadata(rep),
        )
    morning = dt.datetime.combine(tomorrow, dt.time(9, 0), tzinfo=SHANGHAI)
    moved_to = customer_service.clock.advance(morning - customer_service.clock())
    await ran_since(customer_service.runtime.sessions, "follow-up-reminders", moved_to)

    reminded = []
    for row in await customer_service.outbox():
        if row.envelope.type == event_type_of(events_pb2.FollowUpReminder):
            message = events_pb2.FollowUpReminder()
            assert row.envelope.payload.Unpack(message)
            reminded.append(message.customer.id)

    assert reminded == [open_.id]
