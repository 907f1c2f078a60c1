"""Agreement prices, past prices and pricing settings at the gateway: bad input gets a 422 problem
naming the field before any call on the order service (the gateway test stack runs none), and
the order service's messages map onto the API's shapes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from crm.order.v1 import pricing_pb2 as pb
from crm_gateway.prices.router import agreement_price_out
from crmkit.events import timestamp_of

from .conftest import assert_problem

PRICE = {"customer_id": "c1", "product_id": "p1", "price": "36.00", "valid_from": "2026-12-01"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": "-1"}, "price"),
        ({"price": "36.001"}, "price"),
        ({"valid_from": "2026-02-30"}, "valid_from"),
        ({"valid_until": "someday"}, "valid_until"),
        ({"customer_id": ""}, "customer_id"),
        ({"discount": "5"}, "discount"),
    ],
)
async def test_bad_agreement_price_input_names_the_field(client, org, change: dict[str, Any], field: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/agreement-prices", json={**PRICE, **change}, headers=org.supervisor.headers)

    assert_problem(response, 422, field=field)


async def test_past_prices_need_a_customer_and_a_product(client, org) -> None:  # type: ignore[no-untyped-def]
    no_product = await client.get("/api/v1/past-prices?customer_id=c1", headers=org.sales_a.headers)
    bad_limit = await client.get(
        "/api/v1/past-prices?customer_id=c1&product_id=p1&limit=50", headers=org.sales_a.headers
    )

    assert_problem(no_product, 422, field="product_id")
    assert_problem(bad_limit, 422, field="limit")


@pytest.mark.parametrize("threshold", ["0.5", "100.01", "90.001"])
async def test_an_approval_threshold_outside_1_to_100_percent_is_refused(client, org, threshold: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.put(
        "/api/v1/pricing-settings", json={"approval_threshold": threshold}, headers=org.admin.headers
    )

    assert_problem(response, 422, field="approval_threshold")


def test_an_inherited_open_ended_price_maps_to_the_api_shape() -> None:
    at = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)
    message = pb.AgreementPrice(
        id="a1",
        customer_id="group",
        customer_name="华联超市集团",
        product_id="p1",
        sku="NR-001",
        product_name="冷冻牛腩",
        unit="箱",
        price="36.00",
        list_price="40.00",
        valid_from="2026-12-01",
        valid_until="",
        inherited=True,
        version=2,
        updated_by="u1",
        update_time=timestamp_of(at),
    )

    out = agreement_price_out(message)

    assert (out.price, out.list_price, out.valid_until, out.inherited) == (
        Decimal("36.00"),
        Decimal("40.00"),
        None,
        True,
    )
    assert out.updated_at.isoformat() == "2026-12-03T10:00:00+08:00"
