"""Order service: catalogue, orders and their history (`python -m crm_order`)."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """The order service's tables (the kit adds its event tables)."""
