"""Signed attachment links: a short-lived URL that opens one attachment (or its thumbnail) for
the user it was made for, without an Authorization header, so `<img src>` works in the console.

A link names the attachment, the tenant, the user and the variant, and when it expires, all
under an HMAC-SHA256. Its key is derived (HKDF) from the gateway's identity signing key, which
every replica already holds, so no new secret is needed and rotating that key retires every link.
A link only stands in for the header: the gateway still asks the customer service, as that user,
whether they may see the attachment now, so a link outlives neither the user's access nor the
user.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crmkit.clock import Clock
from crmkit.errors import PermissionDenied
from crmkit.identity import Identity

Variant = Literal["content", "thumbnail"]
VARIANTS: tuple[Variant, ...] = ("content", "thumbnail")
PATH = "/api/v1/signed/attachments/{attachment_id}/{variant}"


class LinkInvalid(PermissionDenied):
    code = "link_invalid"


class LinkExpired(PermissionDenied):
    code = "link_expired"


@dataclass(frozen=True)
class SignedLink:
    url: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class LinkHolder:
    """Whom a verified link stands for."""

    tenant_id: str
    user_id: str
    expires_at: dt.datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class AttachmentLinks:
    def __init__(self, key: bytes, *, clock: Clock, lifetime: dt.timedelta) -> None:
        self._key = key
        self._clock = clock
        self.lifetime = lifetime

    @classmethod
    def from_private_key(
        cls, private_key: Ed25519PrivateKey, *, clock: Clock, lifetime: dt.timedelta
    ) -> AttachmentLinks:
        raw = private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"keyuan attachment links v1").derive(raw)
        return cls(key, clock=clock, lifetime=lifetime)

    def _signature(self, attachment_id: str, variant: str, tenant_id: str, user_id: str, expires: int) -> str:
        message = "\n".join(("v1", attachment_id, variant, tenant_id, user_id, str(expires))).encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def sign(
        self, identity: Identity, attachment_id: str, variant: Variant, lifetime: dt.timedelta | None = None
    ) -> SignedLink:
        expires_at = self._clock() + (lifetime or self.lifetime)
        expires = int(expires_at.timestamp())
        query = {
            "tenant": identity.tenant_id,
            "user": identity.principal_id,
            "expires": str(expires),
            "signature": self._signature(attachment_id, variant, identity.tenant_id, identity.principal_id, expires),
        }
        url = PATH.format(attachment_id=attachment_id, variant=variant) + "?" + urlencode(query)
        return SignedLink(url=url, expires_at=dt.datetime.fromtimestamp(expires, dt.UTC))

    def verify(
        self, *, attachment_id: str, variant: str, tenant_id: str, user_id: str, expires: int, signature: str
    ) -> LinkHolder:
        """The link's holder, or a refusal: tampered (any part changed) or expired."""
        expected = self._signature(attachment_id, variant, tenant_id, user_id, expires)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise LinkInvalid("invalid link / 链接无效")
        expires_at = dt.datetime.fromtimestamp(expires, dt.UTC)
        if self._clock() >= expires_at:
            raise LinkExpired("link expired / 链接已过期")
        return LinkHolder(tenant_id=tenant_id, user_id=user_id, expires_at=expires_at)
