"""Alembic environment of the analytics service."""

from crm_analytics.customer_summary import models  # noqa: F401  (registers the tables)
from crm_analytics.database import Base
from crmkit.migration_env import run_migrations

run_migrations(Base.metadata)
