"""The Alembic environment of every service: the service's tables come in the config's attributes."""

from alembic import context

from crmkit.migration_env import run_migrations

run_migrations(context.config.attributes["target_metadata"])
