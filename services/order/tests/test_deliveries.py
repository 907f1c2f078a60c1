"""Delivery over gRPC on a real database: dispatch with vehicle, driver and batches (validated
field by field, the batches of a line adding up to at most its quantity), delivery photos (images
only, size-limited, in object storage), the delivery confirmation with its exceptions, the events
that carry them, data scope, and a dispatch system's partner token."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from PIL import Image
from sqlalchemy import select

from crm.order.v1 import delivery_pb2 as dpb
from crm.order.v1 import events_pb2
from crm.order.v1 import order_pb2 as pb
from crm_order.batches.models import OrderLineBatch
from crmkit.events import event_name_of
from crmkit.identity import Identity, Role
from crmkit.partners import PartnerScope, token_permissions
from crmkit.storage import StorageSettings, open_object_storage
from crmkit.testing.events import outbox_rows
from crmkit.testing.rpc import refusal

from .conftest import OrderHarness

BOTH = pytest.mark.parametrize("backend", ["order_service", "order_service_sqlite"], indirect=True)
MIB = 1024 * 1024


def jpeg(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def stamp(value: dt.datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


@dataclasses.dataclass
class Road:
    """An order of two lines (2 箱 each) ready to ship, and the people around it."""

    harness: OrderHarness
    rep: Identity
    dispatcher: Identity
    order: pb.Order

    def dispatch_request(self, **changes: Any) -> pb.DispatchOrderRequest:
        fields: dict[str, Any] = {
            "id": self.order.id,
            "vehicle": "浙A12345",
            "driver_name": "王师傅",
            "driver_phone": "138 0013 8000",
            "planned_time": stamp(self.harness.clock() + dt.timedelta(hours=3)),
            "batches": [
                dpb.LineBatch(line_no=1, batch_no="B20261128-01", quantity="1.5"),
                dpb.LineBatch(line_no=1, batch_no="B20261128-02", quantity="0.5"),
                dpb.LineBatch(line_no=2, batch_no="B20261128-01", quantity="2"),
            ],
        }
        fields.update(changes)
        return pb.DispatchOrderRequest(**fields)

    async def dispatch(self, caller: Identity | None = None, **changes: Any) -> pb.DispatchOrderResponse:
        return await self.harness.stub.DispatchOrder(
            self.dispatch_request(**changes), metadata=self.harness.md(caller or self.dispatcher)
        )

    async def photo(self, caller: Identity | None = None, content: bytes | None = None) -> dpb.DeliveryPhoto:
        reply = await self.harness.stub.UploadDeliveryPhoto(
            dpb.UploadDeliveryPhotoRequest(order_id=self.order.id, filename="签收.jpg", content=content or jpeg()),
            metadata=self.harness.md(caller or self.dispatcher),
        )
        return reply.photo

    async def confirm(self, caller: Identity | None = None, **changes: Any) -> pb.ConfirmDeliveryResponse:
        fields: dict[str, Any] = {
            "id": self.order.id,
            "signed_by": "李阿姨",
            "signed_time": stamp(self.harness.clock()),
        }
        fields.update(changes)
        return await self.harness.stub.ConfirmDelivery(
            pb.ConfirmDeliveryRequest(**fields), metadata=self.harness.md(caller or self.dispatcher)
        )


async def ready_to_ship(harness: OrderHarness) -> Road:
    org = harness.org
    rep = org.person(Role.SALES, org.shop_a)
    finance = org.person(Role.FINANCE, org.sub_a)
    dispatcher = org.person(Role.SERVICE, org.sub_a)
    customer = await harness.customer(rep)
    beef = await harness.product("NR-001", "冷冻牛腩")
    chicken = await harness.product("JT-001", "鸡腿")
    order = await harness.order(rep, customer, [beef, chicken])
    await harness.move(rep, order.id, pb.ORDER_ACTION_CONFIRM)
    await harness.move(rep, order.id, pb.ORDER_ACTION_RELEASE)
    order = await harness.move(finance, order.id, pb.ORDER_ACTION_RECORD_PAYMENT)
    return Road(harness=harness, rep=rep, dispatcher=dispatcher, order=order)


async def events_of(harness: OrderHarness, kind: type[Any]) -> list[Any]:
    rows = await outbox_rows(harness.runtime.sessions, harness.runtime.tables)
    found = []
    for row in rows:
        if row.subject.endswith("." + event_name_of(kind)):
            message = kind()
            row.envelope.payload.Unpack(message)
            found.append(message)
    return found


@BOTH
async def test_dispatch_records_the_details_and_the_batches_and_publishes_them(backend: OrderHarness) -> None:
    road = await ready_to_ship(backend)

    reply = await road.dispatch()

    assert reply.order.state == pb.ORDER_STATE_DISPATCHED
    dispatch = reply.delivery.dispatch
    assert (dispatch.vehicle, dispatch.driver_name, dispatch.driver_phone) == ("浙A12345", "王师傅", "13800138000")
    assert [(b.line_no, b.batch_no, b.quantity) for b in dispatch.batches] == [
        (1, "B20261128-01", "1.5"),
        (1, "B20261128-02", "0.5"),
        (2, "B20261128-01", "2"),
    ]
    async with backend.runtime.sessions() as session:
        rows = (await session.scalars(select(OrderLineBatch).where(OrderLineBatch.order_id == road.order.id))).all()
    assert sorted((r.line_no, r.batch_no, r.quantity_milli, r.sku) for r in rows) == [
        (1, "B20261128-01", 1500, "NR-001"),
        (1, "B20261128-02", 500, "NR-001"),
        (2, "B20261128-01", 2000, "JT-001"),
    ]
    [published] = await events_of(backend, events_pb2.OrderDispatched)
    assert published.order.state == pb.ORDER_STATE_DISPATCHED
    assert (published.dispatch.vehicle, len(published.dispatch.batches)) == ("浙A12345", 3)
    [changed] = [
        e for e in await events_of(backend, events_pb2.OrderStateChanged) if e.action == pb.ORDER_ACTION_DISPATCH
    ]
    assert changed.previous_state == pb.ORDER_STATE_READY_TO_SHIP
    seen = await backend.stub.GetOrderDelivery(
        dpb.GetOrderDeliveryRequest(id=road.order.id), metadata=backend.md(road.rep)
    )
    assert seen.delivery.dispatch.driver_name == "王师傅"
    assert not seen.delivery.HasField("confirmation")


BAD_DISPATCH: list[tuple[str, Callable[[Road], dict[str, Any]], str]] = [
    ("no vehicle", lambda r: {"vehicle": " "}, "vehicle"),
    ("plate too short", lambda r: {"vehicle": "浙A1"}, "vehicle"),
    ("no driver", lambda r: {"driver_name": ""}, "driver_name"),
    ("landline", lambda r: {"driver_phone": "0571-88888888"}, "driver_phone"),
    ("no phone", lambda r: {"driver_phone": ""}, "driver_phone"),
    ("no planned time", lambda r: {"planned_time": None}, "planned_time"),
    (
        "planned long ago",
        lambda r: {"planned_time": stamp(r.harness.clock() - dt.timedelta(days=3))},
        "planned_time",
    ),
    (
        "planned next year",
        lambda r: {"planned_time": stamp(r.harness.clock() + dt.timedelta(days=90))},
        "planned_time",
    ),
    (
        "batches above the line",
        lambda r: {
            "batches": [
                dpb.LineBatch(line_no=1, batch_no="B1", quantity="1"),
                dpb.LineBatch(line_no=2, batch_no="B1", quantity="2"),
                dpb.LineBatch(line_no=1, batch_no="B2", quantity="1.001"),
            ]
        },
        "batches[2].quantity",
    ),
    (
        "no such line",
        lambda r: {"batches": [dpb.LineBatch(line_no=3, batch_no="B1", quantity="1")]},
        "batches[0].line_no",
    ),
    (
        "no batch number",
        lambda r: {"batches": [dpb.LineBatch(line_no=1, batch_no="", quantity="1")]},
        "batches[0].batch_no",
    ),
    (
        "zero quantity",
        lambda r: {"batches": [dpb.LineBatch(line_no=1, batch_no="B1", quantity="0")]},
        "batches[0].quantity",
    ),
    (
        "four decimals",
        lambda r: {"batches": [dpb.LineBatch(line_no=1, batch_no="B1", quantity="0.0001")]},
        "batches[0].quantity",
    ),
    (
        "same batch twice",
        lambda r: {
            "batches": [
                dpb.LineBatch(line_no=1, batch_no="B1", quantity="1"),
                dpb.LineBatch(line_no=1, batch_no="B1", quantity="1"),
            ]
        },
        "batches[1].batch_no",
    ),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_DISPATCH, ids=[c[0] for c in BAD_DISPATCH])
async def test_a_bad_dispatch_is_refused_naming_the_field_and_changes_nothing(
    order_service_sqlite: OrderHarness, case: str, change: Callable[[Road], dict[str, Any]], field: str
) -> None:
    road = await ready_to_ship(order_service_sqlite)
    changes = change(road)
    request = road.dispatch_request(**{k: v for k, v in changes.items() if v is not None})
    if changes.get("planned_time", ...) is None:
        request.ClearField("planned_time")

    refused = await refusal(
        order_service_sqlite.stub.DispatchOrder(request, metadata=order_service_sqlite.md(road.dispatcher))
    )

    assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field)
    seen = await order_service_sqlite.stub.GetOrder(
        pb.GetOrderRequest(id=road.order.id), metadata=order_service_sqlite.md(road.rep)
    )
    assert seen.order.state == pb.ORDER_STATE_READY_TO_SHIP


@BOTH
async def test_batches_may_fill_a_line_partly_or_not_at_all(backend: OrderHarness) -> None:
    road = await ready_to_ship(backend)

    reply = await road.dispatch(batches=[dpb.LineBatch(line_no=2, batch_no="B20261128-03", quantity="1")])

    assert [(b.line_no, b.quantity) for b in reply.delivery.dispatch.batches] == [(2, "1")]


@BOTH
async def test_dispatch_and_delivery_go_only_from_their_states(backend: OrderHarness) -> None:
    road = await ready_to_ship(backend)

    early = await refusal(road.confirm(photo_id="x"))
    await road.dispatch()
    again = await refusal(road.dispatch())

    assert (early.code, early.trailers["crm-error-code"]) == (grpc.StatusCode.FAILED_PRECONDITION, "illegal_transition")
    assert "dispatched" in again.message or again.trailers.get("crm-error-code") == "illegal_transition"
    assert again.code == grpc.StatusCode.FAILED_PRECONDITION


async def test_only_dispatching_roles_dispatch_and_another_reps_order_looks_missing(
    order_service_sqlite: OrderHarness,
) -> None:
    harness = order_service_sqlite
    road = await ready_to_ship(harness)
    other_branch_dispatcher = harness.org.person(Role.SERVICE, harness.org.sub_b)

    by_rep = await refusal(road.dispatch(road.rep))
    by_stranger = await refusal(road.dispatch(other_branch_dispatcher))

    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert by_stranger.code == grpc.StatusCode.NOT_FOUND


@BOTH
async def test_a_delivery_with_a_photo_is_confirmed_and_its_event_carries_it(backend: OrderHarness) -> None:
    road = await ready_to_ship(backend)
    await road.dispatch()
    photo = await road.photo()
    storage = open_object_storage(StorageSettings(local_dir=backend.keys.public_path.parent / "files"))

    reply = await road.confirm(photo_id=photo.id)

    assert reply.order.state == pb.ORDER_STATE_DELIVERED
    confirmation = reply.delivery.confirmation
    assert (confirmation.signed_by, confirmation.photo_id, confirmation.exception) == (
        "李阿姨",
        photo.id,
        dpb.DELIVERY_EXCEPTION_KIND_UNSPECIFIED,
    )
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 64, 48)
    stored = b"".join([chunk async for chunk in await storage.get(photo.storage_key)])
    assert stored == jpeg()
    assert photo.storage_key.startswith(f"delivery-photos/{road.dispatcher.tenant_id}/")
    [published] = await events_of(backend, events_pb2.OrderDelivered)
    assert (published.order.state, published.confirmation.photo_id) == (pb.ORDER_STATE_DELIVERED, photo.id)
    completed = await backend.move(road.dispatcher, road.order.id, pb.ORDER_ACTION_COMPLETE)
    assert completed.state == pb.ORDER_STATE_COMPLETED


async def test_photos_must_be_images_of_a_limited_size(order_service_sqlite: OrderHarness) -> None:
    road = await ready_to_ship(order_service_sqlite)
    before = await refusal(road.photo())
    await road.dispatch()

    pdf = await refusal(road.photo(content=b"%PDF-1.7\n" + b"0" * 100))
    text = await refusal(road.photo(content=b"hello, this is not a photo"))
    fake_jpeg = await refusal(road.photo(content=b"\xff\xd8\xff" + b"\x00" * 100))
    too_large = await refusal(road.photo(content=jpeg() + b"\x00" * (10 * MIB)))

    assert before.code == grpc.StatusCode.FAILED_PRECONDITION
    for refused in (pdf, text, fake_jpeg):
        assert (refused.trailers["crm-error-code"], refused.field) == ("unsupported_media_type", "content")
    assert (too_large.trailers["crm-error-code"], too_large.field) == ("payload_too_large", "content")


async def test_a_photo_of_another_order_or_none_is_refused(order_service_sqlite: OrderHarness) -> None:
    harness = order_service_sqlite
    road = await ready_to_ship(harness)
    other = await ready_to_ship(harness)
    await road.dispatch()
    await other.dispatch()
    others_photo = await other.photo()

    missing = await refusal(road.confirm())
    foreign = await refusal(road.confirm(photo_id=others_photo.id))

    assert (missing.code, missing.field) == (grpc.StatusCode.INVALID_ARGUMENT, "photo_id")
    assert (foreign.code, foreign.field) == (grpc.StatusCode.INVALID_ARGUMENT, "photo_id")


@BOTH
async def test_a_partial_delivery_records_the_delivered_quantities(backend: OrderHarness) -> None:
    road = await ready_to_ship(backend)
    await road.dispatch()
    photo = await road.photo()

    reply = await road.confirm(
        photo_id=photo.id,
        exception=dpb.DELIVERY_EXCEPTION_KIND_PARTIAL,
        exception_lines=[dpb.DeliveryExceptionLine(line_no=2, quantity="0", note="缺货")],
    )

    confirmation = reply.delivery.confirmation
    assert confirmation.exception == dpb.DELIVERY_EXCEPTION_KIND_PARTIAL
    assert [(line.line_no, line.quantity, line.note) for line in confirmation.exception_lines] == [(2, "0", "缺货")]
    [published] = await events_of(backend, events_pb2.OrderDelivered)
    assert published.confirmation.exception == dpb.DELIVERY_EXCEPTION_KIND_PARTIAL


async def test_a_refusal_needs_a_reason_but_no_photo(order_service_sqlite: OrderHarness) -> None:
    road = await ready_to_ship(order_service_sqlite)
    await road.dispatch()

    no_reason = await refusal(road.confirm(exception=dpb.DELIVERY_EXCEPTION_KIND_REFUSED))
    refused = await road.confirm(exception=dpb.DELIVERY_EXCEPTION_KIND_REFUSED, exception_reason="食堂停餐")

    assert (no_reason.code, no_reason.field) == (grpc.StatusCode.INVALID_ARGUMENT, "exception_reason")
    assert (refused.delivery.confirmation.exception, refused.delivery.confirmation.exception_reason) == (
        dpb.DELIVERY_EXCEPTION_KIND_REFUSED,
        "食堂停餐",
    )


BAD_CONFIRMATION: list[tuple[str, dict[str, Any], str]] = [
    ("no signer", {"signed_by": " "}, "signed_by"),
    ("no signed time", {"signed_time": None}, "signed_time"),
    ("signed tomorrow", {"signed_time": "tomorrow"}, "signed_time"),
    ("unknown exception", {"exception": 9}, "exception"),
    (
        "partial above the line",
        {
            "exception": dpb.DELIVERY_EXCEPTION_KIND_PARTIAL,
            "exception_lines": [dpb.DeliveryExceptionLine(line_no=1, quantity="2.5")],
        },
        "exception_lines[0].quantity",
    ),
    (
        "partial that is whole",
        {
            "exception": dpb.DELIVERY_EXCEPTION_KIND_PARTIAL,
            "exception_lines": [dpb.DeliveryExceptionLine(line_no=1, quantity="2")],
        },
        "exception_lines",
    ),
    (
        "partial negative",
        {
            "exception": dpb.DELIVERY_EXCEPTION_KIND_PARTIAL,
            "exception_lines": [dpb.DeliveryExceptionLine(line_no=1, quantity="-1")],
        },
        "exception_lines[0].quantity",
    ),
    ("partial without lines", {"exception": dpb.DELIVERY_EXCEPTION_KIND_PARTIAL}, "exception_lines"),
    (
        "damaged on no such line",
        {
            "exception": dpb.DELIVERY_EXCEPTION_KIND_DAMAGED,
            "exception_lines": [dpb.DeliveryExceptionLine(line_no=7, quantity="1", note="箱子压坏")],
        },
        "exception_lines[0].line_no",
    ),
    (
        "lines without an exception",
        {"exception_lines": [dpb.DeliveryExceptionLine(line_no=1, quantity="1")]},
        "exception_lines",
    ),
]


@pytest.mark.parametrize(("case", "changes", "field"), BAD_CONFIRMATION, ids=[c[0] for c in BAD_CONFIRMATION])
async def test_a_bad_confirmation_is_refused_naming_the_field(
    order_service_sqlite: OrderHarness, case: str, changes: dict[str, Any], field: str
) -> None:
    harness = order_service_sqlite
    road = await ready_to_ship(harness)
    await road.dispatch()
    photo = await road.photo()
    given = dict(changes)
    if given.get("signed_time") == "tomorrow":
        given["signed_time"] = stamp(harness.clock() + dt.timedelta(days=1))
    request = pb.ConfirmDeliveryRequest(
        id=road.order.id, signed_by="李阿姨", signed_time=stamp(harness.clock()), photo_id=photo.id
    )
    for name, value in given.items():
        if value is None:
            request.ClearField(name)
        elif name == "exception_lines":
            request.exception_lines.extend(value)
        elif name == "signed_time":
            request.signed_time.CopyFrom(value)
        else:
            setattr(request, name, value)

    refused = await refusal(harness.stub.ConfirmDelivery(request, metadata=harness.md(road.dispatcher)))

    assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field)


def partner_token(identity: Identity, *scopes: PartnerScope) -> Identity:
    return dataclasses.replace(identity, permissions=identity.permissions | token_permissions(frozenset(scopes)))


async def test_a_dispatch_system_dispatches_and_confirms_but_places_no_orders(order_service: OrderHarness) -> None:
    road = await ready_to_ship(order_service)
    dispatch_system = partner_token(
        order_service.org.person(Role.SERVICE, order_service.org.sub_a), PartnerScope.DELIVERIES_WRITE
    )
    reader = partner_token(order_service.org.person(Role.SERVICE, order_service.org.sub_a), PartnerScope.ORDERS_READ)

    not_allowed = await refusal(road.dispatch(reader))
    dispatched = await road.dispatch(dispatch_system)
    photo = await road.photo(dispatch_system)
    delivered = await road.confirm(dispatch_system, photo_id=photo.id)
    chicken = await order_service.product("JT-002", "鸡翅")
    customer = road.order.customer_id
    no_create = await refusal(order_service.order(dispatch_system, customer, [chicken]))

    assert not_allowed.code == grpc.StatusCode.PERMISSION_DENIED
    assert dispatched.order.state == pb.ORDER_STATE_DISPATCHED
    assert delivered.order.state == pb.ORDER_STATE_DELIVERED
    assert no_create.code == grpc.StatusCode.PERMISSION_DENIED
