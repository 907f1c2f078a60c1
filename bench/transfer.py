"""Transfer benchmark (离职交接): one rep's 10,000 customers spread evenly over two reps on PostgreSQL.

Writes the customers straight into the service's database (each with an address and six search
terms; no contacts, which a transfer does not touch), puts the three reps in the directory copy,
starts the transfer over gRPC, moves the service's clock so the `customer-transfers` job is due at
once, and prints how long the job took to move everyone (status `completed`) and how long until
the relay had published every event (10,000 customer_owner_changed and one transfer_completed) to
JetStream. The service runs in this process, on a throwaway database and NATS (or
CRM_TEST_DATABASE_URL / CRM_TEST_NATS_URL).

Usage: python bench/transfer.py [--customers 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from crm.customer.v1 import customer_pb2_grpc
from crm.customer.v1 import transfers_pb2 as tpb
from crm.gateway.v1.events_pb2 import UserChanged
from crm_customer.customers.models import Customer
from crm_customer.directory.service import on_user_changed
from crm_customer.search.models import SearchTerm
from crm_customer.spec import SPEC
from crmkit.clock import MovableClock
from crmkit.identity import Identity, Role
from crmkit.testing.events import envelope_for
from crmkit.testing.harness import make_keys
from crmkit.testing.infra import provisioned_nats, provisioned_postgres
from crmkit.testing.services import running_service


def person(tenant_id: str, role: Role = Role.SALES) -> Identity:
    return Identity(
        principal_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        org_unit_id="bench-shop",
        org_path="/bench-hq/bench-shop/",
        role=role,
    )


async def announce(sessions, user: Identity) -> None:  # type: ignore[no-untyped-def]
    message = UserChanged(
        user_id=user.principal_id,
        org_unit_id=user.org_unit_id,
        org_path=user.org_path,
        role=user.role.value,
        active=True,
    )
    envelope = envelope_for(
        message,
        tenant_id=user.tenant_id,
        org_unit_id=user.org_unit_id,
        aggregate_id=user.principal_id,
        aggregate_version=1,
        occurred_at=dt.datetime.now(dt.UTC),
    )
    async with sessions() as session, session.begin():
        await on_user_changed(session, message, envelope)


async def load_book(sessions, rep: Identity, count: int) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    for start in range(0, count, 1000):
        async with sessions() as session, session.begin():
            for i in range(start, min(count, start + 1000)):
                name = f"测试客户{i:05d}"
                customer = Customer(
                    id=str(uuid.uuid4()),
                    tenant_id=rep.tenant_id,
                    org_unit_id=rep.org_unit_id,
                    org_path=rep.org_path,
                    owner_id=rep.principal_id,
                    name=name,
                    addresses=[{"province": "浙江", "city": "杭州", "district": "西湖区", "detail": f"{i}号"}],
                    lifecycle_stage="lead",
                    owned_since=now,
                    created_at=now,
                    updated_at=now,
                )
                session.add(customer)
                terms = {name[j : j + 2] for j in range(len(name) - 1)}
                session.add_all(
                    SearchTerm(
                        tenant_id=rep.tenant_id, term=t, rank=1, customer_id=customer.id, owner_id=rep.principal_id
                    )
                    for t in list(terms)[:6]
                )


async def run(customers: int) -> None:
    with provisioned_postgres() as postgres, provisioned_nats() as nats_server, tempfile.TemporaryDirectory() as tmp:
        url = await postgres.create_database("bench_transfer")
        keys = make_keys(Path(tmp))
        clock = MovableClock()
        namespace = f"B{uuid.uuid4().hex[:8]}."
        async with running_service(
            SPEC, database_url=url, nats_url=nats_server.url, namespace=namespace, keys=keys, clock=clock
        ) as (running, channel):
            stub = customer_pb2_grpc.CustomerServiceStub(channel)
            tenant = str(uuid.uuid4())
            leaving, heir_a, heir_b = person(tenant), person(tenant), person(tenant)
            admin = person(tenant, Role.ADMIN)
            for user in (leaving, heir_a, heir_b):
                await announce(running.runtime.sessions, user)

            began = time.perf_counter()
            await load_book(running.runtime.sessions, leaving, customers)
            print(f"created {customers} customers in {time.perf_counter() - began:.1f} s")
            outbox = running.runtime.tables.outbox

            async def unpublished() -> int:
                async with running.runtime.sessions() as session:
                    return int(
                        await session.scalar(
                            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                        )
                        or 0
                    )

            while await unpublished():
                await asyncio.sleep(0.5)

            started = time.perf_counter()
            transfer = (
                await stub.StartTransfer(
                    tpb.StartTransferRequest(
                        request_id=str(uuid.uuid4()),
                        from_user_id=leaving.principal_id,
                        mode=tpb.TRANSFER_MODE_EVENLY,
                        to_user_ids=[heir_a.principal_id, heir_b.principal_id],
                        reason="离职交接（基准测试）",
                    ),
                    metadata=keys.metadata(admin),
                )
            ).transfer
            clock.advance(dt.timedelta(seconds=10))  # the job is due now, not in up to 5 s
            job_done = relay_done = 0.0
            while not (job_done and relay_done):
                await asyncio.sleep(0.1)
                now = time.perf_counter()
                if not job_done:
                    got = (
                        await stub.GetTransfer(tpb.GetTransferRequest(id=transfer.id), metadata=keys.metadata(admin))
                    ).transfer
                    if got.status in (tpb.TRANSFER_STATUS_COMPLETED, tpb.TRANSFER_STATUS_FAILED):
                        job_done = now - started
                        result = got
                if job_done and not relay_done and not await unpublished():
                    relay_done = now - started
            rate = result.moved / job_done
            print(f"transfer {tpb.TransferStatus.Name(result.status)}: moved {result.moved}, skipped {result.skipped}")
            print(f"  job (start → completed):               {job_done:6.1f} s  ({rate:,.0f} customers/s)")
            print(f"  relay (start → every event published): {relay_done:6.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(run(args.customers))


if __name__ == "__main__":
    main()
