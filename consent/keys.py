"""Receipt-signing keys: Ed25519, compact JWS (``alg`` EdDSA), published as a JWKS.

Private keys are stored encrypted under a key derived from the instance secret. Rotation adds a new
active key and retires the old one from signing; every key stays in the JWKS, so receipts signed
before a rotation still verify.
"""

from __future__ import annotations

import json
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.crypto import derive_kek, open_sealed, seal
from consent.models import SigningKey
from datacommons.db import utcnow
from datacommons.errors import CheckFailed, InvalidInput

ALG = "EdDSA"
#: The ids of the transparency log's keys (:mod:`consent.log_keys`), kept in the same table and JWKS:
#: they never sign a receipt, and a receipt claiming one is refused.
LOG_KID_PREFIX = "tlog-"
#: The ``typ`` header of receipts: a JWT-shaped JSON payload, so any JOSE/JWT library reads it.
TYP = "JWT"


@contextmanager
def _eddsa() -> Iterator[None]:
    # RFC 9864 prefers the fully specified "Ed25519", but "EdDSA" is what most JOSE libraries verify
    # today; receipts must be checkable by any of them, so keep EdDSA and silence joserfc's notice.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*EdDSA is deprecated.*")
        yield


def _kek(secret: bytes) -> bytes:
    return derive_kek(secret, purpose="signing-keys")


def create_key(session: Session, *, secret: bytes) -> SigningKey:
    """Generate a new active signing key; every earlier key stops signing (but stays published)."""
    key = OKPKey.generate_key("Ed25519", private=True)
    kid = f"dc-{utcnow():%Y%m%d}-{secrets.token_hex(4)}"
    private = json.dumps(key.as_dict(private=True)).encode()
    now = utcnow()
    receipt_keys = select(SigningKey).where(
        SigningKey.active.is_(True), ~SigningKey.kid.startswith(LOG_KID_PREFIX)
    )
    for old in session.scalars(receipt_keys):
        old.active = False
        old.retired_at = now
    record = SigningKey(
        kid=kid,
        public_jwk={**key.as_dict(private=False), "kid": kid, "alg": ALG, "use": "sig"},
        private_ct=seal(_kek(secret), private, aad=kid.encode()),
        active=True,
        created_at=now,
    )
    session.add(record)
    session.flush()
    return record


def active_key(session: Session, *, secret: bytes) -> SigningKey:
    """The key that signs new receipts (created on first use)."""
    record = session.scalars(
        select(SigningKey)
        .where(SigningKey.active.is_(True), ~SigningKey.kid.startswith(LOG_KID_PREFIX))
        .order_by(SigningKey.created_at.desc())
    ).first()
    return record or create_key(session, secret=secret)


def private_key(record: SigningKey, *, secret: bytes) -> OKPKey:
    """The private key of a stored signing key."""
    data = json.loads(open_sealed(_kek(secret), record.private_ct, aad=record.kid.encode()))
    return OKPKey.import_key(data)


def sign(claims: dict[str, Any], *, record: SigningKey, secret: bytes) -> str:
    """``claims`` as a compact JWS signed by ``record``."""
    payload = json.dumps(claims, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with _eddsa():
        return jws.serialize_compact(
            {"alg": ALG, "kid": record.kid, "typ": TYP},
            payload.encode(),
            private_key(record, secret=secret),
            algorithms=[ALG],
        )


def jwks(session: Session) -> dict[str, Any]:
    """The public keys of every signing key, old and new, as a JWK Set."""
    keys = session.scalars(select(SigningKey).order_by(SigningKey.created_at))
    return {"keys": [dict(k.public_jwk) for k in keys]}


def header_of(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS (:class:`InvalidInput` if it is not one)."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidInput("not a compact JWS: expected three dot-separated base64url parts")
    try:
        from joserfc.util import urlsafe_b64decode

        header = json.loads(urlsafe_b64decode(parts[0].encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckFailed("the receipt's header is not valid base64url JSON") from exc
    if not isinstance(header, dict):
        raise CheckFailed("the receipt's header is not a JSON object")
    return header


def verify(token: str, key_set: dict[str, Any]) -> dict[str, Any]:
    """The claims of a receipt whose signature a key of ``key_set`` (a JWKS) verifies.

    Raises :class:`InvalidInput` when ``token`` is not a compact JWS at all and :class:`CheckFailed`
    when it is one but does not verify.
    """
    header = header_of(token)
    if header.get("alg") != ALG:
        raise CheckFailed(f"unexpected algorithm {header.get('alg')!r}: receipts use {ALG}")
    kid = header.get("kid")
    if isinstance(kid, str) and kid.startswith(LOG_KID_PREFIX):
        raise CheckFailed(f"key {kid} signs the transparency log's checkpoints, never a receipt")
    matching = [k for k in key_set.get("keys", []) if k.get("kid") == kid]
    if not matching:
        raise CheckFailed(f"no published key with kid {kid!r}")
    try:
        with _eddsa():
            keys = KeySet.import_key_set({"keys": matching})
            result = jws.deserialize_compact(token.strip(), keys, algorithms=[ALG])
        claims = json.loads(result.payload)
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise CheckFailed(f"the receipt's signature does not verify with key {kid}") from exc
    if not isinstance(claims, dict):
        raise CheckFailed("the receipt's payload is not a JSON object")
    return claims
