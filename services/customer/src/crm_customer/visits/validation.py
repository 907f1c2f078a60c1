"""Validation of a visit's check-in and photos at the gRPC edge."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import visits_pb2 as vpb
from crm_customer.visits.models import CheckInInput, VisitInput
from crmkit.clock import as_utc
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, latitude, longitude, text

MAX_PHOTOS = 9
MAX_ACCURACY_M = 10_000.0
MAX_ADDRESS = 200
# A phone's clock may run a little ahead of ours.
CLOCK_SKEW = dt.timedelta(minutes=5)


def _check_in(message: vpb.VisitCheckIn, prefix: str, now: dt.datetime) -> CheckInInput:
    accuracy = message.accuracy_m
    if not accuracy >= 0 or accuracy > MAX_ACCURACY_M:  # also refuses NaN
        raise InvalidArgument(f"{prefix}.accuracy_m", "must be between 0 and 10000 metres / 定位精度须在0到10000米之间")
    checked_in_at = None
    if message.HasField("check_in_time"):
        try:
            checked_in_at = as_utc(message.check_in_time.ToDatetime(tzinfo=dt.UTC))
        except (ValueError, OverflowError) as exc:
            raise InvalidArgument(f"{prefix}.check_in_time", "is not a valid time / 时间无效") from exc
        if checked_in_at > now + CLOCK_SKEW:
            raise InvalidArgument(f"{prefix}.check_in_time", "is in the future / 签到时间不能晚于现在")
    address = text(message.address, f"{prefix}.address", max_len=MAX_ADDRESS)
    if message.no_location:
        # A phone that refused its location still checks in; coordinates beside it would be a lie.
        for name in ("latitude", "longitude", "accuracy_m"):
            if getattr(message, name) != 0:
                raise InvalidArgument(f"{prefix}.{name}", "must be empty without a location / 未定位时不能填写坐标")
        return CheckInInput(
            latitude=None, longitude=None, accuracy_m=None, address=address, checked_in_at=checked_in_at
        )
    return CheckInInput(
        latitude=latitude(message.latitude, f"{prefix}.latitude"),
        longitude=longitude(message.longitude, f"{prefix}.longitude"),
        accuracy_m=accuracy,
        address=address,
        checked_in_at=checked_in_at,
    )


def _photo_ids(values: Sequence[str], field: str) -> list[str]:
    if len(values) > MAX_PHOTOS:
        raise InvalidArgument(field, f"at most {MAX_PHOTOS} photos / 最多{MAX_PHOTOS}张照片")
    ids = [identifier(value, f"{field}[{index}]") for index, value in enumerate(values)]
    if len(set(ids)) != len(ids):
        raise InvalidArgument(field, "names a photo twice / 照片重复")
    return ids


def visit_input(message: fpb.Interaction, kind: str, now: dt.datetime) -> VisitInput:
    """A visit's check-in and photos; another kind of follow-up may carry neither."""
    has_check_in = message.HasField("check_in")
    if kind != "visit":
        if has_check_in:
            raise InvalidArgument("interaction.check_in", "only a visit has a check-in / 只有拜访可以签到")
        if message.photo_attachment_ids:
            raise InvalidArgument("interaction.photo_attachment_ids", "only a visit has photos / 只有拜访可以上传照片")
        return VisitInput()
    return VisitInput(
        check_in=_check_in(message.check_in, "interaction.check_in", now) if has_check_in else None,
        photo_attachment_ids=_photo_ids(message.photo_attachment_ids, "interaction.photo_attachment_ids"),
    )
