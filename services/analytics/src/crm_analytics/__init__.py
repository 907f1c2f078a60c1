"""Analytics service: read models built only from events (`python -m crm_analytics`)."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """The analytics service's tables (the kit adds its event tables)."""
