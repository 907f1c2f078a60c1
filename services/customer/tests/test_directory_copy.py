"""The directory copy: the customer service consumes the gateway's user_changed events from NATS
and keeps the newest version of each user; replays and late events change nothing."""

from __future__ import annotations

import nats
from sqlalchemy import select

from crm_customer.directory.models import DirectoryUser
from crmkit.bus import ensure_stream
from crmkit.events import subject_for
from crmkit.identity import Role
from crmkit.testing.events import eventually

from .conftest import user_changed_envelope


async def test_user_changed_events_from_nats_keep_the_newest_version_of_each_user(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    moved = org.person(Role.SALES, org.shop_b, principal_id=rep.principal_id)
    nc = await nats.connect(customer_service.runtime.settings.nats_url)
    js = nc.jetstream()
    # The gateway creates its stream when it starts; here the test stands in for it.
    await ensure_stream(js, "gateway", namespace=customer_service.namespace)
    subject = subject_for("gateway", "user_changed", customer_service.namespace)
    now = customer_service.clock()
    first = user_changed_envelope(rep, active=True, role="", version=1, name="张三", at=now)
    latest = user_changed_envelope(moved, active=False, role="", version=3, name="张三", at=now)
    late = user_changed_envelope(rep, active=True, role="supervisor", version=2, name="张三", at=now)
    try:
        for envelope, msg_id in ((first, first.id), (latest, latest.id), (late, late.id), (first, f"{first.id}-again")):
            await js.publish(subject, envelope.SerializeToString(), headers={"Nats-Msg-Id": msg_id})

        async def row() -> DirectoryUser | None:
            async with customer_service.runtime.sessions() as session:
                return await session.scalar(select(DirectoryUser).where(DirectoryUser.user_id == rep.principal_id))

        stored = await eventually(row, lambda r: r is not None and r.version == 3, within=15)

        async def inbox_count() -> int:
            async with customer_service.runtime.sessions() as session:
                table = customer_service.runtime.tables.inbox
                return len((await session.execute(select(table))).all())

        await eventually(inbox_count, lambda n: n >= 3, within=15)
        stored = await row()
    finally:
        await nc.close()

    assert stored is not None
    assert (stored.org_unit_id, stored.org_path, stored.role, stored.active, stored.display_name) == (
        org.shop_b,
        org.path(org.shop_b),
        "sales",
        False,
        "张三",
    )
