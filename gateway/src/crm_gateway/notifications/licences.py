"""Licence notices for the owner's inbox: a licence running out (30 and 7 days before its last
valid day) and one that has lapsed. The customer service sends each event once per licence and
notice; the gateway's inbox consumer (one transaction with its inbox row) and the notifications'
unique (event, user) make a redelivered event notify nobody twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import events_pb2 as cev
from crm.events.v1.envelope_pb2 import Envelope
from crmkit.service import TypedHandler

# NotificationEvents._notify: (session, envelope, user ids, kind, params, link type, link id).
Notify = Callable[[AsyncSession, Envelope, list[str], str, Mapping[str, object], str, str], Awaitable[None]]


def _params(message: cev.LicenceExpiring | cev.LicenceExpired) -> dict[str, Any]:
    licence = message.licence
    return {
        "customer": message.customer_name,
        "kind": licence.kind,
        "number": licence.number,
        "valid_until": licence.valid_until,
    }


def licence_handlers(notify: Notify) -> dict[type[Any], TypedHandler]:
    """The handlers of the licence events, for the `notifications` subscription."""

    async def licence_expiring(session: AsyncSession, message: cev.LicenceExpiring, envelope: Envelope) -> None:
        params = {**_params(message), "days": message.licence.days_left, "notice": message.days_before}
        await notify(session, envelope, [message.owner_id], "licence_expiring", params, "customer", message.customer_id)

    async def licence_expired(session: AsyncSession, message: cev.LicenceExpired, envelope: Envelope) -> None:
        await notify(
            session, envelope, [message.owner_id], "licence_expired", _params(message), "customer", message.customer_id
        )

    return {cev.LicenceExpiring: licence_expiring, cev.LicenceExpired: licence_expired}
