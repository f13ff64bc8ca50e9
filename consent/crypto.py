"""Encryption at rest of donors' personal data, with crypto-shredding.

A key-encryption key (KEK) is derived from the instance secret with HKDF-SHA256. Each donor has a
random 256-bit data key, stored only wrapped (AES-GCM) under the KEK; the donor's name and e-mail are
AES-GCM ciphertext under that data key, bound to the donor and the field by the associated data.
Erasing a donor deletes the wrapped key: the ciphertext left in the database can never be read again.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def derive_kek(secret: bytes, *, purpose: str = "donor-keys") -> bytes:
    """A 256-bit key for ``purpose`` derived from the instance secret (HKDF-SHA256)."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"datacommons-consent-v1",
        info=f"datacommons:{purpose}".encode(),
    )
    return hkdf.derive(secret)


def seal(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """AES-GCM encrypt: a fresh nonce followed by the ciphertext and tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, *, aad: bytes) -> bytes:
    """Decrypt what :func:`seal` produced; raises ``InvalidTag`` if key, data or aad do not match."""
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)


def new_data_key() -> bytes:
    """A random 256-bit data key."""
    return AESGCM.generate_key(bit_length=256)


def wrap_key(kek: bytes, data_key: bytes, *, donor_id: str) -> bytes:
    """The donor's data key encrypted under the KEK."""
    return seal(kek, data_key, aad=f"donor-key:{donor_id}".encode())


def unwrap_key(kek: bytes, wrapped: bytes, *, donor_id: str) -> bytes:
    """The donor's data key from its wrapped form."""
    return open_sealed(kek, wrapped, aad=f"donor-key:{donor_id}".encode())


def encrypt_field(data_key: bytes, value: str, *, donor_id: str, field: str) -> bytes:
    """One personal-data field of a donor, encrypted."""
    return seal(data_key, value.encode(), aad=f"{donor_id}:{field}".encode())


def decrypt_field(data_key: bytes, sealed: bytes, *, donor_id: str, field: str) -> str:
    """One personal-data field of a donor, decrypted."""
    return open_sealed(data_key, sealed, aad=f"{donor_id}:{field}".encode()).decode()


__all__ = [
    "InvalidTag",
    "decrypt_field",
    "derive_kek",
    "encrypt_field",
    "new_data_key",
    "open_sealed",
    "seal",
    "unwrap_key",
    "wrap_key",
]
