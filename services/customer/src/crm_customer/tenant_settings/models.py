"""A tenant's customer types and custom-field definitions: tables and proto mapping."""

from __future__ import annotations

from typing import cast

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.database import Base
from crm_customer.tenant_settings.custom_fields import FieldDefinition, FieldType

DEFAULT_CUSTOMER_TYPES = (
    "中餐",
    "西餐",
    "团膳",
    "学校食堂",
    "企业食堂",
    "连锁酒店",
    "养殖场",
    "经销商",
    "网店客户",
)


class CustomerType(Base):
    __tablename__ = "customer_types"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ProductLine(Base):
    """One of a tenant's product lines (猪料, 禽料 ...), what customers buy and rules assign by."""

    __tablename__ = "product_lines"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CustomFieldDefinitionRow(Base):
    """One of a tenant's custom fields (see custom_fields.py for what values it accepts)."""

    __tablename__ = "custom_field_definitions"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(30))
    type: Mapped[str] = mapped_column(String(10))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


def definition_of(row: CustomFieldDefinitionRow) -> FieldDefinition:
    return FieldDefinition(row.key, row.label, cast(FieldType, row.type), tuple(row.options), row.required)


def definition_to_proto(definition: FieldDefinition) -> pb.CustomFieldDefinition:
    return pb.CustomFieldDefinition(
        key=definition.key,
        label=definition.label,
        type=pb.CustomFieldType.Value(f"CUSTOM_FIELD_TYPE_{definition.type.upper()}"),
        options=definition.options,
        required=definition.required,
    )
