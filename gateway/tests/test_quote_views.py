"""Role views of quotes, cell by cell: sales never see a line's cost or the quote's margin; every
other role does; prices, rates and totals are the same for all."""

from __future__ import annotations

import pytest

from crm.order.v1 import quotes_pb2
from crm_gateway.quotes.router import quote_out
from crmkit.identity import Identity, Role

QUOTE = quotes_pb2.Quote(
    id="q1",
    number="BJ-20261203-0001",
    customer_id="c1",
    state=quotes_pb2.QUOTE_STATE_PENDING_APPROVAL,
    lines=[
        quotes_pb2.QuoteLine(
            line_no=1,
            product_id="p1",
            sku="NR-001",
            unit="箱",
            quantity="2",
            list_price="268.00",
            quoted_price="228.00",
            amount="456.00",
            discount_rate="85.07",
            unit_cost="190.50",
        )
    ],
    list_total="536.00",
    total_amount="456.00",
    discount_rate="85.07",
    lowest_line_rate="85.07",
    approval_threshold="90.00",
    needs_approval=True,
    valid_until="2026-12-17",
)


def _person(role: Role) -> Identity:
    return Identity(principal_id="u1", tenant_id="t1", org_unit_id="hq", org_path="/hq/", role=role)


@pytest.mark.parametrize("role", list(Role))
def test_sales_never_see_a_quotes_cost_or_margin(role: Role) -> None:
    view = quote_out(_person(role), QUOTE)

    if role is Role.SALES:
        assert (view.margin, view.lines[0].unit_cost) == (None, None)
    else:
        assert (str(view.margin), str(view.lines[0].unit_cost)) == ("75.00", "190.50")
    assert (view.status, str(view.discount_rate), str(view.total_amount)) == ("pending_approval", "85.07", "456.00")
    assert view.approval is None and view.order_id is None
