"""Pool tables: the pools (公海) bound to org units, and reps' claims on their customers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import pools_pb2 as ppb
from crm_customer.customers.models import Customer
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.db import bytewise
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

CLAIM_STATUSES = ProtoEnum(ppb.ClaimStatus)
DEFAULT_RULES: dict[str, Any] = {
    "no_follow_up_days": {"vip": 30, "key": 20, "normal": 15},
    "no_deal_days": 0,
    "warn_days_before": 3,
    "cooldown_days": 30,
    "claims_per_day": 0,
    "first_visit_days": 7,
    "exempt_active_contract": True,
    "no_order_days": 0,
}


class Pool(Base):
    __tablename__ = "pools"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(50))
    org_unit_id: Mapped[str] = mapped_column(String(36))
    org_path: Mapped[str] = mapped_column(bytewise(400))
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # One pool per org unit: "the pool of this unit" must mean one pool.
        Index("uq_pools_tenant_org_unit", "tenant_id", "org_unit_id", unique=True),
    )


class PoolClaim(Base):
    __tablename__ = "pool_claims"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    pool_id: Mapped[str] = mapped_column(ForeignKey("pools.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    claimant_id: Mapped[str] = mapped_column(String(36))
    # Where the claimant sits: an approved claim places the customer there.
    claimant_org_unit_id: Mapped[str] = mapped_column(String(36))
    claimant_org_path: Mapped[str] = mapped_column(bytewise(400))
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))
    decider_id: Mapped[str] = mapped_column(String(36), default="")
    comment: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        # At most one pending claim per customer: the second claimant is told at once.
        Index(
            "uq_pool_claims_pending_customer",
            "customer_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_pool_claims_claimant_created", "tenant_id", "claimant_id", "created_at", "id"),
        Index("ix_pool_claims_pool_created", "pool_id", "created_at", "id"),
    )


def rules_to_proto(rules: dict[str, Any]) -> ppb.PoolRules:
    merged = {**DEFAULT_RULES, **rules}
    return ppb.PoolRules(
        no_follow_up_days={str(k): int(v) for k, v in merged["no_follow_up_days"].items()},
        no_deal_days=int(merged["no_deal_days"]),
        warn_days_before=int(merged["warn_days_before"]),
        cooldown_days=int(merged["cooldown_days"]),
        claims_per_day=int(merged["claims_per_day"]),
        first_visit_days=int(merged["first_visit_days"]),
        exempt_active_contract=bool(merged["exempt_active_contract"]),
        no_order_days=int(merged["no_order_days"]),
    )


def pool_to_proto(pool: Pool, customer_count: int = 0) -> ppb.Pool:
    return ppb.Pool(
        id=pool.id,
        name=pool.name,
        org_unit_id=pool.org_unit_id,
        org_path=pool.org_path,
        requires_approval=pool.requires_approval,
        rules=rules_to_proto(pool.rules or {}),
        version=pool.version,
        customer_count=customer_count,
        create_time=timestamp_of(as_utc(pool.created_at)),
        update_time=timestamp_of(as_utc(pool.updated_at)),
    )


def claim_to_proto(claim: PoolClaim, customer_name: str) -> ppb.PoolClaim:
    return ppb.PoolClaim(
        id=claim.id,
        pool_id=claim.pool_id,
        customer_id=claim.customer_id,
        customer_name=customer_name,
        claimant_id=claim.claimant_id,
        reason=claim.reason,
        status=CLAIM_STATUSES.to_proto(claim.status),  # type: ignore[arg-type]
        decider_id=claim.decider_id,
        comment=claim.comment,
        create_time=timestamp_of(as_utc(claim.created_at)),
        decide_time=timestamp_of(as_utc(claim.decided_at)) if claim.decided_at else None,
    )


def pool_customer_to_proto(customer: Customer, claim_pending: bool) -> ppb.PoolCustomer:
    first = (customer.addresses or [{}])[0] if customer.addresses else {}
    region = "".join(first.get(key, "") for key in ("province", "city", "district"))
    return ppb.PoolCustomer(
        id=customer.id,
        name=customer.name,
        short_name=customer.short_name,
        type=customer.type,
        tier=customer.tier,
        lifecycle_stage=customer.lifecycle_stage,
        tags=list(customer.tags or []),
        region=region,
        enter_time=timestamp_of(as_utc(customer.pool_entered_at)) if customer.pool_entered_at else None,
        enter_kind=customer.pool_enter_kind,
        enter_reason=customer.pool_enter_reason,
        last_interaction_time=timestamp_of(as_utc(customer.last_interaction_at))
        if customer.last_interaction_at
        else None,
        claim_pending=claim_pending,
    )
