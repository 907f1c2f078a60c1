"""Customer events: written to the outbox with the change, then published to JetStream by the relay."""

from __future__ import annotations

import grpc

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crmkit.identity import Role

PUBLISH_DEADLINE_SECONDS = 10.0


async def test_created_customer_is_published_to_jetstream_as_customer_created(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    subject = f"{customer_service.namespace}crm.customer.v1.customer_created"
    subscription = await customer_service.runtime.js.subscribe(subject, ordered_consumer=True)

    created = await customer_service.create(
        rep, name="太原迎泽区食堂", contacts=[pb.Contact(name="郭", mobile="13500135000")]
    )
    await customer_service.published_outbox(within=PUBLISH_DEADLINE_SECONDS)
    message = await subscription.next_msg(timeout=5)
    await subscription.unsubscribe()

    envelope = Envelope.FromString(message.data)
    assert message.subject == subject
    assert envelope.type == "crm.customer.v1.customer_created"
    assert message.headers is not None and message.headers["Nats-Msg-Id"] == envelope.id
    assert (envelope.aggregate_id, envelope.aggregate_version) == (created.id, 1)
    assert (envelope.tenant_id, envelope.org_unit_id, envelope.actor_id) == (
        org.tenant_id,
        org.shop_a,
        rep.principal_id,
    )
    payload = events_pb2.CustomerCreated()
    assert envelope.payload.Unpack(payload)
    # The customer as created, but for its contacts' personal details, which never leave the service.
    assert b"13500135000" not in message.data
    expected = pb.Customer()
    expected.CopyFrom(created)
    expected.contacts[0].ClearField("mobile")
    assert payload.customer == expected
    assert payload.customer.contacts[0].name == "郭"


async def test_one_customers_events_reach_jetstream_in_the_order_they_happened(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    md = customer_service.metadata(rep)
    subscription = await customer_service.runtime.js.subscribe(
        f"{customer_service.namespace}crm.customer.v1.>", ordered_consumer=True
    )

    customer = await customer_service.create(rep, name="太原迎泽区食堂")
    await customer_service.stub.CreateContact(
        pb.CreateContactRequest(customer_id=customer.id, contact=pb.Contact(name="郭", mobile="13500135000")),
        metadata=md,
    )
    await customer_service.stub.ArchiveCustomer(pb.ArchiveCustomerRequest(id=customer.id), metadata=md)
    await customer_service.published_outbox(within=PUBLISH_DEADLINE_SECONDS)
    # Periodic jobs publish on the same subjects (a revisit task for the new customer, say):
    # keep the customer's own events.
    received: list[Envelope] = []
    while len(received) < 3:
        envelope = Envelope.FromString((await subscription.next_msg(timeout=5)).data)
        if envelope.aggregate_id == customer.id:
            received.append(envelope)
    await subscription.unsubscribe()

    assert [(e.type, e.aggregate_version) for e in received] == [
        ("crm.customer.v1.customer_created", 1),
        ("crm.customer.v1.customer_updated", 2),
        ("crm.customer.v1.customer_archived", 3),
    ]


async def test_create_refused_for_bad_input_writes_no_customer_and_no_event(customer_service) -> None:
    org = customer_service.org

    refusal = await customer_service.refusal(
        customer_service.create(org.person(Role.SALES, org.shop_a), name="太原迎泽区食堂", contract_start="2025-13-01")
    )

    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT
    assert await customer_service.customer_count() == 0
    assert await customer_service.outbox() == []


async def test_create_refused_inside_the_transaction_leaves_no_event_behind(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await customer_service.create(rep, name="太原迎泽区食堂", credit_code="91350100M000100Y43")

    unknown_type = await customer_service.refusal(customer_service.create(rep, name="太原小店区食堂", type="外星餐厅"))
    duplicate = await customer_service.refusal(
        customer_service.create(rep, name="太原小店区食堂", credit_code="91350100M000100Y43")
    )

    assert unknown_type.code == grpc.StatusCode.INVALID_ARGUMENT
    assert duplicate.code == grpc.StatusCode.ALREADY_EXISTS
    assert await customer_service.customer_count() == 1
    assert await customer_service.event_types() == ["crm.customer.v1.customer_created"]


async def test_no_event_carries_a_contacts_mobile_wechat_id_or_email(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    created = await customer_service.create(
        rep,
        name="大连中山区海鲜酒楼",
        contacts=[pb.Contact(name="于海", mobile="13604110000", wechat_id="yuhai_dl", email="yuhai@example.cn")],
    )
    await customer_service.stub.CreateContact(
        pb.CreateContactRequest(
            customer_id=created.id,
            contact=pb.Contact(name="孙丽", mobile="13604110001", wechat_id="sunli_dl", email="sunli@example.cn"),
        ),
        metadata=customer_service.metadata(rep),
    )

    rows = await customer_service.outbox()

    assert [row.envelope.type for row in rows] == [
        "crm.customer.v1.customer_created",
        "crm.customer.v1.customer_updated",
    ]
    for row in rows:
        raw = row.envelope.SerializeToString()
        for personal in (b"13604110000", b"13604110001", b"yuhai_dl", b"sunli_dl", b"example.cn"):
            assert personal not in raw
    last = events_pb2.CustomerUpdated()
    assert rows[-1].envelope.payload.Unpack(last)
    assert [c.name for c in last.customer.contacts] == ["于海", "孙丽"]
