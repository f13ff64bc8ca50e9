"""Donor rights: personal data only as ciphertext, export of everything, erasure by crypto-shredding."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from consent import donors, keys, receipts
from consent.crypto import decrypt_field, derive_kek, unwrap_key
from consent.eligibility import eligible_donors
from consent.models import Donor, DonorKey
from consent.transparency import record_use
from datacommons.config import Settings
from datacommons.db import make_engine, transaction, utcnow
from tests.conftest import bearer
from tests.consent.conftest import DATASET, PROGRAM, give, register
from tests.consent.test_receipts import pyjwt_decode

NAME = "Zelinda Quartararo"
EMAIL = "zelinda.quartararo@example.org"


def raw_dump(settings: Settings) -> bytes:
    """Every value of every table, read straight from the database, plus the SQLite files."""
    engine = make_engine(settings.database_url_resolved)
    chunks: list[bytes] = []
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    for value in row:
                        chunks.append(value if isinstance(value, bytes | memoryview) else str(value).encode())
    finally:
        engine.dispose()
    if settings.database_url_resolved.startswith("sqlite:///"):
        path = settings.database_url_resolved.removeprefix("sqlite:///")
        for suffix in ("", "-wal"):
            try:
                with open(path + suffix, "rb") as fh:
                    chunks.append(fh.read())
            except FileNotFoundError:
                pass
    return b"\n".join(bytes(c) for c in chunks)


def test_the_database_holds_no_plaintext_name_or_email(
    client: TestClient, settings: Settings, program
) -> None:  # type: ignore[no-untyped-def]
    donor_id, token = register(client, name=NAME, email=EMAIL)
    give(client, token, PROGRAM["id"])
    me = client.get("/api/v1/donors/me", headers=bearer(token)).json()
    assert (me["name"], me["email"]) == (NAME, EMAIL)
    dump = raw_dump(settings)
    assert donor_id.encode() in dump  # the scan does see the donor's rows
    for secret in (NAME, EMAIL, "Quartararo", "zelinda"):
        assert secret.encode() not in dump
        assert secret.encode("utf-16-le") not in dump


def test_export_holds_everything_with_verifiable_receipts(client: TestClient, program, sessions) -> None:  # type: ignore[no-untyped-def]
    donor_id, token = register(client, name=NAME, email=EMAIL)
    consent = give(client, token, PROGRAM["id"])["consent"]
    client.post(f"/api/v1/consents/{consent['id']}/withdraw", headers=bearer(token))
    with transaction(sessions, immediate=True) as session:
        record_use(
            session,
            kind="extract",
            actor="researcher:R",
            purpose="dpv:ScientificResearch",
            datasets=[DATASET],
            organisation="UniTo",
            fee_eur=40.0,
        )
    answer = client.get("/api/v1/donors/me/export", headers=bearer(token))
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="donor-{donor_id}.json"'
    data = answer.json()
    assert data["format"] == "datacommons-donor-export/1"
    assert (data["donor_id"], data["name"], data["email"], data["source"]) == (
        donor_id,
        NAME,
        EMAIL,
        "organisation",
    )
    assert data["datasets"] == [DATASET]
    [exported] = data["consents"]
    assert exported["status"] == "withdrawn"
    assert [e["event"] for e in exported["events"]] == ["given", "withdrawn"]
    with sessions() as session:
        key_set = keys.jwks(session)
    for event in exported["events"]:
        claims = receipts.verify(event["receipt"], key_set)
        assert (claims["event"], claims["record_id"]) == (event["event"], event["record_id"])
    # the extract came after the withdrawal and did not include the donor: not one of their uses
    assert data["uses"] == []
    assert len(data["tokens"]) == 1 and data["tokens"][0]["revoked_at"] is None


def test_erasure_shreds_the_key_and_excludes_the_donor(
    client: TestClient, program, sessions, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    donor_id, token = register(client, name=NAME, email=EMAIL)
    other_id, other_token = register(client)
    give(client, token, PROGRAM["id"])
    give(client, other_token, PROGRAM["id"])
    now = utcnow()
    with sessions() as session:
        assert eligible_donors(session, dataset_id=DATASET, purpose=PROGRAM["purpose"], at=now) == {
            donor_id,
            other_id,
        }
        before = session.get(Donor, donor_id)
        sealed_name = before.name_ct
        wrapped = session.get(DonorKey, donor_id).wrapped_key
    with transaction(sessions, immediate=True) as session:
        earlier = record_use(
            session,
            kind="release",
            actor="analyst:a",
            purpose="dpv:ScientificResearch",
            datasets=[DATASET],
            details={"donors": 2},
        )

    erased = client.delete("/api/v1/donors/me", headers=bearer(token))
    assert erased.status_code == 200
    assert client.get("/api/v1/donors/me/export", headers=bearer(token)).status_code == 401
    # the answer gives the donor the signed receipt of each withdrawal: their token is gone now
    body = erased.json()
    assert body["donor_id"] == donor_id and len(body["receipts"]) == 1
    [withdrawal] = body["receipts"]
    assert (withdrawal["program_id"], withdrawal["event"]) == (PROGRAM["id"], "withdrawn")
    claims = pyjwt_decode(withdrawal["receipt"], client.get("/.well-known/jwks.json").json())
    assert claims["sub"] == donor_id or donor_id in json.dumps(claims)
    assert withdrawal["record_id"] in json.dumps(claims)

    with sessions() as session:
        assert eligible_donors(session, dataset_id=DATASET, purpose=PROGRAM["purpose"], at=utcnow()) == {
            other_id
        }
        donor = session.get(Donor, donor_id)
        assert donor.erased_at is not None
        assert session.get(DonorKey, donor_id) is None
        assert donor.name_ct == sealed_name  # the ciphertext is still there, and useless
        # Even with the instance key, nothing decrypts it: the donor's data key is gone. The
        # wrapped key copied before erasure shows the ciphertext was real.
        kek = derive_kek(settings.secret_key_bytes())
        data_key = unwrap_key(kek, wrapped, donor_id=donor_id)
        assert decrypt_field(data_key, sealed_name, donor_id=donor_id, field="name") == NAME
        assert donors.personal_data(session, donor=donor, kek=kek) == {"name": None, "email": None}
        states = [
            c for c in session.scalars(select(donors.Consent).where(donors.Consent.donor_id == donor_id))
        ]
        assert len(states) == 1
        from consent import ledger

        events = ledger.events_of(session, states[0].id)
        assert [(e.event, e.reason) for e in events] == [
            ("given", ""),
            ("withdrawn", "erasure requested by the donor"),
        ]
        from consent.transparency import USES, list_entries, verify_chain

        uses = [e for e in list_entries(session) if e.kind in USES]  # consents are commitments
        assert [e.entry_hash for e in uses] == [earlier.entry_hash]
        assert verify_chain(session).ok
    assert client.get("/api/v1/donors/me", headers=bearer(other_token)).status_code == 200
