"""`python -m crm_gateway [serve|migrate]`."""

from __future__ import annotations

import asyncio
import sys

import uvicorn

from crm_gateway.app import MIGRATIONS, create_app
from crm_gateway.database import Base
from crm_gateway.settings import get_settings
from crmkit.db import upgrade_database
from crmkit.metrics import serve_metrics
from crmkit.telemetry import setup_logging, setup_tracing


def main() -> None:
    settings = get_settings()
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if command == "migrate":
        asyncio.run(upgrade_database(MIGRATIONS, settings.database_url, Base.metadata))
        return
    if command != "serve":
        raise SystemExit("usage: crm-gateway [serve|migrate]")
    setup_logging("crm-gateway", json_logs=settings.log_json, level=settings.log_level)
    setup_tracing("crm-gateway")
    # Prometheus on its own port, never on the public one.
    serve_metrics(settings.metrics_port, host=settings.http_host)
    uvicorn.run(
        create_app(settings, exit_on_crash=True),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        server_header=False,
    )


if __name__ == "__main__":
    main()
