"""Two-factor login: a user's TOTP secret (sealed) and their single-use recovery codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_gateway.database import Base


class MfaEnrolment(Base):
    __tablename__ = "mfa_enrolments"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # The base32 TOTP secret sealed with the gateway's secret key (crmkit.secretbox), bound to
    # the user id: a database dump alone does not yield codes.
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Null until the user proves their app produces codes; only then is it required at login.
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The last 30-second step whose code was accepted: a code works once (RFC 6238 §5.2).
    last_used_step: Mapped[int] = mapped_column(BigInteger, default=0)


class RecoveryCode(Base):
    __tablename__ = "mfa_recovery_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # SHA-256 of the normalised code: the codes are random (50 bits), so a slow hash adds nothing.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
