"""Load benchmark: our GetCustomer (gRPC and via the gateway) against bare floors, and search.

Runs against a local stack on PostgreSQL (CRM_TEST_DATABASE_URL, else a throwaway server) and
prints, in one run, throughput and p50/p99 at the chosen concurrency for:
  (a) GetCustomer over gRPC        vs a bare grpc.aio + asyncpg primary-key lookup
  (b) GET /api/v1/customers/{id}   vs a bare FastAPI → grpc.aio → asyncpg chain
  (c) SearchCustomers p50/p99 on --search-customers synthetic customers, by query shape.
Usage: python bench/load.py [--duration 10] [--concurrency 64] [--search-customers 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import grpc
import httpx
from search import Result, drive, explain, load_search_corpus, measure_search, plain_dsn, share_with_rep

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import customer_pb2_grpc
from crm_devstack.stack import Stack, StackConfig, free_port, personal_data_keys, wait_for_port
from crmkit.components import registry
from crmkit.identity import METADATA_KEY, Identity, IdentitySigner, Role
from crmkit.pii import Keyring
from crmkit.testing.infra import provisioned_nats, provisioned_postgres

HERE = Path(__file__).resolve().parent
ADMIN_PASSWORD = "bench-admin-2026"
REP_PASSWORD = "bench-rep-2026"


def spawn(args: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, timeout=30, process=process)
    return process


async def seed(stack: Stack, customers: int) -> tuple[Identity, str, list[str]]:
    """Admin hires a rep; the rep creates customers through the gateway. Returns rep identity."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        admin_tokens = (
            await client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        ).json()
        admin = {"Authorization": f"Bearer {admin_tokens['access_token']}"}
        hq = (await client.get("/api/v1/org-units", headers=admin)).json()["items"][0]
        user = (
            await client.post(
                "/api/v1/users",
                headers=admin,
                json={
                    "username": "bench.rep",
                    "display_name": "压测销售",
                    "password": REP_PASSWORD,
                    "role": "sales",
                    "org_unit_id": hq["id"],
                },
            )
        ).json()
        tokens = (
            await client.post("/api/v1/auth/login", json={"username": "bench.rep", "password": REP_PASSWORD})
        ).json()
        rep = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = (await client.get("/api/v1/auth/me", headers=rep)).json()
        gate = asyncio.Semaphore(16)
        ids: list[str] = []

        async def create(index: int) -> None:
            async with gate:
                reply = await client.post(
                    "/api/v1/customers",
                    headers=rep,
                    json={
                        "name": f"上海市浦东新区第{index + 1}实验学校食堂",
                        "type": "学校食堂",
                        "contacts": [{"name": "张伟", "mobile": f"139{index:08d}", "decision_role": "purchaser"}],
                    },
                )
                reply.raise_for_status()
                ids.append(reply.json()["id"])

        await asyncio.gather(*(create(i) for i in range(customers)))
    identity = Identity(
        principal_id=user["id"], tenant_id=me["tenant_id"], org_unit_id=hq["id"], org_path=hq["path"], role=Role.SALES
    )
    return identity, tokens["access_token"], ids


# ------------------------------------------------------------------ main


async def benchmark(stack: Stack, customer_db: str, args: argparse.Namespace) -> None:
    identity, access_token, ids = await seed(stack, args.customers)
    signer = IdentitySigner.from_file(stack.config.state_dir / "keys" / "identity_private.pem")
    metadata = ((METADATA_KEY, signer.sign(identity)),)
    pick = itertools.cycle(ids).__next__
    results: list[tuple[Result, Result]] = []

    ours = grpc.aio.insecure_channel(f"127.0.0.1:{stack.port('customer')}")
    stub = customer_pb2_grpc.CustomerServiceStub(ours)

    async def our_get() -> None:
        await stub.GetCustomer(pb.GetCustomerRequest(id=pick()), metadata=metadata, timeout=5)

    floor_grpc_port, floor_http_port = free_port(), free_port()
    floor_grpc = spawn(
        [sys.executable, str(HERE / "floors.py"), "grpc", str(floor_grpc_port), plain_dsn(customer_db)], floor_grpc_port
    )
    floor_http = spawn(
        [sys.executable, str(HERE / "floors.py"), "http", str(floor_http_port), f"127.0.0.1:{floor_grpc_port}"],
        floor_http_port,
    )
    try:
        bare = grpc.aio.insecure_channel(f"127.0.0.1:{floor_grpc_port}")
        bare_stub = customer_pb2_grpc.CustomerServiceStub(bare)

        async def bare_get() -> None:
            await bare_stub.GetCustomer(pb.GetCustomerRequest(id=pick()), timeout=5)

        c, d = args.concurrency, args.duration
        pids = {name: process.pid for name, process in stack.processes.items()}
        floor_a = await drive(
            "floor: bare grpc.aio + asyncpg", bare_get, concurrency=c, duration=d, processes={"grpc": floor_grpc.pid}
        )
        print(floor_a.line(), flush=True)
        ours_a = await drive(
            "(a) GetCustomer over gRPC", our_get, concurrency=c, duration=d, processes={"customer": pids["customer"]}
        )
        print(ours_a.line(), flush=True)
        results.append((ours_a, floor_a))

        # aiohttp, not httpx, drives HTTP: httpx's pool tops out near 350 req/s here and would
        # measure itself rather than the servers.
        connector = aiohttp.TCPConnector(limit=c)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as http:
            bare_base = f"http://127.0.0.1:{floor_http_port}"
            auth = {"Authorization": f"Bearer {access_token}"}

            async def bare_rest() -> None:
                async with http.get(f"{bare_base}/customers/{pick()}") as reply:
                    reply.raise_for_status()
                    await reply.read()

            async def our_rest() -> None:
                async with http.get(f"{stack.gateway_url}/api/v1/customers/{pick()}", headers=auth) as reply:
                    reply.raise_for_status()
                    await reply.read()

            floor_b = await drive(
                "floor: bare FastAPI → grpc.aio → asyncpg",
                bare_rest,
                concurrency=c,
                duration=d,
                processes={"http": floor_http.pid, "grpc": floor_grpc.pid},
            )
            print(floor_b.line(), flush=True)
            ours_b = await drive(
                "(b) GET /api/v1/customers/{id} via gateway",
                our_rest,
                concurrency=c,
                duration=d,
                processes={"gateway": pids["gateway"], "customer": pids["customer"]},
            )
            print(ours_b.line(), flush=True)
            results.append((ours_b, floor_b))
        await bare.close()
    finally:
        floor_http.terminate()
        floor_grpc.terminate()

    print("\nratios (ours / floor, same run, same machine and database):")
    for ours_r, floor_r in results:
        print(
            f"  {ours_r.name:<44} throughput {ours_r.throughput / floor_r.throughput:6.0%}   "
            f"p99 {ours_r.pct(99):.1f} ms vs {floor_r.pct(99):.1f} ms"
        )

    if args.search_customers:
        print(f"\n(c) search on {args.search_customers} customers (PostgreSQL, LC_CTYPE=C database)")
        keyring = Keyring.from_file(personal_data_keys(stack.config.state_dir, "customer"))
        await load_search_corpus(plain_dsn(customer_db), identity, args.search_customers, keyring)
        await share_with_rep(plain_dsn(customer_db), identity)
        await measure_search(
            f"127.0.0.1:{stack.port('customer')}",
            signer,
            identity,
            total=args.search_customers,
            concurrency=args.search_concurrency,
            duration=max(3.0, args.duration / 2),
        )
        print("\n  plan of the 2-character query 食堂 (admin scope):")
        print(await explain(plain_dsn(customer_db), identity.tenant_id, "食堂"))
    await ours.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured phase")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--customers", type=int, default=300, help="customers created through the API for (a)/(b)")
    parser.add_argument("--search-customers", type=int, default=100_000, help="synthetic corpus for (c); 0 skips")
    parser.add_argument("--search-concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    # One rep drives thousands of requests a second here: budgets no person meets, so the rate
    # limiter's path is measured (a slice of the shared bucket per `rate_limit_lease` requests)
    # without a 429. CRM_GATEWAY_RATE_LIMITS_ENABLED=0 measures the gateway without it.
    roomy = {"burst": 10_000_000, "per_minute": 600_000_000}
    os.environ.setdefault("CRM_GATEWAY_RATE_LIMITS", json.dumps(dict.fromkeys(("auth", "reads", "writes"), roomy)))
    # SIGTERM (timeout, kill) must still run the finally blocks that stop the stack and servers.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    with provisioned_postgres() as postgres, provisioned_nats() as nats_server:
        databases = {c: asyncio.run(postgres.create_database(f"bench_{c}")) for c in registry()}
        state_dir = Path(f"/tmp/keyuan-bench-{uuid.uuid4().hex[:8]}")
        stack = Stack(
            StackConfig(
                state_dir=state_dir,
                ports={"gateway": free_port()},
                nats_url=nats_server.url,
                database_urls=databases,
                event_namespace=f"bench{free_port()}.",
                admin_password=ADMIN_PASSWORD,
                log_dir=state_dir / "logs",
            )
        )
        print(
            json.dumps(
                {
                    "postgres": postgres.admin_url,
                    "nats": nats_server.url,
                    "concurrency": args.concurrency,
                    "duration_s": args.duration,
                    "cpus": multiprocessing.cpu_count(),
                }
            )
        )
        try:
            stack.start(timeout=90)
            asyncio.run(benchmark(stack, databases["customer"], args))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
