"""Refusals of uploads, with codes of their own over the taxonomy's kinds (crmkit.errors) and the
HTTP statuses clients expect for them: 413 and 415 rather than the kinds' 429 and 400."""

from __future__ import annotations

from crmkit.errors import InvalidArgument, ResourceExhausted


class PayloadTooLarge(ResourceExhausted):
    """An upload larger than allowed there (nothing to retry, hence not the kind's 429)."""

    code = "payload_too_large"
    http_status = 413


class UnsupportedMediaType(InvalidArgument):
    """An upload whose content is of a type not accepted there."""

    code = "unsupported_media_type"
    http_status = 415


# Codes whose HTTP status differs from their kind's: the gateway reads the code a service sent
# (trailing metadata) and answers with this status.
HTTP_STATUS_BY_CODE: dict[str, int] = {kind.code: kind.http_status for kind in (PayloadTooLarge, UnsupportedMediaType)}
