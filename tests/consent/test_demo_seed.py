"""The demo's consent data: programs, organisation donors with consents, and a working demo donor."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consent import keys, ledger, receipts
from consent.eligibility import eligible_donors
from consent.models import ConsentEvent, Donor
from consent.receipts import Signer
from datacommons.config import Settings
from datacommons.db import utcnow
from datacommons.demo import PRIVATE_ID, donated_ids, run_demo
from datacommons.storage import ParquetStore
from tests.conftest import bearer
from tests.support.cli import run_cli


def test_demo_seeds_programs_donors_and_consents_once(settings: Settings, app, sessions) -> None:  # type: ignore[no-untyped-def]
    result = run_demo(settings)
    with sessions() as session:
        organisation_donors = set(donated_ids(session, ParquetStore(settings.store_dir)))
        counts = (
            session.scalar(select(func.count()).select_from(Donor)),
            session.scalar(select(func.count()).select_from(ConsentEvent)),
        )
        research = eligible_donors(
            session, dataset_id=PRIVATE_ID, purpose="dpv:ScientificResearch", at=utcnow()
        )
        policy = eligible_donors(
            session, dataset_id=PRIVATE_ID, purpose="dpv:PublicPolicyMaking", at=utcnow()
        )
        withdrawn = {
            program: set(
                session.scalars(
                    select(ledger.Consent.donor_id)
                    .join(ConsentEvent, ConsentEvent.consent_id == ledger.Consent.id)
                    .where(ConsentEvent.event == "withdrawn", ledger.Consent.program_id == program)
                )
            )
            for program in (f"{PRIVATE_ID}-ricerca", f"{PRIVATE_ID}-politiche")
        }
    assert len(organisation_donors) > 20_000
    assert counts[0] == len(organisation_donors) + 1  # and the demo donor
    assert (
        0.8 * len(organisation_donors) < len(research - {"demo-donor-0001"}) < 0.9 * len(organisation_donors)
    )
    assert 0.5 * len(organisation_donors) < len(policy) < 0.7 * len(organisation_donors)
    assert withdrawn[f"{PRIVATE_ID}-ricerca"] and withdrawn[f"{PRIVATE_ID}-politiche"]
    assert not withdrawn[f"{PRIVATE_ID}-ricerca"] & research
    assert not withdrawn[f"{PRIVATE_ID}-politiche"] & policy
    assert research - {"demo-donor-0001"} <= organisation_donors

    run_demo(settings)  # again: nothing changes
    with sessions() as session:
        assert (
            session.scalar(select(func.count()).select_from(Donor)),
            session.scalar(select(func.count()).select_from(ConsentEvent)),
        ) == counts
        # A bulk-seeded event's receipt is signed on demand, and verifies like any other.
        event = session.scalars(select(ConsentEvent).where(ConsentEvent.receipt.is_(None))).first()
        token = receipts.render(session, event=event, signer=Signer.of(settings))
        claims = receipts.verify(token, keys.jwks(session))
        assert claims["record_id"] == event.record_id
        assert receipts.render(session, event=event, signer=Signer.of(settings)) == token

    donor_token = result.tokens["donor"]
    with TestClient(app) as client:
        me = client.get("/api/v1/donors/me", headers=bearer(donor_token)).json()
        assert me["donor_id"] == "demo-donor-0001" and me["name"] == "Donatrice Demo"
        [consent] = me["consents"]
        assert consent["status"] == "active" and consent["purpose"] == "dpv:ScientificResearch"
        receipt = client.get(f"/api/v1/consents/{consent['id']}/receipt", headers=bearer(donor_token)).json()[
            "receipt"
        ]
        programs = client.get("/api/v1/programs").json()
    assert {p["purpose"] for p in programs["data"]} == {"dpv:ScientificResearch", "dpv:PublicPolicyMaking"}
    assert run_cli(settings, "consent", "verify", receipt).returncode == 0
