"""Contact validation: a contact in a request, the fields an update may change, repeats within one request."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.contacts.models import DECISION_ROLES, ROLES, ContactInput
from crmkit.errors import AlreadyExists, InvalidArgument
from crmkit.validate import mobile, text

WECHAT_ID = re.compile(r"^[A-Za-z][-_A-Za-z0-9]{5,19}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def wechat(value: str, field_name: str) -> str | None:
    cleaned = value.strip()
    if not cleaned:
        return None
    if not WECHAT_ID.match(cleaned):
        raise InvalidArgument(
            field_name, "WeChat id is 6-20 letters, digits, - or _, starting with a letter / 微信号格式不正确"
        )
    return cleaned


def contact_input(contact: pb.Contact, prefix: str) -> ContactInput:
    email = text(contact.email, f"{prefix}.email", max_len=254)
    if email and not EMAIL.match(email):
        raise InvalidArgument(f"{prefix}.email", "not a valid email address / 邮箱格式不正确")
    unknown_role = "unknown decision role / 未知的决策角色"
    role = ROLES.parse(contact.decision_role, f"{prefix}.decision_role", default="", unknown=unknown_role)
    if role and role not in DECISION_ROLES:
        raise InvalidArgument(f"{prefix}.decision_role", unknown_role)
    return ContactInput(
        name=text(contact.name, f"{prefix}.name", max_len=50, required=True),
        mobile=mobile(contact.mobile, f"{prefix}.mobile"),
        wechat_id=wechat(contact.wechat_id, f"{prefix}.wechat_id"),
        email=email,
        decision_role=role,
        title=text(contact.title, f"{prefix}.title", max_len=50),
        primary=contact.primary,
    )


CONTACT_FIELDS = frozenset({"name", "mobile", "wechat_id", "email", "decision_role", "title", "primary"})


def contact_changes(contact: pb.Contact, paths: list[str]) -> dict[str, Any]:
    if not paths:
        raise InvalidArgument("update_mask", "names no fields / 未指定要修改的字段")
    unknown = [p for p in paths if p not in CONTACT_FIELDS]
    if unknown:
        raise InvalidArgument("update_mask", f"field {unknown[0]!r} cannot be updated / 字段不可修改")
    full = contact_input(
        pb.Contact(
            name=contact.name if "name" in paths else "x",
            mobile=contact.mobile,
            wechat_id=contact.wechat_id,
            email=contact.email,
            decision_role=contact.decision_role,
            title=contact.title,
            primary=contact.primary,
        ),
        "contact",
    )
    mapping = {
        "name": full.name,
        "mobile": full.mobile,
        "wechat_id": full.wechat_id,
        "email": full.email,
        "decision_role": full.decision_role,
        "title": full.title,
        "primary": full.primary,
    }
    return {("is_primary" if p == "primary" else p): mapping[p] for p in paths}


def refuse_repeats_within(contacts: Sequence[ContactInput]) -> None:
    """One request may not give the same mobile or WeChat id to two of its contacts."""
    for attribute in ("mobile", "wechat_id"):
        seen: set[str] = set()
        for index, contact in enumerate(contacts):
            value = getattr(contact, attribute)
            if value and value in seen:
                raise AlreadyExists(
                    f"联系人重复 / customer.contacts[{index}].{attribute} is repeated",
                    field=f"customer.contacts[{index}].{attribute}",
                )
            if value:
                seen.add(value)
