"""/api/v1/notifications (the user's inbox and its SSE stream) and /api/v1/notification-channels
(the tenant's group robots, admins only)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.notifications import service, webhooks
from crm_gateway.notifications.models import Notification, NotificationChannel, WebhookDelivery
from crm_gateway.notifications.texts import NotificationKind, render
from crm_gateway.problems import wants_english
from crm_gateway.web import Caller, DbSession, GatewayState, State
from crmkit.clock import SHANGHAI, as_utc
from crmkit.errors import NotFound
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["notifications"])

ChannelKind = Literal["wecom", "dingtalk"]
# Comments on the stream this often keep proxies from closing an idle connection.
STREAM_PING_SECONDS = 15
# A reconnecting stream sends at most this many of the notifications it missed (the newest).
REPLAY_LIMIT = 100


class NotificationOut(BaseModel):
    id: str
    kind: NotificationKind
    title: str = Field(description="In the request's Accept-Language (zh-CN unless en)")
    body: str
    link_type: Literal["customer", "claim", "transfer", "customer_import", "quote", "recall", "after_sale", "order"] = (
        Field(description="What it is about")
    )
    link_id: str
    read: bool
    read_at: dt.datetime | None = Field(description="Asia/Shanghai")
    created_at: dt.datetime = Field(description="Asia/Shanghai")


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_page_token: str | None


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int


class ChannelIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: ChannelKind = Field(description="企业微信 wecom or 钉钉 dingtalk group robot")
    url: str = Field(min_length=8, max_length=500, description="The robot's webhook address, https://")
    notification_kinds: list[NotificationKind] = Field(
        default_factory=list, max_length=20, description="The kinds it receives"
    )
    enabled: bool = True


class ChannelsIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    channels: list[ChannelIn] = Field(max_length=len(webhooks.CHANNEL_KINDS))


class ChannelOut(BaseModel):
    kind: ChannelKind
    url: str
    notification_kinds: list[NotificationKind]
    enabled: bool
    updated_at: dt.datetime = Field(description="Asia/Shanghai")


class ChannelList(BaseModel):
    items: list[ChannelOut]


class DeliveryOut(BaseModel):
    id: str
    notification_id: str
    channel_kind: ChannelKind
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_error: str
    next_attempt_at: dt.datetime | None = Field(description="Asia/Shanghai")
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    delivered_at: dt.datetime | None = Field(description="Asia/Shanghai")


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


def _shown(moment: dt.datetime) -> dt.datetime:
    """As the API shows times: Asia/Shanghai (SQLite gives back naive UTC)."""
    return as_utc(moment).astimezone(SHANGHAI)


def _shown_if(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else _shown(moment)


def notification_out(notification: Notification, english: bool) -> NotificationOut:
    text = render(notification.kind, notification.params, "en" if english else "zh")
    return NotificationOut(
        id=notification.id,
        kind=notification.kind,
        title=text.title,
        body=text.body,
        link_type=notification.link_type,
        link_id=notification.link_id,
        read=not notification.unread,
        read_at=_shown_if(notification.read_at),
        created_at=_shown(notification.created_at),
    )


def channel_out(channel: NotificationChannel) -> ChannelOut:
    return ChannelOut(
        kind=channel.kind,
        url=channel.url,
        notification_kinds=channel.notification_kinds,
        enabled=channel.enabled,
        updated_at=_shown(channel.updated_at),
    )


def delivery_out(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        notification_id=delivery.notification_id,
        channel_kind=delivery.channel_kind,
        status=delivery.status,
        attempts=delivery.attempts,
        last_error=delivery.last_error,
        next_attempt_at=_shown_if(delivery.next_attempt_at),
        created_at=_shown(delivery.created_at),
        delivered_at=_shown_if(delivery.delivered_at),
    )


@router.get("/notifications", summary="Your notifications, unread first, then newest 我的通知")
async def list_notifications(
    request: Request,
    identity: Caller,
    session: DbSession,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> NotificationPage:
    rows, token = await service.list_inbox(
        session, user_id=identity.principal_id, page_size=page_size, page_token=page_token
    )
    english = wants_english(request)
    return NotificationPage(items=[notification_out(n, english) for n in rows], next_page_token=token or None)


@router.get("/notifications/unread-count", summary="How many are unread 未读数")
async def unread_count(identity: Caller, session: DbSession) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, user_id=identity.principal_id))


@router.post("/notifications/read-all", summary="Mark all read 全部已读")
async def mark_all_read(identity: Caller, state: State) -> MarkedRead:
    async with state.sessions() as session, session.begin():
        marked = await service.mark_all_read(session, user_id=identity.principal_id, now=state.now())
    return MarkedRead(marked=marked)


@router.post("/notifications/{notification_id}/read", summary="Mark one read 标为已读")
async def mark_read(notification_id: str, request: Request, identity: Caller, state: State) -> NotificationOut:
    async with state.sessions() as session, session.begin():
        notification = await service.mark_read(
            session,
            user_id=identity.principal_id,
            notification_id=path_id(notification_id, "notification_id"),
            now=state.now(),
        )
        return notification_out(notification, wants_english(request))


def replay_from(last_event_id: str | None) -> str:
    """The notification id a reconnecting client names in `Last-Event-ID`, or "" when the header
    is missing or is no id the stream could have sent (then there is simply nothing to replay)."""
    if not last_event_id:
        return ""
    try:
        return str(uuid.UUID(last_event_id.strip()))
    except ValueError:
        return ""


def _event(shown: NotificationOut) -> ServerSentEvent:
    # The id lets a client name the last one it saw when it reconnects (Last-Event-ID).
    return ServerSentEvent(event="notification", id=shown.id, data=shown.model_dump_json())


async def _stream(
    request: Request, state: GatewayState, identity: Identity, english: bool, last_seen: str
) -> AsyncIterator[ServerSentEvent]:
    user_id = identity.principal_id
    # Subscribed before the missed ones are read, so nothing written meanwhile falls between the
    # two; what both bring is sent once.
    async with state.notification_feed.subscribe(user_id) as arrivals:
        replayed: set[str] = set()
        if last_seen:
            async with state.sessions() as session:
                missed = await service.notifications_after(
                    session,
                    tenant_id=identity.tenant_id,
                    user_id=user_id,
                    notification_id=last_seen,
                    limit=REPLAY_LIMIT,
                )
                shown_missed = [notification_out(n, english) for n in missed]
            for shown in shown_missed:
                replayed.add(shown.id)
                yield _event(shown)
        # After the replay: a client that reloads its count on `ready` then counts the replayed too.
        yield ServerSentEvent(event="ready", data="{}")
        while True:
            notification_id = await arrivals.get()
            if notification_id in replayed:
                continue
            async with state.sessions() as session:
                try:
                    notification = await service.own_notification(
                        session, user_id=user_id, notification_id=notification_id
                    )
                except NotFound:
                    continue
                shown = notification_out(notification, english)
            yield _event(shown)
            if await request.is_disconnected():
                return


@router.get(
    "/notifications/stream",
    summary="New notifications as they arrive (Server-Sent Events) 通知推送",
    response_class=EventSourceResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "The missed ones (with Last-Event-ID), `ready`, then one `notification` event each",
        }
    },
)
async def stream_notifications(
    request: Request,
    identity: Caller,
    state: State,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="On reconnect, the id of the last `notification` event received: your notifications "
            f"written after it (at most the newest {REPLAY_LIMIT}) come first. Any other value is ignored.",
        ),
    ] = None,
) -> EventSourceResponse:
    """Authenticated like every route (`Authorization: Bearer`): read it with fetch and a
    stream reader rather than EventSource, which cannot send the header. Each `notification`
    event's id is the notification's and its data a NotificationOut. A client that reconnects
    sends the last id it saw as `Last-Event-ID` and receives what it missed before `ready`
    (the newest of them, as many as the header's description says); the list stays the record
    beyond that."""
    return EventSourceResponse(
        _stream(request, state, identity, wants_english(request), replay_from(last_event_id)),
        ping=STREAM_PING_SECONDS,
    )


@router.get("/notification-channels", summary="Group-robot channels (admin) 通知渠道")
async def list_channels(identity: Caller, session: DbSession) -> ChannelList:
    return ChannelList(items=[channel_out(c) for c in await webhooks.list_channels(session, identity=identity)])


@router.put("/notification-channels", summary="Set the group-robot channels (admin) 设置通知渠道")
async def replace_channels(body: ChannelsIn, identity: Caller, state: State) -> ChannelList:
    async with state.sessions() as session, session.begin():
        channels = await webhooks.replace_channels(
            session,
            identity=identity,
            channels=[
                webhooks.ChannelSetting(
                    kind=c.kind, url=c.url, notification_kinds=list(c.notification_kinds), enabled=c.enabled
                )
                for c in body.channels
            ],
            allow_loopback_http=state.settings.webhook_allow_loopback_http,
            now=state.now(),
        )
        return ChannelList(items=[channel_out(c) for c in channels])


@router.get("/notification-channels/deliveries", summary="Delivery log, newest first (admin) 推送记录")
async def list_deliveries(
    identity: Caller, session: DbSession, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> DeliveryList:
    rows = await webhooks.list_deliveries(session, identity=identity, limit=limit)
    return DeliveryList(items=[delivery_out(d) for d in rows])
