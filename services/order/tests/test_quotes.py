"""Quotes over gRPC on a real database: pricing against the catalogue, approval when the
discount is deep, who may decide, conversion into an order, the PDF, validation and scope."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import grpc
import pytest

from crm.order.v1 import catalogue_pb2, events_pb2
from crm.order.v1 import order_pb2 as opb
from crm.order.v1 import quotes_pb2 as pb
from crmkit.events import event_name_of
from crmkit.identity import Identity, Role
from crmkit.partners import PartnerScope, token_permissions
from crmkit.testing.events import outbox_rows
from crmkit.testing.rpc import refusal

from .conftest import OrderHarness

BOTH = pytest.mark.parametrize("backend", ["order_service", "order_service_sqlite"], indirect=True)


async def quote(
    harness: OrderHarness,
    caller: Identity,
    customer_id: str,
    lines: list[tuple[catalogue_pb2.Product, str, str]],
    *,
    valid_until: dt.date | None = None,
) -> pb.Quote:
    reply = await harness.stub.CreateQuote(
        pb.CreateQuoteRequest(
            customer_id=customer_id,
            lines=[pb.QuoteLineInput(product_id=p.id, quantity=q, quoted_price=price) for p, q, price in lines],
            valid_until=(valid_until or harness.today() + dt.timedelta(days=14)).isoformat(),
            notes="含税价，送货上门",
        ),
        metadata=harness.md(caller),
    )
    return reply.quote


async def submit(harness: OrderHarness, caller: Identity, quote_id: str) -> pb.Quote:
    return (await harness.stub.SubmitQuote(pb.SubmitQuoteRequest(id=quote_id), metadata=harness.md(caller))).quote


async def decide(harness: OrderHarness, caller: Identity, quote_id: str, decision: int, comment: str = "") -> pb.Quote:
    request = pb.DecideQuoteRequest(id=quote_id, decision=decision, comment=comment)  # type: ignore[arg-type]
    return (await harness.stub.DecideQuote(request, metadata=harness.md(caller))).quote


async def subjects(harness: OrderHarness) -> list[str]:
    rows = await outbox_rows(harness.runtime.sessions, harness.runtime.tables)
    return [row.subject.rsplit(".", 1)[1] for row in rows]


@BOTH
async def test_a_quote_at_85_percent_waits_for_the_supervisor_then_becomes_a_cod_order(backend: OrderHarness) -> None:
    org = backend.org
    rep = org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    customer = await backend.customer(rep)
    beef = await backend.product("NR-001", "冷冻牛腩", price="40.00")

    draft = await quote(backend, rep, customer, [(beef, "10", "34.00")])
    assert (draft.state, draft.discount_rate, draft.total_amount, draft.list_total) == (
        pb.QUOTE_STATE_DRAFT,
        "85.00",
        "340.00",
        "400.00",
    )
    assert draft.number.startswith(f"BJ-{backend.today():%Y%m%d}-")
    pending = await submit(backend, rep, draft.id)
    assert pending.state == pb.QUOTE_STATE_PENDING_APPROVAL and pending.needs_approval
    waiting = await backend.stub.ListQuotes(
        pb.ListQuotesRequest(awaiting_my_decision=True), metadata=backend.md(supervisor)
    )
    assert [q.id for q in waiting.quotes] == [draft.id]

    approved = await decide(backend, supervisor, draft.id, pb.QUOTE_DECISION_APPROVE, "老客户，同意")
    assert approved.state == pb.QUOTE_STATE_APPROVED
    assert (approved.approval.decided_by, approved.approval.comment) == (supervisor.principal_id, "老客户，同意")

    converted = await backend.stub.ConvertQuoteToOrder(
        opb.ConvertQuoteToOrderRequest(
            id=draft.id,
            payment_mode=opb.PAYMENT_MODE_COD,
            delivery_date=(backend.today() + dt.timedelta(days=2)).isoformat(),
            delivery_address="杭州市西湖区文三路1号",
        ),
        metadata=backend.md(rep),
    )
    assert converted.quote.state == pb.QUOTE_STATE_CONVERTED
    assert converted.quote.order_id == converted.order.id
    assert (converted.order.lines[0].unit_price, converted.order.total_amount) == ("34.00", "340.00")
    assert converted.order.payment_mode == opb.PAYMENT_MODE_COD
    published = await subjects(backend)
    assert published.count(event_name_of(events_pb2.QuoteSubmitted)) == 1
    assert published.count(event_name_of(events_pb2.QuoteDecided)) == 1
    assert event_name_of(events_pb2.OrderCreated) in published

    again = await refusal(
        backend.stub.ConvertQuoteToOrder(
            opb.ConvertQuoteToOrderRequest(
                id=draft.id,
                payment_mode=opb.PAYMENT_MODE_COD,
                delivery_date=(backend.today() + dt.timedelta(days=2)).isoformat(),
            ),
            metadata=backend.md(rep),
        )
    )
    assert again.code == grpc.StatusCode.FAILED_PRECONDITION
    assert again.trailers["crm-error-code"] == "illegal_quote_state"


@BOTH
async def test_a_quote_at_95_percent_is_approved_at_once(backend: OrderHarness) -> None:
    rep = backend.org.person(Role.SALES, backend.org.shop_a)
    customer = await backend.customer(rep)
    beef = await backend.product("NR-001", "冷冻牛腩", price="40.00")

    draft = await quote(backend, rep, customer, [(beef, "10", "38.00")])
    submitted = await submit(backend, rep, draft.id)

    assert (submitted.state, submitted.discount_rate, submitted.needs_approval) == (
        pb.QUOTE_STATE_APPROVED,
        "95.00",
        False,
    )
    assert submitted.approval.decision == pb.QUOTE_DECISION_APPROVE and not submitted.approval.decided_by
    decided = [r for r in await outbox_rows(backend.runtime.sessions, backend.runtime.tables)]
    names = [row.subject.rsplit(".", 1)[1] for row in decided]
    assert names.count(event_name_of(events_pb2.QuoteDecided)) == 1


async def test_one_deep_line_needs_approval_even_when_the_overall_rate_is_above(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="100.00")
    salt = await order_service.product("NR-002", "食盐", price="10.00")

    draft = await quote(order_service, rep, customer, [(beef, "10", "100.00"), (salt, "1", "5.00")])
    submitted = await submit(order_service, rep, draft.id)

    assert (submitted.lowest_line_rate, submitted.state) == ("50.00", pb.QUOTE_STATE_PENDING_APPROVAL)
    assert float(submitted.discount_rate) > 90


async def test_a_rep_cannot_approve_and_nobody_approves_their_own(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    customer = await order_service.customer(supervisor)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    own = await quote(order_service, supervisor, customer, [(beef, "1", "30.00")])
    await submit(order_service, supervisor, own.id)

    by_rep = await refusal(decide(order_service, rep, own.id, pb.QUOTE_DECISION_APPROVE))
    by_self = await refusal(decide(order_service, supervisor, own.id, pb.QUOTE_DECISION_APPROVE))

    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert by_self.code == grpc.StatusCode.PERMISSION_DENIED and "自己" in by_self.message
    waiting = await order_service.stub.ListQuotes(
        pb.ListQuotesRequest(awaiting_my_decision=True), metadata=order_service.md(supervisor)
    )
    assert list(waiting.quotes) == []


async def test_a_supervisor_of_another_subtree_sees_the_quote_as_missing(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    elsewhere = org.person(Role.SUPERVISOR, org.sub_b)
    boss = org.person(Role.BOSS, org.hq)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    draft = await quote(order_service, rep, customer, [(beef, "1", "30.00")])
    await submit(order_service, rep, draft.id)

    hidden = await refusal(decide(order_service, elsewhere, draft.id, pb.QUOTE_DECISION_APPROVE))
    missing = await refusal(decide(order_service, elsewhere, "00000000-0000-0000-0000-000000000000", 1))
    rejected = await decide(order_service, boss, draft.id, pb.QUOTE_DECISION_REJECT, "折扣过大")

    assert hidden.code == missing.code == grpc.StatusCode.NOT_FOUND
    assert hidden.message.replace(draft.id, "X") == missing.message.replace("00000000-0000-0000-0000-000000000000", "X")
    assert rejected.state == pb.QUOTE_STATE_REJECTED


async def test_a_rejected_quote_is_reworked_and_submitted_again(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    draft = await quote(order_service, rep, customer, [(beef, "1", "30.00")])
    await submit(order_service, rep, draft.id)
    no_comment = await refusal(decide(order_service, supervisor, draft.id, pb.QUOTE_DECISION_REJECT))
    rejected = await decide(order_service, supervisor, draft.id, pb.QUOTE_DECISION_REJECT, "最低九折")

    reworked = await order_service.stub.UpdateQuote(
        pb.UpdateQuoteRequest(
            id=draft.id,
            expected_version=rejected.version,
            update_fields=["lines"],
            lines=[pb.QuoteLineInput(product_id=beef.id, quantity="1", quoted_price="36.00")],
        ),
        metadata=order_service.md(rep),
    )
    stale = await refusal(
        order_service.stub.UpdateQuote(
            pb.UpdateQuoteRequest(id=draft.id, expected_version=rejected.version, update_fields=["notes"]),
            metadata=order_service.md(rep),
        )
    )

    assert no_comment.code == grpc.StatusCode.INVALID_ARGUMENT and no_comment.trailers["crm-error-field"] == "comment"
    assert reworked.quote.state == pb.QUOTE_STATE_DRAFT and reworked.quote.discount_rate == "90.00"
    assert stale.code == grpc.StatusCode.ABORTED
    assert (await submit(order_service, rep, draft.id)).state == pb.QUOTE_STATE_APPROVED


async def test_an_approved_quote_past_its_validity_is_expired_and_not_converted(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    draft = await quote(order_service, rep, customer, [(beef, "1", "40.00")], valid_until=order_service.today())
    await submit(order_service, rep, draft.id)

    order_service.clock.advance(dt.timedelta(days=2))
    read = await order_service.stub.GetQuote(pb.GetQuoteRequest(id=draft.id), metadata=order_service.md(rep))
    refused = await refusal(
        order_service.stub.ConvertQuoteToOrder(
            opb.ConvertQuoteToOrderRequest(
                id=draft.id,
                payment_mode=opb.PAYMENT_MODE_COD,
                delivery_date=(order_service.today() + dt.timedelta(days=1)).isoformat(),
            ),
            metadata=order_service.md(rep),
        )
    )

    assert read.quote.state == pb.QUOTE_STATE_EXPIRED
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION and "过期" in refused.message


@pytest.mark.parametrize(
    ("line", "valid_in_days", "field"),
    [
        (("0", ""), 7, "lines[0].quantity"),
        (("1.5", ""), 7, "lines[0].quantity"),
        (("1", "-1.00"), 7, "lines[0].quoted_price"),
        (("1", "3.999"), 7, "lines[0].quoted_price"),
        (("1", ""), -1, "valid_until"),
    ],
)
async def test_bad_quote_input_names_the_field(
    order_service: OrderHarness, line: tuple[str, str], valid_in_days: int, field: str
) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    # 箱: counted whole, so 1.5 boxes is refused while 1.5 公斤 would not be.
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")

    refused = await refusal(
        order_service.stub.CreateQuote(
            pb.CreateQuoteRequest(
                customer_id=customer,
                lines=[pb.QuoteLineInput(product_id=beef.id, quantity=line[0], quoted_price=line[1])],
                valid_until=(order_service.today() + dt.timedelta(days=valid_in_days)).isoformat(),
            ),
            metadata=order_service.md(rep),
        )
    )

    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.trailers["crm-error-field"] == field


async def test_an_unknown_product_is_refused_naming_the_line(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)

    refused = await refusal(
        order_service.stub.CreateQuote(
            pb.CreateQuoteRequest(
                customer_id=customer,
                lines=[pb.QuoteLineInput(product_id="00000000-0000-0000-0000-000000000001", quantity="1")],
                valid_until=order_service.today().isoformat(),
            ),
            metadata=order_service.md(rep),
        )
    )

    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.trailers["crm-error-field"] == "lines[0].product_id"


async def test_quote_numbers_count_per_tenant_and_day(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")

    first = await quote(order_service, rep, customer, [(beef, "1", "")])
    second = await quote(order_service, rep, customer, [(beef, "1", "")])
    order_service.clock.advance(dt.timedelta(days=1))
    next_day = await quote(order_service, rep, customer, [(beef, "1", "")])

    day = order_service.today() - dt.timedelta(days=1)
    assert [first.number, second.number] == [f"BJ-{day:%Y%m%d}-0001", f"BJ-{day:%Y%m%d}-0002"]
    assert next_day.number == f"BJ-{order_service.today():%Y%m%d}-0001"


@BOTH
async def test_quotes_created_at_once_get_distinct_numbers(backend: OrderHarness) -> None:
    rep = backend.org.person(Role.SALES, backend.org.shop_a)
    customer = await backend.customer(rep)
    beef = await backend.product("NR-001", "冷冻牛腩", price="40.00")

    made = await asyncio.gather(*(quote(backend, rep, customer, [(beef, "1", "")]) for _ in range(5)))

    day = f"{backend.today():%Y%m%d}"
    assert sorted(q.number for q in made) == [f"BJ-{day}-{n:04d}" for n in range(1, 6)]


async def test_the_pdf_carries_the_letterhead_and_is_a_pdf(order_service: OrderHarness) -> None:
    rep = order_service.org.person(Role.SALES, order_service.org.shop_a)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")
    draft = await quote(order_service, rep, customer, [(beef, "2", "36.00")])

    reply = await order_service.stub.RenderQuotePdf(
        pb.RenderQuotePdfRequest(id=draft.id, company_name="杭州鲜达食品有限公司"), metadata=order_service.md(rep)
    )

    assert reply.pdf.startswith(b"%PDF")
    assert reply.filename == f"报价单-{draft.number}.pdf"


async def test_a_partner_with_orders_read_cannot_create_a_quote(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    customer = await order_service.customer(rep)
    reader = org.person(Role.SUPERVISOR, org.sub_a)
    reader = dataclasses.replace(
        reader, permissions=reader.permissions | token_permissions(frozenset({PartnerScope.ORDERS_READ}))
    )
    beef = await order_service.product("NR-001", "冷冻牛腩", price="40.00")

    refused = await refusal(quote(order_service, reader, customer, [(beef, "1", "")]))
    listed = await order_service.stub.ListQuotes(pb.ListQuotesRequest(), metadata=order_service.md(reader))

    assert refused.code == grpc.StatusCode.PERMISSION_DENIED and "orders:write" in refused.message
    assert list(listed.quotes) == []
