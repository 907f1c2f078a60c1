"""Health, readiness, metrics and API docs: what operators and client developers rely on."""

from __future__ import annotations

import inspect

import httpx
from prometheus_client import generate_latest

from crm_gateway import web


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_the_database_answers_and_reports_each_service(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert {name: body["checks"][name] for name in ("database", "nats", "customer", "analytics")} == dict.fromkeys(
        ("database", "nats", "customer", "analytics"), "ok"
    )
    # This test stack runs no order service: reported, and not required (only the database is).
    assert body["checks"]["order"].startswith("error")


async def test_metrics_count_http_requests_by_route_on_the_metrics_port_not_the_public_one(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/healthz")

    exposed = generate_latest().decode()  # what `python -m crm_gateway` serves on its metrics port

    assert 'crm_http_requests_total{method="GET",route="/healthz",status="200"}' in exposed
    assert (await client.get("/metrics")).status_code == 404


async def test_openapi_document_lists_the_customer_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/customers"])
    assert "/api/v1/auth/login" in paths


async def test_openapi_document_asks_for_a_bearer_token_on_signed_in_operations_only(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    paths = document["paths"]
    assert paths["/api/v1/customers/{customer_id}"]["get"]["security"] == [{"bearer": []}]
    assert paths["/api/v1/customers"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in paths["/api/v1/auth/login"]["post"]


def test_shared_dependencies_run_on_the_event_loop() -> None:
    """FastAPI runs a plain-`def` dependency in a worker thread; every route uses these two, and
    the thread hop halved the gateway's throughput (docs/performance.md)."""
    assert inspect.iscoroutinefunction(web.state)
    assert inspect.iscoroutinefunction(web.caller)


OAUTH_TOKEN = "client_credentials_token_api_v1_oauth_token_post"


async def test_every_operation_declares_each_error_it_may_answer_as_problem_json(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    operations = [op for ops in document["paths"].values() for op in ops.values()]
    assert operations
    for operation in operations:
        responses = operation["responses"]
        for status in ("400", "401", "403", "404", "409", "413", "422", "429", "500", "503", "504"):
            if operation["operationId"] == OAUTH_TOKEN and status in ("400", "401"):
                # OAuth clients read RFC 6749's error body, not a problem.
                assert responses[status]["content"] == {
                    "application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}
                }
                continue
            assert responses[status]["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (operation["operationId"], status)
    assert {"code", "detail", "status"} <= set(document["components"]["schemas"]["Problem"]["properties"])
