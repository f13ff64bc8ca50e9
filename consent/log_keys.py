"""The transparency log's signing keys: stored, published and rotated like the receipt keys.

Log keys live beside the receipt keys (``consent_signing_keys``, ids ``tlog-…``): private halves
sealed under the instance secret (so ``consent rotate-secret`` re-wraps them and the key itself does
not change), public halves in the JWKS (``/.well-known/jwks.json``, as Ed25519 OKP keys with
``"use": "sig"``) and as C2SP verifier keys (``/api/v1/transparency/keys``).

An instance's first key (``tlog-genesis``) is the one derived from its secret, made on first use.
``audit rotate-key`` adds a new key; every key not yet retired signs each checkpoint, so a witness
that trusts the old key keeps working until the operator retires it (``audit retire-key``) once the
witnesses have the new one. Rotating and retiring are administrative acts, logged.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent import tlog
from consent.crypto import derive_kek, open_sealed, seal
from consent.keys import ALG, LOG_KID_PREFIX
from consent.models import SigningKey
from datacommons import acts
from datacommons.db import utcnow
from datacommons.errors import Conflict, NotFound

GENESIS = f"{LOG_KID_PREFIX}genesis"


def _kek(secret: bytes) -> bytes:
    return derive_kek(secret, purpose="signing-keys")  # the receipt keys' KEK: re-wrapped with them


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _record(kid: str, private: Ed25519PrivateKey, secret: bytes) -> SigningKey:
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    seed = private.private_bytes_raw()
    return SigningKey(
        kid=kid,
        public_jwk={
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(public),
            "kid": kid,
            "alg": ALG,
            "use": "sig",
        },
        private_ct=seal(_kek(secret), json.dumps({"ed25519_seed": _b64url(seed)}).encode(), aad=kid.encode()),
        active=True,
        created_at=utcnow(),
    )


@lru_cache(maxsize=32)
def _private(secret: bytes, kid: str, sealed: bytes) -> Ed25519PrivateKey:
    data = json.loads(open_sealed(_kek(secret), sealed, aad=kid.encode()))
    seed = base64.urlsafe_b64decode(data["ed25519_seed"] + "==")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _log_rows(session: Session) -> list[SigningKey]:
    query = (
        select(SigningKey)
        .where(SigningKey.kid.startswith(LOG_KID_PREFIX))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid.desc())
    )
    return list(session.scalars(query))


def _ensure_genesis(session: Session, secret: bytes) -> None:
    if session.get(SigningKey, GENESIS) is not None:
        return
    try:
        with session.begin_nested():  # two hosts starting at once make the same key: one row
            session.add(_record(GENESIS, tlog.derived_key(secret), secret))
    except IntegrityError:
        pass


def load(session: Session, secret: bytes, public_url: str) -> tlog.LogKeys:
    """The keys that sign checkpoints now, newest first (the first is made on first use)."""
    rows = _log_rows(session)
    if not rows:
        _ensure_genesis(session, secret)
        rows = _log_rows(session)
    origin = tlog.origin_of(public_url)
    signing = tuple(
        tlog.LogKey(origin, _private(secret, row.kid, bytes(row.private_ct))) for row in rows if row.active
    )
    if not signing:  # pragma: no cover - retire() never leaves the log without a signing key
        raise Conflict("the transparency log has no signing key: rotate one in (audit rotate-key)")
    return tlog.LogKeys(signing)


@dataclass(frozen=True)
class KeyInfo:
    """A log key as published: id, C2SP verifier key, whether it signs, when it was made and retired."""

    kid: str
    verifier_key: str
    signing: bool
    created_at: datetime
    retired_at: datetime | None


def published(session: Session, secret: bytes, public_url: str) -> list[KeyInfo]:
    """Every log key, old and new, newest first."""
    load(session, secret, public_url)
    origin = tlog.origin_of(public_url)
    out = []
    for row in _log_rows(session):
        public = base64.urlsafe_b64decode(row.public_jwk["x"] + "==")
        kid_bytes = tlog.key_id(origin, tlog.ED25519, public)
        vkey = f"{origin}+{kid_bytes.hex()}+{base64.b64encode(tlog.ED25519 + public).decode()}"
        out.append(KeyInfo(row.kid, vkey, bool(row.active), row.created_at, row.retired_at))
    return out


def rotate(session: Session, secret: bytes, public_url: str, *, actor: str) -> KeyInfo:
    """Add a new signing key (the old ones go on signing until retired)."""
    load(session, secret, public_url)
    kid = f"{LOG_KID_PREFIX}{utcnow():%Y%m%d}-{secrets.token_hex(4)}"
    session.add(_record(kid, Ed25519PrivateKey.generate(), secret))
    session.flush()
    info = next(k for k in published(session, secret, public_url) if k.kid == kid)
    acts.record(
        session,
        acts.Act(
            kind="key",
            actor=actor,
            purpose="log key added",
            details={"kid": kid, "verifier_key": info.verifier_key},
        ),
    )
    return info


def retire(session: Session, secret: bytes, public_url: str, kid: str, *, actor: str) -> KeyInfo:
    """Stop signing with ``kid`` (it stays published, so checkpoints it signed still verify)."""
    load(session, secret, public_url)
    row = session.get(SigningKey, kid) if kid.startswith(LOG_KID_PREFIX) else None
    if row is None:
        raise NotFound(f"no log key {kid!r}")
    if row.active:
        if sum(1 for r in _log_rows(session) if r.active) == 1:
            raise Conflict(f"{kid} is the log's only signing key: rotate a new one in first")
        row.active = False
        row.retired_at = utcnow()
        session.flush()
        acts.record(
            session, acts.Act(kind="key", actor=actor, purpose="log key retired", details={"kid": kid})
        )
    return next(k for k in published(session, secret, public_url) if k.kid == kid)
