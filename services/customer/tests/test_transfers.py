"""Transfers (离职交接): a departing rep's customers moved by a job — evenly, to one user, by rules
or to a pool — batch by batch, resuming after a crash without moving anyone twice; idempotent by
request id; refused clearly for bad input, foreign ids and the wrong roles."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import replace
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import func, select

from crm.customer.v1 import assignment_pb2 as apb
from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import events_pb2
from crm.customer.v1 import follow_ups_pb2 as fpb
from crm.customer.v1 import ownership_pb2 as opb
from crm.customer.v1 import pools_pb2 as ppb
from crm.customer.v1 import transfers_pb2 as tpb
from crm_customer.customers.events import CustomerEvents
from crm_customer.ownership.models import OwnerChange
from crm_customer.transfers.service import TransferMover, next_unfinished
from crmkit.clock import shanghai_date
from crmkit.events import event_type_of
from crmkit.identity import Identity, Placement, Role
from crmkit.testing.events import OutboxRow
from crmkit.testing.jobs import ran_since


async def _people(harness, unit: str, count: int, role: Role = Role.SALES) -> list[Identity]:  # type: ignore[no-untyped-def]
    people = [harness.org.person(role, unit) for _ in range(count)]
    for person in people:
        await harness.announce_user(person)
    return people


async def _book(harness, rep: Identity, count: int, **fields: Any) -> list[str]:  # type: ignore[no-untyped-def]
    return [(await harness.create(rep, name=f"{rep.principal_id[:4]}客户{i}", **fields)).id for i in range(count)]


def _start(harness, who: Identity, from_user: Identity, mode: int, to: list[Identity] | None = None, **fields: Any):  # type: ignore[no-untyped-def]
    fields.setdefault("reason", "离职交接")
    request = tpb.StartTransferRequest(
        request_id=fields.pop("request_id", str(uuid.uuid4())),
        from_user_id=from_user.principal_id,
        mode=mode,
        to_user_ids=[u.principal_id for u in to or []],
        **fields,
    )
    return harness.stub.StartTransfer(request, metadata=harness.metadata(who))


async def _run_transfers(harness) -> None:  # type: ignore[no-untyped-def]
    moved_to = harness.clock.advance(dt.timedelta(seconds=10))
    await ran_since(harness.runtime.sessions, "customer-transfers", moved_to)


async def _get(harness, who: Identity, transfer_id: str) -> tpb.Transfer:  # type: ignore[no-untyped-def]
    return (
        await harness.stub.GetTransfer(tpb.GetTransferRequest(id=transfer_id), metadata=harness.metadata(who))
    ).transfer


async def _owners(harness, admin: Identity, ids: list[str]) -> Counter[str]:  # type: ignore[no-untyped-def]
    from crm.customer.v1 import customer_pb2 as pb

    owners: Counter[str] = Counter()
    for customer_id in ids:
        customer = (
            await harness.stub.GetCustomer(pb.GetCustomerRequest(id=customer_id), metadata=harness.metadata(admin))
        ).customer
        owners[customer.owner_id] += 1
    return owners


def _owner_changes(rows: list[OutboxRow]) -> dict[str, list[events_pb2.CustomerOwnerChanged]]:
    """The published owner changes, by customer id, oldest first."""
    changes: dict[str, list[events_pb2.CustomerOwnerChanged]] = {}
    for row in rows:
        if row.envelope.type == event_type_of(events_pb2.CustomerOwnerChanged):
            change = events_pb2.CustomerOwnerChanged()
            row.envelope.payload.Unpack(change)
            changes.setdefault(change.customer.id, []).append(change)
    return changes


async def test_an_even_transfer_splits_the_book_keeps_follow_up_dates_and_announces_the_shares(
    customer_service,
) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    rep_a, rep_b, rep_c = await _people(customer_service, org.shop_a, 3)
    ids = await _book(customer_service, rep_c, 10)
    due = (shanghai_date(customer_service.clock()) + dt.timedelta(days=2)).isoformat()
    await customer_service.stub.LogInteraction(
        fpb.LogInteractionRequest(
            interaction=fpb.Interaction(
                customer_id=ids[0], kind=fpb.INTERACTION_KIND_PHONE, content="约下周拜访", next_follow_up_date=due
            )
        ),
        metadata=customer_service.metadata(rep_c),
    )

    started = (await _start(customer_service, admin, rep_c, tpb.TRANSFER_MODE_EVENLY, [rep_a, rep_b])).transfer
    await _run_transfers(customer_service)
    done = await _get(customer_service, admin, started.id)
    owners = await _owners(customer_service, admin, ids)
    history = await customer_service.stub.ListOwnerChanges(
        opb.ListOwnerChangesRequest(customer_id=ids[0]), metadata=customer_service.metadata(admin)
    )

    assert (started.status, started.total) == (tpb.TRANSFER_STATUS_PENDING, 10)
    assert (done.status, done.total, done.moved, done.skipped) == (tpb.TRANSFER_STATUS_COMPLETED, 10, 10, 0)
    assert owners == {rep_a.principal_id: 5, rep_b.principal_id: 5}
    assert (history.changes[0].kind, history.changes[0].reason) == (opb.OWNER_CHANGE_KIND_TRANSFERRED, "离职交接")
    rows = await customer_service.published_outbox()
    completed = [r for r in rows if r.envelope.type == "crm.customer.v1.transfer_completed"]
    assert len(completed) == 1
    message = events_pb2.TransferCompleted()
    completed[0].envelope.payload.Unpack(message)
    assert {(s.owner_id, s.customers) for s in message.shares} == {(rep_a.principal_id, 5), (rep_b.principal_id, 5)}
    assert sum(r.envelope.type == "crm.customer.v1.customer_owner_changed" for r in rows) == 10
    moved_first = [r for r in rows if r.envelope.aggregate_id == ids[0] and r.envelope.type.endswith("owner_changed")]
    changed = events_pb2.CustomerOwnerChanged()
    moved_first[0].envelope.payload.Unpack(changed)
    assert changed.customer.next_follow_up_date == due


async def test_a_transfers_moves_name_the_transfer_and_a_single_handover_names_none(customer_service) -> None:
    org = customer_service.org
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    leaving, heir, colleague = await _people(customer_service, org.shop_a, 3)
    book = await _book(customer_service, leaving, 2)
    handed = await customer_service.create(colleague, name="单独交接的客户")

    started = (await _start(customer_service, supervisor, leaving, tpb.TRANSFER_MODE_ONE_USER, [heir])).transfer
    await _run_transfers(customer_service)
    placement = Placement(heir.principal_id, org.shop_a, org.path(org.shop_a))
    await customer_service.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=pb.Customer(
                id=handed.id, owner_id=heir.principal_id, org_unit_id=org.shop_a, org_path=org.path(org.shop_a)
            ),
            update_mask=FieldMask(paths=["owner_id"]),
            reason="同事休假",
        ),
        metadata=customer_service.metadata(replace(supervisor, placement=placement)),
    )
    changes = _owner_changes(await customer_service.published_outbox())

    assert {c: [(m.kind, m.transfer_id) for m in changes[c]] for c in book} == {
        c: [(opb.OWNER_CHANGE_KIND_TRANSFERRED, started.id)] for c in book
    }
    assert [(m.kind, m.transfer_id, m.customer.owner_id) for m in changes[handed.id]] == [
        (opb.OWNER_CHANGE_KIND_TRANSFERRED, "", heir.principal_id)
    ]


async def test_a_transfer_interrupted_midway_resumes_without_moving_anyone_twice(customer_service) -> None:
    org = customer_service.org
    boss = org.person(Role.BOSS, org.hq)
    (receiver,) = await _people(customer_service, org.shop_b, 1)
    (leaving,) = await _people(customer_service, org.shop_a, 1)
    ids = await _book(customer_service, leaving, 9)
    await _start(customer_service, boss, leaving, tpb.TRANSFER_MODE_ONE_USER, [receiver])
    runtime = customer_service.runtime
    mover = TransferMover(CustomerEvents(tables=runtime.tables, namespace=runtime.namespace))

    # A run that committed one batch of three, then one that crashed before committing its batch.
    async with runtime.sessions() as session, session.begin():
        transfer = await next_unfinished(session)
        assert transfer is not None
        await mover.batch(session, transfer, customer_service.clock(), limit=3)
    with pytest.raises(RuntimeError):
        async with runtime.sessions() as session, session.begin():
            transfer = await next_unfinished(session)
            if transfer is not None:
                await mover.batch(session, transfer, customer_service.clock(), limit=3)
            raise RuntimeError("the process died here")
    await _run_transfers(customer_service)
    await _run_transfers(customer_service)

    async with runtime.sessions() as session:
        per_customer = dict(
            (
                await session.execute(
                    select(OwnerChange.customer_id, func.count())
                    .where(OwnerChange.customer_id.in_(ids), OwnerChange.kind == "transferred")
                    .group_by(OwnerChange.customer_id)
                )
            ).all()
        )
    listed = await customer_service.stub.ListTransfers(
        tpb.ListTransfersRequest(), metadata=customer_service.metadata(boss)
    )
    assert per_customer == {customer_id: 1 for customer_id in ids}
    assert await _owners(customer_service, boss, ids) == {receiver.principal_id: 9}
    (transfer_seen,) = listed.transfers
    assert (transfer_seen.status, transfer_seen.moved, transfer_seen.skipped) == (tpb.TRANSFER_STATUS_COMPLETED, 9, 0)
    rows = await customer_service.published_outbox()
    assert sum(r.envelope.type == "crm.customer.v1.customer_owner_changed" for r in rows) == 9


async def test_a_retried_start_with_the_same_request_id_starts_one_transfer(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    receiver, leaving = await _people(customer_service, org.shop_a, 2)
    await _book(customer_service, leaving, 2)

    first = (
        await _start(customer_service, admin, leaving, tpb.TRANSFER_MODE_ONE_USER, [receiver], request_id="r-1")
    ).transfer
    again = (
        await _start(customer_service, admin, leaving, tpb.TRANSFER_MODE_ONE_USER, [receiver], request_id="r-1")
    ).transfer
    other = await customer_service.refusal(
        _start(customer_service, admin, leaving, tpb.TRANSFER_MODE_ONE_USER, [receiver])
    )

    assert first.id == again.id
    assert (other.code, other.trailers["crm-error-code"]) == (grpc.StatusCode.FAILED_PRECONDITION, "transfer_running")


async def test_caps_refuse_a_single_receiver_up_front_and_an_even_spread_passes_over_a_full_one(
    customer_service,
) -> None:
    org = customer_service.org
    boss = org.person(Role.BOSS, org.hq)
    full, roomy, leaving = await _people(customer_service, org.shop_a, 3)
    await customer_service.stub.SetCustomerCaps(
        opb.SetCustomerCapsRequest(users=[opb.UserCustomerCap(user_id=full.principal_id, cap=2)]),
        metadata=customer_service.metadata(boss),
    )
    ids = await _book(customer_service, leaving, 6)

    refused = await customer_service.refusal(
        _start(customer_service, boss, leaving, tpb.TRANSFER_MODE_ONE_USER, [full])
    )
    started = (await _start(customer_service, boss, leaving, tpb.TRANSFER_MODE_EVENLY, [full, roomy])).transfer
    await _run_transfers(customer_service)
    done = await _get(customer_service, boss, started.id)

    assert (refused.code, refused.trailers["crm-error-code"], refused.field) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "customer_cap_reached",
        "to_user_ids[0]",
    )
    assert await _owners(customer_service, boss, ids) == {full.principal_id: 2, roomy.principal_id: 4}
    assert (done.moved, done.skipped) == (6, 0)


async def test_a_transfer_to_the_pool_releases_the_book_and_ends_the_reps_pending_claims(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    leaving, colleague = await _people(customer_service, org.shop_a, 2)
    pool = (
        await customer_service.stub.CreatePool(
            ppb.CreatePoolRequest(
                pool=ppb.Pool(
                    name="一分公司公海", org_unit_id=org.sub_a, org_path=org.path(org.sub_a), requires_approval=True
                )
            ),
            metadata=customer_service.metadata(admin),
        )
    ).pool
    ids = await _book(customer_service, leaving, 3)
    pooled = await customer_service.create(colleague, name="同事放弃的客户")
    await customer_service.stub.ReleaseToPool(
        ppb.ReleaseToPoolRequest(customer_id=pooled.id, reason="暂无需求"),
        metadata=customer_service.metadata(colleague),
    )
    claim = (
        await customer_service.stub.ClaimCustomer(
            ppb.ClaimCustomerRequest(pool_id=pool.id, customer_id=pooled.id, reason="想跟进"),
            metadata=customer_service.metadata(leaving),
        )
    ).claim

    started = (
        await _start(customer_service, admin, leaving, tpb.TRANSFER_MODE_POOL, reason="离职，客户回公海")
    ).transfer
    await _run_transfers(customer_service)
    done = await _get(customer_service, admin, started.id)
    listed = await customer_service.stub.ListPoolCustomers(
        ppb.ListPoolCustomersRequest(pool_id=pool.id), metadata=customer_service.metadata(admin)
    )
    claims = await customer_service.stub.ListClaims(
        ppb.ListClaimsRequest(view=ppb.CLAIM_VIEW_TO_DECIDE), metadata=customer_service.metadata(admin)
    )

    assert (done.status, done.moved) == (tpb.TRANSFER_STATUS_COMPLETED, 3)
    assert {c.id for c in listed.customers} == {*ids, pooled.id}
    assert {c.enter_reason for c in listed.customers if c.id in ids} == {"离职，客户回公海"}
    assert [(c.id, c.status) for c in claims.claims] == [(claim.id, ppb.CLAIM_STATUS_WITHDRAWN)]
    rows = await customer_service.published_outbox()
    types = [r.envelope.type for r in rows]
    assert types.count("crm.customer.v1.customer_released_to_pool") == 4
    assert "crm.customer.v1.pool_claim_decided" in types
    # The transfer's releases name it; the colleague's own release does not.
    changes = _owner_changes(rows)
    assert {changes[c][-1].transfer_id for c in ids} == {started.id}
    assert [m.transfer_id for m in changes[pooled.id]] == [""]


async def test_a_transfer_by_rules_places_each_customer_as_the_rules_say(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    leaving, heir = await _people(customer_service, org.shop_a, 2)
    rules = await customer_service.stub.SetAssignmentRules(
        apb.SetAssignmentRulesRequest(
            rules=[
                apb.AssignmentRule(
                    name="分店轮流",
                    enabled=True,
                    strategy=apb.ASSIGNMENT_STRATEGY_ROUND_ROBIN,
                    target=apb.AssignmentTarget(org_unit_id=org.shop_a),
                )
            ]
        ),
        metadata=customer_service.metadata(admin),
    )
    ids = await _book(customer_service, leaving, 2)

    started = (await _start(customer_service, admin, leaving, tpb.TRANSFER_MODE_BY_RULES)).transfer
    await _run_transfers(customer_service)
    history = await customer_service.stub.ListOwnerChanges(
        opb.ListOwnerChangesRequest(customer_id=ids[1]), metadata=customer_service.metadata(admin)
    )

    # The departing rep is in the unit but never chosen.
    assert await _owners(customer_service, admin, ids) == {heir.principal_id: 2}
    assert (history.changes[0].kind, history.changes[0].rule_id) == (
        opb.OWNER_CHANGE_KIND_ASSIGNED_BY_RULE,
        rules.rules[0].id,
    )
    changes = _owner_changes(await customer_service.published_outbox())
    assert [(m.kind, m.transfer_id) for c in ids for m in changes[c]] == [
        (opb.OWNER_CHANGE_KIND_ASSIGNED_BY_RULE, started.id)
    ] * 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mode": tpb.TRANSFER_MODE_UNSPECIFIED}, "mode"),
        ({"mode": 17}, "mode"),
        ({"reason": "  "}, "reason"),
        ({"from_user_id": ""}, "from_user_id"),
        ({"to_user_ids": ["a", "b"]}, "to_user_ids"),
        ({"to_user_ids": [str(uuid.uuid4())]}, "to_user_ids[0]"),
        ({"mode": tpb.TRANSFER_MODE_EVENLY}, "to_user_ids"),
        ({"mode": tpb.TRANSFER_MODE_POOL}, "to_user_ids"),
        ({"pool_id": str(uuid.uuid4())}, "pool_id"),
        ({"filter": tpb.TransferFilter(lifecycle_stage="won")}, "filter.lifecycle_stage"),
        ({"filter": tpb.TransferFilter(province="浙" * 31)}, "filter.province"),
        ({"request_id": "r" * 65}, "request_id"),
    ],
    ids=[
        "no-mode",
        "unknown-mode",
        "no-reason",
        "no-from-user",
        "two-for-one",
        "unknown-receiver",
        "evenly-one",
        "pool-with-receivers",
        "pool-id-without-pool-mode",
        "unknown-stage",
        "long-province",
        "long-request-id",
    ],
)
async def test_a_bad_start_is_refused_naming_its_field(customer_service, fields: dict[str, Any], field: str) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    receiver, leaving = await _people(customer_service, org.shop_a, 2)
    request = tpb.StartTransferRequest(
        request_id=str(uuid.uuid4()),
        from_user_id=leaving.principal_id,
        mode=tpb.TRANSFER_MODE_ONE_USER,
        to_user_ids=[receiver.principal_id],
        reason="离职",
    )
    for key, value in fields.items():
        if isinstance(value, list):
            del getattr(request, key)[:]
            getattr(request, key).extend(value)
        elif isinstance(value, tpb.TransferFilter):
            request.filter.CopyFrom(value)
        else:
            setattr(request, key, value)

    refused = await customer_service.refusal(
        customer_service.stub.StartTransfer(request, metadata=customer_service.metadata(admin))
    )

    assert (refused.code, refused.field) == (grpc.StatusCode.INVALID_ARGUMENT, field)


async def test_foreign_users_pools_and_transfers_are_not_found(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    (receiver,) = await _people(customer_service, org.shop_a, 1)
    stranger = Identity(
        principal_id=str(uuid.uuid4()),
        tenant_id=str(uuid.uuid4()),
        org_unit_id=org.hq,
        org_path=org.path(org.hq),
        role=Role.SALES,
    )
    await customer_service.announce_user(stranger)
    (leaving,) = await _people(customer_service, org.shop_a, 1)

    foreign_user = await customer_service.refusal(
        _start(customer_service, admin, stranger, tpb.TRANSFER_MODE_ONE_USER, [receiver])
    )
    foreign_pool = await customer_service.refusal(
        _start(customer_service, admin, leaving, tpb.TRANSFER_MODE_POOL, pool_id=str(uuid.uuid4()))
    )
    missing = await customer_service.refusal(
        customer_service.stub.GetTransfer(
            tpb.GetTransferRequest(id=str(uuid.uuid4())), metadata=customer_service.metadata(admin)
        )
    )

    assert {foreign_user.code, foreign_pool.code, missing.code} == {grpc.StatusCode.NOT_FOUND}


async def test_reps_may_not_start_transfers_and_supervisors_only_over_their_own_unit(customer_service) -> None:
    org = customer_service.org
    rep, leaving_a = await _people(customer_service, org.shop_a, 2)
    leaving_b, receiver_b = await _people(customer_service, org.shop_b, 2)
    supervisor_a = org.person(Role.SUPERVISOR, org.sub_a)

    by_rep = await customer_service.refusal(_start(customer_service, rep, leaving_a, tpb.TRANSFER_MODE_ONE_USER, [rep]))
    elsewhere = await customer_service.refusal(
        _start(customer_service, supervisor_a, leaving_b, tpb.TRANSFER_MODE_ONE_USER, [receiver_b])
    )
    own = (await _start(customer_service, supervisor_a, leaving_a, tpb.TRANSFER_MODE_ONE_USER, [rep])).transfer

    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
    assert elsewhere.code == grpc.StatusCode.NOT_FOUND
    assert own.status == tpb.TRANSFER_STATUS_PENDING


async def test_a_transfer_whose_receiver_left_meanwhile_ends_failed_and_moves_nobody(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    receiver, leaving = await _people(customer_service, org.shop_a, 2)
    ids = await _book(customer_service, leaving, 3)
    started = (await _start(customer_service, admin, leaving, tpb.TRANSFER_MODE_ONE_USER, [receiver])).transfer
    await customer_service.announce_user(receiver, active=False, version=2)

    await _run_transfers(customer_service)
    done = await _get(customer_service, admin, started.id)

    assert (done.status, done.moved) == (tpb.TRANSFER_STATUS_FAILED, 0)
    assert "left" in done.error
    assert await _owners(customer_service, admin, ids) == {leaving.principal_id: 3}


async def test_on_sqlite_a_filtered_transfer_moves_only_the_customers_it_names(customer_service_sqlite) -> None:
    harness = customer_service_sqlite
    org = harness.org
    admin = org.person(Role.ADMIN, org.hq)
    rep_a, rep_b, leaving = await _people(harness, org.shop_a, 3)
    tagged = await _book(harness, leaving, 4, tags=["老客户"])
    others = await _book(harness, leaving, 2)

    started = (
        await _start(
            harness, admin, leaving, tpb.TRANSFER_MODE_EVENLY, [rep_a, rep_b], filter=tpb.TransferFilter(tag="老客户")
        )
    ).transfer
    await _run_transfers(harness)
    done = await _get(harness, admin, started.id)

    assert (started.total, done.status, done.moved) == (4, tpb.TRANSFER_STATUS_COMPLETED, 4)
    assert await _owners(harness, admin, tagged) == {rep_a.principal_id: 2, rep_b.principal_id: 2}
    assert await _owners(harness, admin, others) == {leaving.principal_id: 2}
