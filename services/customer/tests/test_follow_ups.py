"""Follow-ups: logged on a customer, listed newest first, edited by their author for 24 hours,
and the next follow-up date as its owner's task (today, overdue, this week)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import follow_ups_pb2 as fpb
from crmkit.clock import shanghai_date
from crmkit.identity import Identity, Role


def _stamp(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


async def _log(harness, identity: Identity, customer_id: str, **fields: Any) -> fpb.Interaction:  # type: ignore[no-untyped-def]
    fields.setdefault("kind", fpb.INTERACTION_KIND_PHONE)
    fields.setdefault("content", "电话确认下周菜单")
    response = await harness.stub.LogInteraction(
        fpb.LogInteractionRequest(interaction=fpb.Interaction(customer_id=customer_id, **fields)),
        metadata=harness.metadata(identity),
    )
    return cast(fpb.Interaction, response.interaction)


async def _customer(harness, identity: Identity, customer_id: str) -> pb.Customer:  # type: ignore[no-untyped-def]
    response = await harness.stub.GetCustomer(
        pb.GetCustomerRequest(id=customer_id), metadata=harness.metadata(identity)
    )
    return cast(pb.Customer, response.customer)


def _day(harness, days: int = 0) -> str:  # type: ignore[no-untyped-def]
    return (shanghai_date(harness.clock()) + dt.timedelta(days=days)).isoformat()


async def test_a_logged_follow_up_moves_the_customers_last_and_next_and_is_published(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(
        rep, name="合肥蜀山区第一中学食堂", contacts=[pb.Contact(name="周师傅", mobile="13955550001")]
    )
    visited = customer_service.clock() - dt.timedelta(hours=3)

    logged = await _log(
        customer_service,
        rep,
        customer.id,
        kind=fpb.INTERACTION_KIND_VISIT,
        occur_time=_stamp(visited),
        contact_ids=[customer.contacts[0].id],
        content="拜访食堂主任\n确认春季菜单",
        outcome="同意试用新品",
        next_follow_up_date=_day(customer_service, 3),
    )
    after = await _customer(customer_service, rep, customer.id)
    rows = await customer_service.published_outbox()

    assert (logged.author_id, logged.kind, logged.content) == (
        rep.principal_id,
        fpb.INTERACTION_KIND_VISIT,
        "拜访食堂主任\n确认春季菜单",
    )
    assert after.last_interaction_time.ToDatetime(tzinfo=dt.UTC) == visited
    assert after.next_follow_up_date == _day(customer_service, 3)
    assert after.version == customer.version + 1
    # The revisit job may publish on the same outbox meanwhile: take the newest follow-up event.
    event = [row for row in rows if row.envelope.aggregate_id == customer.id][-1]
    assert event.envelope.type == "crm.customer.v1.interaction_logged"
    payload = events_pb2.InteractionLogged()
    assert event.envelope.payload.Unpack(payload)
    assert (payload.interaction.id, payload.customer.next_follow_up_date) == (logged.id, _day(customer_service, 3))
    assert payload.customer.contacts[0].mobile == ""


async def test_the_timeline_is_newest_first_by_when_it_happened_across_pages(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="芜湖镜湖区机关食堂")
    now = customer_service.clock()
    for hours_ago, content in ((5, "五小时前"), (1, "一小时前"), (30, "昨天")):
        await _log(
            customer_service, rep, customer.id, occur_time=_stamp(now - dt.timedelta(hours=hours_ago)), content=content
        )

    seen: list[str] = []
    token = ""
    while True:
        page = await customer_service.stub.ListInteractions(
            fpb.ListInteractionsRequest(customer_id=customer.id, page_size=2, page_token=token),
            metadata=customer_service.metadata(rep),
        )
        seen.extend(i.content for i in page.interactions)
        token = page.next_page_token
        if not token:
            break

    assert seen == ["一小时前", "五小时前", "昨天"]


async def test_the_latest_entry_logged_sets_the_next_follow_up_even_if_it_happened_earlier(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="蚌埠龙子湖区食堂")
    await _log(customer_service, rep, customer.id, next_follow_up_date=_day(customer_service))
    # Logging today a call from two days ago completes today's task and asks for none.
    await _log(customer_service, rep, customer.id, occur_time=_stamp(customer_service.clock() - dt.timedelta(days=2)))

    after = await _customer(customer_service, rep, customer.id)

    assert after.next_follow_up_date == ""
    assert after.last_interaction_time.ToDatetime(tzinfo=dt.UTC) > customer_service.clock() - dt.timedelta(minutes=1)


async def test_only_the_author_edits_and_only_for_24_hours(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    customer = await customer_service.create(rep, name="淮南田家庵区食堂")
    logged = await _log(customer_service, rep, customer.id, content="初次电话")

    def edit(who: Identity, content: str):  # type: ignore[no-untyped-def]
        return customer_service.stub.UpdateInteraction(
            fpb.UpdateInteractionRequest(
                interaction=fpb.Interaction(id=logged.id, customer_id=customer.id, content=content),
                update_mask=FieldMask(paths=["content"]),
            ),
            metadata=customer_service.metadata(who),
        )

    edited = (await edit(rep, "初次电话，约周三拜访")).interaction
    by_other = await customer_service.refusal(edit(supervisor, "主管改写"))
    customer_service.clock.advance(dt.timedelta(hours=24, minutes=1))
    too_late = await customer_service.refusal(edit(rep, "太晚了"))
    correction = await _log(customer_service, rep, customer.id, content="更正：周四拜访", corrects_id=logged.id)

    assert edited.content == "初次电话，约周三拜访" and edited.id == logged.id
    assert by_other.code == grpc.StatusCode.PERMISSION_DENIED
    assert too_late.code == grpc.StatusCode.FAILED_PRECONDITION
    assert correction.corrects_id == logged.id


async def test_bad_follow_ups_are_refused_naming_the_field(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep, name="马鞍山花山区食堂")
    other = await customer_service.create(rep, name="马鞍山雨山区食堂", contacts=[pb.Contact(name="钱经理")])
    future = _stamp(customer_service.clock() + dt.timedelta(hours=1))
    cases = {
        "interaction.kind": {"kind": fpb.INTERACTION_KIND_UNSPECIFIED},
        "interaction.content": {"content": "   "},
        "interaction.occur_time": {"occur_time": future},
        "interaction.next_follow_up_date": {"next_follow_up_date": _day(customer_service, -1)},
        "interaction.contact_ids[0]": {"contact_ids": [other.contacts[0].id]},
        "interaction.corrects_id": {"corrects_id": customer.id},
    }
    refused = {}
    for field, fields in cases.items():
        request = {"kind": fpb.INTERACTION_KIND_PHONE, "content": "电话", **fields}
        refused[field] = await customer_service.refusal(
            customer_service.stub.LogInteraction(
                fpb.LogInteractionRequest(interaction=fpb.Interaction(customer_id=customer.id, **request)),
                metadata=customer_service.metadata(rep),
            )
        )

    assert {field: (r.code, r.field) for field, r in refused.items()} == {
        field: (grpc.StatusCode.INVALID_ARGUMENT, field) for field in cases
    }


async def test_another_reps_customer_takes_no_follow_up_and_looks_missing(customer_service) -> None:
    org = customer_service.org
    rep_a, rep_b = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(rep_a, name="铜陵铜官区食堂")

    logged = await customer_service.refusal(
        customer_service.stub.LogInteraction(
            fpb.LogInteractionRequest(interaction=fpb.Interaction(customer_id=customer.id, kind=1, content="x")),
            metadata=customer_service.metadata(rep_b),
        )
    )
    listed = await customer_service.refusal(
        customer_service.stub.ListInteractions(
            fpb.ListInteractionsRequest(customer_id=customer.id), metadata=customer_service.metadata(rep_b)
        )
    )

    assert logged.code == listed.code == grpc.StatusCode.NOT_FOUND


async def _tasks(harness, identity: Identity, due: int, **narrowing: Any) -> list[str]:  # type: ignore[no-untyped-def]
    response = await harness.stub.ListFollowUpTasks(
        fpb.ListFollowUpTasksRequest(due=due, **narrowing), metadata=harness.metadata(identity)
    )
    return sorted(task.customer_name for task in response.tasks)


async def test_due_follow_ups_are_the_owners_tasks_and_the_supervisors_for_the_subtree(customer_service) -> None:
    org = customer_service.org
    rep_a, rep_b = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_b)
    supervisor, boss = org.person(Role.SUPERVISOR, org.sub_a), org.person(Role.BOSS, org.hq)
    today, tomorrow = (
        await customer_service.create(rep_a, name="六安今天食堂"),
        await customer_service.create(rep_a, name="六安明天食堂"),
    )
    b_today = await customer_service.create(rep_b, name="亳州今天食堂")
    await _log(customer_service, rep_a, today.id, next_follow_up_date=_day(customer_service))
    await _log(customer_service, rep_a, tomorrow.id, next_follow_up_date=_day(customer_service, 1))
    await _log(customer_service, rep_b, b_today.id, next_follow_up_date=_day(customer_service))

    assert await _tasks(customer_service, rep_a, fpb.FOLLOW_UP_DUE_TODAY) == ["六安今天食堂"]
    assert await _tasks(customer_service, rep_a, fpb.FOLLOW_UP_DUE_OVERDUE) == []
    assert await _tasks(customer_service, supervisor, fpb.FOLLOW_UP_DUE_TODAY) == ["六安今天食堂"]
    assert await _tasks(customer_service, boss, fpb.FOLLOW_UP_DUE_TODAY) == ["亳州今天食堂", "六安今天食堂"]
    assert await _tasks(customer_service, boss, fpb.FOLLOW_UP_DUE_TODAY, owner_id=rep_b.principal_id) == [
        "亳州今天食堂"
    ]
    assert await _tasks(customer_service, boss, fpb.FOLLOW_UP_DUE_TODAY, org_unit_id=org.sub_a) == ["六安今天食堂"]

    # Two days on, both of rep A's are overdue; logging the follow-up completes one.
    customer_service.clock.advance(dt.timedelta(days=2))
    assert await _tasks(customer_service, rep_a, fpb.FOLLOW_UP_DUE_OVERDUE) == ["六安今天食堂", "六安明天食堂"]
    await _log(customer_service, rep_a, today.id, content="补打电话")
    assert await _tasks(customer_service, rep_a, fpb.FOLLOW_UP_DUE_OVERDUE) == ["六安明天食堂"]
    assert await _tasks(customer_service, rep_a, fpb.FOLLOW_UP_DUE_TODAY) == []


async def test_this_week_runs_from_today_to_sunday(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    today = shanghai_date(customer_service.clock())
    sunday = 6 - today.weekday()
    inside = await customer_service.create(rep, name="宿州本周食堂")
    outside = await customer_service.create(rep, name="宿州下周食堂")
    await _log(customer_service, rep, inside.id, next_follow_up_date=_day(customer_service, sunday))
    await _log(customer_service, rep, outside.id, next_follow_up_date=_day(customer_service, sunday + 1))

    assert await _tasks(customer_service, rep, fpb.FOLLOW_UP_DUE_THIS_WEEK) == ["宿州本周食堂"]
    refused = await customer_service.refusal(
        customer_service.stub.ListFollowUpTasks(fpb.ListFollowUpTasksRequest(), metadata=customer_service.metadata(rep))
    )
    assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, "due")


@pytest.mark.parametrize("backend", ["customer_service", "customer_service_sqlite"], indirect=True)
async def test_the_timeline_narrows_to_one_kind_and_refuses_an_unknown_one(backend) -> None:
    org = backend.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await backend.create(rep, name="蚌埠禹会区实验小学食堂")
    await _log(backend, rep, customer.id, kind=fpb.INTERACTION_KIND_PHONE, content="电话确认")
    await _log(backend, rep, customer.id, kind=fpb.INTERACTION_KIND_WECHAT, content="微信发菜单")
    await _log(backend, rep, customer.id, kind=fpb.INTERACTION_KIND_PHONE, content="电话回访")

    async def contents(kind: int) -> list[str]:
        page = await backend.stub.ListInteractions(
            fpb.ListInteractionsRequest(customer_id=customer.id, kind=kind), metadata=backend.metadata(rep)
        )
        return sorted(i.content for i in page.interactions)

    assert await contents(fpb.INTERACTION_KIND_PHONE) == ["电话回访", "电话确认"]
    assert await contents(fpb.INTERACTION_KIND_WECHAT) == ["微信发菜单"]
    assert await contents(fpb.INTERACTION_KIND_VISIT) == []
    assert len(await contents(fpb.INTERACTION_KIND_UNSPECIFIED)) == 3
    refused = await backend.refusal(
        backend.stub.ListInteractions(
            fpb.ListInteractionsRequest(customer_id=customer.id, kind=99),
            metadata=backend.metadata(rep),  # type: ignore[arg-type]
        )
    )
    assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, "kind")
