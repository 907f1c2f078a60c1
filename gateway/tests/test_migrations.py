"""The gateway's migrations create exactly the schema its models describe."""

from __future__ import annotations

from crm_gateway.app import MIGRATIONS
from crm_gateway.auth import models as auth_models  # noqa: F401  (registers the tables)
from crm_gateway.database import Base
from crm_gateway.directory import models as directory_models  # noqa: F401
from crm_gateway.login_protection import models as login_protection_models  # noqa: F401
from crm_gateway.notifications import models as notifications_models  # noqa: F401
from crm_gateway.rate_limits import models as rate_limits_models  # noqa: F401
from crm_gateway.two_factor import models as two_factor_models  # noqa: F401
from crmkit.testing.migrations import schema_drift


async def test_migrations_produce_the_schema_of_the_models(pg_database_url: str) -> None:
    assert await schema_drift(pg_database_url, MIGRATIONS, Base.metadata) == []
