"""Bad quote input at the gateway gets a 422 problem naming the field, before any call on the
order service (the gateway test stack runs none)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import assert_problem

LINE = {"product_id": "p1", "quantity": "2", "quoted_price": "36.00"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{**LINE, "quantity": "0"}]}, "lines[0].quantity"),
        ({"lines": [{**LINE, "quantity": "1.2345"}]}, "lines[0].quantity"),
        ({"lines": [{**LINE, "quoted_price": "-1"}]}, "lines[0].quoted_price"),
        ({"lines": [{**LINE, "quoted_price": "9.999"}]}, "lines[0].quoted_price"),
        ({"lines": []}, "lines"),
        ({"valid_until": "2026-02-30"}, "valid_until"),
    ],
)
async def test_bad_quote_input_names_the_field(client, org, change: dict[str, Any], field: str) -> None:  # type: ignore[no-untyped-def]
    body = {"customer_id": "c1", "lines": [LINE], "valid_until": "2026-12-31", **change}

    response = await client.post("/api/v1/quotes", json=body, headers=org.sales_a.headers)

    assert_problem(response, 422, field=field)


async def test_a_decision_is_approve_or_reject(client, org) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/quotes/q1/decision", json={"decision": "maybe"}, headers=org.supervisor.headers
    )

    assert_problem(response, 422, field="decision")
