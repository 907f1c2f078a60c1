"""Customer profile through the whole stack as processes (issue 12): a halal customer's events
carry its requirements to every consumer (read from the broker, where the order service will
read them), and a group's parent rolls up its branches as each caller may see them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import nats
import pytest

from crm.customer.v1 import events_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_devstack.stack import Stack
from crmkit.events import event_type_of, stream_name
from crmkit.testing.events import eventually_sync

from .conftest import ADMIN_PASSWORD, branch_with_people, login, ok

pytestmark = pytest.mark.e2e
PASSWORD = "profile-密码-2026"
CARRYING = (events_pb2.CustomerCreated, events_pb2.CustomerUpdated, events_pb2.CustomerStageChanged)


@pytest.fixture(scope="module")
def client(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.gateway_url, timeout=15.0)


@pytest.fixture(scope="module")
def people(client: httpx.Client) -> dict[str, dict[str, str]]:
    admin = login(client, "admin", ADMIN_PASSWORD)
    _, _, headers = branch_with_people(
        client,
        admin,
        branch="杭州分公司",
        shop="西湖营业部",
        people={
            "wang.lei": ("supervisor", "branch"),
            "sun.li": ("service", "branch"),
            "zhang.wei": ("sales", "shop"),
            "li.na": ("sales", "shop"),
        },
        password=PASSWORD,
    )
    return headers


def customer_events(stack: Stack, customer_id: str) -> list[tuple[str, Any]]:
    """The customer's events as the broker holds them: (type, the customer each one carries)."""

    async def read() -> list[tuple[str, Any]]:
        connection = await nats.connect(stack.config.nats_url)
        try:
            stream = stream_name("customer", stack.config.event_namespace)
            jetstream = connection.jetstream()
            info = await jetstream.stream_info(stream)
            found = []
            for sequence in range(info.state.first_seq, info.state.last_seq + 1):
                envelope = Envelope()
                envelope.ParseFromString((await jetstream.get_msg(stream, sequence)).data or b"")
                if envelope.aggregate_id != customer_id:
                    continue
                for kind in CARRYING:
                    if envelope.type == event_type_of(kind):
                        message = kind()
                        envelope.payload.Unpack(message)
                        found.append((envelope.type, message.customer))
            return found
        finally:
            await connection.close()

    return asyncio.run(read())


def test_a_halal_customers_events_carry_the_requirement(
    stack: Stack, client: httpx.Client, people: dict[str, dict[str, str]]
) -> None:
    rep = people["zhang.wei"]
    created = ok(
        client.post(
            "/api/v1/customers",
            headers=rep,
            json={
                "name": "杭州市西湖区回民小学食堂",
                "type": "学校食堂",
                "special_requirements": [{"kind": "halal", "note": "清真专用车配送"}],
                "preferences": {"delivery_windows": [{"weekday": 1, "start": "06:30", "end": "07:30"}]},
            },
        ),
        201,
    )
    ok(
        client.patch(
            f"/api/v1/customers/{created['id']}",
            headers=rep,
            json={"special_requirements": [{"kind": "halal"}, {"kind": "no_pork"}], "lifecycle_stage": "prospect"},
        )
    )

    events = eventually_sync(
        lambda: customer_events(stack, created["id"]), lambda found: len(found) == 3, within=30, interval=0.3
    )
    by_type = {kind: customer for kind, customer in events}
    born = by_type[event_type_of(events_pb2.CustomerCreated)]
    assert [r.kind for r in born.special_requirements] == ["halal"]
    assert born.special_requirements[0].note == "清真专用车配送"
    assert [(w.weekday, w.start, w.end) for w in born.preferences.delivery_windows] == [(1, "06:30", "07:30")]
    for kind in (events_pb2.CustomerUpdated, events_pb2.CustomerStageChanged):
        assert [r.kind for r in by_type[event_type_of(kind)].special_requirements] == ["halal", "no_pork"]
    # Service staff, who arrange deliveries, see the alert.
    page = ok(client.get(f"/api/v1/customers/{created['id']}", headers=people["sun.li"]))
    assert [a["label"] for a in page["alerts"]] == ["清真", "不含猪肉"]


def test_a_group_parent_rolls_up_branches(client: httpx.Client, people: dict[str, dict[str, str]]) -> None:
    rep, colleague, supervisor = people["zhang.wei"], people["li.na"], people["wang.lei"]

    def create(headers: dict[str, str], name: str, stage: str, contact: tuple[str, str]) -> dict[str, Any]:
        body = {"name": name, "lifecycle_stage": stage, "contacts": [{"name": contact[0], "decision_role": contact[1]}]}
        return ok(client.post("/api/v1/customers", headers=headers, json=body), 201)  # type: ignore[no-any-return]

    group = create(rep, "浙江知味餐饮集团有限公司", "signed", ("陈总", "decision_maker"))
    west = create(rep, "知味西湖店", "signed", ("王采购", "purchaser"))
    east = create(colleague, "知味滨江店", "prospect", ("李店长", "user"))
    ok(client.put(f"/api/v1/customers/{west['id']}/parent", headers=rep, json={"parent_customer_id": group["id"]}))
    ok(
        client.put(
            f"/api/v1/customers/{east['id']}/parent", headers=supervisor, json={"parent_customer_id": group["id"]}
        )
    )
    cycle = client.put(f"/api/v1/customers/{group['id']}/parent", headers=rep, json={"parent_customer_id": west["id"]})

    whole = ok(client.get(f"/api/v1/customers/{group['id']}/group", headers=supervisor))
    mine = ok(client.get(f"/api/v1/customers/{group['id']}/group", headers=rep))

    assert cycle.status_code == 400 and cycle.json()["field"] == "parent_customer_id"
    assert (whole["branch_count"], whole["contact_count"]) == (2, 3)
    assert whole["stages"] == {"prospect": 1, "signed": 1}
    assert [(c["name"], c["decision_role"]) for c in whole["contacts"]] == [
        ("陈总", "decision_maker"),
        ("李店长", "user"),
        ("王采购", "purchaser"),
    ]
    # The rep sees only their own store: the colleague's is neither counted nor named.
    assert (mine["branch_count"], [b["name"] for b in mine["branches"]]) == (1, ["知味西湖店"])
    assert "知味滨江店" not in str(mine)
