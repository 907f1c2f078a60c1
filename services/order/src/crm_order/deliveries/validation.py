"""Delivery requests as the service takes them: clean values out, or INVALID_ARGUMENT naming the
field (`batches[2].quantity`, `exception_lines[0].quantity`, …)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from google.protobuf.timestamp_pb2 import Timestamp

from crm.order.v1 import delivery_pb2 as dpb
from crm.order.v1 import order_pb2 as pb
from crm_order.money import parse_milli
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.validate import mobile, text

EXCEPTION_KINDS = ProtoEnum(dpb.DeliveryExceptionKind)
MAX_BATCHES = 500
BATCH_NO_MAX = 64
# Clocks of phones and dispatch systems run a little fast; a signature further ahead is a mistake.
CLOCK_SKEW = dt.timedelta(minutes=10)
# A dispatch is planned for the coming days, not for next year.
MAX_PLAN_AHEAD = dt.timedelta(days=31)
MAX_PLAN_BEHIND = dt.timedelta(days=1)


@dataclass(frozen=True)
class BatchInput:
    line_no: int
    batch_no: str
    quantity_milli: int


@dataclass(frozen=True)
class DispatchInput:
    vehicle: str
    driver_name: str
    driver_phone: str
    planned_at: dt.datetime
    batches: list[BatchInput]


@dataclass(frozen=True)
class ExceptionLineInput:
    line_no: int
    quantity_milli: int
    note: str


@dataclass(frozen=True)
class ConfirmationInput:
    signed_by: str
    signed_at: dt.datetime
    photo_id: str
    exception: str
    exception_reason: str
    exception_lines: list[ExceptionLineInput]


def _time(value: Timestamp, field: str, *, present: bool) -> dt.datetime:
    if not present:
        raise InvalidArgument(field, "is required / 必填")
    try:
        return value.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument(field, "is not a valid time / 时间无效") from exc


def _vehicle(value: str) -> str:
    plate = text(value, "vehicle", max_len=20, required=True).upper().replace(" ", "")
    if len(plate) < 5:
        raise InvalidArgument("vehicle", "is not a licence plate / 车牌号格式不正确")
    return plate


def _quantity_at_least_zero(value: str, field: str) -> int:
    if not value.strip():
        raise InvalidArgument(field, "is required / 必填")
    try:
        nothing = Decimal(value.strip()) == 0
    except InvalidOperation:
        nothing = False
    # Zero is a line not delivered at all; anything else is a quantity as order lines take them.
    return 0 if nothing else parse_milli(value, field)


def dispatch_input(request: pb.DispatchOrderRequest, now: dt.datetime) -> DispatchInput:
    vehicle = _vehicle(request.vehicle)
    driver_name = text(request.driver_name, "driver_name", max_len=50, required=True)
    phone = mobile(request.driver_phone, "driver_phone")
    if phone is None:
        raise InvalidArgument("driver_phone", "is required / 必填")
    planned_at = _time(
        request.planned_time,
        "planned_time",
        present=request.HasField("planned_time"),
    )
    if planned_at < now - MAX_PLAN_BEHIND:
        raise InvalidArgument("planned_time", "is in the past / 计划送达时间已过")
    if planned_at > now + MAX_PLAN_AHEAD:
        raise InvalidArgument("planned_time", "more than 31 days ahead / 计划送达时间过远")
    return DispatchInput(
        vehicle=vehicle,
        driver_name=driver_name,
        driver_phone=phone,
        planned_at=planned_at,
        batches=batch_inputs(request.batches),
    )


def batch_inputs(batches: Sequence[dpb.LineBatch]) -> list[BatchInput]:
    if len(batches) > MAX_BATCHES:
        raise InvalidArgument("batches", f"at most {MAX_BATCHES} batches / 最多{MAX_BATCHES}个批次")
    found: list[BatchInput] = []
    seen: set[tuple[int, str]] = set()
    for i, batch in enumerate(batches):
        if batch.line_no < 1:
            raise InvalidArgument(f"batches[{i}].line_no", "is required / 必填")
        batch_no = text(batch.batch_no, f"batches[{i}].batch_no", max_len=BATCH_NO_MAX, required=True)
        if (batch.line_no, batch_no) in seen:
            raise InvalidArgument(f"batches[{i}].batch_no", "given twice for this line / 同一行批次号重复")
        seen.add((batch.line_no, batch_no))
        quantity = parse_milli(batch.quantity, f"batches[{i}].quantity") if batch.quantity.strip() else None
        if quantity is None:
            raise InvalidArgument(f"batches[{i}].quantity", "is required / 必填")
        found.append(BatchInput(line_no=batch.line_no, batch_no=batch_no, quantity_milli=quantity))
    return found


def confirmation_input(request: pb.ConfirmDeliveryRequest, now: dt.datetime) -> ConfirmationInput:
    signed_by = text(request.signed_by, "signed_by", max_len=50, required=True)
    signed_at = _time(
        request.signed_time,
        "signed_time",
        present=request.HasField("signed_time"),
    )
    if signed_at > now + CLOCK_SKEW:
        raise InvalidArgument("signed_time", "is in the future / 签收时间不能晚于当前时间")
    exception = EXCEPTION_KINDS.parse(
        request.exception,
        "exception",
        default="",
        unknown="unknown delivery exception / 未知的配送异常",
    )
    reason = text(request.exception_reason, "exception_reason", max_len=200)
    photo_id = text(request.photo_id, "photo_id", max_len=36)
    given: Sequence[dpb.DeliveryExceptionLine] = request.exception_lines
    lines: list[ExceptionLineInput] = []
    seen: set[int] = set()
    for i, line in enumerate(given):
        if line.line_no < 1:
            raise InvalidArgument(f"exception_lines[{i}].line_no", "is required / 必填")
        if line.line_no in seen:
            raise InvalidArgument(f"exception_lines[{i}].line_no", "given twice / 行号重复")
        seen.add(line.line_no)
        field = f"exception_lines[{i}].quantity"
        if exception == "partial":
            quantity = _quantity_at_least_zero(line.quantity, field)
        elif exception == "damaged":
            quantity = parse_milli(line.quantity, field) if line.quantity.strip() else 0
        else:
            quantity = 0
        note = text(line.note, f"exception_lines[{i}].note", max_len=200)
        lines.append(ExceptionLineInput(line_no=line.line_no, quantity_milli=quantity, note=note))
    if exception == "" and lines:
        raise InvalidArgument("exception_lines", "only with a delivery exception / 无配送异常时不应填写异常明细")
    if exception == "refused":
        if not reason:
            raise InvalidArgument("exception_reason", "a refusal needs a reason / 拒收须填写原因")
        if lines:
            raise InvalidArgument("exception_lines", "a refusal refuses every line / 拒收为整单拒收，不填明细")
    if exception in ("partial", "damaged") and not lines:
        raise InvalidArgument("exception_lines", "name the lines concerned / 请填写异常的行")
    if exception != "refused" and not photo_id:
        raise InvalidArgument("photo_id", "a delivery photo is required / 请上传签收照片")
    return ConfirmationInput(
        signed_by=signed_by,
        signed_at=signed_at,
        photo_id=photo_id,
        exception=exception,
        exception_reason=reason,
        exception_lines=lines,
    )
