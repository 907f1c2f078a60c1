"""The customer summary: built from events, so it catches up shortly after customers change."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import pytest_asyncio

SUMMARY = "/api/v1/analytics/customer-summary"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def customers(stack, org) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """This module's only customers: two of rep A's, one of rep B's, one of rep C's."""
    plans = [
        (org.sales_a, {"name": "常州武进区实验小学食堂", "type": "学校食堂"}),
        (org.sales_a, {"name": "常州天宁区老街面馆", "type": "中餐", "lifecycle_stage": "prospect"}),
        (org.sales_b, {"name": "镇江京口区机关食堂", "type": "学校食堂"}),
        (org.sales_c, {"name": "佛山禅城区陶瓷厂食堂", "type": "企业食堂", "lifecycle_stage": "signed"}),
    ]
    created = []
    for person, fields in plans:
        response = await stack.client.post("/api/v1/customers", json=fields, headers=person.headers)
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


def _cells(summary: dict[str, Any]) -> Counter[tuple[str, str, str, str]]:
    return Counter(
        {(c["org_unit_id"], c["owner_id"], c["lifecycle_stage"], c["type"]): c["count"] for c in summary["counts"]}
    )


async def _summary(client, person, **params: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client.get(SUMMARY, params=params, headers=person.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_summary_counts_new_customers_by_owner_stage_and_type(client, org, api, customers) -> None:  # type: ignore[no-untyped-def]
    summary = await api.eventually(lambda: _summary(client, org.admin), lambda s: s["total"] == len(customers))

    assert _cells(summary) == Counter(
        {
            (org.shop1, org.sales_a.id, "lead", "学校食堂"): 1,
            (org.shop1, org.sales_a.id, "prospect", "中餐"): 1,
            (org.shop1, org.sales_b.id, "lead", "学校食堂"): 1,
            (org.shop2, org.sales_c.id, "signed", "企业食堂"): 1,
        }
    )
    assert sum(day["count"] for day in summary["new_per_day"]) == len(customers)
    names = {(c["org_unit_name"], c["owner_name"]) for c in summary["counts"]}
    assert names == {("杭州门店", "张三"), ("杭州门店", "李四"), ("广州门店", "王五")}


async def test_sales_rep_summary_counts_only_their_own_customers(client, org, api, customers) -> None:  # type: ignore[no-untyped-def]
    # Wait until every customer has reached the read model, so a wrong count cannot be a lag.
    await api.eventually(lambda: _summary(client, org.admin), lambda s: s["total"] == len(customers))

    summary = await _summary(client, org.sales_a)

    assert summary["total"] == 2
    assert {c["owner_id"] for c in summary["counts"]} == {org.sales_a.id}


async def test_supervisor_summary_counts_their_subsidiary_only(client, org, api, customers) -> None:  # type: ignore[no-untyped-def]
    await api.eventually(lambda: _summary(client, org.admin), lambda s: s["total"] == len(customers))

    summary = await _summary(client, org.supervisor)

    assert summary["total"] == 3
    assert {c["org_unit_id"] for c in summary["counts"]} == {org.shop1}


async def test_archived_customer_drops_out_of_the_summary(client, org, api, customers) -> None:  # type: ignore[no-untyped-def]
    # Runs after the exact-count tests above: until it is archived this customer adds to them.
    doomed = await api.create_customer(org.sales_b, name="扬州广陵区早茶店", type="中餐")
    await api.eventually(lambda: _summary(client, org.sales_b), lambda s: s["total"] == 2)

    archived = await client.delete(f"/api/v1/customers/{doomed['id']}", headers=org.sales_b.headers)
    assert archived.status_code == 200, archived.text

    summary = await api.eventually(lambda: _summary(client, org.sales_b), lambda s: s["total"] == 1)
    assert (org.shop1, org.sales_b.id, "lead", "中餐") not in _cells(summary)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"from": "2026-02-30"}, "from", id="impossible from date"),
        pytest.param({"from": "yesterday"}, "from", id="from not a date"),
        pytest.param({"to": "2026/01/01"}, "to", id="to not ISO"),
    ],
)
async def test_invalid_date_is_422_naming_the_parameter(client, org, api, params: dict[str, str], field: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(SUMMARY, params=params, headers=org.admin.headers)

    api.problem(response, 422, code="validation_failed", field=field)


async def test_range_that_ends_before_it_starts_is_400_naming_from(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(SUMMARY, params={"from": "2026-03-01", "to": "2026-02-01"}, headers=org.admin.headers)

    api.problem(response, 400, code="invalid_argument", field="from")
