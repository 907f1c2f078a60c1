"""`python -m crm_customer [serve|migrate]`."""

from __future__ import annotations

import asyncio
import sys

from crmkit.db import upgrade_database
from crmkit.runtime import prepare_process
from crm_customer.server import MIGRATIONS, serve
from crm_customer.settings import get_settings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = get_settings()
    if command == "migrate":
        asyncio.run(upgrade_database(MIGRATIONS, settings.resolved_database_url()))
        return
    if command != "serve":
        raise SystemExit("usage: crm-customer [serve|migrate]")
    prepare_process(settings, "customer")
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
