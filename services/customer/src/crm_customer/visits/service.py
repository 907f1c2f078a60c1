"""Visits: record a visit's check-in (with its distance from the customer's own location) and
photos beside its follow-up. Called by follow_ups.service in the follow-up's transaction."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.attachments.service import check_attachments_of
from crm_customer.customers.models import Customer
from crm_customer.visits.models import VisitInput, VisitRecord

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (a sphere is within 0.5%)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


async def record_visit(
    session: AsyncSession, *, customer: Customer, interaction_id: str, visit: VisitInput, occurred_at: dt.datetime
) -> VisitRecord:
    """The photos must be the customer's own visit photos (else INVALID_ARGUMENT naming
    `interaction.photo_attachment_ids[i]`); the distance is measured when the customer has a
    location."""
    await check_attachments_of(
        session,
        customer_id=customer.id,
        tenant_id=customer.tenant_id,
        kind="visit_photo",
        ids=visit.photo_attachment_ids,
        field="interaction.photo_attachment_ids",
    )
    record = VisitRecord(
        interaction_id=interaction_id,
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        photo_attachment_ids=list(visit.photo_attachment_ids),
    )
    check_in = visit.check_in
    if check_in is not None:
        record.latitude, record.longitude = check_in.latitude, check_in.longitude
        record.accuracy_m, record.address = check_in.accuracy_m, check_in.address
        record.checked_in_at = check_in.checked_in_at or occurred_at
        located = check_in.latitude is not None and check_in.longitude is not None
        if located and customer.latitude is not None and customer.longitude is not None:
            record.distance_m = round(
                haversine_m(customer.latitude, customer.longitude, check_in.latitude, check_in.longitude),  # type: ignore[arg-type]
                1,
            )
    session.add(record)
    return record
