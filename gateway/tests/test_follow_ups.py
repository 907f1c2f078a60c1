"""Follow-ups over REST: log, list, edit your own, bad input named, and the due tasks of a rep
and of their supervisor."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from crmkit.clock import SHANGHAI

CUSTOMERS = "/api/v1/customers"


def _today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


async def _log(client, person, customer_id: str, **fields: Any):  # type: ignore[no-untyped-def]
    body = {"kind": "phone", "content": "电话确认周一配送", **fields}
    return await client.post(f"{CUSTOMERS}/{customer_id}/follow-ups", json=body, headers=person.headers)


async def test_a_rep_logs_a_follow_up_and_the_customer_shows_its_next_date(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="温州鹿城区实验中学食堂")
    contact_id = customer["contacts"][0]["id"]

    logged = await _log(
        client,
        org.sales_a,
        customer["id"],
        kind="visit",
        contact_ids=[contact_id],
        content="拜访后勤主任，试吃新品",
        outcome="下周报价",
        next_follow_up_date=(_today() + dt.timedelta(days=2)).isoformat(),
    )
    listed = await client.get(f"{CUSTOMERS}/{customer['id']}/follow-ups", headers=org.sales_a.headers)
    after = (await client.get(f"{CUSTOMERS}/{customer['id']}", headers=org.sales_a.headers)).json()

    assert logged.status_code == 201, logged.text
    entry = logged.json()
    assert (entry["kind"], entry["author_name"], entry["contact_ids"]) == ("visit", "张三", [contact_id])
    assert entry["occurred_at"].endswith("+08:00")
    assert [e["id"] for e in listed.json()["items"]] == [entry["id"]]
    assert after["next_follow_up_date"] == (_today() + dt.timedelta(days=2)).isoformat()
    assert after["last_interaction_at"] is not None


async def test_the_author_edits_a_follow_up_and_no_one_else_may(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="温州瓯海区食堂")
    entry = (await _log(client, org.sales_a, customer["id"], content="初次电话")).json()
    url = f"{CUSTOMERS}/{customer['id']}/follow-ups/{entry['id']}"

    edited = await client.patch(
        url, json={"content": "初次电话，约周三拜访", "kind": "wechat"}, headers=org.sales_a.headers
    )
    by_supervisor = await client.patch(url, json={"content": "主管改写"}, headers=org.supervisor.headers)
    empty = await client.patch(url, json={}, headers=org.sales_a.headers)

    assert edited.status_code == 200, edited.text
    assert (edited.json()["content"], edited.json()["kind"]) == ("初次电话，约周三拜访", "wechat")
    api.problem(by_supervisor, 403, code="permission_denied")
    api.problem(empty, 400, field="body")


async def test_bad_follow_ups_are_refused_naming_the_field(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="温州龙湾区食堂")
    future = (dt.datetime.now(SHANGHAI) + dt.timedelta(hours=2)).isoformat()
    yesterday = (_today() - dt.timedelta(days=1)).isoformat()

    cases = [
        ({"kind": "fax"}, 422, "kind"),
        ({"content": ""}, 422, "content"),
        ({"content": "食" * 2001}, 422, "content"),
        ({"occurred_at": "2026-12-01T10:00:00"}, 422, "occurred_at"),
        ({"occurred_at": future}, 400, "occurred_at"),
        ({"next_follow_up_date": yesterday}, 400, "next_follow_up_date"),
        ({"contact_ids": [str(uuid.uuid4())]}, 400, "contact_ids[0]"),
        ({"corrects_id": str(uuid.uuid4())}, 400, "corrects_id"),
    ]
    for fields, status, field in cases:
        api.problem(await _log(client, org.sales_a, customer["id"], **fields), status, field=field)


async def test_another_reps_customer_looks_missing_to_follow_ups(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="温州洞头区食堂")

    logged = await _log(client, org.sales_b, customer["id"])
    listed = await client.get(f"{CUSTOMERS}/{customer['id']}/follow-ups", headers=org.sales_b.headers)
    missing = await client.get(f"{CUSTOMERS}/{uuid.uuid4()}/follow-ups", headers=org.sales_b.headers)

    api.problem(logged, 404, code="not_found")
    api.problem(listed, 404, code="not_found")
    assert listed.json()["code"] == missing.json()["code"]


async def test_due_today_is_the_reps_task_and_their_supervisors(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_b, name="温州瑞安市食堂")
    await _log(client, org.sales_b, customer["id"], next_follow_up_date=_today().isoformat())

    async def task_ids(person, **params: str) -> set[str]:  # type: ignore[no-untyped-def]
        response = await client.get("/api/v1/follow-up-tasks", params=params, headers=person.headers)
        assert response.status_code == 200, response.text
        return {t["customer_id"] for t in response.json()["items"]}

    assert customer["id"] in await task_ids(org.sales_b)
    assert customer["id"] in await task_ids(org.supervisor, due="this_week")
    assert customer["id"] not in await task_ids(org.sales_a)
    assert customer["id"] not in await task_ids(org.sales_b, due="overdue")
    assert customer["id"] not in await task_ids(org.sales_c)
    bad = await client.get("/api/v1/follow-up-tasks", params={"due": "someday"}, headers=org.sales_b.headers)
    api.problem(bad, 422, field="due")


async def test_times_at_the_edge_of_the_calendar_are_refused_not_a_server_error(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="温州乐清市食堂")

    first_instant = await _log(client, org.sales_a, customer["id"], occurred_at="0001-01-01T00:00:00+08:00")
    huge_version = await client.patch(
        f"{CUSTOMERS}/{customer['id']}",
        json={"short_name": "乐清", "expected_version": 2**70},
        headers=org.sales_a.headers,
    )

    api.problem(first_instant, 400, field="occurred_at")
    api.problem(huge_version, 422, field="expected_version")


async def test_the_timeline_narrows_to_one_kind_and_an_unknown_kind_is_named(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="温州鹿城区食堂")
    await _log(client, org.sales_a, customer["id"], kind="phone", content="电话确认")
    await _log(client, org.sales_a, customer["id"], kind="wechat", content="微信发报价")

    wechat = await client.get(f"{CUSTOMERS}/{customer['id']}/follow-ups?kind=wechat", headers=org.sales_a.headers)
    visits = await client.get(f"{CUSTOMERS}/{customer['id']}/follow-ups?kind=visit", headers=org.sales_a.headers)
    fax = await client.get(f"{CUSTOMERS}/{customer['id']}/follow-ups?kind=fax", headers=org.sales_a.headers)

    assert wechat.status_code == 200, wechat.text
    assert [(f["kind"], f["content"]) for f in wechat.json()["items"]] == [("wechat", "微信发报价")]
    assert visits.json()["items"] == []
    api.problem(fax, 400, field="kind")


async def test_a_due_follow_up_shows_the_customers_alerts(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(
        org.sales_b, name="温州苍南县清真餐厅", special_requirements=[{"kind": "halal"}]
    )
    await _log(client, org.sales_b, customer["id"], next_follow_up_date=_today().isoformat())

    due = await client.get("/api/v1/follow-up-tasks", params={"due": "today"}, headers=org.sales_b.headers)

    task = next(t for t in due.json()["items"] if t["customer_id"] == customer["id"])
    assert [a["label"] for a in task["alerts"]] == ["清真"]
