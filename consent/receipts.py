"""Consent receipts: one signed record per consent event.

The claims follow ISO/IEC TS 27560:2023 (consent record information structure) and the Kantara
Initiative Consent Receipt 1.1: record id, schema version, the donor's id, jurisdiction, the program,
the purpose, the notice (text version, hash and URL), the event and its time, who collected it and
how, the recipients, the sensitive flag with the special categories, the controller with its
address, and for a withdrawal or an expiry the record it ends. They are signed with
Ed25519 as a compact JWS whose payload is JWT-shaped (``iss``, ``sub``, ``iat``, ``jti``), so any
JOSE library verifies it against ``/.well-known/jwks.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from consent import keys, log_keys, tlog
from consent.models import Consent, ConsentEvent, ConsentText, Program, SigningKey
from datacommons.config import Settings
from datacommons.db import iso
from datacommons.errors import CheckFailed
from datacommons.vocabularies import purpose_iri

SCHEMA_VERSION = "datacommons-consent-receipt/2"
#: Receipts signed before version 2 still verify (they lack the newer claims).
KNOWN_SCHEMAS = ("datacommons-consent-receipt/1", SCHEMA_VERSION)
#: The jurisdiction whose law governs the consent (ISO 3166-1; GDPR applies throughout the EU).
JURISDICTION = "IT"
SCHEMA_BASIS = "ISO/IEC TS 27560:2023; Kantara Consent Receipt 1.1"
#: Claims a receipt must carry to be one of ours.
REQUIRED = (
    "record_id",
    "schema_version",
    "sub",
    "program",
    "purpose",
    "notice",
    "event",
    "event_time",
    "controller",
    "consent_id",
    "iss",
    "iat",
    "jti",
)


@dataclass(frozen=True)
class Signer:
    """What signing receipts needs: the instance secret (it unlocks the keys) and the issuer URL."""

    secret: bytes
    issuer: str

    @classmethod
    def of(cls, settings: Settings) -> Signer:
        """The signer of an instance."""
        return cls(settings.secret_key_bytes(), settings.public_url.rstrip("/"))

    @property
    def kek(self) -> bytes:
        """The key-encryption key of donors' data keys."""
        from consent.crypto import derive_kek

        return derive_kek(self.secret)


def claims_of(
    *,
    event: ConsentEvent,
    consent: Consent,
    program: Program,
    text: ConsentText,
    issuer: str,
    transparency: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The receipt claims of one consent event."""
    special = list(text.special_categories or [])
    basis = "GDPR art. 6(1)(a)" + (" and 9(2)(a)" if special else "") + ": consent"
    if "criminal-convictions" in special:
        basis += "; art. 10 under Italian law (d.lgs. 196/2003 art. 2-octies)"
    return {
        "iss": issuer,
        "sub": consent.donor_id,
        "iat": int(event.at.timestamp()),
        "jti": event.record_id,
        "record_id": event.record_id,
        "schema_version": SCHEMA_VERSION,
        "schema_basis": SCHEMA_BASIS,
        "consent_id": consent.id,
        "event": event.event,
        "event_time": iso(event.at),
        "reason": event.reason or None,
        "program": {"id": program.id, "title_it": program.title_it, "title_en": program.title_en},
        "purpose": {"id": program.purpose, "iri": purpose_iri(program.purpose)},
        "jurisdiction": JURISDICTION,
        "notice": {
            "version": text.version,
            "sha256": text.sha256,
            "languages": ["it", "en"],
            "url": f"{issuer}/api/v1/programs/{program.id}/form.html?version={text.version}",
        },
        "collection": {"method": event.method or "unrecorded", "actor": event.actor or None},
        "ends_record_id": event.ends_record_id,
        "datasets": list(text.datasets),
        "data_categories": list(text.data_categories),
        "sensitive": bool(special),
        "special_categories": special,
        "recipients": list(text.recipients or []),
        "valid_until": iso(event.valid_until),
        "legal_basis": basis + "; EU Data Governance Act art. 25",
        "controller": {
            "name": program.controller,
            "contact": program.controller_contact,
            "address": program.controller_address or None,
        },
        "retention_days": program.retention_days,
        "status_url": f"{issuer}/api/v1/receipts/{event.record_id}/status",
        **({"transparency": transparency} if transparency else {}),
    }


def issue(session: Session, *, event: ConsentEvent, signer: Signer) -> str:
    """Sign the receipt of ``event`` with the event's key and store it on the event."""
    event.receipt = render(session, event=event, signer=signer)
    return event.receipt


def render(session: Session, *, event: ConsentEvent, signer: Signer) -> str:
    """The receipt of ``event``: the stored one, or signed now with the key recorded on the event."""
    if event.receipt:
        return event.receipt
    consent = session.get(Consent, event.consent_id)
    text = session.get(ConsentText, event.text_id)
    assert consent is not None and text is not None
    program = session.get(Program, consent.program_id)
    assert program is not None
    record = session.get(SigningKey, event.kid)
    assert record is not None
    claims = claims_of(
        event=event,
        consent=consent,
        program=program,
        text=text,
        issuer=signer.issuer,
        transparency=_logged(session, event, signer),
    )
    return keys.sign(claims, record=record, secret=signer.secret)


def _logged(session: Session, event: ConsentEvent, signer: Signer) -> dict[str, Any] | None:
    """Where the event's commitment is in the transparency log, how to open it, and the checkpoint
    of the tree that first held it (signed now; the same note whenever it is signed again)."""
    if event.log_index is None or event.commitment_salt is None:
        return None
    size = event.log_index + 1
    note = tlog.checkpoint(session, log_keys.load(session, signer.secret, signer.issuer), size)
    return {
        "leaf_index": event.log_index,
        "commitment_salt": event.commitment_salt,
        "commitment_scheme": 'SHA-256("datacommons-consent-commitment/1\\n" || salt || record_id)',
        "checkpoint": note,
    }


def verify(token: str, key_set: dict[str, Any]) -> dict[str, Any]:
    """The claims of a valid receipt; :class:`CheckFailed` (or InvalidInput) otherwise."""
    claims = keys.verify(token, key_set)
    missing = [name for name in REQUIRED if name not in claims]
    if missing:
        raise CheckFailed(f"the receipt lacks the claims {', '.join(missing)}")
    if claims["schema_version"] not in KNOWN_SCHEMAS:
        raise CheckFailed(f"unknown receipt schema {claims['schema_version']!r}")
    return claims
