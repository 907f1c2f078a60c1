"""The public pool over REST: a released customer, a claim awaiting the supervisor, approval,
the loser of a race told so, and bad input named."""

from __future__ import annotations

import uuid
from typing import Any

import pytest_asyncio

CUSTOMERS = "/api/v1/customers"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool(stack, org) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await stack.client.post(
        "/api/v1/pools",
        json={"name": "华东公海", "org_unit_id": org.sub1, "requires_approval": True, "rules": {"cooldown_days": 30}},
        headers=org.admin.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_released_customer_is_claimed_approved_and_owned_by_the_claimant(client, org, api, pool) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="南通崇川区食堂")

    released = await client.post(
        f"{CUSTOMERS}/{customer['id']}/release", json={"reason": "客户换了采购负责人"}, headers=org.sales_a.headers
    )
    gone = await client.get(f"{CUSTOMERS}/{customer['id']}", headers=org.sales_a.headers)
    in_pool = await client.get(f"/api/v1/pools/{pool['id']}/customers", headers=org.sales_b.headers)
    claimed = await client.post(
        f"/api/v1/pools/{pool['id']}/claims",
        json={"customer_id": customer["id"], "reason": "客户主动来电询价"},
        headers=org.sales_b.headers,
    )
    second = await client.post(
        f"/api/v1/pools/{pool['id']}/claims",
        json={"customer_id": customer["id"], "reason": "我也想要"},
        headers=org.supervisor.headers,
    )
    waiting = await client.get(
        "/api/v1/pool-claims", params={"view": "to_decide", "status": "pending"}, headers=org.supervisor.headers
    )
    decided = await client.post(
        f"/api/v1/pool-claims/{claimed.json()['id']}/decision",
        json={"approve": True, "comment": "同意"},
        headers=org.supervisor.headers,
    )
    owned = await client.get(f"{CUSTOMERS}/{customer['id']}", headers=org.sales_b.headers)
    history = await client.get(f"{CUSTOMERS}/{customer['id']}/owner-changes", headers=org.sales_b.headers)

    assert released.status_code == 200, released.text
    assert (released.json()["enter_kind"], released.json()["enter_reason"]) == ("released", "客户换了采购负责人")
    api.problem(gone, 404, code="not_found")
    assert customer["id"] in [c["id"] for c in in_pool.json()["items"]]
    assert claimed.status_code == 201, claimed.text
    assert (claimed.json()["status"], claimed.json()["claimant_name"]) == ("pending", "李四")
    api.problem(second, 409, code="aborted")
    assert claimed.json()["id"] in [c["id"] for c in waiting.json()["items"]]
    assert (decided.json()["status"], decided.json()["decider_name"]) == ("approved", "李主管")
    assert owned.status_code == 200 and owned.json()["owner_id"] == org.sales_b.id
    assert owned.json()["first_visit_due"] is not None
    assert [h["kind"] for h in history.json()["items"]] == ["approved", "released", "created"]


async def test_pools_are_made_by_admins_and_bosses_with_rules_checked(client, org, api, pool) -> None:  # type: ignore[no-untyped-def]
    by_rep = await client.post(
        "/api/v1/pools", json={"name": "我的公海", "org_unit_id": org.shop1}, headers=org.sales_a.headers
    )
    bad_days = await client.post(
        "/api/v1/pools",
        json={"name": "华南公海", "org_unit_id": org.sub2, "rules": {"cooldown_days": -1}},
        headers=org.admin.headers,
    )
    bad_tier = await client.post(
        "/api/v1/pools",
        json={"name": "华南公海", "org_unit_id": org.sub2, "rules": {"no_follow_up_days": {"gold": 5}}},
        headers=org.admin.headers,
    )
    second_for_unit = await client.post(
        "/api/v1/pools", json={"name": "又一个", "org_unit_id": org.sub1}, headers=org.admin.headers
    )
    listed = await client.get("/api/v1/pools", headers=org.sales_a.headers)

    api.problem(by_rep, 403, code="permission_denied")
    api.problem(bad_days, 422, field="rules.cooldown_days")
    api.problem(bad_tier, 422, field="rules.no_follow_up_days.gold.[key]")
    api.problem(second_for_unit, 400, field="org_unit_id")
    mine = next(p for p in listed.json()["items"] if p["id"] == pool["id"])
    assert (mine["org_unit_name"], mine["requires_approval"], mine["rules"]["cooldown_days"]) == (
        "华东分公司",
        True,
        30,
    )


async def test_bad_release_and_claim_requests_are_named(client, org, api, pool) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="南通海门区食堂")

    no_reason = await client.post(
        f"{CUSTOMERS}/{customer['id']}/release", json={"reason": ""}, headers=org.sales_a.headers
    )
    by_service = await client.post(
        f"{CUSTOMERS}/{customer['id']}/release", json={"reason": "客服释放"}, headers=org.service.headers
    )
    unknown_pool = await client.post(
        f"/api/v1/pools/{uuid.uuid4()}/claims",
        json={"customer_id": customer["id"], "reason": "x"},
        headers=org.sales_b.headers,
    )
    owned_by_colleague = await client.post(
        f"/api/v1/pools/{pool['id']}/claims",
        json={"customer_id": customer["id"], "reason": "x"},
        headers=org.sales_b.headers,
    )
    no_claim_reason = await client.post(
        f"/api/v1/pools/{pool['id']}/claims",
        json={"customer_id": customer["id"], "reason": " "},
        headers=org.sales_b.headers,
    )
    rep_decides = await client.get("/api/v1/pool-claims", params={"view": "to_decide"}, headers=org.sales_b.headers)

    api.problem(no_reason, 422, field="reason")
    api.problem(by_service, 403, code="permission_denied")
    api.problem(unknown_pool, 404, code="not_found")
    api.problem(owned_by_colleague, 404, code="not_found")
    api.problem(no_claim_reason, 422, field="reason")
    api.problem(rep_decides, 403, code="permission_denied")


async def test_analytics_counts_the_pool_its_movements_and_coverage(client, org, api, pool) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="南通启东市食堂")
    followed = await api.create_customer(org.sales_a, name="南通如皋市食堂")
    logged = await client.post(
        f"{CUSTOMERS}/{followed['id']}/follow-ups",
        json={"kind": "phone", "content": "电话回访"},
        headers=org.sales_a.headers,
    )
    assert logged.status_code == 201, logged.text
    released = await client.post(
        f"{CUSTOMERS}/{customer['id']}/release", json={"reason": "客户暂停营业"}, headers=org.sales_a.headers
    )
    assert released.status_code == 200, released.text

    def counted(summary: dict[str, Any]) -> bool:
        sizes = {p["pool_id"]: p["customers"] for p in summary["pools"]}
        return sizes.get(pool["id"], 0) >= 1 and any(m["kind"] == "released" for m in summary["movements"])

    async def summary() -> dict[str, Any]:
        response = await client.get("/api/v1/analytics/ownership", headers=org.supervisor.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    found = await api.eventually(summary, counted, within=15.0)
    mine = next(c for c in found["coverage"] if c["owner_id"] == org.sales_a.id)
    by_rep = (await client.get("/api/v1/analytics/ownership", headers=org.sales_b.headers)).json()

    assert next(p for p in found["pools"] if p["pool_id"] == pool["id"])["pool_name"] == "华东公海"
    assert mine["owner_name"] == "张三" and mine["contacted_30d"] >= 1 and 0 < mine["share"] <= 1
    assert by_rep["pools"] == [] and {c["owner_id"] for c in by_rep["coverage"]} <= {org.sales_b.id}


async def test_pool_rows_and_claims_show_the_customers_alerts(client, org, api, pool) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(
        org.sales_a, name="南通港闸区回民餐厅", special_requirements=[{"kind": "allergens", "details": ["花生"]}]
    )
    await client.post(f"{CUSTOMERS}/{customer['id']}/release", json={"reason": "暂无需求"}, headers=org.sales_a.headers)

    rows = (await client.get(f"/api/v1/pools/{pool['id']}/customers", headers=org.sales_b.headers)).json()["items"]
    claimed = await client.post(
        f"/api/v1/pools/{pool['id']}/claims",
        json={"customer_id": customer["id"], "reason": "客户来电"},
        headers=org.sales_b.headers,
    )
    mine = (await client.get("/api/v1/pool-claims", params={"view": "mine"}, headers=org.sales_b.headers)).json()

    row = next(r for r in rows if r["id"] == customer["id"])
    assert row["alerts"] == [{"kind": "allergens", "label": "过敏原", "text": "过敏原：花生"}]
    assert row["tier_label"] == "一般"
    assert claimed.json()["alerts"] == row["alerts"]
    assert next(c for c in mine["items"] if c["customer_id"] == customer["id"])["alerts"] == row["alerts"]
