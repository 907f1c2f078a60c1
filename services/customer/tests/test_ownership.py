"""Ownership: every customer's history of owners, and the caps on how many customers a rep holds."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import ownership_pb2 as opb
from crmkit.identity import Identity, Placement, Role


def _transfer(harness, actor: Identity, customer_id: str, to: Identity, unit: str, reason: str = ""):  # type: ignore[no-untyped-def]
    org = harness.org
    return harness.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=pb.Customer(id=customer_id, owner_id=to.principal_id, org_unit_id=unit, org_path=org.path(unit)),
            update_mask=FieldMask(paths=["owner_id"]),
            reason=reason,
        ),
        metadata=harness.metadata(replace(actor, placement=Placement(to.principal_id, unit, org.path(unit)))),
    )


async def _history(harness, identity: Identity, customer_id: str) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    response = await harness.stub.ListOwnerChanges(
        opb.ListOwnerChangesRequest(customer_id=customer_id), metadata=harness.metadata(identity)
    )
    kinds = opb.OwnerChangeKind
    return [(kinds.Name(c.kind), c.from_owner_id, c.to_owner_id, c.reason) for c in response.changes]


async def _set_caps(harness, who: Identity, *, default: int | None = None, **users: int) -> opb.CustomerCaps:  # type: ignore[no-untyped-def]
    response = await harness.stub.SetCustomerCaps(
        opb.SetCustomerCapsRequest(
            default_cap=default or 0,
            set_default=default is not None,
            users=[opb.UserCustomerCap(user_id=user_id, cap=cap) for user_id, cap in users.items()],
        ),
        metadata=harness.metadata(who),
    )
    return response.caps


async def test_the_history_starts_with_creation_and_records_a_transfer_with_its_reason(customer_service) -> None:
    org = customer_service.org
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    leaving, taking_over = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    customer = await customer_service.create(leaving, name="青岛市南区食堂")

    await _transfer(customer_service, supervisor, customer.id, taking_over, org.shop_a, reason="原负责人调岗")
    history = await _history(customer_service, supervisor, customer.id)
    rows = await customer_service.published_outbox()

    assert history == [
        ("OWNER_CHANGE_KIND_TRANSFERRED", leaving.principal_id, taking_over.principal_id, "原负责人调岗"),
        ("OWNER_CHANGE_KIND_CREATED", "", leaving.principal_id, ""),
    ]
    changed = events_pb2.CustomerOwnerChanged()
    # Its open revisit task (if the revisit job has made one) follows with an event of its own.
    owner_changes = [row for row in rows if row.envelope.type == "crm.customer.v1.customer_owner_changed"]
    assert owner_changes[-1].envelope.payload.Unpack(changed)
    assert (changed.kind, changed.reason) == (opb.OWNER_CHANGE_KIND_TRANSFERRED, "原负责人调岗")
    # The rep who no longer owns it cannot read its history either.
    gone = await customer_service.refusal(
        customer_service.stub.ListOwnerChanges(
            opb.ListOwnerChangesRequest(customer_id=customer.id), metadata=customer_service.metadata(leaving)
        )
    )
    assert gone.code == grpc.StatusCode.NOT_FOUND


async def test_a_rep_at_the_tenants_cap_cannot_take_one_more_until_given_their_own(customer_service) -> None:
    org = customer_service.org
    boss, rep = org.person(Role.BOSS, org.hq), org.person(Role.SALES, org.shop_a)
    await _set_caps(customer_service, boss, default=2)
    for name in ("烟台芝罘区食堂", "烟台莱山区食堂"):
        await customer_service.create(rep, name=name)

    refused = await customer_service.refusal(
        customer_service.stub.CreateCustomer(
            pb.CreateCustomerRequest(customer=pb.Customer(name="烟台福山区食堂")),
            metadata=customer_service.metadata(rep),
        )
    )
    caps = await _set_caps(customer_service, boss, **{rep.principal_id: 3})
    third = await customer_service.create(rep, name="烟台福山区食堂")

    assert (refused.code, refused.trailers.get("crm-error-code"), refused.trailers.get("crm-error-cap")) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "customer_cap_reached",
        "2",
    )
    assert "2" in refused.message
    assert (caps.default_cap, [(u.cap, u.held) for u in caps.users]) == (2, [(3, 2)])
    assert third.owner_id == rep.principal_id


async def test_a_transfer_to_a_rep_at_their_cap_is_refused_and_changes_nothing(customer_service) -> None:
    org = customer_service.org
    boss, supervisor = org.person(Role.BOSS, org.hq), org.person(Role.SUPERVISOR, org.sub_a)
    rep_a, rep_b = org.person(Role.SALES, org.shop_a), org.person(Role.SALES, org.shop_a)
    await _set_caps(customer_service, boss, **{rep_b.principal_id: 1})
    await customer_service.create(rep_b, name="威海环翠区食堂")
    customer = await customer_service.create(rep_a, name="威海文登区食堂")

    refused = await customer_service.refusal(_transfer(customer_service, supervisor, customer.id, rep_b, org.shop_a))

    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert await customer_service.list_names(rep_a) == ["威海文登区食堂"]
    assert len(await _history(customer_service, supervisor, customer.id)) == 1


async def _concurrent_creates_at_the_cap(customer_service) -> None:  # type: ignore[no-untyped-def]
    org = customer_service.org
    boss, rep = org.person(Role.BOSS, org.hq), org.person(Role.SALES, org.shop_a)
    await _set_caps(customer_service, boss, **{rep.principal_id: 3})
    await customer_service.create(rep, name="日照东港区食堂")

    results = await asyncio.gather(
        *(
            customer_service.stub.CreateCustomer(
                pb.CreateCustomerRequest(customer=pb.Customer(name=f"日照岚山区第{n}食堂")),
                metadata=customer_service.metadata(rep),
            )
            for n in range(6)
        ),
        return_exceptions=True,
    )

    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(created) == 2 and len(refused) == 4, results
    # The cap, or on SQLite a conflict with the write that won: a clear refusal, never a 500.
    assert {r.code() for r in refused} <= {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED}
    assert len(await customer_service.list_names(rep)) == 3


async def test_concurrent_creates_at_the_cap_let_exactly_the_room_left_through(customer_service) -> None:
    await _concurrent_creates_at_the_cap(customer_service)


async def test_concurrent_creates_at_the_cap_on_sqlite(customer_service_sqlite) -> None:
    await _concurrent_creates_at_the_cap(customer_service_sqlite)


async def test_only_admins_and_bosses_set_caps_and_bad_caps_name_the_field(customer_service) -> None:
    org = customer_service.org
    boss, supervisor = org.person(Role.BOSS, org.hq), org.person(Role.SUPERVISOR, org.sub_a)

    by_supervisor = await customer_service.refusal(_set_caps(customer_service, supervisor, default=5))
    negative = await customer_service.refusal(_set_caps(customer_service, boss, default=-1))
    huge = await customer_service.refusal(_set_caps(customer_service, boss, **{"u1": 100_001}))

    assert by_supervisor.code == grpc.StatusCode.PERMISSION_DENIED
    assert (negative.code, negative.field) == (grpc.StatusCode.INVALID_ARGUMENT, "default_cap")
    assert (huge.code, huge.field) == (grpc.StatusCode.INVALID_ARGUMENT, "users[0].cap")
