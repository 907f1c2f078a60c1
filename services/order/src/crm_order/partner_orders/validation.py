"""ImportOrders items as the service takes them: each item clean, or its errors naming the
field (`orders[3].lines[0].quantity`); one bad item never stops the others."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from crm.order.v1 import partner_orders_pb2 as ppb
from crm_order.money import parse_fen, parse_milli
from crm_order.orders.validation import MAX_LINES, ORDER_STATES, PAYMENT_MODES
from crmkit.clock import shanghai_date
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, iso_date, text

T = TypeVar("T")

MAX_ITEMS = 500
# History is written as it was; a new order starts as a draft through CreateOrder.
IMPORTABLE_STATES = frozenset(
    {"confirmed", "awaiting_payment", "ready_to_ship", "dispatched", "delivered", "completed", "cancelled"}
)
DELIVERED_STATES = frozenset({"delivered", "completed"})
# A partner's clock may run a little ahead of ours.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class ImportLine:
    product_id: str
    sku: str
    quantity_milli: int
    unit_price_fen: int


@dataclass(frozen=True)
class ImportItem:
    index: int
    external_id: str
    customer_id: str
    payment_mode: str
    state: str
    lines: list[ImportLine]
    order_time: dt.datetime
    delivery_date: dt.date
    delivered_at: dt.datetime | None
    completed_at: dt.datetime | None
    delivery_address: str
    notes: str
    cancel_reason: str
    content_hash: str


@dataclass
class ItemErrors:
    """The errors of one item, each with the full field path."""

    prefix: str
    errors: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, reason: str) -> None:
        self.errors.append((f"{self.prefix}.{name}", reason))

    def check(self, parse: Callable[[], T]) -> T | None:
        """Run one parser; its InvalidArgument becomes an error of this item."""
        try:
            return parse()
        except InvalidArgument as error:
            self.errors.append((f"{self.prefix}.{error.field}", error.reason))
            return None


def batch_size(items: Sequence[ppb.ImportedOrder]) -> None:
    if not items:
        raise InvalidArgument("orders", "at least one order / 至少一个订单")
    if len(items) > MAX_ITEMS:
        raise InvalidArgument("orders", f"at most {MAX_ITEMS} orders per call / 每次最多{MAX_ITEMS}个订单")


def _time(item: ppb.ImportedOrder, name: str) -> dt.datetime | None:
    if not item.HasField(name):  # type: ignore[arg-type]
        return None
    return getattr(item, name).ToDatetime(tzinfo=dt.UTC)  # type: ignore[no-any-return]


def import_item(index: int, item: ppb.ImportedOrder, now: dt.datetime) -> ImportItem | ItemErrors:
    errors = ItemErrors(prefix=f"orders[{index}]")
    external_id = errors.check(lambda: identifier(item.external_id, "external_id", max_len=64))
    customer_id = errors.check(lambda: identifier(item.customer_id, "customer_id"))
    mode = errors.check(lambda: PAYMENT_MODES.parse(item.payment_mode, "payment_mode"))
    state = errors.check(lambda: ORDER_STATES.parse(item.state, "state"))
    if state is not None and state not in IMPORTABLE_STATES:
        errors.add("state", "a draft is not history; create it with CreateOrder / 草稿单不能导入，请直接下单")
    lines = _lines(item, errors)
    order_time = _time(item, "order_time")
    delivered_at = _time(item, "delivered_time")
    completed_at = _time(item, "completed_time")
    if order_time is None:
        errors.add("order_time", "is required / 必填")
    elif order_time > now + CLOCK_SKEW:
        errors.add("order_time", "is in the future / 下单时间不能晚于现在")
    delivery_date = errors.check(lambda: iso_date(item.delivery_date, "delivery_date"))
    if not item.delivery_date.strip():
        errors.add("delivery_date", "is required / 必填")
    elif delivery_date is not None and order_time is not None and delivery_date < shanghai_date(order_time):
        errors.add("delivery_date", "is before the order date / 送货日期早于下单日期")
    if delivered_at is not None:
        if state is not None and state not in DELIVERED_STATES:
            errors.add("delivered_time", "only for delivered or completed orders / 仅已签收或已完成的订单可填")
        elif order_time is not None and delivered_at < order_time:
            errors.add("delivered_time", "is before the order time / 签收时间早于下单时间")
        elif delivered_at > now + CLOCK_SKEW:
            errors.add("delivered_time", "is in the future / 签收时间不能晚于现在")
    if completed_at is not None:
        if state is not None and state != "completed":
            errors.add("completed_time", "only for completed orders / 仅已完成的订单可填")
        elif (delivered_at or order_time) is not None and completed_at < (delivered_at or order_time):  # type: ignore[operator]
            errors.add("completed_time", "is before the delivery / 完成时间早于签收或下单时间")
        elif completed_at > now + CLOCK_SKEW:
            errors.add("completed_time", "is in the future / 完成时间不能晚于现在")
    address = errors.check(lambda: text(item.delivery_address, "delivery_address", max_len=300))
    notes = errors.check(lambda: text(item.notes, "notes", max_len=500, multiline=True))
    cancel_reason = errors.check(lambda: text(item.cancel_reason, "cancel_reason", max_len=200))
    if state == "cancelled" and not cancel_reason:
        errors.add("cancel_reason", "a cancelled order needs its reason / 已取消的订单须填写取消原因")
    if errors.errors:
        return errors
    assert external_id is not None and customer_id is not None and mode is not None and state is not None
    assert order_time is not None and delivery_date is not None and lines is not None
    return ImportItem(
        index=index,
        external_id=external_id,
        customer_id=customer_id,
        payment_mode=mode,
        state=state,
        lines=lines,
        order_time=order_time,
        delivery_date=delivery_date,
        delivered_at=delivered_at,
        completed_at=completed_at,
        delivery_address=address or "",
        notes=notes or "",
        cancel_reason=cancel_reason or "",
        content_hash=content_hash(item),
    )


def _lines(item: ppb.ImportedOrder, errors: ItemErrors) -> list[ImportLine] | None:
    if not item.lines:
        errors.add("lines", "at least one line / 至少一行")
        return None
    if len(item.lines) > MAX_LINES:
        errors.add("lines", f"at most {MAX_LINES} lines / 最多{MAX_LINES}行")
        return None
    lines = [_line(errors, f"lines[{i}]", line) for i, line in enumerate(item.lines)]
    return [line for line in lines if line is not None]


def _line(errors: ItemErrors, name: str, line: ppb.ImportedOrderLine) -> ImportLine | None:
    product_id = errors.check(lambda: identifier(line.product_id, f"{name}.product_id", required=False))
    sku = errors.check(lambda: text(line.sku, f"{name}.sku", max_len=64))
    if product_id == "" and sku == "":
        errors.add(f"{name}.product_id", "a product id or SKU is required / 须填写商品ID或SKU")
    quantity = errors.check(lambda: parse_milli(_required(line.quantity, f"{name}.quantity"), f"{name}.quantity"))
    price = errors.check(lambda: parse_fen(_required(line.unit_price, f"{name}.unit_price"), f"{name}.unit_price"))
    if product_id is None or sku is None or quantity is None or price is None or not (product_id or sku):
        return None
    return ImportLine(product_id=product_id, sku=sku, quantity_milli=quantity, unit_price_fen=price)


def _required(value: str, field_name: str) -> str:
    if not value.strip():
        raise InvalidArgument(field_name, "is required / 必填")
    return value


def content_hash(item: ppb.ImportedOrder) -> str:
    """The item's content (deterministic serialization), to tell a changed re-import."""
    return hashlib.sha256(item.SerializeToString(deterministic=True)).hexdigest()
