"""The order service's operator metrics: the approval gauges set by their job from the quotes
waiting for a decision, and each committed move observed with the order's age."""

from __future__ import annotations

import datetime as dt

from prometheus_client import REGISTRY

from crm.order.v1 import order_pb2 as opb
from crm.order.v1 import quotes_pb2 as pb
from crmkit.identity import Role
from crmkit.testing.jobs import ran_since

from .conftest import OrderHarness
from .test_quotes import quote, submit


def sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_the_approval_gauges_count_the_quotes_waiting_and_the_oldest_wait(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    customer = await order_service.customer(rep)
    oil = await order_service.product("YY-001", "大豆油", price="80.00")
    waiting = [await quote(order_service, rep, customer, [(oil, "1", "60.00")]) for _ in range(3)]
    for draft in waiting:
        assert (await submit(order_service, rep, draft.id)).state == pb.QUOTE_STATE_PENDING_APPROVAL
    # One approved at once (95%) and one decided: neither waits.
    await submit(order_service, rep, (await quote(order_service, rep, customer, [(oil, "1", "76.00")])).id)
    await order_service.stub.DecideQuote(
        pb.DecideQuoteRequest(id=waiting[0].id, decision=pb.QUOTE_DECISION_APPROVE, comment="同意"),
        metadata=order_service.md(supervisor),
    )

    moved_to = order_service.clock.advance(dt.timedelta(hours=2))
    await ran_since(order_service.runtime.sessions, "approval-gauges", moved_to, within=30)

    assert sample("crm_order_approvals_waiting", kind="quote") == 2
    assert 2 * 3600 <= sample("crm_order_approval_oldest_wait_seconds", kind="quote") < 2 * 3600 + 60


async def test_a_move_is_observed_with_the_order_age_at_the_state_reached(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await order_service.customer(rep)
    rice = await order_service.product("BM-001", "东北大米", price="135.00")
    order = await order_service.order(rep, customer, [rice])
    before = sample("crm_order_age_at_move_seconds_count", state="confirmed")
    within_hour = sample("crm_order_age_at_move_seconds_bucket", state="confirmed", le="3600.0")
    within_ten_minutes = sample("crm_order_age_at_move_seconds_bucket", state="confirmed", le="600.0")
    order_service.clock.advance(dt.timedelta(minutes=30))

    await order_service.move(rep, order.id, opb.ORDER_ACTION_CONFIRM)

    assert sample("crm_order_age_at_move_seconds_count", state="confirmed") == before + 1
    # 30 minutes old: inside the one-hour bucket, outside the ten-minute one.
    assert sample("crm_order_age_at_move_seconds_bucket", state="confirmed", le="3600.0") == within_hour + 1
    assert sample("crm_order_age_at_move_seconds_bucket", state="confirmed", le="600.0") == within_ten_minutes
