"""Closures (停工/放假), calendar templates (校历) and licences (资质证照) over REST: bad input named
(4xx, never a 500), who sees which (service staff closures, finance licences, another rep
nothing), and the owner's inbox notices of a licence running out, once each."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import nats
from google.protobuf.message import Message

from crm.customer.v1 import calendar_pb2, events_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crmkit.clock import SHANGHAI
from crmkit.events import event_name_of, event_type_of, subject_for, timestamp_of

CUSTOMERS = "/api/v1/customers"
TEMPLATES = "/api/v1/closure-templates"
WINTER = {"start_date": "2027-01-23", "end_date": "2027-02-20", "reason": "winter_break"}
SUMMER = {"start_date": "2027-07-03", "end_date": "2027-08-31", "reason": "summer_break"}


def _in(days: int) -> str:
    return (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=days)).isoformat()


async def _close(client, person, customer_id: str, **fields: Any):  # type: ignore[no-untyped-def]
    return await client.post(f"{CUSTOMERS}/{customer_id}/closures", json={**WINTER, **fields}, headers=person.headers)


async def _licence(client, person, customer_id: str, **fields: Any):  # type: ignore[no-untyped-def]
    body = {"kind": "食品经营许可证", "number": "JY13301060054321", "valid_until": _in(200), **fields}
    return await client.post(f"{CUSTOMERS}/{customer_id}/licences", json=body, headers=person.headers)


# --------------------------------------------------------------------------- closures


async def test_bad_closures_are_refused_naming_the_field(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州西湖区文三路小学食堂")
    await _close(client, org.sales_a, customer["id"])
    cases = [
        ({"end_date": "2027-01-01"}, 400, "end_date", None),
        ({"end_date": "2028-06-30"}, 400, "end_date", None),
        ({"reason": "holiday"}, 422, "reason", None),
        ({"start_date": "2027-02-30"}, 422, "start_date", None),
        ({"reason": "other", "start_date": "2027-05-01", "end_date": "2027-05-03"}, 400, "note", None),
        (
            {"start_date": "2027-02-01", "end_date": "2027-03-01", "reason": "spring_festival"},
            400,
            "start_date",
            "closure_overlap",
        ),
        ({"colour": "red"}, 422, "colour", None),
    ]
    for fields, status, field, code in cases:
        api.problem(await _close(client, org.sales_a, customer["id"], **fields), status, field=field, code=code)
    listed = await client.get(f"{CUSTOMERS}/{customer['id']}/closures", headers=org.sales_a.headers)
    assert [(c["start_date"], c["reason"]) for c in listed.json()["items"]] == [("2027-01-23", "winter_break")]


async def test_service_staff_see_closures_finance_does_not_and_another_rep_gets_404(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州拱墅区登云路中学食堂")
    created = await _close(client, org.sales_a, customer["id"], start_date=_in(-2), end_date=_in(5))
    url = f"{CUSTOMERS}/{customer['id']}/closures"

    by_service = await client.get(url, headers=org.service.headers)
    by_supervisor = await client.get(url, headers=org.supervisor.headers)
    by_finance = await client.get(url, headers=org.finance.headers)
    by_other_rep = await client.get(url, headers=org.sales_b.headers)
    added_by_service = await _close(client, org.service, customer["id"], **SUMMER)
    moved_by_other = await client.patch(
        f"{url}/{created.json()['id']}", json={"end_date": _in(6)}, headers=org.sales_b.headers
    )

    assert created.status_code == 201, created.text
    assert by_service.status_code == 200 and by_service.json()["current"]["id"] == created.json()["id"]
    assert [c["id"] for c in by_supervisor.json()["items"]] == [created.json()["id"]]
    api.problem(by_finance, 403, code="permission_denied")
    api.problem(by_other_rep, 404, code="not_found")
    api.problem(added_by_service, 403)
    api.problem(moved_by_other, 404, code="not_found")


async def test_a_rep_changes_and_removes_a_closure(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="宁波北仑区模具厂员工食堂", type="企业食堂")
    created = (await _close(client, org.sales_a, customer["id"], reason="factory_shutdown")).json()
    url = f"{CUSTOMERS}/{customer['id']}/closures/{created['id']}"

    changed = await client.patch(url, json={"end_date": "2027-02-25", "note": "设备检修"}, headers=org.sales_a.headers)
    stale = await client.patch(url, json={"note": "x", "expected_version": 1}, headers=org.sales_a.headers)
    empty = await client.patch(url, json={}, headers=org.sales_a.headers)
    deleted = await client.delete(url, headers=org.sales_a.headers)
    listed = await client.get(f"{CUSTOMERS}/{customer['id']}/closures", headers=org.sales_a.headers)

    assert changed.status_code == 200, changed.text
    assert (changed.json()["end_date"], changed.json()["note"], changed.json()["version"]) == (
        "2027-02-25",
        "设备检修",
        2,
    )
    api.problem(stale, 409)
    api.problem(empty, 400, field="body")
    assert deleted.status_code == 204
    assert listed.json() == {"items": [], "current": None}


async def test_a_template_is_applied_to_a_reps_customers_and_its_change_follows(client, org, api) -> None:  # type: ignore[no-untyped-def]
    schools = [await api.create_customer(org.sales_a, name=f"杭州滨江区第{n}实验小学食堂") for n in (1, 2)]
    foreign = await api.create_customer(org.sales_b, name="杭州滨江区长河小学食堂")
    body = {"name": "2027 杭州中小学校历", "ranges": [WINTER, SUMMER]}

    by_rep = await client.post(TEMPLATES, json=body, headers=org.sales_a.headers)
    overlapping = await client.post(
        TEMPLATES,
        json={"name": "重叠", "ranges": [WINTER, {**SUMMER, "start_date": "2027-02-01", "end_date": "2027-02-05"}]},
        headers=org.admin.headers,
    )
    template = await client.post(TEMPLATES, json=body, headers=org.admin.headers)
    same_name = await client.post(TEMPLATES, json=body, headers=org.admin.headers)
    tid = template.json()["id"]
    applied = await client.post(
        f"{TEMPLATES}/{tid}/customers",
        json={"customer_ids": [s["id"] for s in schools] + [foreign["id"]]},
        headers=org.sales_a.headers,
    )
    winter_id = next(r["id"] for r in template.json()["ranges"] if r["reason"] == "winter_break")
    changed = await client.patch(
        f"{TEMPLATES}/{tid}",
        json={"ranges": [{**WINTER, "id": winter_id, "start_date": "2027-01-16"}]},
        headers=org.admin.headers,
    )
    closures = await client.get(f"{CUSTOMERS}/{schools[0]['id']}/closures", headers=org.sales_a.headers)
    members = await client.get(f"{TEMPLATES}/{tid}/customers", headers=org.sales_a.headers)
    removed = await client.post(
        f"{TEMPLATES}/{tid}/customers/remove", json={"customer_ids": [schools[1]["id"]]}, headers=org.sales_a.headers
    )
    empty_apply = await client.post(f"{TEMPLATES}/{tid}/customers", json={}, headers=org.sales_a.headers)
    other_tenant_like = await client.get(f"{TEMPLATES}/{uuid.uuid4()}", headers=org.admin.headers)

    api.problem(by_rep, 403)
    api.problem(overlapping, 400, field="ranges[1].start_date")
    assert template.status_code == 201, template.text
    api.problem(same_name, 400, field="name")
    assert applied.status_code == 200, applied.text
    assert sorted(applied.json()["applied_customer_ids"]) == sorted(s["id"] for s in schools)
    assert applied.json()["not_found_customer_ids"] == [foreign["id"]]
    assert changed.status_code == 200, changed.text
    assert changed.json()["closures_changed"] == 4
    assert [(c["start_date"], c["template_name"]) for c in closures.json()["items"]] == [
        ("2027-01-16", "2027 杭州中小学校历")
    ]
    assert sorted(m["customer_name"] for m in members.json()["items"]) == sorted(s["name"] for s in schools)
    assert members.json()["items"][0]["owner_name"] == "张三"
    assert removed.json() == {"removed_customer_ids": [schools[1]["id"]], "not_found_customer_ids": []}
    api.problem(empty_apply, 400, field="customer_ids")
    api.problem(other_tenant_like, 404, code="not_found")


# --------------------------------------------------------------------------- licences


async def test_bad_licences_are_refused_naming_the_field(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州上城区清河坊酒楼", type="中餐")
    cases = [
        ({"valid_from": "2027-06-01", "valid_until": "2027-05-01"}, 400, "valid_until"),
        ({"kind": "驾驶证"}, 400, "kind"),
        ({"number": ""}, 422, "number"),
        ({"attachment_id": "../secret"}, 422, "attachment_id"),
        ({"valid_until": "not a date"}, 422, "valid_until"),
    ]
    for fields, status, field in cases:
        api.problem(await _licence(client, org.sales_a, customer["id"], **fields), status, field=field)
    bad_kinds = await client.put(
        "/api/v1/licence-kinds",
        json={"items": [{"name": "排污许可证", "required_for_types": ["火星基地"]}]},
        headers=org.admin.headers,
    )
    api.problem(bad_kinds, 400, field="items[0].required_for_types[0]")


async def test_finance_sees_licences_service_staff_do_not_and_another_rep_gets_404(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州西湖区翠苑中学食堂", type="学校食堂")
    created = await _licence(client, org.sales_a, customer["id"], valid_until=_in(10), attachment_id="att-2027_01")
    url = f"{CUSTOMERS}/{customer['id']}/licences"

    by_finance = await client.get(url, headers=org.finance.headers)
    by_service = await client.get(url, headers=org.service.headers)
    by_other_rep = await client.get(url, headers=org.sales_b.headers)
    expiring = await client.get("/api/v1/licences/expiring", headers=org.supervisor.headers)
    expiring_for_other_rep = await client.get("/api/v1/licences/expiring", headers=org.sales_b.headers)

    assert created.status_code == 201, created.text
    assert created.json()["attachment_id"] == "att-2027_01"
    assert by_finance.status_code == 200, by_finance.text
    assert [(i["kind"], i["status"], i["days_left"]) for i in by_finance.json()["items"]] == [
        ("食品经营许可证", "expiring", 10)
    ]
    assert by_finance.json()["summary"]["status"] == "expiring"
    api.problem(by_service, 403, code="permission_denied")
    api.problem(by_other_rep, 404, code="not_found")
    found = [i for i in expiring.json()["items"] if i["licence"]["id"] == created.json()["id"]]
    assert [(i["customer_name"], i["owner_name"]) for i in found] == [("杭州西湖区翠苑中学食堂", "张三")]
    assert created.json()["id"] not in {i["licence"]["id"] for i in expiring_for_other_rep.json()["items"]}


async def test_a_canteen_without_its_food_licence_shows_it_missing(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="杭州余杭区五常中学食堂", type="学校食堂")

    before = await client.get(f"{CUSTOMERS}/{customer['id']}/licences", headers=org.sales_a.headers)
    made = await _licence(client, org.sales_a, customer["id"], valid_until=None)
    changed = await client.patch(
        f"{CUSTOMERS}/{customer['id']}/licences/{made.json()['id']}",
        json={"valid_until": _in(-1)},
        headers=org.sales_a.headers,
    )
    after = await client.get(f"{CUSTOMERS}/{customer['id']}/licences", headers=org.sales_a.headers)

    assert before.json()["summary"] == {
        "status": "missing",
        "missing_kinds": ["食品经营许可证"],
        "expiring_kinds": [],
        "expired_kinds": [],
    }
    assert (made.json()["status"], made.json()["days_left"]) == ("valid", None)
    assert (changed.json()["status"], changed.json()["days_left"]) == ("expired", -1)
    assert after.json()["summary"]["status"] == "expired"


# --------------------------------------------------------------------------- notifications


async def _publish(stack, message: Message, *, tenant_id: str, event_id: str) -> None:  # type: ignore[no-untyped-def]
    """Put an event on the customer service's stream as its relay would (a fresh message id each
    time, so JetStream's de-duplication does not hide a redelivery)."""
    envelope = Envelope(
        id=event_id,
        type=event_type_of(type(message)),
        tenant_id=tenant_id,
        aggregate_id=str(uuid.uuid4()),
        aggregate_version=1,
        occurred_at=timestamp_of(dt.datetime.now(dt.UTC)),
    )
    envelope.payload.Pack(message)
    nc = await nats.connect(stack.settings.nats_url)
    try:
        subject = subject_for("customer", event_name_of(type(message)), stack.settings.event_namespace)
        await nc.jetstream().publish(subject, envelope.SerializeToString(), headers={"Nats-Msg-Id": str(uuid.uuid4())})
    finally:
        await nc.close()


async def test_the_owner_is_notified_of_a_licence_running_out_once_per_notice(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    tenant = (await client.get("/api/v1/auth/me", headers=org.sales_b.headers)).json()["tenant_id"]
    customer_id = str(uuid.uuid4())
    licence = calendar_pb2.Licence(
        id=str(uuid.uuid4()),
        customer_id=customer_id,
        kind="食品经营许可证",
        number="JY133",
        valid_until=_in(7),
        days_left=7,
    )
    about = {
        "tenant_id": tenant,
        "customer_id": customer_id,
        "customer_name": "台州椒江区中学食堂",
        "owner_id": org.sales_b.id,
    }
    expiring = events_pb2.LicenceExpiring(**about, licence=licence, days_before=7)
    expired = events_pb2.LicenceExpired(**about, licence=licence)
    first = str(uuid.uuid4())
    for message, event_id in ((expiring, first), (expiring, first), (expired, str(uuid.uuid4()))):
        await _publish(stack, message, tenant_id=tenant, event_id=event_id)

    async def notices() -> list[dict[str, Any]]:
        response = await client.get("/api/v1/notifications", params={"page_size": 100}, headers=org.sales_b.headers)
        return [n for n in response.json()["items"] if n["link_id"] == customer_id]

    found = await api.eventually(notices, lambda items: any(n["kind"] == "licence_expired" for n in items))

    assert sorted(n["kind"] for n in found) == ["licence_expired", "licence_expiring"]
    expiring_notice = next(n for n in found if n["kind"] == "licence_expiring")
    assert "食品经营许可证" in expiring_notice["body"] and "7天后" in expiring_notice["body"]
    assert expiring_notice["link_type"] == "customer"


async def test_applying_a_template_reports_the_customers_it_skipped_and_what_overlapped(client, org, api) -> None:  # type: ignore[no-untyped-def]
    busy = await api.create_customer(org.sales_a, name="杭州上城区装修中的小学食堂")
    await _close(client, org.sales_a, busy["id"], start_date="2027-02-15", end_date="2027-03-01", reason="renovation")
    template = await client.post(
        TEMPLATES, json={"name": "2027 上城区校历", "ranges": [WINTER, SUMMER]}, headers=org.admin.headers
    )

    applied = await client.post(
        f"{TEMPLATES}/{template.json()['id']}/customers",
        json={"customer_ids": [busy["id"]]},
        headers=org.sales_a.headers,
    )

    assert applied.status_code == 200, applied.text
    (conflict,) = applied.json()["conflicts"]
    assert (conflict["customer_id"], conflict["customer_name"]) == (busy["id"], "杭州上城区装修中的小学食堂")
    assert [
        (o["closure"]["start_date"], o["closure"]["reason"], o["range"]["start_date"], o["range"]["end_date"])
        for o in conflict["overlaps"]
    ] == [("2027-02-15", "renovation", "2027-01-23", "2027-02-20")]
