"""Bare reference servers for the order benchmark's floor: grpc.aio + asyncpg, and FastAPI in front.

`python bench/order_floor.py grpc PORT DSN` serves CreateOrder and TransitionOrder(confirm) on the
order service's own tables: the customer's facts and the lines' products read, then the order, its
lines and its event rows (in a copy of the outbox) written in one transaction (confirm: the state and its events). No
identity, scope, checks, ORM, metrics or tracing: the least work the same rows can take.
`python bench/order_floor.py http PORT GRPC_TARGET` serves POST /orders and POST /orders/{id}/confirm
by calling it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import grpc
import uvicorn
from fastapi import FastAPI

from crm.events.v1.envelope_pb2 import Envelope
from crm.order.v1 import order_pb2 as pb
from crm.order.v1 import order_pb2_grpc

# The floor's event rows go to a copy of the outbox (same columns and indexes), not the outbox
# itself: the order service's relay would otherwise try to publish them during our phase.
FLOOR_OUTBOX = "CREATE TABLE IF NOT EXISTS floor_outbox (LIKE outbox INCLUDING ALL)"
OUTBOX = "INSERT INTO floor_outbox (event_id, subject, envelope, created_at, attempts) VALUES ($1, $2, $3, $4, 0)"


def envelope(kind: str, tenant_id: str, order_id: str, version: int) -> tuple[str, str, bytes, dt.datetime]:
    event_id = str(uuid.uuid4())
    body = Envelope(id=event_id, type=f"crm.order.v1.{kind}", tenant_id=tenant_id, aggregate_id=order_id)
    body.aggregate_version = version
    return event_id, f"crm.order.v1.{kind}", body.SerializeToString(), dt.datetime.now(dt.UTC)


class BareOrderServicer(order_pb2_grpc.OrderServiceServicer):
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def CreateOrder(self, request: pb.CreateOrderRequest, context: Any) -> pb.CreateOrderResponse:
        order_id, now = str(uuid.uuid4()), dt.datetime.now(dt.UTC)
        async with self._pool.acquire() as connection, connection.transaction():
            fact = await connection.fetchrow(
                "SELECT tenant_id, name, owner_id, org_unit_id FROM customer_facts WHERE customer_id = $1",
                request.customer_id,
            )
            products = {
                row["id"]: row
                for row in await connection.fetch(
                    "SELECT id, sku, name, unit, list_price_fen, cost_fen, tax_rate FROM products WHERE id = ANY($1)",
                    [line.product_id for line in request.lines],
                )
            }
            lines = []
            for number, line in enumerate(request.lines, start=1):
                product = products[line.product_id]
                milli = int(Decimal(line.quantity) * 1000)
                amount = milli * product["list_price_fen"] // 1000
                lines.append(
                    (
                        order_id, number, product["id"], product["sku"], product["name"], product["unit"], milli,
                        product["list_price_fen"], amount, product["tax_rate"], product["cost_fen"],
                    )
                )  # fmt: skip
            await connection.execute(
                "INSERT INTO orders (id, tenant_id, customer_id, customer_name, owner_id, org_unit_id, payment_mode,"
                " state, total_fen, delivery_date, delivery_address, notes, urgent, warnings, overrides,"
                " cancel_reason, created_by, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, 'cod',"
                " 'draft', $7, $8, $9, '', false, '[]', '[]', '', $5, $10, $10, 1)",
                order_id, fact["tenant_id"], request.customer_id, fact["name"], fact["owner_id"], fact["org_unit_id"],
                sum(line[8] for line in lines), dt.date.fromisoformat(request.delivery_date), "", now,
            )  # fmt: skip
            await connection.executemany(
                "INSERT INTO order_lines (order_id, line_no, product_id, sku, product_name, unit, quantity_milli,"
                " unit_price_fen, amount_fen, tax_rate, unit_cost_fen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
                " $10, $11)",
                lines,
            )
            await connection.execute(OUTBOX, *envelope("order_created", fact["tenant_id"], order_id, 1))
        return pb.CreateOrderResponse(order=pb.Order(id=order_id, version=1))

    async def TransitionOrder(self, request: pb.TransitionOrderRequest, context: Any) -> pb.TransitionOrderResponse:
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "UPDATE orders SET state = 'confirmed', version = version + 1, updated_at = $2"
                " WHERE id = $1 AND state = 'draft' RETURNING tenant_id, version",
                request.id,
                dt.datetime.now(dt.UTC),
            )
            if row is None:
                await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not a draft")
            for kind in ("order_state_changed", "order_confirmed"):
                await connection.execute(OUTBOX, *envelope(kind, row["tenant_id"], request.id, row["version"]))
        return pb.TransitionOrderResponse(order=pb.Order(id=request.id, version=row["version"]))


async def serve_grpc(port: int, dsn: str) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
    await pool.execute(FLOOR_OUTBOX)
    server = grpc.aio.server()
    order_pb2_grpc.add_OrderServiceServicer_to_server(BareOrderServicer(pool), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def http_app(target: str) -> FastAPI:
    app = FastAPI()
    state: dict[str, Any] = {}

    @app.on_event("startup")
    async def _open() -> None:
        state["stub"] = order_pb2_grpc.OrderServiceStub(grpc.aio.insecure_channel(target))

    @app.post("/orders", status_code=201)
    async def create_order(body: dict[str, Any]) -> dict[str, Any]:
        request = pb.CreateOrderRequest(
            customer_id=body["customer_id"],
            delivery_date=body["delivery_date"],
            lines=[
                pb.OrderLineInput(product_id=line["product_id"], quantity=line["quantity"]) for line in body["lines"]
            ],
        )
        reply = await state["stub"].CreateOrder(request, timeout=5)
        return {"id": reply.order.id, "version": reply.order.version}

    @app.post("/orders/{order_id}/confirm")
    async def confirm_order(order_id: str) -> dict[str, Any]:
        request = pb.TransitionOrderRequest(id=order_id, action=pb.ORDER_ACTION_CONFIRM)
        reply = await state["stub"].TransitionOrder(request, timeout=5)
        return {"id": reply.order.id, "version": reply.order.version}

    return app


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "grpc":
        asyncio.run(serve_grpc(port, sys.argv[3]))
    else:
        uvicorn.run(http_app(sys.argv[3]), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
