"""A contact's personal details (mobile, WeChat id, email) as they are kept: sealed at rest, found
through blind indexes, never in events or logs.

Each value is sealed with the service's keyring (`crmkit.pii`) and bound to its contact and field,
so a sealed mobile copied onto another row does not open. Duplicate checks look a mobile or WeChat
id up by its blind index (an HMAC under the tenant); search indexes a full mobile under an HMAC
term and its last four digits under one of `TAIL_BUCKETS` short HMAC buckets, each shared by many
different endings, so the index holds nothing from which a number or its ending can be read:
a last-four search reads its bucket and keeps the customers whose opened mobiles really end so.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from crm_customer.search.terms import RANK_EXACT, RANK_MOBILE_TAIL
from crmkit.pii import Keyring

# Blind-index terms start with a character search queries never contain (`crmkit.cn.compact`
# keeps letters and digits only), so no typed query can reach them or be mistaken for them.
MOBILE_TERM_PREFIX = "#m"
TAIL_TERM_PREFIX = "#t"
# 1,024 buckets for the 10,000 possible endings: about ten endings share each one. A bucket on
# a million customers is about a thousand entries, of which a tenth end in the digits asked for.
TAIL_BUCKETS = 1024
ENDINGS_PER_BUCKET = -(-10_000 // TAIL_BUCKETS)


@dataclass(frozen=True)
class ContactDetails:
    mobile: str | None = None
    wechat_id: str | None = None
    email: str = ""


class SealedContact(Protocol):
    """What is stored of a contact's details: the ORM row, or a row read straight from asyncpg."""

    id: str
    tenant_id: str
    mobile_sealed: bytes | None
    wechat_id_sealed: bytes | None
    email_sealed: bytes | None


PERSONAL_FIELDS = ("mobile", "wechat_id", "email")


def _context(contact_id: str, field_name: str) -> str:
    return f"contacts/{contact_id}/{field_name}"


class PersonalData:
    """Seals, opens and blind-indexes contacts' details with one keyring."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    # ------------------------------------------------------------------ stored values

    def seal(self, contact: Any, details: ContactDetails) -> None:
        """Store `details` on the contact row: sealed values, blind indexes, the sealing key's id."""
        for field_name in PERSONAL_FIELDS:
            value = getattr(details, field_name) or None
            sealed = None if value is None else self.keyring.seal(value, _context(contact.id, field_name))
            setattr(contact, f"{field_name}_sealed", sealed)
        contact.mobile_index = self.mobile_index(contact.tenant_id, details.mobile) if details.mobile else None
        contact.wechat_id_index = self.wechat_index(contact.tenant_id, details.wechat_id) if details.wechat_id else None
        contact.key_id = self.keyring.key_id

    def details(self, contact: SealedContact) -> ContactDetails:
        return ContactDetails(
            mobile=self._open(contact, "mobile"),
            wechat_id=self._open(contact, "wechat_id"),
            email=self._open(contact, "email") or "",
        )

    def mobile_of(self, contact: SealedContact) -> str | None:
        return self._open(contact, "mobile")

    def open_mobile(self, contact_id: str, sealed: bytes) -> str:
        return self.keyring.open(sealed, _context(contact_id, "mobile"))

    def _open(self, contact: SealedContact, field_name: str) -> str | None:
        sealed: bytes | None = getattr(contact, f"{field_name}_sealed")
        return None if sealed is None else self.keyring.open(sealed, _context(contact.id, field_name))

    def is_current(self, contact: SealedContact) -> bool:
        """Whether every sealed value of the contact is under the current key (rotation)."""
        values = (getattr(contact, f"{name}_sealed") for name in PERSONAL_FIELDS)
        return all(self.keyring.is_current(value) for value in values if value is not None)

    # ------------------------------------------------------------------ blind indexes

    def mobile_index(self, tenant_id: str, mobile: str) -> str:
        return self.keyring.blind_index("contact-mobile", tenant_id, mobile).hex()

    def wechat_index(self, tenant_id: str, wechat_id: str) -> str:
        return self.keyring.blind_index("contact-wechat-id", tenant_id, wechat_id).hex()

    def mobile_term(self, tenant_id: str, mobile: str) -> str:
        """The search term of a full mobile number (rank 0, like a credit code)."""
        digest = self.keyring.blind_index("search-mobile", tenant_id, mobile, length=15)
        return MOBILE_TERM_PREFIX + base64.b32encode(digest).decode().lower()

    def tail_term(self, tenant_id: str, last_four: str) -> str:
        """The search term of the bucket a mobile's last four digits fall in."""
        digest = self.keyring.blind_index("search-mobile-tail", tenant_id, last_four, length=4)
        return f"{TAIL_TERM_PREFIX}{int.from_bytes(digest, 'big') % TAIL_BUCKETS:03x}"

    def mobile_search_terms(self, tenant_id: str, mobiles: Iterable[str]) -> Mapping[str, int]:
        """A customer's search terms for its contacts' mobiles, each with its rank."""
        terms: dict[str, int] = {}
        for mobile in mobiles:
            terms[self.mobile_term(tenant_id, mobile)] = RANK_EXACT
            terms.setdefault(self.tail_term(tenant_id, mobile[-4:]), RANK_MOBILE_TAIL)
        return terms
