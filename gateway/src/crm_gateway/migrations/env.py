"""Alembic environment of the gateway."""

from crm_gateway.auth import models as auth_models  # noqa: F401  (registers the tables)
from crm_gateway.database import Base
from crm_gateway.directory import models as directory_models  # noqa: F401
from crmkit.migration_env import run_migrations

run_migrations(Base.metadata)
