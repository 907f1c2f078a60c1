"""Group robots (企业微信 and 钉钉 群机器人): a tenant's channel settings and the delivery of
notifications to them, off the request path, by the `webhook-deliveries` periodic job.

Each delivery is tried at once, then again after 30 s, 1, 2, 4 … minutes (at most an hour
apart) until it succeeds or has had MAX_ATTEMPTS; the robot's answer decides (HTTP 200 and, as both
robots report errors in the body, `errcode` 0)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.notifications.models import NotificationChannel, WebhookDelivery
from crmkit.errors import InvalidArgument
from crmkit.identity import Identity, Role
from crmkit.jobs import JobContext, PeriodicJob

CHANNEL_KINDS = ("wecom", "dingtalk")
MAX_ATTEMPTS = 6
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_WAIT = dt.timedelta(hours=1)
BATCH = 50
SEND_TIMEOUT = 5.0
DELIVERY_INTERVAL = dt.timedelta(seconds=10)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

WEBHOOK_DELIVERIES = Counter(
    "crm_notification_webhook_deliveries_total",
    "Attempts to send a notification to a group robot, by channel and outcome",
    ["channel", "outcome"],
)


@dataclass(frozen=True)
class ChannelSetting:
    kind: str
    url: str
    notification_kinds: list[str]
    enabled: bool


def check_url(url: str, *, allow_loopback_http: bool, field: str) -> None:
    """HTTPS only; plain http just to this machine, and only where a dev or test setting allows it."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and allow_loopback_http and parts.hostname in LOOPBACK_HOSTS:
        return
    raise InvalidArgument(field, "must be an https:// address / 必须是 https:// 地址")


async def list_channels(session: AsyncSession, *, identity: Identity) -> list[NotificationChannel]:
    identity.require_role(Role.ADMIN)
    return list(
        (
            await session.scalars(
                select(NotificationChannel)
                .where(NotificationChannel.tenant_id == identity.tenant_id)
                .order_by(NotificationChannel.kind)
            )
        ).all()
    )


async def replace_channels(
    session: AsyncSession,
    *,
    identity: Identity,
    channels: Sequence[ChannelSetting],
    allow_loopback_http: bool,
    now: dt.datetime,
) -> list[NotificationChannel]:
    """The tenant's channels become exactly `channels` (one per kind at most)."""
    identity.require_role(Role.ADMIN)
    seen: set[str] = set()
    for index, channel in enumerate(channels):
        if channel.kind in seen:
            raise InvalidArgument(f"channels[{index}].kind", "appears twice / 重复的渠道")
        seen.add(channel.kind)
        check_url(channel.url, allow_loopback_http=allow_loopback_http, field=f"channels[{index}].url")
    existing = {c.kind: c for c in await list_channels(session, identity=identity)}
    for kind, stale in existing.items():
        if kind not in seen:
            await session.delete(stale)
    for setting in channels:
        row: NotificationChannel | None = existing.get(setting.kind)
        if row is None:
            row = NotificationChannel(tenant_id=identity.tenant_id, kind=setting.kind)
            session.add(row)
        row.url = setting.url
        row.notification_kinds = list(dict.fromkeys(setting.notification_kinds))
        row.enabled = setting.enabled
        row.updated_by = identity.principal_id
        row.updated_at = now
    await session.flush()
    return await list_channels(session, identity=identity)


async def list_deliveries(session: AsyncSession, *, identity: Identity, limit: int) -> list[WebhookDelivery]:
    identity.require_role(Role.ADMIN)
    return list(
        (
            await session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.tenant_id == identity.tenant_id)
                .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                .limit(limit)
            )
        ).all()
    )


def robot_message(content: str) -> dict[str, object]:
    """Both robots take the same text message."""
    return {"msgtype": "text", "text": {"content": content}}


def retry_wait(attempts: int) -> dt.timedelta:
    wait: dt.timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(LONGEST_WAIT, wait)


async def _send(client: httpx.AsyncClient, url: str, content: str) -> str:
    """ "" when the robot took it, else why not."""
    try:
        response = await client.post(url, json=robot_message(content))
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    try:
        answer = response.json()
    except ValueError:
        return "answer is not JSON"
    code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    return "" if code == 0 else f"errcode {code}: {answer.get('errmsg', '')}"[:500]


class WebhookSender:
    """The run of the `webhook-deliveries` job: due deliveries are read in one transaction,
    sent with no transaction open, and their outcomes written under the job's lease."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport

    async def __call__(self, context: JobContext) -> None:
        # The job runs every few seconds and mostly finds nothing due: the client (and its TLS
        # context, costly to build) is made only for a run that has something to send.
        client: httpx.AsyncClient | None = None
        try:
            while True:
                async with context.transaction() as session:
                    due = list(
                        (
                            await session.scalars(
                                select(WebhookDelivery)
                                .where(
                                    WebhookDelivery.status == "pending",
                                    WebhookDelivery.next_attempt_at <= context.now,
                                )
                                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                                .limit(BATCH)
                            )
                        ).all()
                    )
                    work = [(d.id, d.channel_kind, d.url, d.content) for d in due]
                if not work:
                    return
                if client is None:
                    client = httpx.AsyncClient(timeout=SEND_TIMEOUT, transport=self._transport)
                outcomes = [
                    (delivery_id, kind, await _send(client, url, content)) for delivery_id, kind, url, content in work
                ]
                async with context.transaction() as session:
                    for delivery_id, kind, error in outcomes:
                        delivery = await session.get(WebhookDelivery, delivery_id)
                        if delivery is None:
                            continue
                        _record(delivery, kind, error, context.clock())
                if len(work) < BATCH:
                    return
        finally:
            if client is not None:
                await client.aclose()


def _record(delivery: WebhookDelivery, channel: str, error: str, now: dt.datetime) -> None:
    delivery.attempts += 1
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at, delivery.last_error = (
            "delivered",
            now,
            None,
            "",
        )
        WEBHOOK_DELIVERIES.labels(channel, "delivered").inc()
        return
    delivery.last_error = error
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = "failed", None
        WEBHOOK_DELIVERIES.labels(channel, "failed").inc()
    else:
        delivery.next_attempt_at = now + retry_wait(delivery.attempts)
        WEBHOOK_DELIVERIES.labels(channel, "retried").inc()


def webhook_delivery_job(transport: httpx.AsyncBaseTransport | None = None) -> PeriodicJob:
    return PeriodicJob(name="webhook-deliveries", interval=DELIVERY_INTERVAL, run=WebhookSender(transport))
