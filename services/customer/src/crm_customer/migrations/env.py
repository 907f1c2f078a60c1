"""Alembic environment of the customer service."""

from crm_customer import models  # noqa: F401  (registers every feature's tables)
from crm_customer.database import Base
from crmkit.migration_env import run_migrations

run_migrations(Base.metadata)
