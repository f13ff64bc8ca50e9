"""eligible_donors: who a query may use, exactly at the instants consent starts, ends and expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from consent import donors, eligibility, ledger, programs
from consent.models import Donor
from consent.receipts import Signer
from datacommons.auth import Organisation
from datacommons.db import make_engine, make_sessionmaker, transaction
from tests.consent.conftest import DATASET, PROGRAM

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
PURPOSE = "dpv:ScientificResearch"


def setup_program(factory: sessionmaker[Session], **text_changes) -> None:  # type: ignore[no-untyped-def]
    spec = programs.ProgramSpec.model_validate({**PROGRAM, "text": {**PROGRAM["text"], **text_changes}})
    with transaction(factory, immediate=True) as session:
        programs.create_program(session, spec=spec, actor="test")


def add_donors(
    factory: sessionmaker[Session],
    *ids: str,
    datasets: tuple[str, ...] = (DATASET,),
    organisation: str = "Coop",
) -> None:
    with transaction(factory, immediate=True) as session:
        donors.register_for_organisation(
            session,
            organisation=organisation,
            donor_ids=list(ids),
            dataset_ids=list(datasets),
            with_codes=False,
        )


def did(factory: sessionmaker[Session], pseudonym: str, organisation: str = "Coop") -> str:
    """The donor id of the organisation's donor known to it as ``pseudonym``."""
    with factory() as session:
        return str(
            session.scalar(
                select(Donor.id)
                .join(Organisation, Organisation.id == Donor.organisation_id)
                .where(Donor.pseudonym == pseudonym, Organisation.name == organisation)
            )
        )


def grant(
    factory: sessionmaker[Session], signer: Signer, pseudonym: str, at: datetime, version: int = 1
) -> str:
    donor_id = did(factory, pseudonym)
    with transaction(factory, immediate=True) as session:
        consent, _ = ledger.grant(
            session, donor_id=donor_id, program_id=PROGRAM["id"], text_version=version, signer=signer, at=at
        )
        return consent.id


def eligible(
    factory: sessionmaker[Session], at: datetime, dataset: str = DATASET, purpose: str = PURPOSE
) -> set[str]:
    """The pseudonyms of the records a query may use (and the donor ids agree with them)."""
    with factory() as session:
        allowed = eligibility.eligible(session, dataset_id=dataset, purpose=purpose, at=at)
        assert (
            eligibility.eligible_donors(session, dataset_id=dataset, purpose=purpose, at=at) == allowed.donors
        )
        return set(allowed.records)


def test_consent_counts_from_the_instant_given_until_the_instant_withdrawn(
    session_factory, signer: Signer
) -> None:  # type: ignore[no-untyped-def]
    setup_program(session_factory, duration_days=None)
    add_donors(session_factory, "D0000001", "D0000002")
    consent_id = grant(session_factory, signer, "D0000001", T0)
    grant(session_factory, signer, "D0000002", T0 + timedelta(hours=1))

    assert eligible(session_factory, T0 - TICK) == set()
    assert eligible(session_factory, T0) == {"D0000001"}
    assert eligible(session_factory, T0 + timedelta(hours=1)) == {"D0000001", "D0000002"}

    t1 = T0 + timedelta(days=10)
    with transaction(session_factory, immediate=True) as session:
        ledger.withdraw(
            session, donor_id=did(session_factory, "D0000001"), consent_id=consent_id, signer=signer, at=t1
        )
    assert eligible(session_factory, t1 - TICK) == {"D0000001", "D0000002"}  # earlier: as it was
    assert eligible(session_factory, t1) == {"D0000002"}
    assert eligible(session_factory, t1 + timedelta(days=1)) == {"D0000002"}

    # Consent given again later counts again from that instant only.
    t2 = t1 + timedelta(days=5)
    grant(session_factory, signer, "D0000001", t2)
    assert eligible(session_factory, t2 - TICK) == {"D0000002"}
    assert eligible(session_factory, t2) == {"D0000001", "D0000002"}


def test_expiry_instant_is_excluded_and_other_purposes_and_datasets_do_not_count(
    session_factory, signer: Signer
) -> None:  # type: ignore[no-untyped-def]
    setup_program(session_factory, duration_days=30)
    add_donors(session_factory, "D0000001")
    grant(session_factory, signer, "D0000001", T0)
    expiry = T0 + timedelta(days=30)
    assert eligible(session_factory, expiry - TICK) == {"D0000001"}
    assert eligible(session_factory, expiry) == set()
    assert eligible(session_factory, T0, purpose="dpv:PublicPolicyMaking") == set()
    assert eligible(session_factory, T0, dataset="another-dataset") == set()

    with transaction(session_factory, immediate=True) as session:
        assert ledger.expire_due(session, signer=signer, at=expiry + timedelta(days=1)) == 1
        consent = ledger.list_consents(session, did(session_factory, "D0000001"))[0]
        events = ledger.events_of(session, consent.id)
        assert [(e.event, e.at) for e in events] == [("given", T0), ("expired", expiry)]
        assert ledger.state_of(session, consent, expiry).status == "expired"
    assert eligible(session_factory, expiry - TICK) == {"D0000001"}


def test_erasure_excludes_the_donor_from_every_later_answer(session_factory, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    setup_program(session_factory, duration_days=None)
    add_donors(session_factory, "D0000001", "D0000002")
    grant(session_factory, signer, "D0000001", T0)
    grant(session_factory, signer, "D0000002", T0)
    assert eligible(session_factory, T0 + timedelta(days=1)) == {"D0000001", "D0000002"}
    first = did(session_factory, "D0000001")
    with transaction(session_factory, immediate=True) as session:
        donors.erase(session, donor_id=first, signer=signer, at=T0 + timedelta(days=2))
    for at in (T0, T0 + timedelta(days=1), T0 + timedelta(days=3)):
        assert eligible(session_factory, at) == {"D0000002"}
    with session_factory() as session:
        erased = session.get(Donor, first)
        assert erased.erased_at == T0 + timedelta(days=2)
        assert erased.pseudonym is None  # the organisation's name for them is gone with them


def test_a_new_text_version_never_extends_older_consents(session_factory, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    setup_program(session_factory, duration_days=None)
    add_donors(session_factory, "D0000001", "D0000002", datasets=(DATASET, "tirocini"))
    grant(session_factory, signer, "D0000001", T0)
    with transaction(session_factory, immediate=True) as session:
        program = programs.get_program(session, PROGRAM["id"])
        programs.add_text_version(
            session,
            program=program,
            actor="admin:test",
            spec=programs.TextSpec.model_validate(
                {**PROGRAM["text"], "datasets": [DATASET, "tirocini"], "duration_days": None}
            ),
        )
    later = T0 + timedelta(days=1)
    assert eligible(session_factory, later, dataset="tirocini") == set()
    assert eligible(session_factory, later) == {"D0000001"}
    grant(session_factory, signer, "D0000002", later, version=2)
    assert eligible(session_factory, later, dataset="tirocini") == {"D0000002"}
    # D0000001 renews on version 2: from then on it covers the new dataset too.
    grant(session_factory, signer, "D0000001", later + timedelta(hours=1), version=2)
    assert eligible(session_factory, later + timedelta(hours=1), dataset="tirocini") == {
        "D0000001",
        "D0000002",
    }
    assert eligible(session_factory, later, dataset="tirocini") == {"D0000002"}


def test_cached_answers_follow_changes_made_by_another_process(
    settings, session_factory, signer: Signer
) -> None:  # type: ignore[no-untyped-def]
    setup_program(session_factory, duration_days=None)
    add_donors(session_factory, "D0000001", "D0000002")
    consent_id = grant(session_factory, signer, "D0000001", T0)
    now = T0 + timedelta(days=1)
    assert eligible(session_factory, now) == {"D0000001"}
    assert eligible(session_factory, now + TICK) == {"D0000001"}  # warm: same window

    other = make_engine(settings.database_url_resolved)  # a second "process": its own engine
    try:
        factory = make_sessionmaker(other)
        grant(factory, signer, "D0000002", now + timedelta(seconds=1))
        assert eligible(session_factory, now + timedelta(seconds=2)) == {"D0000001", "D0000002"}
        with transaction(factory, immediate=True) as session:
            ledger.withdraw(
                session,
                donor_id=did(session_factory, "D0000001"),
                consent_id=consent_id,
                signer=signer,
                at=now + timedelta(seconds=3),
            )
    finally:
        other.dispose()
    assert eligible(session_factory, now + timedelta(seconds=4)) == {"D0000002"}
    assert eligible(session_factory, now + timedelta(seconds=2)) == {"D0000001", "D0000002"}


def test_eligibility_agrees_with_the_state_derived_from_the_events(session_factory, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    import random

    setup_program(session_factory, duration_days=3)
    pseudonyms = [f"D{i:07d}" for i in range(1, 7)]
    add_donors(session_factory, *pseudonyms)
    ids = [did(session_factory, p) for p in pseudonyms]
    name = dict(zip(ids, pseudonyms, strict=True))
    rng = random.Random(20261125)
    at = T0
    for _step in range(40):
        at += timedelta(hours=rng.choice([1, 7, 30, 80]))
        donor_id = rng.choice(ids)
        with transaction(session_factory, immediate=True) as session:
            consents = ledger.list_consents(session, donor_id)
            state = ledger.state_of(session, consents[0], at).status if consents else "none"
            if state == "active" and rng.random() < 0.6:
                ledger.withdraw(session, donor_id=donor_id, consent_id=consents[0].id, signer=signer, at=at)
            else:
                ledger.grant(
                    session, donor_id=donor_id, program_id=PROGRAM["id"], text_version=1, signer=signer, at=at
                )
    with session_factory() as session:
        consents = {c.donor_id: c for d in ids for c in ledger.list_consents(session, d)}
        events = {d: ledger.events_of(session, c.id) for d, c in consents.items()}
    probe = T0
    while probe < at + timedelta(days=4):
        derived = {name[d] for d, evs in events.items() if ledger.derive_state(evs, probe).status == "active"}
        assert eligible(session_factory, probe) == derived, probe
        probe += timedelta(hours=5)


def test_consent_releases_only_the_donors_own_records(session_factory, signer: Signer) -> None:  # type: ignore[no-untyped-def]
    """The review's reproduction: a second dataset whose rows use the same pseudonyms for other
    people; a donor of the first consents to a program covering both. Their consent must not
    release the other dataset's D0000001, who is someone else."""
    setup_program(session_factory, duration_days=None)
    add_donors(session_factory, "D0000001")  # linked to the first dataset only
    with transaction(session_factory, immediate=True) as session:
        program = programs.get_program(session, PROGRAM["id"])
        programs.add_text_version(
            session,
            program=program,
            actor="admin:test",
            spec=programs.TextSpec.model_validate(
                {**PROGRAM["text"], "datasets": [DATASET, "altra-cooperativa"], "duration_days": None}
            ),
        )
    grant(session_factory, signer, "D0000001", T0, version=2)
    later = T0 + timedelta(hours=1)
    assert eligible(session_factory, later) == {"D0000001"}
    assert eligible(session_factory, later, dataset="altra-cooperativa") == set()
