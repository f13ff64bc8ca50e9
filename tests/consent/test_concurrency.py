"""Two requests giving consent for the same donor and program at once leave one consistent state."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from consent import donors, ledger, programs
from consent.models import Consent, ConsentEvent, ConsentPeriod
from consent.receipts import Signer
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from tests.consent.conftest import PROGRAM

ROUNDS = 3


def test_concurrent_grants_yield_one_active_consent(settings: Settings, signer: Signer) -> None:
    engines = [make_engine(settings.database_url_resolved) for _ in range(2)]
    factories = [make_sessionmaker(e) for e in engines]
    try:
        with transaction(factories[0], immediate=True) as session:
            programs.create_program(session, spec=programs.ProgramSpec.model_validate(PROGRAM), actor="test")
            rows = donors.register_for_organisation(
                session,
                organisation="Coop",
                donor_ids=[f"D{i:07d}" for i in range(1, ROUNDS + 1)],
                dataset_ids=["inserimento-lavorativo"],
            )
            ids = [row["donor_id"] for row in rows]
        for donor_id in ids:
            barrier = threading.Barrier(2)
            outcomes: list[object] = []

            def request(factory, donor_id: str = donor_id, barrier=barrier, outcomes=outcomes) -> None:  # type: ignore[no-untyped-def]
                barrier.wait()
                try:
                    with transaction(factory, immediate=True) as session:
                        _consent, changed = ledger.grant(
                            session,
                            donor_id=donor_id,
                            program_id=PROGRAM["id"],
                            text_version=1,
                            signer=signer,
                        )
                    outcomes.append(changed)
                except Exception as exc:  # pragma: no cover - shown by the assertion
                    outcomes.append(exc)

            threads = [threading.Thread(target=request, args=(f,)) for f in factories]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes, key=str) == [False, True]  # one gave it, the other saw it given
            with factories[0]() as session:
                [consent] = session.scalars(select(Consent).where(Consent.donor_id == donor_id))
                events = ledger.events_of(session, consent.id)
                assert [e.event for e in events] == ["given"]
                assert ledger.state_of(session, consent).status == "active"
                periods = session.scalar(
                    select(func.count()).select_from(ConsentPeriod).where(ConsentPeriod.donor_id == donor_id)
                )
                assert periods == 1
                assert (
                    session.scalar(
                        select(func.count())
                        .select_from(ConsentEvent)
                        .where(ConsentEvent.consent_id == consent.id)
                    )
                    == 1
                )
    finally:
        for engine in engines:
            engine.dispose()


def test_concurrent_grant_and_withdraw_agree_with_the_events(settings: Settings, signer: Signer) -> None:
    engines = [make_engine(settings.database_url_resolved) for _ in range(2)]
    factories = [make_sessionmaker(e) for e in engines]
    try:
        with transaction(factories[0], immediate=True) as session:
            programs.create_program(session, spec=programs.ProgramSpec.model_validate(PROGRAM), actor="test")
            [row] = donors.register_for_organisation(
                session, organisation="Coop", donor_ids=["D1"], dataset_ids=["inserimento-lavorativo"]
            )
            d1 = row["donor_id"]
            consent, _ = ledger.grant(
                session, donor_id=d1, program_id=PROGRAM["id"], text_version=1, signer=signer
            )
        barrier = threading.Barrier(2)
        errors: list[Exception] = []

        def run(action) -> None:  # type: ignore[no-untyped-def]
            barrier.wait()
            try:
                action()
            except Exception as exc:
                errors.append(exc)

        def withdraw() -> None:
            with transaction(factories[0], immediate=True) as session:
                ledger.withdraw(session, donor_id=d1, consent_id=consent.id, signer=signer)

        def regrant() -> None:
            with transaction(factories[1], immediate=True) as session:
                ledger.grant(session, donor_id=d1, program_id=PROGRAM["id"], text_version=1, signer=signer)

        threads = [threading.Thread(target=run, args=(a,)) for a in (withdraw, regrant)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with factories[0]() as session:
            events = ledger.events_of(session, consent.id)
            kinds = [e.event for e in events]
            assert kinds in (["given", "withdrawn"], ["given", "withdrawn", "given"])
            open_periods = session.scalar(
                select(func.count())
                .select_from(ConsentPeriod)
                .where(ConsentPeriod.consent_id == consent.id, ConsentPeriod.ended_at.is_(None))
            )
            derived = ledger.state_of(session, consent).status
            assert (derived, open_periods) == (
                ("withdrawn", 0) if kinds[-1] == "withdrawn" else ("active", 1)
            )
    finally:
        for engine in engines:
            engine.dispose()
