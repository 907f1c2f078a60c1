"""The edge: security headers on every answer, bodies held to a size, transport errors kept
inside, API docs switchable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from fastapi import FastAPI

from crm_gateway import problems
from crm_gateway.app import create_app
from crm_gateway.edge import EdgeGuard
from crm_gateway.settings import get_settings

CUSTOMERS = "/api/v1/customers"


async def test_every_answer_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/healthz"), await client.get(CUSTOMERS), await client.get("/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "server" not in response.headers


async def test_a_body_declared_over_the_limit_is_refused_with_413_before_it_is_read(client, org) -> None:  # type: ignore[no-untyped-def]
    huge = b'{"name": "' + b"x" * 1_100_000 + b'"}'

    response = await client.post(
        CUSTOMERS, content=huge, headers={**org.sales_a.headers, "content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"


async def test_a_streamed_body_growing_past_the_limit_is_refused_with_413(client, org) -> None:  # type: ignore[no-untyped-def]
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    response = await client.post(
        CUSTOMERS, content=chunks(), headers={**org.sales_a.headers, "content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def _app_failing_with(error: grpc.aio.AioRpcError) -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/probe")
    async def probe() -> None:
        raise error

    return app


@pytest.mark.parametrize(
    ("code", "details", "status", "problem_code"),
    [
        (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "SERVER: Received message larger than max (5242998 vs. 4194304)",
            413,
            "payload_too_large",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1",
            503,
            "service_unavailable",
        ),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded", 504, "deadline_exceeded"),
    ],
)
async def test_an_error_of_grpc_itself_answers_its_status_without_transport_text(
    code: grpc.StatusCode, details: str, status: int, problem_code: str
) -> None:
    error = grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)
    transport = httpx.ASGITransport(app=_app_failing_with(error))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.get("/probe", headers={"accept-language": "en"})

    assert response.status_code == status
    body = response.json()
    assert body["code"] == problem_code
    assert details not in body["detail"]
    assert "127.0.0.1" not in body["detail"] and "SERVER" not in body["detail"]


async def test_api_docs_can_be_switched_off() -> None:
    app = create_app(get_settings(api_docs=False), migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 404, path


async def test_hsts_is_sent_only_when_configured() -> None:
    async def ok(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"server", b"uvicorn")]})
        await send({"type": "http.response.body", "body": b""})

    for seconds, expected in ((0, None), (31536000, "max-age=31536000")):
        transport = httpx.ASGITransport(app=EdgeGuard(ok, max_body_bytes=10, hsts_seconds=seconds))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            response = await client.get("/")
        assert response.headers.get("strict-transport-security") == expected
        assert "server" not in response.headers
