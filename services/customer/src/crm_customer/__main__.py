"""`python -m crm_customer [serve|migrate]`."""

from __future__ import annotations

import sys

from crm_customer.server import MIGRATIONS, serve
from crm_customer.settings import get_settings
from crmkit.runtime import run_cli


def main() -> None:
    settings = get_settings()
    run_cli(
        "customer",
        settings=settings,
        database_url=settings.resolved_database_url(),
        migrations_dir=MIGRATIONS,
        serve=lambda: serve(settings),
        argv=sys.argv[1:],
    )


if __name__ == "__main__":
    main()
