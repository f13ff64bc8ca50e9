"""Rotating the instance secret: every key the secret protects is re-wrapped under the new one.

The instance secret (``DATACOMMONS_SECRET_KEY``) protects, through keys derived from it with HKDF,
each donor's data key (:mod:`consent.crypto`) and each receipt-signing key (:mod:`consent.keys`). The
records themselves are encrypted under those inner keys, so rotation touches only the wrapped keys: one
transaction, all or nothing. A wrong old secret is found before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.crypto import InvalidTag, derive_kek, open_sealed, seal, unwrap_key, wrap_key
from consent.models import DonorKey, SigningKey
from datacommons.errors import CheckFailed, InvalidInput

MIN_SECRET_CHARS = 32


@dataclass(frozen=True)
class Rekeyed:
    """How many wrapped keys a rotation re-wrapped."""

    donor_keys: int
    signing_keys: int


def rotate_secret(session: Session, *, old_secret: bytes, new_secret: bytes) -> Rekeyed:
    """Re-wrap every donor data key and signing key from ``old_secret`` to ``new_secret``."""
    if len(new_secret) < MIN_SECRET_CHARS:
        raise InvalidInput(f"the new secret must be at least {MIN_SECRET_CHARS} characters")
    if new_secret == old_secret:
        raise InvalidInput("the new secret is the current one")
    old_donors, new_donors = derive_kek(old_secret), derive_kek(new_secret)
    old_signing = derive_kek(old_secret, purpose="signing-keys")
    new_signing = derive_kek(new_secret, purpose="signing-keys")
    try:
        donor_keys = list(session.scalars(select(DonorKey).with_for_update()))
        for record in donor_keys:
            data_key = unwrap_key(old_donors, record.wrapped_key, donor_id=record.donor_id)
            record.wrapped_key = wrap_key(new_donors, data_key, donor_id=record.donor_id)
        signing_keys = list(session.scalars(select(SigningKey).with_for_update()))
        for key in signing_keys:
            private = open_sealed(old_signing, key.private_ct, aad=key.kid.encode())
            key.private_ct = seal(new_signing, private, aad=key.kid.encode())
    except InvalidTag as exc:
        raise CheckFailed(
            "the current secret does not open the stored keys: nothing was changed "
            "(is DATACOMMONS_SECRET_KEY the secret these keys were made with?)"
        ) from exc
    session.flush()
    return Rekeyed(donor_keys=len(donor_keys), signing_keys=len(signing_keys))
