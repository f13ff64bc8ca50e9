"""API tokens, roles and the FastAPI dependencies that check them.

A token is 32 random bytes (``dc_`` + URL-safe base64), shown once when created and stored only as its
SHA-256 (tokens are high-entropy, so a fast hash is enough and lookups stay O(1)). Each token has one
role and belongs to an organisation (admins, analysts, researchers) or to a donor.

- no token, or an unknown, expired or revoked one: 401;
- a known token without the role the route needs: 403.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from datacommons import acts
from datacommons.db import Base, iso, utcnow
from datacommons.errors import InvalidInput, NotFound, Unauthorized

Role = Literal["admin", "analyst", "researcher", "donor"]
ROLES: tuple[str, ...] = get_args(Role)
#: The roles an administrator may issue tokens for: a donor's token comes only from the donor.
IssuedRole = Literal["admin", "analyst", "researcher"]
ISSUED_ROLES: tuple[str, ...] = get_args(IssuedRole)
TOKEN_PREFIX = "dc_"


class Organisation(Base):
    """A body that holds tokens: the commons' operator, a social enterprise, a research group."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token, stored as its hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    donor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, role, name and organisation or donor."""

    token_id: int
    role: str
    name: str
    organisation_id: int | None
    donor_id: str | None

    @property
    def actor(self) -> str:
        """How this caller is named in audit records."""
        return f"{self.role}:{self.name}"


#: The web front's cookies: the session token, and the CSRF token its unsafe requests echo in a header.
TOKEN_COOKIE, CSRF_COOKIE = "dc_token", "dc_csrf"


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token_value() -> str:
    """A fresh random token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def derived_token_value(secret: bytes, label: str) -> str:
    """A token derived from the instance secret: stable across runs (used for the demo tokens)."""
    digest = hmac.new(secret, f"datacommons-token:{label}".encode(), hashlib.sha256).hexdigest()
    return f"{TOKEN_PREFIX}{label.split(':')[-1]}_{digest[:40]}"


def get_or_create_organisation(session: Session, name: str) -> Organisation:
    """The organisation called ``name``, created if new."""
    org = session.scalars(select(Organisation).where(Organisation.name == name)).first()
    if org is None:
        org = Organisation(name=name)
        session.add(org)
        session.flush()
    return org


def create_token(
    session: Session,
    *,
    role: str,
    name: str,
    organisation: Organisation | None = None,
    donor_id: str | None = None,
    ttl: timedelta | None = None,
    value: str | None = None,
    actor: str = "system",
) -> tuple[ApiToken, str]:
    """Create a token and return it with its clear value, which is never stored.

    Donor tokens belong to a donor; every other role to an organisation. Issuing any but a donor's
    own token is an act of ``actor`` (logged, without the token's name or value).
    """
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if not name.strip():
        raise InvalidInput("a token needs a name")
    if role == "donor" and not donor_id:
        raise InvalidInput("a donor token must belong to a donor")
    if role != "donor" and organisation is None:
        raise InvalidInput(f"a {role} token must belong to an organisation")
    clear = value or new_token_value()
    digest = hash_token(clear)
    existing = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if existing is not None:
        return existing, clear
    token = ApiToken(
        token_hash=digest,
        hint=clear[:10],
        name=name.strip(),
        role=role,
        organisation_id=organisation.id if organisation else None,
        donor_id=donor_id,
        expires_at=utcnow() + ttl if ttl else None,
    )
    session.add(token)
    session.flush()
    _token_act(session, token, actor, "token issued")
    return token, clear


def revoke_token(session: Session, token_id: int, *, actor: str = "system") -> ApiToken:
    """Revoke a token; it is refused from now on."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        _token_act(session, token, actor, "token revoked")
    return token


def _token_act(session: Session, token: ApiToken, actor: str, purpose: str) -> None:
    if token.role == "donor":  # a donor's own sign-in is theirs, not an operator's act
        return
    organisation = session.get(Organisation, token.organisation_id) if token.organisation_id else None
    acts.record(
        session,
        acts.Act(
            kind="token",
            actor=actor,
            purpose=purpose,
            organisation=organisation.name if organisation is not None else None,
            details={
                "token_id": token.id,
                "role": token.role,
                "expires_at": iso(token.expires_at),
            },
        ),
    )


def authenticate(session: Session, clear: str) -> Principal:
    """The principal a clear token stands for, or :class:`Unauthorized`."""
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(clear))).first()
    if token is None:
        raise Unauthorized("unknown token")
    if token.revoked_at is not None:
        raise Unauthorized("this token was revoked")
    if token.expires_at is not None and token.expires_at <= utcnow():
        raise Unauthorized("this token has expired")
    return Principal(token.id, token.role, token.name, token.organisation_id, token.donor_id)
