"""Deliveries at the gateway: bad dispatch and confirmation input is a 422 naming the field before
any call on the order service (the gateway test stack runs none); the delivery view; and urgent
orders told to the dispatchers who may see them, once per order, from the order service's events
put on its stream as its relay would."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import nats
import pytest
from google.protobuf.message import Message

from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import delivery_pb2 as dpb
from crm.order.v1 import events_pb2
from crm.order.v1 import order_pb2 as pb
from crm_gateway.deliveries.router import delivery_out
from crmkit.bus import ensure_stream
from crmkit.events import event_name_of, event_type_of, subject_for, timestamp_of

from .conftest import assert_problem

NOTIFICATIONS = "/api/v1/notifications"
DISPATCH = {
    "vehicle": "浙A12345",
    "driver_name": "王师傅",
    "driver_phone": "13800138000",
    "planned_at": "2026-12-05T07:00:00+08:00",
    "batches": [{"line_no": 1, "batch_no": "B20261128-01", "quantity": "2"}],
}
CONFIRMATION = {"signed_by": "李阿姨", "signed_at": "2026-12-05T07:20:00+08:00", "photo_id": "p1"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vehicle": ""}, "vehicle"),
        ({"driver_name": ""}, "driver_name"),
        ({"planned_at": "tomorrow"}, "planned_at"),
        ({"planned_at": "2026-12-05T07:00:00"}, "planned_at"),
        ({"batches": [{"line_no": 0, "batch_no": "B1", "quantity": "1"}]}, "batches[0].line_no"),
        ({"batches": [{"line_no": 1, "batch_no": "", "quantity": "1"}]}, "batches[0].batch_no"),
        ({"batches": [{"line_no": 1, "batch_no": "B1", "quantity": "0"}]}, "batches[0].quantity"),
        ({"batches": [{"line_no": 1, "batch_no": "B1", "quantity": "1.2345"}]}, "batches[0].quantity"),
    ],
)
async def test_a_bad_dispatch_names_the_field(client, org, change: dict[str, Any], field: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/orders/o1/delivery/dispatch", json={**DISPATCH, **change}, headers=org.service.headers
    )

    assert_problem(response, 422, field=field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"signed_by": ""}, "signed_by"),
        ({"signed_at": "yesterday"}, "signed_at"),
        ({"exception": "lost"}, "exception"),
        ({"exception_lines": [{"line_no": 1, "quantity": "-1"}]}, "exception_lines[0].quantity"),
        ({"exception_reason": "很" * 201}, "exception_reason"),
    ],
)
async def test_a_bad_confirmation_names_the_field(client, org, change: dict[str, Any], field: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/orders/o1/delivery/confirm", json={**CONFIRMATION, **change}, headers=org.service.headers
    )

    assert_problem(response, 422, field=field)


def test_the_delivery_view_shows_dispatch_and_confirmation_in_shanghai_time() -> None:
    stamp = timestamp_of(dt.datetime(2026, 12, 4, 23, 0, tzinfo=dt.UTC))
    delivery = dpb.OrderDelivery(
        order_id="o1",
        dispatch=dpb.DispatchDetails(
            vehicle="浙A12345",
            driver_name="王师傅",
            driver_phone="13800138000",
            planned_time=stamp,
            dispatch_time=stamp,
            batches=[dpb.LineBatch(line_no=1, batch_no="B20261128-01", quantity="1.5")],
        ),
        confirmation=dpb.DeliveryConfirmation(
            signed_by="李阿姨",
            signed_time=stamp,
            confirm_time=stamp,
            photo_id="p1",
            exception=dpb.DELIVERY_EXCEPTION_KIND_PARTIAL,
            exception_lines=[dpb.DeliveryExceptionLine(line_no=1, quantity="1", note="少送半箱")],
        ),
        photos=[dpb.DeliveryPhoto(id="p1", order_id="o1", content_type="image/jpeg", create_time=stamp)],
    )

    shown = delivery_out(delivery)
    empty = delivery_out(dpb.OrderDelivery(order_id="o2"))

    assert shown.dispatch is not None and shown.confirmation is not None
    assert shown.dispatch.planned_at.isoformat() == "2026-12-05T07:00:00+08:00"
    assert [(b.batch_no, str(b.quantity)) for b in shown.dispatch.batches] == [("B20261128-01", "1.5")]
    assert (shown.confirmation.exception, str(shown.confirmation.exception_lines[0].quantity)) == ("partial", "1")
    assert shown.photos[0].content_url == "/api/v1/orders/o1/delivery/photos/p1"
    assert (empty.dispatch, empty.confirmation, empty.photos) == (None, None, [])


async def publish_order_event(stack, message: Message, *, tenant_id: str, order_id: str) -> None:  # type: ignore[no-untyped-def]
    envelope = Envelope(
        id=str(uuid.uuid4()),
        type=event_type_of(type(message)),
        tenant_id=tenant_id,
        aggregate_id=order_id,
        aggregate_version=1,
        occurred_at=timestamp_of(dt.datetime.now(dt.UTC)),
        actor_id="someone",
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


async def about(client, person, order_id: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = await client.get(NOTIFICATIONS, params={"page_size": 100}, headers=person.headers)
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["link_id"] == order_id]


def an_order(org, *, urgent: bool, state: int = pb.ORDER_STATE_CONFIRMED, unit: str | None = None) -> pb.Order:  # type: ignore[no-untyped-def]
    return pb.Order(
        id=str(uuid.uuid4()),
        customer_name="杭州市第一中学食堂",
        org_unit_id=unit or org.shop1,
        state=state,  # type: ignore[arg-type]
        urgent=urgent,
        delivery_date="2026-12-05",
        delivery_address="杭州市西湖区文三路1号",
    )


async def test_an_urgent_order_tells_the_dispatchers_who_see_it_once(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    tenant_id = str((await client.get("/api/v1/auth/me", headers=org.service.headers)).json()["tenant_id"])
    urgent = an_order(org, urgent=True)
    calm = an_order(org, urgent=False)
    elsewhere = an_order(org, urgent=True, unit=org.shop2)
    made_urgent = an_order(org, urgent=False)
    urgent_later = pb.Order()
    urgent_later.CopyFrom(made_urgent)
    urgent_later.urgent = True

    for message, order_id in (
        (events_pb2.OrderConfirmed(order=calm), calm.id),
        (events_pb2.OrderConfirmed(order=elsewhere), elsewhere.id),
        (events_pb2.OrderConfirmed(order=urgent), urgent.id),
        # Revised again while urgent: told already.
        (events_pb2.OrderRevised(order=urgent), urgent.id),
        (events_pb2.OrderConfirmed(order=made_urgent), made_urgent.id),
        (events_pb2.OrderRevised(order=urgent_later), made_urgent.id),
    ):
        await publish_order_event(stack, message, tenant_id=tenant_id, order_id=order_id)
    # Events of one stream are handled in order: once the last is in, the others were handled.
    later = await api.eventually(lambda: about(client, org.service, made_urgent.id))
    told = await about(client, org.service, urgent.id)

    assert [(n["kind"], n["link_type"]) for n in told] == [("urgent_order", "order")]
    assert "杭州市第一中学食堂" in told[0]["body"] and "2026-12-05" in told[0]["body"]
    assert [n["kind"] for n in later] == ["urgent_order"]
    assert await about(client, org.service, calm.id) == []
    # The dispatcher of 华东 does not see an order of 华南's shop.
    assert await about(client, org.service, elsewhere.id) == []
    for bystander in (org.sales_a, org.supervisor, org.finance):
        assert await about(client, bystander, urgent.id) == []
