"""The gateway on its embedded SQLite default (`make run`): migrated, on NATS, announcing its
admin, pushing a new notification to the recipient's open stream after the commit (there is
no LISTEN/NOTIFY there: one process, so the announcement stays in it), and finding what a
reconnecting stream replays."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path

import nats
from fastapi import FastAPI, Request
from sqlalchemy import select, update

from crm.customer.v1 import customer_pb2, events_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_gateway.app import create_app
from crm_gateway.database import gateway_event_tables
from crm_gateway.directory.models import User
from crm_gateway.notifications import service
from crm_gateway.notifications.models import Notification
from crm_gateway.settings import get_settings
from crm_gateway.web import db_session
from crmkit import bus
from crmkit.events import event_type_of, subject_for, timestamp_of
from crmkit.testing.events import eventually, outbox_rows
from crmkit.testing.harness import make_keys
from crmkit.testing.infra import NatsServer


def _sqlite_app(nats_server: NatsServer, tmp_path: Path, namespace: str) -> FastAPI:
    keys = make_keys(tmp_path / "keys")
    settings = get_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        nats_url=nats_server.url,
        event_namespace=namespace,
        identity_private_key_file=keys.private_path,
        secret_key_file=tmp_path / "keys" / "gateway_secrets.key",
        bootstrap_admin_password="admin-Passw0rd-sqlite",
        upstreams={},
    )
    return create_app(settings)


async def test_a_notification_reaches_the_open_stream_on_sqlite(nats_server: NatsServer, tmp_path: Path) -> None:
    namespace = f"S{uuid.uuid4().hex[:8]}."
    app = _sqlite_app(nats_server, tmp_path, namespace)
    nc = await nats.connect(nats_server.url)
    try:
        await bus.ensure_stream(nc.jetstream(), "customer", namespace=namespace)
        async with app.router.lifespan_context(app):
            state = app.state.gateway
            async with state.sessions() as session:
                admin = (await session.scalars(select(User))).one()
            async with state.notification_feed.subscribe(admin.id) as arrivals:
                message = events_pb2.FollowUpReminder(
                    customer=customer_pb2.Customer(id=str(uuid.uuid4()), name="嵌入式食堂"),
                    owner_id=admin.id,
                    due_date="2026-12-02",
                )
                envelope = Envelope(
                    id=str(uuid.uuid4()),
                    type=event_type_of(events_pb2.FollowUpReminder),
                    tenant_id=admin.tenant_id,
                    aggregate_id=message.customer.id,
                    aggregate_version=1,
                    occurred_at=timestamp_of(dt.datetime.now(dt.UTC)),
                )
                envelope.payload.Pack(message)
                await nc.jetstream().publish(
                    subject_for("customer", "follow_up_reminder", namespace), envelope.SerializeToString()
                )
                pushed = await asyncio.wait_for(arrivals.get(), timeout=15)
            published = await eventually(
                lambda: outbox_rows(state.runtime.sessions, gateway_event_tables()),
                lambda rows: bool(rows) and rows[0].published_at is not None,
            )
            async with state.sessions() as session:
                stored = await session.execute(select(User.version).where(User.id == admin.id))
    finally:
        await nc.close()

    assert len(pushed) == 36
    assert [row.envelope.aggregate_id for row in published] == [admin.id]
    assert stored.scalar_one() == 1


async def test_a_routes_reads_hold_no_lock_that_stalls_a_second_session_on_sqlite(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """A route's read session (customer caps: the users, then their names through another
    session) must not take SQLite's one write lock: that stalled the second session into
    "database is locked" (500) on the `make run` stack."""
    namespace = f"S{uuid.uuid4().hex[:8]}."
    app = _sqlite_app(nats_server, tmp_path, namespace)
    nc = await nats.connect(nats_server.url)
    try:
        await bus.ensure_stream(nc.jetstream(), "customer", namespace=namespace)
        async with app.router.lifespan_context(app):
            state = app.state.gateway
            # The session a route gets (`DbSession`), held open as a route holds it.
            reads = db_session(Request({"type": "http", "app": app}))
            held = await anext(reads)
            try:
                admin = (await held.scalars(select(User))).one()
                names = await asyncio.wait_for(
                    state.display_names.lookup(tenant_id=admin.tenant_id, user_ids={admin.id}), timeout=3
                )
                async with state.sessions() as writer, writer.begin():
                    await writer.execute(update(User).where(User.id == admin.id).values(display_name="管理员"))
            finally:
                await reads.aclose()
    finally:
        await nc.close()

    assert names == {admin.id: admin.display_name}


async def test_the_notifications_after_a_given_one_are_the_users_own_in_order_on_sqlite(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """What a reconnecting stream replays, on SQLite's stored times: ties on the creation time go
    by id, and another user's id names nothing to replay."""
    namespace = f"S{uuid.uuid4().hex[:8]}."
    app = _sqlite_app(nats_server, tmp_path, namespace)
    nc = await nats.connect(nats_server.url)
    try:
        await bus.ensure_stream(nc.jetstream(), "customer", namespace=namespace)
        async with app.router.lifespan_context(app):
            state = app.state.gateway
            now = dt.datetime.now(dt.UTC)
            async with state.sessions() as session, session.begin():
                admin = (await session.scalars(select(User))).one()
                written = [
                    *await notify_at(session, state, admin, now, "甲"),
                    *await notify_at(session, state, admin, now, "乙"),
                    *await notify_at(session, state, admin, now + dt.timedelta(seconds=1), "丙"),
                ]
                foreign = Notification(
                    **{c: getattr(written[0], c) for c in ("tenant_id", "kind", "params", "link_type", "link_id")},
                    id=str(uuid.uuid4()),
                    user_id=str(uuid.uuid4()),
                    event_id=str(uuid.uuid4()),
                    created_at=now,
                    read_at=None,
                    unread=True,
                )
                session.add(foreign)
            in_order = sorted(written[:2], key=lambda n: n.id) + written[2:]
            async with state.sessions() as session:

                async def after(notification_id: str, limit: int = 10) -> list[str]:
                    found = await service.notifications_after(
                        session,
                        tenant_id=admin.tenant_id,
                        user_id=admin.id,
                        notification_id=notification_id,
                        limit=limit,
                    )
                    return [n.id for n in found]

                after_first = await after(in_order[0].id)
                newest_one = await after(in_order[0].id, limit=1)
                after_foreign = await after(foreign.id)
                after_last = await after(in_order[-1].id)
    finally:
        await nc.close()

    assert after_first == [n.id for n in in_order[1:]]
    assert newest_one == [in_order[-1].id]
    assert after_foreign == [] and after_last == []


async def notify_at(session, state, admin: User, at: dt.datetime, name: str) -> list[Notification]:  # type: ignore[no-untyped-def]
    return await service.notify(
        session,
        feed=state.notification_feed,
        tenant_id=admin.tenant_id,
        user_ids=[admin.id],
        kind="follow_up_reminder",
        params={"customer": name, "due_date": "2026-12-02"},
        link_type="customer",
        link_id=str(uuid.uuid4()),
        event_id=str(uuid.uuid4()),
        now=at,
    )
