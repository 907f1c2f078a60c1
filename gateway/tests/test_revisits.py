"""Revisit plans and tasks over REST: plans read by all and set by admins, a rep's task listed
and completed (satisfaction required 1 to 5, kinds checked), another rep's 404, 回访率's months."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest_asyncio

from crmkit.identity import METADATA_KEY, Identity, IdentitySigner, Role
from crmkit.testing.clock import advance_service_clock
from crmkit.testing.events import eventually

# The customer service runs on a movable clock, so the daily revisit job can be made to run.
SERVICE_SETTINGS = {"test_clock_control": True}
TASKS = "/api/v1/revisit-tasks"


async def _advance_customer_clock(stack, by: dt.timedelta) -> None:  # type: ignore[no-untyped-def]
    signer = IdentitySigner.from_file(stack.settings.identity_private_key_file)
    tester = Identity(principal_id="tester", tenant_id="tests", org_unit_id="u", org_path="/u/", role=Role.ADMIN)
    async with grpc.aio.insecure_channel(stack.settings.upstreams["customer"]) as channel:
        await advance_service_clock(channel, by, metadata=((METADATA_KEY, signer.sign(tester)),))


async def _open_tasks(client, person) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = await client.get(TASKS, params={"due": "open"}, headers=person.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def task(stack, org) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Rep A's VIP customer and the revisit task the daily job gives it."""
    response = await stack.client.post(
        "/api/v1/customers",
        json={"name": "绍兴越城区实验小学食堂", "tier": "vip", "special_requirements": [{"kind": "halal"}]},
        headers=org.sales_a.headers,
    )
    assert response.status_code == 201, response.text
    await _advance_customer_clock(stack, dt.timedelta(days=1, minutes=1))
    (found,) = await eventually(lambda: _open_tasks(stack.client, org.sales_a), lambda items: len(items) == 1)
    return found


async def test_everyone_reads_the_plans_and_only_admins_set_them(client, org, api) -> None:  # type: ignore[no-untyped-def]
    plans = await client.get("/api/v1/revisit-plans", headers=org.sales_a.headers)
    by_rep = await client.put(
        "/api/v1/revisit-plans",
        json={"plans": [{"tier": "vip", "interval_days": 7, "assignee": "owner"}]},
        headers=org.sales_a.headers,
    )
    bad = [
        await client.put("/api/v1/revisit-plans", json={"plans": [plan]}, headers=org.admin.headers)
        for plan in (
            {"tier": "gold", "interval_days": 7, "assignee": "owner"},
            {"tier": "vip", "interval_days": 400, "assignee": "owner"},
            {"tier": "vip", "interval_days": 7, "assignee": "robot"},
        )
    ]
    twice = await client.put(
        "/api/v1/revisit-plans",
        json={"plans": [{"tier": "vip", "interval_days": 7, "assignee": "owner"}] * 2},
        headers=org.admin.headers,
    )

    assert plans.status_code == 200, plans.text
    assert plans.json()["plans"] == [
        {"tier": "vip", "interval_days": 14, "assignee": "owner"},
        {"tier": "key", "interval_days": 30, "assignee": "owner"},
        {"tier": "normal", "interval_days": 60, "assignee": "owner"},
    ]
    api.problem(by_rep, 403, code="permission_denied")
    for response, field in zip(bad, ("plans[0].tier", "plans[0].interval_days", "plans[0].assignee"), strict=True):
        api.problem(response, 422, field=field)
    api.problem(twice, 400, field="plans[1].tier")


async def test_a_rep_sees_and_completes_their_revisit_and_it_shows_on_the_customer(  # type: ignore[no-untyped-def]
    client, org, api, task
) -> None:
    url = f"{TASKS}/{task['id']}/complete"
    body = {"satisfaction": 5, "kind": "visit", "content": "上门回访，食堂对配送时间满意", "new_needs": "寒假前备货"}

    by_other_rep = await client.post(url, json=body, headers=org.sales_b.headers)
    by_service = await client.post(url, json=body, headers=org.service.headers)
    done = await client.post(url, json=body, headers=org.sales_a.headers)
    again = await client.post(url, json=body, headers=org.sales_a.headers)
    history = await client.get(f"/api/v1/customers/{task['customer_id']}/revisits", headers=org.sales_a.headers)
    follow_ups = await client.get(f"/api/v1/customers/{task['customer_id']}/follow-ups", headers=org.sales_a.headers)
    hidden = await client.get(f"/api/v1/customers/{task['customer_id']}/revisits", headers=org.sales_b.headers)

    assert (task["assignee_id"], task["assignee_name"], task["tier"], task["status"]) == (
        org.sales_a.id,
        "张三",
        "vip",
        "open",
    )
    # The row says the tenant's name of the tier and the customer's alerts, like its page.
    assert (task["tier_label"], [a["label"] for a in task["alerts"]]) == ("VIP", ["清真"])
    assert [a["label"] for a in done.json()["alerts"]] == ["清真"]
    assert [a["label"] for a in history.json()["items"][0]["alerts"]] == ["清真"]
    api.problem(by_other_rep, 404, code="not_found")
    api.problem(by_service, 403, code="permission_denied")
    assert done.status_code == 200, done.text
    result = done.json()
    assert (result["status"], result["on_time"], result["satisfaction"], result["new_needs"]) == (
        "done",
        True,
        5,
        "寒假前备货",
    )
    assert (result["completed_by_name"], result["completed_at"][-6:]) == ("张三", "+08:00")
    api.problem(again, 412, code="failed_precondition")
    assert [(t["id"], t["satisfaction"]) for t in history.json()["items"]] == [(task["id"], 5)]
    assert [f["id"] for f in follow_ups.json()["items"]] == [result["follow_up_id"]]
    api.problem(hidden, 404, code="not_found")


async def test_bad_completions_are_refused_naming_the_field(client, org, api, task) -> None:  # type: ignore[no-untyped-def]
    url = f"{TASKS}/{task['id']}/complete"
    base = {"satisfaction": 4, "kind": "phone", "content": "电话回访"}
    cases = [
        ({"satisfaction": 0}, "satisfaction"),
        ({"satisfaction": 6}, "satisfaction"),
        ({"kind": "fax"}, "kind"),
        ({"content": ""}, "content"),
        ({"new_needs": "需" * 1001}, "new_needs"),
    ]
    for change, field in cases:
        response = await client.post(url, json={**base, **change}, headers=org.sales_a.headers)
        api.problem(response, 422, field=field)
    missing = await client.post(url, json={"kind": "phone", "content": "电话回访"}, headers=org.sales_a.headers)
    api.problem(missing, 422, field="satisfaction")
    api.problem(await client.get(TASKS, params={"due": "someday"}, headers=org.sales_a.headers), 422, field="due")


async def test_the_revisit_rate_route_checks_its_months(client, org, api) -> None:  # type: ignore[no-untyped-def]
    ok = await client.get("/api/v1/analytics/revisit-rate", headers=org.supervisor.headers)
    bad = await client.get("/api/v1/analytics/revisit-rate", params={"from": "2026-13"}, headers=org.admin.headers)
    backwards = await client.get(
        "/api/v1/analytics/revisit-rate", params={"from": "2026-12", "to": "2026-10"}, headers=org.admin.headers
    )

    assert ok.status_code == 200, ok.text
    assert set(ok.json()) == {"by_assignee", "by_org_unit", "totals"}
    api.problem(bad, 422, field="from")
    api.problem(backwards, 400, field="from_month")


async def test_a_missed_revisit_is_listed_as_overdue_and_its_assignee_is_notified_once(  # type: ignore[no-untyped-def]
    stack, client, org, api
) -> None:
    created = await client.post(
        "/api/v1/customers", json={"name": "佛山南海区第二中学食堂", "tier": "vip"}, headers=org.sales_c.headers
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    await _advance_customer_clock(stack, dt.timedelta(days=1, minutes=1))
    (task,) = await eventually(
        lambda: _open_tasks(client, org.sales_c), lambda items: [t["customer_id"] for t in items] == [customer_id]
    )

    await _advance_customer_clock(stack, dt.timedelta(days=15))
    notices = await eventually(
        lambda: client.get("/api/v1/notifications", headers=org.sales_c.headers),
        lambda response: any(n["kind"] == "revisit_task_overdue" for n in response.json()["items"]),
    )
    overdue = await client.get(TASKS, params={"due": "overdue"}, headers=org.admin.headers)
    await _advance_customer_clock(stack, dt.timedelta(days=1, minutes=1))
    for_supervisor = await client.get(TASKS, params={"due": "overdue"}, headers=org.supervisor.headers)
    later = await client.get("/api/v1/notifications", headers=org.sales_c.headers)

    (listed,) = [t for t in overdue.json()["items"] if t["id"] == task["id"]]
    assert listed["overdue_at"] is not None and listed["assignee_name"] == "王五"
    (notice,) = [n for n in notices.json()["items"] if n["kind"] == "revisit_task_overdue"]
    assert "佛山南海区第二中学食堂" in notice["body"] and notice["link_id"] == customer_id
    assert task["id"] not in [t["id"] for t in for_supervisor.json()["items"]]
    assert [n["id"] for n in later.json()["items"] if n["kind"] == "revisit_task_overdue"] == [notice["id"]]
