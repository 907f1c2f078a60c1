"""Pricing over gRPC on a real database: agreement prices (own, group, list), their periods and
who may set them, past prices, and the tenant's approval threshold."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest

from crm.customer.v1 import customer_pb2 as cpb
from crm.customer.v1 import events_pb2 as customer_events
from crm.order.v1 import events_pb2
from crm.order.v1 import order_pb2 as opb
from crm.order.v1 import pricing_pb2 as pb
from crm.order.v1 import quotes_pb2 as qpb
from crmkit.events import event_name_of
from crmkit.identity import Identity, Role
from crmkit.testing.events import outbox_rows
from crmkit.testing.rpc import refusal

from .conftest import OrderHarness, customer_envelope

BOTH = pytest.mark.parametrize("backend", ["order_service", "order_service_sqlite"], indirect=True)


async def branch_of(harness: OrderHarness, owner: Identity, parent_id: str, name: str = "华联超市西湖店") -> str:
    """A branch customer of a group, as the customer service's customer_parent_changed tells it."""
    customer_id = str(uuid.uuid4())
    customer = cpb.Customer(
        id=customer_id,
        tenant_id=owner.tenant_id,
        org_unit_id=owner.org_unit_id,
        org_path=owner.org_path,
        owner_id=owner.principal_id,
        name=name,
        tier="normal",
        version=2,
        parent_customer_id=parent_id,
    )
    event = customer_events.CustomerParentChanged(customer=customer)
    await harness.apply(customer_envelope(event, tenant_id=owner.tenant_id, customer_id=customer_id, version=2))
    return customer_id


async def agree(
    harness: OrderHarness,
    caller: Identity,
    customer_id: str,
    product_id: str,
    price: str,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    price_id: str = "",
) -> pb.AgreementPrice:
    reply = await harness.stub.UpsertAgreementPrice(
        pb.UpsertAgreementPriceRequest(
            id=price_id,
            customer_id=customer_id,
            product_id=product_id,
            price=price,
            valid_from=valid_from.isoformat(),
            valid_until=valid_until.isoformat() if valid_until else "",
        ),
        metadata=harness.md(caller),
    )
    return reply.agreement_price


async def order_without_prices(harness: OrderHarness, caller: Identity, customer_id: str, product_ids: list[str]):  # type: ignore[no-untyped-def]
    reply = await harness.stub.CreateOrder(
        opb.CreateOrderRequest(
            customer_id=customer_id,
            payment_mode=opb.PAYMENT_MODE_COD,
            lines=[opb.OrderLineInput(product_id=p, quantity="2") for p in product_ids],
            delivery_date=(harness.today() + dt.timedelta(days=3)).isoformat(),
        ),
        metadata=harness.md(caller),
    )
    return reply.order


@BOTH
async def test_a_line_without_a_price_takes_own_agreement_then_the_groups_then_the_list_price(
    backend: OrderHarness,
) -> None:
    org = backend.org
    rep = org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    group = await backend.customer(rep, name="华联超市集团")
    branch = await branch_of(backend, rep, group)
    beef = await backend.product("NR-001", "冷冻牛腩", price="40.00")
    chicken = await backend.product("NR-002", "鸡腿", price="20.00")
    pork = await backend.product("NR-003", "猪肉", price="30.00")
    today = backend.today()
    await agree(backend, supervisor, group, beef.id, "36.00", today - dt.timedelta(days=10))
    await agree(backend, supervisor, group, chicken.id, "18.00", today - dt.timedelta(days=10))
    await agree(backend, supervisor, branch, chicken.id, "17.50", today, today + dt.timedelta(days=30))

    order = await order_without_prices(backend, rep, branch, [beef.id, chicken.id, pork.id])

    assert [line.unit_price for line in order.lines] == ["36.00", "17.50", "30.00"]
    assert order.total_amount == "167.00"
    quote = await backend.stub.CreateQuote(
        qpb.CreateQuoteRequest(
            customer_id=branch,
            lines=[qpb.QuoteLineInput(product_id=beef.id, quantity="1")],
            valid_until=(today + dt.timedelta(days=7)).isoformat(),
        ),
        metadata=backend.md(rep),
    )
    assert (quote.quote.lines[0].quoted_price, quote.quote.lines[0].list_price) == ("36.00", "40.00")
    names = [
        row.subject.rsplit(".", 1)[1] for row in await outbox_rows(backend.runtime.sessions, backend.runtime.tables)
    ]
    assert names.count(event_name_of(events_pb2.AgreementPriceSet)) == 3


async def test_an_agreement_price_holds_only_within_its_dates(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    today = order_service.today()
    await agree(order_service, order_service.admin, customer, beef.id, "35.00", today + dt.timedelta(days=1))
    await agree(
        order_service,
        order_service.admin,
        customer,
        beef.id,
        "33.00",
        today - dt.timedelta(days=30),
        today - dt.timedelta(days=1),
    )

    before = await order_without_prices(order_service, rep, customer, [beef.id])
    order_service.clock.advance(dt.timedelta(days=1))
    after = await order_without_prices(order_service, rep, customer, [beef.id])

    assert (before.lines[0].unit_price, after.lines[0].unit_price) == ("40.00", "35.00")


async def test_an_overlapping_period_is_refused_naming_valid_from(order_service: OrderHarness) -> None:
    customer = await order_service.customer(order_service.org.person(Role.SALES, order_service.org.shop_a))
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    admin = order_service.admin
    today = order_service.today()
    first = await agree(order_service, admin, customer, beef.id, "36.00", today, today + dt.timedelta(days=30))

    overlapping = await refusal(agree(order_service, admin, customer, beef.id, "35.00", today + dt.timedelta(days=30)))
    open_ended_before = await refusal(
        agree(order_service, admin, customer, beef.id, "35.00", today - dt.timedelta(days=5), None)
    )
    following = await agree(order_service, admin, customer, beef.id, "35.00", today + dt.timedelta(days=31))
    moved = await agree(
        order_service, admin, customer, beef.id, "36.50", today, today + dt.timedelta(days=30), price_id=first.id
    )

    assert overlapping.code == grpc.StatusCode.INVALID_ARGUMENT and overlapping.field == "valid_from"
    assert "重叠" in overlapping.message
    assert open_ended_before.field == "valid_from"
    assert following.valid_until == "" and moved.price == "36.50" and moved.version == 2


async def test_who_may_set_prices_and_a_foreign_customer_looks_missing(order_service: OrderHarness) -> None:
    org = order_service.org
    rep_a = org.person(Role.SALES, org.shop_a)
    rep_b = org.person(Role.SALES, org.shop_b)
    supervisor_b = org.person(Role.SUPERVISOR, org.sub_b)
    customer_a = await order_service.customer(rep_a)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    today = order_service.today()

    by_rep = await refusal(agree(order_service, rep_a, customer_a, beef.id, "36.00", today))
    by_other_subtree = await refusal(agree(order_service, supervisor_b, customer_a, beef.id, "36.00", today))
    price = await agree(order_service, org.person(Role.BOSS, org.hq), customer_a, beef.id, "36.00", today)
    listed_by_b = await refusal(
        order_service.stub.ListAgreementPrices(
            pb.ListAgreementPricesRequest(customer_id=customer_a), metadata=order_service.md(rep_b)
        )
    )
    all_of_b = await order_service.stub.ListAgreementPrices(
        pb.ListAgreementPricesRequest(), metadata=order_service.md(rep_b)
    )
    deleted_by_b = await refusal(
        order_service.stub.DeleteAgreementPrice(
            pb.DeleteAgreementPriceRequest(id=price.id), metadata=order_service.md(supervisor_b)
        )
    )
    missing = await refusal(
        order_service.stub.DeleteAgreementPrice(
            pb.DeleteAgreementPriceRequest(id=str(uuid.uuid4())), metadata=order_service.md(supervisor_b)
        )
    )
    seen_by_a = await order_service.stub.ListAgreementPrices(
        pb.ListAgreementPricesRequest(customer_id=customer_a), metadata=order_service.md(rep_a)
    )

    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert by_other_subtree.code == grpc.StatusCode.NOT_FOUND
    assert listed_by_b.code == grpc.StatusCode.NOT_FOUND and list(all_of_b.agreement_prices) == []
    assert (deleted_by_b.code, deleted_by_b.message.replace(price.id, "X")) == (
        missing.code,
        missing.message.replace(missing.message.split()[2], "X"),
    )
    assert [(p.id, p.sku, p.price, p.list_price) for p in seen_by_a.agreement_prices] == [
        (price.id, "NR-001", "36.00", "40.00")
    ]


async def test_a_branch_lists_its_groups_prices_as_inherited_and_a_deleted_price_stops_applying(
    order_service: OrderHarness,
) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    group = await order_service.customer(rep, name="华联超市集团")
    branch = await branch_of(order_service, rep, group)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    group_price = await agree(order_service, order_service.admin, group, beef.id, "36.00", order_service.today())

    listed = await order_service.stub.ListAgreementPrices(
        pb.ListAgreementPricesRequest(customer_id=branch, include_inherited=True), metadata=order_service.md(rep)
    )
    await order_service.stub.DeleteAgreementPrice(
        pb.DeleteAgreementPriceRequest(id=group_price.id, expected_version=1),
        metadata=order_service.md(order_service.admin),
    )
    order = await order_without_prices(order_service, rep, branch, [beef.id])

    assert [(p.customer_id, p.customer_name, p.inherited) for p in listed.agreement_prices] == [
        (group, "华联超市集团", True)
    ]
    assert order.lines[0].unit_price == "40.00"
    names = [
        row.subject.rsplit(".", 1)[1]
        for row in await outbox_rows(order_service.runtime.sessions, order_service.runtime.tables)
    ]
    assert event_name_of(events_pb2.AgreementPriceRemoved) in names


async def test_bad_input_names_the_field(order_service: OrderHarness) -> None:
    admin = order_service.admin
    customer = await order_service.customer(order_service.org.person(Role.SALES, order_service.org.shop_a))
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    today = order_service.today()

    async def field_of(**changes: str) -> str | None:
        values = {
            "customer_id": customer,
            "product_id": beef.id,
            "price": "36.00",
            "valid_from": today.isoformat(),
            "valid_until": "",
        } | changes
        refused = await refusal(
            order_service.stub.UpsertAgreementPrice(
                pb.UpsertAgreementPriceRequest(**values), metadata=order_service.md(admin)
            )
        )
        assert refused.code == grpc.StatusCode.INVALID_ARGUMENT, refused
        return refused.field

    assert await field_of(price="36.001") == "price"
    assert await field_of(price="-1") == "price"
    assert await field_of(price="") == "price"
    assert await field_of(valid_from="2026-13-01") == "valid_from"
    assert await field_of(valid_until=(today - dt.timedelta(days=1)).isoformat()) == "valid_until"
    assert await field_of(product_id=str(uuid.uuid4())) == "product_id"
    past = await refusal(
        order_service.stub.PastPrices(pb.PastPricesRequest(customer_id=customer), metadata=order_service.md(admin))
    )
    assert past.field == "product_ids"
    threshold = await refusal(
        order_service.stub.UpdatePricingSettings(
            pb.UpdatePricingSettingsRequest(approval_threshold="120"), metadata=order_service.md(admin)
        )
    )
    assert threshold.field == "approval_threshold"


@BOTH
async def test_past_prices_are_the_last_confirmed_orders_and_approved_quotes_newest_first(
    backend: OrderHarness,
) -> None:
    org = backend.org
    rep = org.person(Role.SALES, org.shop_a)
    other_rep = org.person(Role.SALES, org.shop_b)
    customer = await backend.customer(rep)
    beef = await backend.product("NR-001", "冷冻牛腩", price="40.00")
    chicken = await backend.product("NR-002", "鸡腿", price="20.00")
    confirmed = []
    for price in ("39.00", "38.00", "37.00", "36.00", "35.00", "34.00"):
        order = await backend.stub.CreateOrder(
            opb.CreateOrderRequest(
                customer_id=customer,
                payment_mode=opb.PAYMENT_MODE_COD,
                lines=[opb.OrderLineInput(product_id=beef.id, quantity="2", unit_price=price)],
                delivery_date=(backend.today() + dt.timedelta(days=3)).isoformat(),
            ),
            metadata=backend.md(rep),
        )
        confirmed.append(await backend.move(rep, order.order.id, opb.ORDER_ACTION_CONFIRM))
        backend.clock.advance(dt.timedelta(days=1))
    await order_without_prices(backend, rep, customer, [beef.id])  # a draft: no deal yet
    quote = await backend.stub.CreateQuote(
        qpb.CreateQuoteRequest(
            customer_id=customer,
            lines=[qpb.QuoteLineInput(product_id=beef.id, quantity="5", quoted_price="37.50")],
            valid_until=(backend.today() + dt.timedelta(days=7)).isoformat(),
        ),
        metadata=backend.md(rep),
    )
    backend.clock.advance(dt.timedelta(hours=1))
    await backend.stub.SubmitQuote(qpb.SubmitQuoteRequest(id=quote.quote.id), metadata=backend.md(rep))
    await agree(backend, backend.admin, customer, beef.id, "36.80", backend.today())

    reply = await backend.stub.PastPrices(
        pb.PastPricesRequest(customer_id=customer, product_ids=[beef.id, chicken.id]), metadata=backend.md(rep)
    )
    foreign = await refusal(
        backend.stub.PastPrices(
            pb.PastPricesRequest(customer_id=customer, product_ids=[beef.id]), metadata=backend.md(other_rep)
        )
    )

    beef_prices, chicken_prices = reply.products
    assert [(p.source, p.price) for p in beef_prices.past_prices] == [
        ("quote", "37.50"),
        ("order", "34.00"),
        ("order", "35.00"),
        ("order", "36.00"),
        ("order", "37.00"),
    ]
    assert beef_prices.past_prices[0].number == quote.quote.number
    assert beef_prices.past_prices[1].document_id == confirmed[-1].id
    assert (beef_prices.list_price, beef_prices.agreement_price.price) == ("40.00", "36.80")
    assert (chicken_prices.product_id, list(chicken_prices.past_prices)) == (chicken.id, [])
    assert not chicken_prices.HasField("agreement_price")
    assert foreign.code == grpc.StatusCode.NOT_FOUND


async def test_an_admin_moves_the_approval_threshold_and_new_quotes_follow_it(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")

    default = await order_service.stub.GetPricingSettings(
        pb.GetPricingSettingsRequest(), metadata=order_service.md(rep)
    )
    by_boss = await refusal(
        order_service.stub.UpdatePricingSettings(
            pb.UpdatePricingSettingsRequest(approval_threshold="80"),
            metadata=order_service.md(org.person(Role.BOSS, org.hq)),
        )
    )
    changed = await order_service.stub.UpdatePricingSettings(
        pb.UpdatePricingSettingsRequest(approval_threshold="80.00", expected_version=0),
        metadata=order_service.md(order_service.admin),
    )
    draft = await order_service.stub.CreateQuote(
        qpb.CreateQuoteRequest(
            customer_id=customer,
            lines=[qpb.QuoteLineInput(product_id=beef.id, quantity="10", quoted_price="34.00")],
            valid_until=(order_service.today() + dt.timedelta(days=7)).isoformat(),
        ),
        metadata=order_service.md(rep),
    )
    submitted = await order_service.stub.SubmitQuote(
        qpb.SubmitQuoteRequest(id=draft.quote.id), metadata=order_service.md(rep)
    )

    assert default.settings.approval_threshold == "90.00"
    assert by_boss.code == grpc.StatusCode.PERMISSION_DENIED
    assert (changed.settings.approval_threshold, changed.settings.version) == ("80.00", 1)
    assert (submitted.quote.approval_threshold, submitted.quote.state) == ("80.00", qpb.QUOTE_STATE_APPROVED)
    names = [
        row.subject.rsplit(".", 1)[1]
        for row in await outbox_rows(order_service.runtime.sessions, order_service.runtime.tables)
    ]
    assert event_name_of(events_pb2.PricingSettingsChanged) in names
