"""Notifications: who receives them (from the gateway's users and org tree), writing them with
their webhook deliveries, and a user's inbox. Functions take the session and never commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from prometheus_client import Counter
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.directory.models import OrgUnit, User
from crm_gateway.notifications.feed import NotificationFeed
from crm_gateway.notifications.models import Notification, NotificationChannel, WebhookDelivery
from crm_gateway.notifications.texts import render
from crmkit.errors import InvalidArgument, NotFound
from crmkit.identity import Role
from crmkit.jobs import JobContext, PeriodicJob
from crmkit.paging import decode_token, encode_token

NOTIFICATIONS_CREATED = Counter("crm_notifications_created_total", "Notifications written to users' inboxes", ["kind"])
KEPT_FOR = dt.timedelta(days=90)


# --------------------------------------------------------------------------- recipients


async def supervisors_above(session: AsyncSession, *, tenant_id: str, org_unit_id: str) -> list[str]:
    """Active supervisors whose unit is the given one or above it: those who may decide a claim
    on its pool (the customer service's `may_decide`: the pool's path starts with theirs)."""
    path = await session.scalar(select(OrgUnit.path).where(OrgUnit.id == org_unit_id, OrgUnit.tenant_id == tenant_id))
    if path is None:
        return []
    rows = await session.execute(
        select(User.id, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.tenant_id == tenant_id, User.role == Role.SUPERVISOR.value, User.active.is_(True))
    )
    return sorted(user_id for user_id, unit_path in rows if path.startswith(unit_path))


async def active_users(session: AsyncSession, *, tenant_id: str, user_ids: Iterable[str]) -> list[str]:
    """The given users that exist in the tenant and are active, each once, in order."""
    wanted = [u for u in dict.fromkeys(user_ids) if u]
    if not wanted:
        return []
    found = set(
        await session.scalars(
            select(User.id).where(User.id.in_(wanted), User.tenant_id == tenant_id, User.active.is_(True))
        )
    )
    return [u for u in wanted if u in found]


async def display_name(session: AsyncSession, *, tenant_id: str, user_id: str) -> str:
    name = await session.scalar(select(User.display_name).where(User.id == user_id, User.tenant_id == tenant_id))
    return name or ""


# --------------------------------------------------------------------------- writing


async def notify(
    session: AsyncSession,
    *,
    feed: NotificationFeed,
    tenant_id: str,
    user_ids: Collection[str],
    kind: str,
    params: Mapping[str, Any],
    link_type: str,
    link_id: str,
    event_id: str,
    now: dt.datetime,
) -> list[Notification]:
    """One notification per recipient, each queued for the tenant's group robots that take its
    kind, and announced to the recipient's open streams once the transaction commits."""
    recipients = await active_users(session, tenant_id=tenant_id, user_ids=user_ids)
    if not recipients:
        return []
    channels = (
        await session.scalars(
            select(NotificationChannel).where(
                NotificationChannel.tenant_id == tenant_id, NotificationChannel.enabled.is_(True)
            )
        )
    ).all()
    names = dict((await session.execute(select(User.id, User.display_name).where(User.id.in_(recipients)))).all())
    made = []
    for user_id in recipients:
        notification = Notification(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            user_id=user_id,
            kind=kind,
            params=dict(params),
            link_type=link_type,
            link_id=link_id,
            event_id=event_id,
            created_at=now,
            read_at=None,
            unread=True,
        )
        session.add(notification)
        made.append(notification)
        text = render(kind, params, "zh")
        for channel in channels:
            if kind in channel.notification_kinds:
                session.add(
                    WebhookDelivery(
                        id=str(uuid.uuid4()),
                        tenant_id=tenant_id,
                        notification_id=notification.id,
                        channel_kind=channel.kind,
                        url=channel.url,
                        content=f"【客源】{names.get(user_id, '')}：{text.title}\n{text.body}",
                        status="pending",
                        attempts=0,
                        last_error="",
                        next_attempt_at=now,
                        created_at=now,
                        delivered_at=None,
                    )
                )
    await session.flush()
    for notification in made:
        NOTIFICATIONS_CREATED.labels(kind).inc()
        await feed.announce(session, user_id=notification.user_id, notification_id=notification.id)
    return made


async def delete_expired(session: AsyncSession, *, now: dt.datetime) -> int:
    """Notifications are kept 90 days; their delivery log goes with them."""
    cutoff = now - KEPT_FOR
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.created_at < cutoff))
    deleted = await session.execute(delete(Notification).where(Notification.created_at < cutoff))
    return int(getattr(deleted, "rowcount", 0) or 0)


# --------------------------------------------------------------------------- the inbox


async def list_inbox(
    session: AsyncSession, *, user_id: str, page_size: int, page_token: str
) -> tuple[list[Notification], str]:
    """Unread first, then newest, keyset-paged on (unread, created_at, id) descending."""
    query = select(Notification).where(Notification.user_id == user_id)
    if page_token:
        unread, created_at, last_id = decode_token(page_token, length=3)
        try:
            after = dt.datetime.fromisoformat(str(created_at))
        except ValueError as exc:
            raise InvalidArgument("page_token", "malformed page token / 分页标记无效") from exc
        older = or_(
            Notification.created_at < after,
            and_(Notification.created_at == after, Notification.id < str(last_id)),
        )
        # Unread (true) sort before read: after an unread row come older unread ones, then all read.
        if unread:
            query = query.where(or_(and_(Notification.unread.is_(True), older), Notification.unread.is_(False)))
        else:
            query = query.where(Notification.unread.is_(False), older)
    rows = list(
        (
            await session.scalars(
                query.order_by(
                    Notification.unread.desc(), Notification.created_at.desc(), Notification.id.desc()
                ).limit(page_size + 1)
            )
        ).all()
    )
    if len(rows) <= page_size:
        return rows, ""
    last = rows[page_size - 1]
    return rows[:page_size], encode_token([last.unread, last.created_at.isoformat(), last.id])


async def unread_count(session: AsyncSession, *, user_id: str) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Notification).where(Notification.user_id == user_id, Notification.unread)
    )
    return int(count or 0)


async def own_notification(session: AsyncSession, *, user_id: str, notification_id: str) -> Notification:
    """The user's own notification; anyone else's is missing (the same 404)."""
    found = await session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
    )
    if found is None:
        raise NotFound("notification", notification_id)
    return found


async def notifications_after(
    session: AsyncSession, *, tenant_id: str, user_id: str, notification_id: str, limit: int
) -> list[Notification]:
    """The user's notifications written after their `notification_id` (by creation time, then
    id), oldest first: the newest `limit` of them when there are more. None when that id is not
    one of the user's own (another's, a deleted one, or none at all)."""
    last = await session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id, Notification.tenant_id == tenant_id
        )
    )
    if last is None:
        return []
    newer = or_(
        Notification.created_at > last.created_at,
        and_(Notification.created_at == last.created_at, Notification.id > last.id),
    )
    newest_first = await session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.tenant_id == tenant_id, newer)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(reversed(newest_first.all()))


async def mark_read(session: AsyncSession, *, user_id: str, notification_id: str, now: dt.datetime) -> Notification:
    notification = await own_notification(session, user_id=user_id, notification_id=notification_id)
    if notification.unread:
        notification.unread = False
        notification.read_at = now
    return notification


async def mark_all_read(session: AsyncSession, *, user_id: str, now: dt.datetime) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.unread)
        .values(unread=False, read_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


RETENTION_INTERVAL = dt.timedelta(hours=6)


async def _delete_expired_run(context: JobContext) -> None:
    async with context.transaction() as session:
        await delete_expired(session, now=context.now)


def retention_job() -> PeriodicJob:
    """`notification-retention`: deletes what is past its 90 days, a few times a day."""
    return PeriodicJob(name="notification-retention", interval=RETENTION_INTERVAL, run=_delete_expired_run)
