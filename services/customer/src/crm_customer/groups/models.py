"""Relations between customers (上下游, 推荐, 同集团). Each is stored once, in one direction, and
read from either end with the matching kind: "B supplies A" is A's upstream supplier and B's
downstream customer. (A branch's parent is `customers.parent_customer_id`.)"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

KINDS = ProtoEnum(prpb.RelationKind)
# Stored kinds, read from `customer_id`'s side; the other end sees the inverse.
UPSTREAM_SUPPLIER, REFERRED_BY, SAME_GROUP = "upstream_supplier", "referred_by", "same_group"
INVERSE = {
    "upstream_supplier": "downstream_customer",
    "downstream_customer": "upstream_supplier",
    "referred_by": "referred",
    "referred": "referred_by",
    "same_group": "same_group",
}


class CustomerRelationRow(Base):
    """`related_customer_id` is `customer_id`'s <kind>: its upstream supplier, its referrer, or
    in its group (stored with the smaller id first)."""

    __tablename__ = "customer_relations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    related_customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # One relation of a kind between two customers; and a customer's relations from its side.
        Index("uq_customer_relations_pair", "customer_id", "related_customer_id", "kind", unique=True),
        # ... and from the other end's side.
        Index("ix_customer_relations_related", "related_customer_id"),
    )


def stored_form(customer_id: str, related_id: str, kind: str) -> tuple[str, str, str]:
    """(customer, related, stored kind) of "related is customer's <kind>"."""
    if kind in ("downstream_customer", "referred"):
        return related_id, customer_id, INVERSE[kind]
    if kind == SAME_GROUP:
        first, second = sorted((customer_id, related_id))
        return first, second, kind
    return customer_id, related_id, kind


def relation_to_proto(row: CustomerRelationRow, *, seen_from: str, related_name: str) -> prpb.CustomerRelation:
    """The relation as `seen_from` (one of its ends) reads it."""
    if seen_from == row.customer_id:
        other, kind = row.related_customer_id, row.kind
    else:
        other, kind = row.customer_id, INVERSE[row.kind]
    return prpb.CustomerRelation(
        id=row.id,
        customer_id=seen_from,
        related_customer_id=other,
        related_customer_name=related_name,
        kind=KINDS.to_proto(kind),  # type: ignore[arg-type]
        note=row.note,
        created_by=row.created_by,
        create_time=timestamp_of(as_utc(row.created_at)),
    )
