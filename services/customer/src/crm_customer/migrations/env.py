"""Alembic environment of the customer service."""

from crmkit.migration_env import run_migrations
from crm_customer.database import Base
from crm_customer.customers import models  # noqa: F401  (registers the tables)

run_migrations(Base.metadata)
