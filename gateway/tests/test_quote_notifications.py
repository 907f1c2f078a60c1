"""Quote notifications both ways: a quote waiting for approval reaches the supervisors above the
customer's unit (not the submitter, not bystanders), its decision reaches the submitter, and a
quote approved at once tells nobody. The order service's events are put on its stream as its
relay would (the gateway test stack runs no order service)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import nats
from google.protobuf.message import Message

from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import events_pb2, quotes_pb2
from crmkit.bus import ensure_stream
from crmkit.events import event_name_of, event_type_of, subject_for, timestamp_of

NOTIFICATIONS = "/api/v1/notifications"


async def publish_order_event(stack, message: Message, *, tenant_id: str, actor_id: str) -> None:  # type: ignore[no-untyped-def]
    envelope = Envelope(
        id=str(uuid.uuid4()),
        type=event_type_of(type(message)),
        tenant_id=tenant_id,
        aggregate_id=str(uuid.uuid4()),
        aggregate_version=1,
        occurred_at=timestamp_of(dt.datetime.now(dt.UTC)),
        actor_id=actor_id,
    )
    envelope.payload.Pack(message)
    nc = await nats.connect(stack.settings.nats_url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, "order", namespace=stack.settings.event_namespace)
        subject = subject_for("order", event_name_of(type(message)), stack.settings.event_namespace)
        await js.publish(subject, envelope.SerializeToString(), headers={"Nats-Msg-Id": envelope.id})
    finally:
        await nc.close()


async def about(client, person, quote: quotes_pb2.Quote) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The person's notifications that lead to the quote."""
    response = await client.get(NOTIFICATIONS, params={"page_size": 100}, headers=person.headers)
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["link_id"] == quote.id]


def a_quote(org, state: int) -> quotes_pb2.Quote:  # type: ignore[no-untyped-def]
    return quotes_pb2.Quote(
        id=str(uuid.uuid4()),
        number="BJ-20261203-0007",
        customer_id=str(uuid.uuid4()),
        customer_name="苏州工业园区星海小学食堂",
        org_unit_id=org.shop1,
        state=state,  # type: ignore[arg-type]
        discount_rate="88.00",
        lowest_line_rate="85.00",
        submitted_by=org.sales_a.id,
    )


async def test_a_quote_awaiting_approval_asks_the_supervisor_and_the_decision_tells_the_rep(  # type: ignore[no-untyped-def]
    client, stack, org, api
) -> None:
    me = await client.get("/api/v1/auth/me", headers=org.sales_a.headers)
    tenant_id = str(me.json()["tenant_id"])
    pending = a_quote(org, quotes_pb2.QUOTE_STATE_PENDING_APPROVAL)

    await publish_order_event(
        stack, events_pb2.QuoteSubmitted(quote=pending), tenant_id=tenant_id, actor_id=org.sales_a.id
    )
    asked = await api.eventually(lambda: about(client, org.supervisor, pending))
    rejected = quotes_pb2.Quote()
    rejected.CopyFrom(pending)
    rejected.state = quotes_pb2.QUOTE_STATE_REJECTED
    await publish_order_event(
        stack,
        events_pb2.QuoteDecided(quote=rejected, decision=quotes_pb2.QUOTE_DECISION_REJECT, comment="最低九折"),
        tenant_id=tenant_id,
        actor_id=org.supervisor.id,
    )
    told = await api.eventually(lambda: about(client, org.sales_a, pending))

    assert [(n["kind"], n["link_type"]) for n in asked] == [("quote_awaiting_approval", "quote")]
    assert "张三" in asked[0]["body"] and "BJ-20261203-0007" in asked[0]["body"] and "85.00" in asked[0]["body"]
    assert [n["kind"] for n in told] == ["quote_rejected"] and "最低九折" in told[0]["body"]
    for bystander in (org.boss, org.sales_b, org.service):
        assert await about(client, bystander, pending) == []


async def test_a_quote_approved_at_once_tells_nobody(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    me = await client.get("/api/v1/auth/me", headers=org.sales_a.headers)
    tenant_id = str(me.json()["tenant_id"])
    approved = a_quote(org, quotes_pb2.QUOTE_STATE_APPROVED)
    marker = a_quote(org, quotes_pb2.QUOTE_STATE_PENDING_APPROVAL)

    await publish_order_event(
        stack, events_pb2.QuoteSubmitted(quote=approved), tenant_id=tenant_id, actor_id=org.sales_a.id
    )
    await publish_order_event(
        stack,
        events_pb2.QuoteDecided(quote=approved, decision=quotes_pb2.QUOTE_DECISION_APPROVE, automatic=True),
        tenant_id=tenant_id,
        actor_id=org.sales_a.id,
    )
    # Events of one stream are handled in order: once the marker is in, the others were handled.
    await publish_order_event(stack, events_pb2.QuoteSubmitted(quote=marker), tenant_id=tenant_id, actor_id="x")
    await api.eventually(lambda: about(client, org.supervisor, marker))

    assert await about(client, org.supervisor, approved) == []
    assert await about(client, org.sales_a, approved) == []
