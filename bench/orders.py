"""Order benchmark: create + confirm an order of 5 lines through the gateway, beside a bare floor.

Runs a local stack on PostgreSQL (a throwaway server unless CRM_TEST_DATABASE_URL) and prints, in
one run, throughput and p50/p99 at the chosen concurrency of one unit of work — POST an order of
5 lines, then confirm it — for:
  floor: a bare FastAPI → grpc.aio → asyncpg chain (bench/order_floor.py) doing the same reads
         and the same inserts (order, lines, event rows) in one transaction per call;
  ours:  POST /api/v1/orders + POST /api/v1/orders/{id}/confirm through the gateway.
and (c) a customer's order list, GET /api/v1/orders?customer_id=…, p50/p99 once --history orders
are on file. Targets (issue 13): ours ≥ 40% of the floor's throughput, p99 < 150 ms; the list
p99 < 30 ms.
Usage: python bench/orders.py [--duration 10] [--concurrency 32] [--history 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import multiprocessing
import os
import signal
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from load import ADMIN_PASSWORD, spawn
from search import drive, plain_dsn

from crm_devstack.stack import Stack, StackConfig, free_port
from crmkit.clock import SHANGHAI
from crmkit.components import registry
from crmkit.testing.infra import provisioned_nats, provisioned_postgres

HERE = Path(__file__).resolve().parent
REP_PASSWORD = "bench-rep-2026"
PRODUCTS = [
    ("BM-001", "东北大米", "袋", "135.00"),
    ("YY-001", "金龙鱼大豆油", "桶", "79.90"),
    ("JD-001", "鲜鸡蛋", "箱", "168.00"),
    ("QC-001", "青菜", "公斤", "4.50"),
    ("NR-001", "冷冻牛腩", "公斤", "58.50"),
]


async def seed(stack: Stack, customers: int) -> tuple[dict[str, str], list[str], list[str]]:
    """A rep with `customers` customers the order service knows, and five products."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:

        async def login(username: str, password: str) -> dict[str, str]:
            reply = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
            reply.raise_for_status()
            return {"Authorization": f"Bearer {reply.json()['access_token']}"}

        admin = await login("admin", ADMIN_PASSWORD)
        hq = (await client.get("/api/v1/org-units", headers=admin)).json()["items"][0]
        body = {"username": "bench.rep", "display_name": "压测销售", "password": REP_PASSWORD, "role": "sales"}
        (await client.post("/api/v1/users", json={**body, "org_unit_id": hq["id"]}, headers=admin)).raise_for_status()
        rep = await login("bench.rep", REP_PASSWORD)
        products = []
        for sku, name, unit, price in PRODUCTS:
            reply = await client.put(
                f"/api/v1/products/by-sku/{sku}",
                json={"name": name, "unit": unit, "list_price": price, "cost": "1.00"},
                headers=admin,
            )
            reply.raise_for_status()
            products.append(reply.json()["product"]["id"])
        ids = []
        for index in range(customers):
            reply = await client.post(
                "/api/v1/customers", json={"name": f"压测第{index + 1}中学食堂", "type": "学校食堂"}, headers=rep
            )
            reply.raise_for_status()
            ids.append(reply.json()["id"])
        # The order service learns of customers from their events: wait until it knows the last.
        # (A draft of one line: an empty order would be refused at the gateway before it got there.)
        probe = order_body(ids[-1], products[:1])
        for _ in range(300):
            reply = await client.post("/api/v1/orders", json=probe, headers=rep)
            if reply.status_code != 404:
                break
            await asyncio.sleep(0.2)
        return rep, ids, products


def delivery_date() -> str:
    return (dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=2)).isoformat()


def order_body(customer_id: str, products: list[str]) -> dict[str, Any]:
    lines = [{"product_id": product, "quantity": "2"} for product in products]
    return {"customer_id": customer_id, "payment_mode": "cod", "delivery_date": delivery_date(), "lines": lines}


async def benchmark(stack: Stack, order_db: str, args: argparse.Namespace) -> None:
    rep, customers, products = await seed(stack, args.customers)
    pick = itertools.cycle(customers).__next__
    floor_grpc_port, floor_http_port = free_port(), free_port()
    floor_grpc = spawn(
        [sys.executable, str(HERE / "order_floor.py"), "grpc", str(floor_grpc_port), plain_dsn(order_db)],
        floor_grpc_port,
    )
    floor_http = spawn(
        [sys.executable, str(HERE / "order_floor.py"), "http", str(floor_http_port), f"127.0.0.1:{floor_grpc_port}"],
        floor_http_port,
    )
    c, d = args.concurrency, args.duration
    pids = {name: process.pid for name, process in stack.processes.items()}
    try:
        connector = aiohttp.TCPConnector(limit=c)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=15)) as http:
            bare = f"http://127.0.0.1:{floor_http_port}"

            async def bare_order() -> None:
                async with http.post(f"{bare}/orders", json=order_body(pick(), products)) as reply:
                    reply.raise_for_status()
                    order = await reply.json()
                async with http.post(f"{bare}/orders/{order['id']}/confirm") as reply:
                    reply.raise_for_status()
                    await reply.read()

            async def our_order() -> None:
                async with http.post(
                    f"{stack.gateway_url}/api/v1/orders", json=order_body(pick(), products), headers=rep
                ) as reply:
                    reply.raise_for_status()
                    order = await reply.json()
                async with http.post(
                    f"{stack.gateway_url}/api/v1/orders/{order['id']}/confirm", json={}, headers=rep
                ) as reply:
                    reply.raise_for_status()
                    await reply.read()

            floor = await drive(
                "floor: bare FastAPI → grpc.aio → asyncpg",
                bare_order,
                concurrency=c,
                duration=d,
                processes={"http": floor_http.pid, "grpc": floor_grpc.pid},
            )
            print(floor.line(), flush=True)
            ours = await drive(
                "create + confirm via gateway",
                our_order,
                concurrency=c,
                duration=d,
                processes={"gateway": pids["gateway"], "order": pids["order"]},
            )
            print(ours.line(), flush=True)
            print(
                f"\nratio (ours / floor, same run): throughput {ours.throughput / floor.throughput:.0%}   "
                f"p99 {ours.pct(99):.1f} ms vs {floor.pct(99):.1f} ms  (targets ≥ 40%, p99 < 150 ms)"
            )

            # (c) one customer with --history orders: the list a rep opens on the customer's page.
            busy = customers[0]
            for _ in range(args.history):
                async with http.post(
                    f"{stack.gateway_url}/api/v1/orders", json=order_body(busy, products), headers=rep
                ) as reply:
                    reply.raise_for_status()

            async def customer_orders() -> None:
                async with http.get(
                    f"{stack.gateway_url}/api/v1/orders", params={"customer_id": busy}, headers=rep
                ) as reply:
                    reply.raise_for_status()
                    await reply.read()

            listing = await drive(
                f"(c) a customer's orders ({args.history}+ on file)",
                customer_orders,
                concurrency=args.list_concurrency,
                duration=d,
                processes={"gateway": pids["gateway"], "order": pids["order"]},
            )
            print(listing.line() + "  (target p99 < 30 ms)", flush=True)
    finally:
        floor_http.terminate()
        floor_grpc.terminate()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--customers", type=int, default=50, help="customers the orders spread over")
    parser.add_argument("--history", type=int, default=2000, help="orders on file for the list of (c)")
    parser.add_argument("--list-concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    roomy = {"burst": 10_000_000, "per_minute": 600_000_000}
    os.environ.setdefault("CRM_GATEWAY_RATE_LIMITS", json.dumps(dict.fromkeys(("auth", "reads", "writes"), roomy)))
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
                {"concurrency": args.concurrency, "duration_s": args.duration, "cpus": multiprocessing.cpu_count()}
            )
        )
        try:
            stack.start(timeout=90)
            asyncio.run(benchmark(stack, databases["order"], args))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
