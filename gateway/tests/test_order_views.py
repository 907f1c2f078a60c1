"""Role views of products and orders, cell by cell: sales never see cost or margin, every other
role does; the rest of the record is the same for all."""

from __future__ import annotations

import pytest

from crm.order.v1 import catalogue_pb2, order_pb2
from crm_gateway.orders.router import order_out
from crm_gateway.orders.views import COST_FIELDS, sees
from crm_gateway.products.router import product_out
from crmkit.identity import Identity, Role


def _person(role: Role) -> Identity:
    return Identity(principal_id="u1", tenant_id="t1", org_unit_id="hq", org_path="/hq/", role=role)


PRODUCT = catalogue_pb2.Product(
    id="p1", sku="NR-001", name="冷冻牛腩", unit="箱", list_price="268.00", cost="190.50", tax_rate="0.09"
)
ORDER = order_pb2.Order(
    id="o1",
    customer_id="c1",
    payment_mode=order_pb2.PAYMENT_MODE_COD,
    state=order_pb2.ORDER_STATE_DRAFT,
    total_amount="670.00",
    delivery_date="2026-12-10",
    lines=[
        order_pb2.OrderLine(
            line_no=1,
            product_id="p1",
            sku="NR-001",
            quantity="2.5",
            unit_price="268.00",
            amount="670.00",
            tax_rate="0.09",
            unit_cost="190.50",
        )
    ],
)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("field", COST_FIELDS)
def test_only_sales_are_kept_from_cost_and_margin(role: Role, field: str) -> None:
    assert sees(_person(role), field) is (role is not Role.SALES)


@pytest.mark.parametrize("role", list(Role))
def test_the_views_apply_the_table(role: Role) -> None:
    product = product_out(_person(role), PRODUCT)
    order = order_out(_person(role), ORDER)
    if role is Role.SALES:
        assert (product.cost, order.margin, order.lines[0].unit_cost) == (None, None, None)
    else:
        assert (str(product.cost), str(order.margin), str(order.lines[0].unit_cost)) == ("190.50", "193.75", "190.50")
    assert (str(product.list_price), str(order.total_amount)) == ("268.00", "670.00")
