"""Bare reference servers for the benchmark floors: grpc.aio + asyncpg, and FastAPI in front of it.

`python bench/floors.py grpc PORT DSN` serves GetCustomer as a plain primary-key lookup;
`python bench/floors.py http PORT GRPC_TARGET` serves GET /customers/{id} by calling it.
No identity, scope, ORM, metrics or tracing: the least work the same answer can take.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import asyncpg
import grpc
import uvicorn
from fastapi import FastAPI, HTTPException

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import customer_pb2_grpc


class BareCustomerServicer(customer_pb2_grpc.CustomerServiceServicer):
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def GetCustomer(self, request: pb.GetCustomerRequest, context: Any) -> pb.GetCustomerResponse:
        row = await self._pool.fetchrow(
            "SELECT id, tenant_id, org_unit_id, owner_id, name, short_name, type, lifecycle_stage, version "
            "FROM customers WHERE id = $1",
            request.id,
        )
        if row is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "not found")
        return pb.GetCustomerResponse(
            customer=pb.Customer(
                id=row["id"],
                tenant_id=row["tenant_id"],
                org_unit_id=row["org_unit_id"],
                owner_id=row["owner_id"],
                name=row["name"],
                short_name=row["short_name"],
                type=row["type"],
                version=row["version"],
            )
        )


async def serve_grpc(port: int, dsn: str) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
    server = grpc.aio.server()
    customer_pb2_grpc.add_CustomerServiceServicer_to_server(BareCustomerServicer(pool), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def http_app(target: str) -> FastAPI:
    app = FastAPI()
    state: dict[str, Any] = {}

    @app.on_event("startup")
    async def _open() -> None:
        state["stub"] = customer_pb2_grpc.CustomerServiceStub(grpc.aio.insecure_channel(target))

    @app.get("/customers/{customer_id}")
    async def get_customer(customer_id: str) -> dict[str, Any]:
        try:
            reply = await state["stub"].GetCustomer(pb.GetCustomerRequest(id=customer_id), timeout=5)
        except grpc.aio.AioRpcError as exc:
            raise HTTPException(404) from exc
        c = reply.customer
        return {"id": c.id, "name": c.name, "short_name": c.short_name, "type": c.type, "owner_id": c.owner_id}

    return app


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "grpc":
        asyncio.run(serve_grpc(port, sys.argv[3]))
    else:
        uvicorn.run(http_app(sys.argv[3]), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
