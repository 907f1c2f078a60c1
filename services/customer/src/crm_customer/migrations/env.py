"""Alembic environment of the customer service."""

from crm_customer.customers import models  # noqa: F401  (registers the tables)
from crm_customer.database import Base
from crmkit.migration_env import run_migrations

run_migrations(Base.metadata)
