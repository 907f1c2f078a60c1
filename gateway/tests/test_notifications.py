"""The notification inbox: customer events become notifications for the right people, once;
a user sees only their own, in the list and on the stream (which replays what a reconnecting
client missed); group robots get them over HTTP with retries; and every user change leaves the
gateway as `user_changed`."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, get_args

import nats
import pytest
import pytest_asyncio
from fastapi import FastAPI
from google.protobuf.message import Message

from crm.customer.v1 import customer_pb2, events_pb2, ownership_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm.gateway.v1.events_pb2 import UserChanged
from crm_gateway.database import gateway_event_tables
from crm_gateway.notifications import router as notifications_router
from crm_gateway.notifications.texts import KINDS, NotificationKind, render
from crmkit.events import event_name_of, event_type_of, subject_for, timestamp_of
from crmkit.testing.events import outbox_rows

NOTIFICATIONS = "/api/v1/notifications"
CHANNELS = "/api/v1/notification-channels"


# --------------------------------------------------------------------------- helpers


async def tenant_of(stack, person) -> str:  # type: ignore[no-untyped-def]
    me = await stack.client.get("/api/v1/auth/me", headers=person.headers)
    return str(me.json()["tenant_id"])


async def publish_customer_event(  # type: ignore[no-untyped-def]
    stack, message: Message, *, tenant_id: str, event_id: str | None = None, actor_id: str = "system"
) -> str:
    """Put an event on the customer service's stream as its relay would (a fresh message id
    each time, so JetStream's own de-duplication does not hide a redelivery)."""
    envelope = Envelope(
        id=event_id or str(uuid.uuid4()),
        type=event_type_of(type(message)),
        tenant_id=tenant_id,
        org_unit_id="",
        aggregate_id=str(uuid.uuid4()),
        aggregate_version=1,
        occurred_at=timestamp_of(dt.datetime.now(dt.UTC)),
        actor_id=actor_id,
    )
    envelope.payload.Pack(message)
    nc = await nats.connect(stack.settings.nats_url)
    try:
        subject = subject_for("customer", event_name_of(type(message)), stack.settings.event_namespace)
        await nc.jetstream().publish(subject, envelope.SerializeToString(), headers={"Nats-Msg-Id": str(uuid.uuid4())})
    finally:
        await nc.close()
    return envelope.id


async def inbox(client, person, **params: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = await client.get(NOTIFICATIONS, params={"page_size": 100, **params}, headers=person.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def unread(client, person) -> int:  # type: ignore[no-untyped-def]
    response = await client.get(f"{NOTIFICATIONS}/unread-count", headers=person.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["unread"])


def reminder(customer_name: str, owner_id: str, due: str = "2026-12-02") -> events_pb2.FollowUpReminder:
    return events_pb2.FollowUpReminder(
        customer=customer_pb2.Customer(id=str(uuid.uuid4()), name=customer_name, owner_id=owner_id),
        owner_id=owner_id,
        due_date=due,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool(stack, org) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await stack.client.post(
        "/api/v1/pools",
        json={"name": "华东公海", "org_unit_id": org.sub1, "requires_approval": True},
        headers=org.admin.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_every_kind_has_chinese_and_english_texts_and_is_in_the_api() -> None:
    assert set(get_args(NotificationKind)) == set(KINDS)
    for kind in KINDS:
        assert render(kind, {}, "zh").title and render(kind, {}, "en").title.isascii()


# --------------------------------------------------------------------------- claims


async def test_a_submitted_claim_notifies_the_pools_supervisor_and_the_decision_the_claimant(  # type: ignore[no-untyped-def]
    client, org, api, pool
) -> None:
    customer = await api.create_customer(org.sales_a, name="无锡滨湖区实验小学食堂")
    await client.post(
        f"/api/v1/customers/{customer['id']}/release", json={"reason": "换人对接"}, headers=org.sales_a.headers
    )
    claim = await client.post(
        f"/api/v1/pools/{pool['id']}/claims",
        json={"customer_id": customer["id"], "reason": "客户来电询价"},
        headers=org.sales_b.headers,
    )
    assert claim.status_code == 201, claim.text

    async def about_claim(person) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
        return [n for n in await inbox(client, person) if n["link_id"] == claim.json()["id"]]

    waiting = await api.eventually(lambda: about_claim(org.supervisor))
    english = await client.get(NOTIFICATIONS, headers={**org.supervisor.headers, "Accept-Language": "en"})
    decided = await client.post(
        f"/api/v1/pool-claims/{claim.json()['id']}/decision",
        json={"approve": True, "comment": "同意"},
        headers=org.supervisor.headers,
    )
    approved = await api.eventually(lambda: about_claim(org.sales_b))

    assert decided.status_code == 200, decided.text
    assert [(n["kind"], n["link_type"], n["read"]) for n in waiting] == [("pool_claim_submitted", "claim", False)]
    assert waiting[0]["title"] == "公海领取申请待审批"
    assert "李四" in waiting[0]["body"] and "无锡滨湖区实验小学食堂" in waiting[0]["body"]
    assert english.json()["items"][0]["title"] == "A pool claim awaits your decision"
    assert [n["kind"] for n in approved] == ["pool_claim_approved"]
    # Nobody else above the pool is a supervisor; the claimant hears only of the decision.
    for bystander in (org.boss, org.admin, org.sales_a, org.service):
        assert await about_claim(bystander) == []


async def test_read_marks_one_and_read_all_the_rest_and_unread_come_first(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenant_of(stack, org.sales_c)
    for name in ("甲", "乙", "丙"):
        await publish_customer_event(stack, reminder(f"{name}酒店", org.sales_c.id), tenant_id=tenant)
    items = await api.eventually(lambda: inbox(client, org.sales_c), lambda found: len(found) == 3)
    newest, _, oldest = items

    one = await client.post(f"{NOTIFICATIONS}/{newest['id']}/read", headers=org.sales_c.headers)
    after_one = await inbox(client, org.sales_c)
    count_after_one = await unread(client, org.sales_c)
    paged = await client.get(NOTIFICATIONS, params={"page_size": 2}, headers=org.sales_c.headers)
    second_page = await client.get(
        NOTIFICATIONS,
        params={"page_size": 2, "page_token": paged.json()["next_page_token"]},
        headers=org.sales_c.headers,
    )
    everything = await client.post(f"{NOTIFICATIONS}/read-all", headers=org.sales_c.headers)

    assert [n["kind"] for n in items] == ["follow_up_reminder"] * 3
    assert oldest["body"].startswith("今天（2026-12-02）计划跟进客户「甲酒店」")
    assert one.status_code == 200 and one.json()["read"] is True and one.json()["read_at"]
    assert count_after_one == 2
    assert [n["id"] for n in after_one][-1] == newest["id"]  # the read one goes last
    assert [n["id"] for n in paged.json()["items"] + second_page.json()["items"]] == [n["id"] for n in after_one]
    assert second_page.json()["next_page_token"] is None
    assert everything.json() == {"marked": 2}
    assert await unread(client, org.sales_c) == 0


async def test_a_redelivered_event_notifies_nobody_twice(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenant_of(stack, org.sales_b)
    event_id = str(uuid.uuid4())
    message = reminder("重复投递大酒店", org.sales_b.id)
    await publish_customer_event(stack, message, tenant_id=tenant, event_id=event_id)
    await publish_customer_event(stack, message, tenant_id=tenant, event_id=event_id)
    # A later event is handled after both copies: once it shows, the duplicate has been seen.
    await publish_customer_event(stack, reminder("之后的客户", org.sales_b.id), tenant_id=tenant)
    await api.eventually(
        lambda: inbox(client, org.sales_b), lambda found: any("之后的客户" in n["body"] for n in found)
    )

    found = [n for n in await inbox(client, org.sales_b) if "重复投递大酒店" in n["body"]]

    assert len(found) == 1


async def test_another_users_notification_is_not_found(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenant_of(stack, org.finance)
    await publish_customer_event(stack, reminder("别人的客户", org.finance.id), tenant_id=tenant)
    theirs = (await api.eventually(lambda: inbox(client, org.finance)))[0]

    foreign = await client.post(f"{NOTIFICATIONS}/{theirs['id']}/read", headers=org.sales_a.headers)
    missing = await client.post(f"{NOTIFICATIONS}/{uuid.uuid4()}/read", headers=org.sales_a.headers)
    bad_token = await client.get(NOTIFICATIONS, params={"page_token": "nonsense"}, headers=org.sales_a.headers)

    api.problem(foreign, 404, code="not_found")
    api.problem(missing, 404, code="not_found")
    api.problem(bad_token, 400, field="page_token")
    assert (await inbox(client, org.finance))[0]["read"] is False


async def test_a_transfer_tells_each_receiver_their_count_and_the_actor_the_total(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenant_of(stack, org.admin)
    transfer_id = str(uuid.uuid4())
    await publish_customer_event(
        stack,
        events_pb2.TransferCompleted(
            transfer_id=transfer_id,
            from_owner_id=org.sales_c.id,
            reason="离职",
            shares=[
                events_pb2.TransferShare(owner_id=org.sales_a.id, customers=3),
                events_pb2.TransferShare(owner_id=org.sales_b.id, customers=2),
                events_pb2.TransferShare(owner_id=org.sales_a.id, customers=1),
            ],
            actor_id=org.supervisor.id,
        ),
        tenant_id=tenant,
    )

    async def about_transfer(person) -> list[str]:  # type: ignore[no-untyped-def]
        return [n["body"] for n in await inbox(client, person) if n["link_id"] == transfer_id]

    to_a = await api.eventually(lambda: about_transfer(org.sales_a))
    to_b = await api.eventually(lambda: about_transfer(org.sales_b))
    to_actor = await api.eventually(lambda: about_transfer(org.supervisor))

    assert to_a == ["4位客户已交接给你（来自王五）。"]
    assert to_b == ["2位客户已交接给你（来自王五）。"]
    assert to_actor == ["王五的6位客户已交接完成。"]


# --------------------------------------------------------------------------- single handovers


def owner_changed(
    customer_name: str, owner_id: str, previous_owner_id: str, kind: int, transfer_id: str = ""
) -> events_pb2.CustomerOwnerChanged:
    return events_pb2.CustomerOwnerChanged(
        customer=customer_pb2.Customer(id=str(uuid.uuid4()), name=customer_name, owner_id=owner_id),
        previous_owner_id=previous_owner_id,
        kind=kind,  # type: ignore[arg-type]
        reason="交接测试",
        transfer_id=transfer_id,
    )


async def test_a_single_handover_tells_the_new_owner_and_not_the_actor_or_the_old_owner(client, org, api) -> None:  # type: ignore[no-untyped-def]
    customer = await api.create_customer(org.sales_a, name="绍兴越城区单独交接食堂")

    moved = await client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"owner_id": org.sales_b.id, "reason": "张三休假"},
        headers=org.supervisor.headers,
    )

    async def about_customer(person) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
        return [n for n in await inbox(client, person) if n["link_id"] == customer["id"]]

    told = await api.eventually(lambda: about_customer(org.sales_b))
    english = await client.get(NOTIFICATIONS, headers={**org.sales_b.headers, "Accept-Language": "en"})

    assert moved.status_code == 200, moved.text
    assert [(n["kind"], n["link_type"], n["title"], n["body"]) for n in told] == [
        ("customer_handed_over", "customer", "客户交接", "李主管将客户「绍兴越城区单独交接食堂」交接给你。张三休假")
    ]
    shown = next(n for n in english.json()["items"] if n["id"] == told[0]["id"])
    assert shown["body"] == "李主管 handed 绍兴越城区单独交接食堂 over to you. 张三休假"
    assert await about_customer(org.supervisor) == []
    assert await about_customer(org.sales_a) == []


async def test_an_owner_change_is_told_once_and_only_for_a_handover_by_someone_else(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenant_of(stack, org.sales_b)
    kinds = ownership_pb2
    handover = owner_changed("重复投递的交接客户", org.sales_b.id, org.sales_a.id, kinds.OWNER_CHANGE_KIND_TRANSFERRED)
    event_id = str(uuid.uuid4())
    for _ in range(2):
        await publish_customer_event(stack, handover, tenant_id=tenant, event_id=event_id, actor_id=org.supervisor.id)
    quiet = {
        # One move of a bulk transfer: transfer_completed tells it.
        "批量交接中的客户": (kinds.OWNER_CHANGE_KIND_TRANSFERRED, str(uuid.uuid4()), org.supervisor.id),
        "批量按规则分配的客户": (kinds.OWNER_CHANGE_KIND_ASSIGNED_BY_RULE, str(uuid.uuid4()), org.supervisor.id),
        # The rep's own claim, and an approval (pool_claim_decided tells the claimant).
        "自己领取的客户": (kinds.OWNER_CHANGE_KIND_CLAIMED, "", org.sales_b.id),
        "审批通过的客户": (kinds.OWNER_CHANGE_KIND_APPROVED, "", org.supervisor.id),
        # The new owner made the change themselves.
        "自己接手的客户": (kinds.OWNER_CHANGE_KIND_TRANSFERRED, "", org.sales_b.id),
    }
    for name, (kind, transfer_id, actor) in quiet.items():
        message = owner_changed(name, org.sales_b.id, org.sales_a.id, kind, transfer_id)
        await publish_customer_event(stack, message, tenant_id=tenant, actor_id=actor)
    # A later event is handled after all of them: once it shows, they have been seen.
    await publish_customer_event(stack, reminder("交接之后的客户", org.sales_b.id), tenant_id=tenant)
    await api.eventually(
        lambda: inbox(client, org.sales_b), lambda found: any("交接之后的客户" in n["body"] for n in found)
    )

    handed = [n["body"] for n in await inbox(client, org.sales_b) if n["kind"] == "customer_handed_over"]
    told_actor = [n for n in await inbox(client, org.supervisor) if n["kind"] == "customer_handed_over"]

    assert [b for b in handed if "重复投递的交接客户" in b] == ["李主管将客户「重复投递的交接客户」交接给你。交接测试"]
    assert not [b for b in handed if any(name in b for name in quiet)]
    assert told_actor == []


# --------------------------------------------------------------------------- the stream


@dataclass
class Frame:
    event: str
    id: str | None
    data: str


@dataclass
class Stream:
    """What one open SSE connection has received so far."""

    status: int = 0
    frames: list[Frame] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def until(self, done: Callable[[list[Frame]], bool], within: float = 15) -> list[Frame]:
        async def wait() -> list[Frame]:
            while not done(self.frames):
                self.changed.clear()
                await self.changed.wait()
            return list(self.frames)

        return await asyncio.wait_for(wait(), timeout=within)

    def notifications(self) -> list[dict[str, Any]]:
        return [json.loads(f.data) for f in self.frames if f.event == "notification"]


def readied(frames: list[Frame]) -> bool:
    return any(f.event == "ready" for f in frames)


@contextlib.asynccontextmanager
async def open_stream(app: FastAPI, headers: dict[str, str], last_event_id: str | None = None) -> AsyncIterator[Stream]:
    """The caller's SSE stream, read in-process frame by frame (httpx's ASGI transport waits for a
    response to end, and this one does not); leaving the block disconnects as a browser would."""
    sent = {**headers, **({"Last-Event-ID": last_event_id} if last_event_id is not None else {})}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"{NOTIFICATIONS}/stream",
        "raw_path": f"{NOTIFICATIONS}/stream".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"gw"), *((k.lower().encode(), v.encode()) for k, v in sent.items())],
        "client": ("127.0.0.1", 50000),
        "server": ("gw", 80),
    }
    stream = Stream()
    gone = asyncio.Event()
    asked = False
    text = ""

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal text
        if message["type"] == "http.response.start":
            stream.status = message["status"]
        elif message["type"] == "http.response.body":
            text += message.get("body", b"").decode()
            *whole, text = text.replace("\r\n", "\n").split("\n\n")
            for block in whole:
                lines = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":"))
                if "data" in lines:
                    stream.frames.append(Frame(lines.get("event", "message"), lines.get("id"), lines["data"]))
        stream.changed.set()

    serving = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
    try:
        yield stream
    finally:
        gone.set()
        await asyncio.wait_for(serving, timeout=10)


@dataclass(frozen=True)
class Rep:
    id: str
    headers: dict[str, str]


async def hired_rep(api, org) -> Rep:  # type: ignore[no-untyped-def]
    """A rep of their own, whose inbox no other test writes to."""
    username = f"stream.rep.{uuid.uuid4().hex[:6]}"
    user = await api.hire(org.admin.headers, username, "sales")
    return Rep(str(user["id"]), await api.login(username, api.user_password))


def customer_in(notification: dict[str, Any]) -> str:
    return str(notification["body"]).split("「")[1].split("」")[0]


async def test_a_reconnect_with_last_event_id_replays_the_callers_later_notifications_then_goes_on_live(  # type: ignore[no-untyped-def]
    client, stack, org, api
) -> None:
    rep, other = await hired_rep(api, org), await hired_rep(api, org)
    tenant = await tenant_of(stack, org.admin)
    for name in ("一号", "二号", "三号"):
        await publish_customer_event(stack, reminder(f"{name}回放客户", rep.id), tenant_id=tenant)
        await publish_customer_event(stack, reminder(f"{name}别人的客户", other.id), tenant_id=tenant)
    listed = await api.eventually(lambda: inbox(client, rep), lambda found: len(found) == 3)
    await api.eventually(lambda: inbox(client, other), lambda found: len(found) == 3)
    first, second, third = reversed(listed)

    async with open_stream(stack.app, rep.headers, last_event_id=first["id"]) as stream:
        replayed = await stream.until(readied)
        await publish_customer_event(stack, reminder("四号回放客户", rep.id), tenant_id=tenant)
        await stream.until(lambda frames: any("四号回放客户" in f.data for f in frames))

    assert stream.status == 200
    assert [(f.event, f.id) for f in replayed] == [
        ("notification", second["id"]),
        ("notification", third["id"]),
        ("ready", None),
    ]
    pushed = stream.notifications()
    assert [customer_in(n) for n in pushed] == ["二号回放客户", "三号回放客户", "四号回放客户"]
    live = stream.frames[-1]
    assert (live.event, live.id) == ("notification", pushed[-1]["id"])
    assert live.id in {n["id"] for n in await inbox(client, rep)}


async def test_a_reconnect_that_missed_more_than_the_limit_replays_the_newest(  # type: ignore[no-untyped-def]
    client, stack, org, api, monkeypatch
) -> None:
    monkeypatch.setattr(notifications_router, "REPLAY_LIMIT", 2)
    rep = await hired_rep(api, org)
    tenant = await tenant_of(stack, org.admin)
    for name in ("甲", "乙", "丙", "丁"):
        await publish_customer_event(stack, reminder(f"{name}限量客户", rep.id), tenant_id=tenant)
    listed = await api.eventually(lambda: inbox(client, rep), lambda found: len(found) == 4)

    async with open_stream(stack.app, rep.headers, last_event_id=listed[-1]["id"]) as stream:
        await stream.until(readied)

    assert [customer_in(n) for n in stream.notifications()] == ["丙限量客户", "丁限量客户"]


async def test_a_garbage_or_foreign_last_event_id_replays_nothing_and_the_stream_goes_on_live(  # type: ignore[no-untyped-def]
    client, stack, org, api
) -> None:
    rep, other = await hired_rep(api, org), await hired_rep(api, org)
    tenant = await tenant_of(stack, org.admin)
    await publish_customer_event(stack, reminder("旧的提醒", rep.id), tenant_id=tenant)
    await publish_customer_event(stack, reminder("别人的提醒", other.id), tenant_id=tenant)
    await api.eventually(lambda: inbox(client, rep))
    (theirs,) = await api.eventually(lambda: inbox(client, other))
    refused = {
        "another user's notification": theirs["id"],
        "an unknown id": str(uuid.uuid4()),
        "not an id": "' OR 1=1; DROP TABLE notifications; --",
        "far too long": "9" * 5000,
        "empty": "",
    }

    opened = {}
    for why, value in refused.items():
        async with open_stream(stack.app, rep.headers, last_event_id=value) as stream:
            frames = await stream.until(readied)
            opened[why] = (stream.status, [f.event for f in frames])
    async with open_stream(stack.app, rep.headers, last_event_id="garbage") as stream:
        await stream.until(readied)
        await publish_customer_event(stack, reminder("新的提醒", rep.id), tenant_id=tenant)
        await stream.until(lambda frames: any("新的提醒" in f.data for f in frames))

    assert opened == {why: (200, ["ready"]) for why in refused}
    assert [customer_in(n) for n in stream.notifications()] == ["新的提醒"]


# --------------------------------------------------------------------------- group robots


class Robot:
    """A group robot on 127.0.0.1: answers 500 to the first `failures` posts, then errcode 0."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robot.received.append(body)
                failing = len(robot.received) <= robot.failures
                answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"


@pytest.fixture
def robot() -> Iterator[Robot]:
    made = Robot(failures=1)
    thread = threading.Thread(target=made.server.serve_forever, daemon=True)
    thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()


async def test_a_robot_that_fails_once_gets_the_notice_on_the_retry(client, stack, org, api, robot) -> None:  # type: ignore[no-untyped-def]
    tenant = await tenant_of(stack, org.admin)
    saved = await client.put(
        CHANNELS,
        json={"channels": [{"kind": "wecom", "url": robot.url, "notification_kinds": ["follow_up_reminder"]}]},
        headers=org.admin.headers,
    )
    assert saved.status_code == 200, saved.text

    async def deliveries() -> list[dict[str, Any]]:
        response = await client.get(f"{CHANNELS}/deliveries", headers=org.admin.headers)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    with stack.clock.frozen():
        await publish_customer_event(stack, reminder("机器人大酒店", org.boss.id), tenant_id=tenant)
        await api.eventually(lambda: inbox(client, org.boss))
        stack.clock.advance(dt.timedelta(seconds=11))
        first = await api.eventually(deliveries, lambda found: bool(found) and found[0]["attempts"] == 1)
        stack.clock.advance(dt.timedelta(seconds=31))
        second = await api.eventually(deliveries, lambda found: found[0]["status"] == "delivered")
    listed = await client.get(CHANNELS, headers=org.admin.headers)
    await client.put(CHANNELS, json={"channels": []}, headers=org.admin.headers)

    assert (first[0]["status"], first[0]["last_error"]) == ("pending", "HTTP 500")
    assert (second[0]["attempts"], second[0]["last_error"], second[0]["channel_kind"]) == (2, "", "wecom")
    assert len(robot.received) == 2
    assert robot.received[1]["msgtype"] == "text"
    assert "机器人大酒店" in robot.received[1]["text"]["content"] and "王总" in robot.received[1]["text"]["content"]
    assert [c["kind"] for c in listed.json()["items"]] == ["wecom"]


@pytest.mark.parametrize(
    ("channel", "status", "field"),
    [
        ({"kind": "slack", "url": "https://example.com/hook"}, 422, None),
        ({"kind": "dingtalk", "url": "http://oapi.dingtalk.com/robot/send?access_token=x"}, 400, "channels[0].url"),
        ({"kind": "wecom", "url": "ftp://127.0.0.1/hook"}, 400, "channels[0].url"),
        ({"kind": "wecom", "url": "https://example.com/hook", "notification_kinds": ["gossip"]}, 422, None),
    ],
    ids=["unknown-channel-kind", "plain-http", "not-a-web-address", "unknown-notification-kind"],
)
async def test_bad_channel_settings_are_refused(client, org, api, channel, status, field) -> None:  # type: ignore[no-untyped-def]
    response = await client.put(CHANNELS, json={"channels": [channel]}, headers=org.admin.headers)

    api.problem(response, status, field=field)


async def test_only_admins_see_and_set_channels(client, org, api) -> None:  # type: ignore[no-untyped-def]
    listed = await client.get(CHANNELS, headers=org.boss.headers)
    changed = await client.put(CHANNELS, json={"channels": []}, headers=org.supervisor.headers)

    api.problem(listed, 403)
    api.problem(changed, 403)


# --------------------------------------------------------------------------- user_changed


async def test_every_user_change_goes_out_as_user_changed_with_a_growing_version(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    created = await client.post(
        "/api/v1/users",
        json={
            "username": "events.rep",
            "display_name": "陈六",
            "password": "user-Passw0rd-2026",
            "role": "sales",
            "org_unit_id": org.shop1,
        },
        headers=org.admin.headers,
    )
    user_id = created.json()["id"]
    await client.patch(f"/api/v1/users/{user_id}", json={"role": "supervisor"}, headers=org.admin.headers)
    await client.patch(f"/api/v1/users/{user_id}", json={"display_name": "陈六"}, headers=org.admin.headers)
    await client.patch(f"/api/v1/users/{user_id}", json={"display_name": "陈小六"}, headers=org.admin.headers)
    runtime = stack.app.state.gateway.runtime

    async def published() -> list[Any]:
        rows = await outbox_rows(runtime.sessions, gateway_event_tables())
        return rows if all(r.published_at is not None for r in rows) else []

    rows = await api.eventually(published)
    mine = [r for r in rows if r.envelope.aggregate_id == user_id]
    admin = [r for r in rows if r.envelope.aggregate_id == org.admin.id]
    changes = []
    for row in mine:
        change = UserChanged()
        assert row.envelope.payload.Unpack(change)
        changes.append((row.envelope.aggregate_version, change.role, change.display_name, change.org_path))

    assert {r.subject for r in rows} == {f"{stack.settings.event_namespace}crm.gateway.v1.user_changed"}
    # Renaming to the same name changes nothing and says nothing.
    assert [c[:3] for c in changes] == [(1, "sales", "陈六"), (2, "supervisor", "陈六"), (3, "supervisor", "陈小六")]
    assert changes[0][3].endswith(f"/{org.shop1}/")
    assert [r.envelope.aggregate_version for r in admin] == [1]
    assert mine[0].envelope.actor_id == org.admin.id
