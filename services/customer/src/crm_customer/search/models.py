"""The search-term table: our own n-gram/pinyin index of customers."""

from __future__ import annotations

from sqlalchemy import Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_customer.database import Base
from crmkit.db import bytewise


class SearchTerm(Base):
    """Our own n-gram/pinyin index: works for 2-character Chinese queries and any DB ctype."""

    __tablename__ = "customer_search_terms"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    term: Mapped[str] = mapped_column(bytewise(32), primary_key=True)
    # Lower is a better match; part of the key so one index both finds and orders.
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The customer's owner, copied here so a sales rep's search (the common case) is one ordered
    # range of the owner index instead of probing the rep's whole book against the term. A
    # customer in a pool keeps its last owner's here (pools.service.move_many_into_pool): the
    # rep's search checks the customer row's owner too, so a stale copy only costs that check.
    owner_id: Mapped[str] = mapped_column(String(36))

    __table_args__ = (
        Index("ix_search_terms_customer", "customer_id", "term"),
        Index("ix_search_terms_owner", "tenant_id", "owner_id", "term", "rank", "customer_id"),
    )
