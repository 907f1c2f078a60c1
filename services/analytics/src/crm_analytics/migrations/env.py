"""Alembic environment of the analytics service."""

from crmkit.migration_env import run_migrations
from crm_analytics.customer_summary import models  # noqa: F401  (registers the tables)
from crm_analytics.database import Base

run_migrations(Base.metadata)
