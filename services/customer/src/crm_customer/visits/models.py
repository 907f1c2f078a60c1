"""A visit's check-in and photos (拜访签到, 拍照记录): one row beside its follow-up, written when
the visit is logged and never changed after."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import JSON, DateTime, Double, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import visits_pb2 as vpb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.events import timestamp_of


class VisitRecord(Base):
    __tablename__ = "visit_records"

    interaction_id: Mapped[str] = mapped_column(ForeignKey("interactions.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(String(36))
    # The check-in: checked_in_at is set when there is one (a visit may carry photos without
    # one); latitude, longitude and accuracy are all set, or all null when the phone gave no
    # position (no_location).
    latitude: Mapped[float | None] = mapped_column(Double, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Double, nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Double, nullable=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Metres from the customer's own location when it had one at check-in (haversine).
    distance_m: Mapped[float | None] = mapped_column(Double, nullable=True)
    # Attachments of kind visit_photo of the same customer, in the order taken.
    photo_attachment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


@dataclass(frozen=True)
class CheckInInput:
    """None coordinates: the phone gave no position (no_location)."""

    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    address: str
    checked_in_at: dt.datetime | None


@dataclass(frozen=True)
class VisitInput:
    """What a visit follow-up carries beside the entry, validated (`visits.validation`)."""

    check_in: CheckInInput | None = None
    photo_attachment_ids: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.check_in is not None or bool(self.photo_attachment_ids)


def check_in_to_proto(record: VisitRecord) -> vpb.VisitCheckIn | None:
    if record.checked_in_at is None:
        return None
    if record.latitude is None or record.longitude is None:
        return vpb.VisitCheckIn(
            no_location=True, address=record.address, check_in_time=timestamp_of(as_utc(record.checked_in_at))
        )
    return vpb.VisitCheckIn(
        latitude=record.latitude,
        longitude=record.longitude,
        accuracy_m=record.accuracy_m or 0.0,
        address=record.address,
        check_in_time=timestamp_of(as_utc(record.checked_in_at)) if record.checked_in_at else None,
        distance_m=record.distance_m,
    )
