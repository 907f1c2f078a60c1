"""Role views: which customer fields a caller sees, from one policy table applied in one place."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from crm_gateway.customers.schemas import ContactOut, CustomerOut
from crmkit.cn import mask_mobile
from crmkit.identity import Identity, Role


class Visibility(enum.StrEnum):
    FULL = "full"
    MASKED = "masked"
    HIDDEN = "hidden"


# role → field path → what that role sees. Fields not listed are shown in full to anyone who
# may see the record at all (the services decide that): among them the preferences, the special
# requirements and their `alerts`, which service staff above all must see (they take the calls
# and arrange the deliveries), and which only roles that may change the customer change.
PII_FIELDS = ("contacts.mobile", "contacts.wechat_id", "contacts.email")

POLICY: Mapping[Role, Mapping[str, Visibility]] = {
    Role.ADMIN: {f: Visibility.FULL for f in PII_FIELDS},
    Role.BOSS: {f: Visibility.FULL for f in PII_FIELDS},
    Role.SUPERVISOR: {f: Visibility.FULL for f in PII_FIELDS},
    Role.SALES: {f: Visibility.FULL for f in PII_FIELDS},
    Role.SERVICE: {
        "contacts.mobile": Visibility.MASKED,
        "contacts.wechat_id": Visibility.HIDDEN,
        "contacts.email": Visibility.MASKED,
    },
    Role.FINANCE: {
        "contacts.mobile": Visibility.MASKED,
        "contacts.wechat_id": Visibility.HIDDEN,
        "contacts.email": Visibility.MASKED,
    },
}


def visibility(identity: Identity, field: str) -> Visibility:
    rule = POLICY.get(identity.role, {}).get(field, Visibility.FULL)
    # Without the personal-information permission a PII field is never shown in full.
    if field in PII_FIELDS and "pii" not in identity.permissions and rule is Visibility.FULL:
        return Visibility.MASKED
    return rule


def _mask(field: str, value: str) -> str:
    if not value:
        return value
    if field == "contacts.mobile":
        return mask_mobile(value)
    if field == "contacts.email" and "@" in value:
        local, domain = value.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return "***"


def shown_value(identity: Identity, field: str, value: str) -> str | None:
    """One field's value as the caller's role sees it: in full, masked, or None (hidden)."""
    rule = visibility(identity, field)
    if rule is Visibility.HIDDEN:
        return None
    if rule is Visibility.MASKED:
        return _mask(field, value)
    return value


def apply_contact_view(identity: Identity, contact: ContactOut) -> ContactOut:
    shown: dict[str, Any] = {}
    for field in PII_FIELDS:
        key = field.split(".", 1)[1]
        if visibility(identity, field) is not Visibility.FULL:
            shown[key] = shown_value(identity, field, str(getattr(contact, key) or ""))
    return contact.model_copy(update=shown) if shown else contact


def apply_customer_view(identity: Identity, customer: CustomerOut) -> CustomerOut:
    return customer.model_copy(update={"contacts": [apply_contact_view(identity, c) for c in customer.contacts]})
