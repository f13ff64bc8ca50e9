"""Migrating a database that already has releases: spending carries over, per dataset and per person."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import text

from consent import privacy_loss
from consent.eligibility import clear_cache
from datacommons.db import make_engine, make_sessionmaker, utcnow
from datacommons.migrations import upgrade
from privacy import ledger

DATASET = "inserimento-lavorativo"
NANO = 10**9


def seed_consents_as_in_0003(engine: sa.Engine, *, donor_ids: list[str], at) -> None:  # type: ignore[no-untyped-def]
    """A research program on the dataset and the donors' consents since ``at``, written in the
    schema of revision 0003 (today's code writes columns later revisions add)."""
    meta = sa.MetaData()
    names = ["consent_programs", "consent_texts", "consent_text_datasets", "donors", "donor_datasets"]
    meta.reflect(engine, only=[*names, "consents", "consent_periods"])
    t = meta.tables
    with engine.begin() as conn:
        conn.execute(
            t["consent_programs"].insert(),
            {
                "id": "research",
                "title_it": "r",
                "title_en": "r",
                "purpose": "dpv:ScientificResearch",
                "controller": "c",
                "controller_contact": "",
                "retention_days": 365,
                "created_at": at,
                "created_by": "test",
                "current_text_id": 1,
            },
        )
        conn.execute(
            t["consent_texts"].insert(),
            {
                "id": 1,
                "program_id": "research",
                "version": 1,
                "text_it": "t",
                "text_en": "t",
                "datasets": [DATASET],
                "data_categories": [],
                "duration_days": None,
                "sha256": "0" * 64,
                "created_at": at,
            },
        )
        conn.execute(t["consent_text_datasets"].insert(), {"text_id": 1, "dataset_id": DATASET})
        for n, donor in enumerate(donor_ids, start=1):
            conn.execute(
                t["donors"].insert(),
                {"id": donor, "source": "organisation", "organisation_id": 7, "created_at": at},
            )
            conn.execute(
                t["donor_datasets"].insert(), {"donor_id": donor, "dataset_id": DATASET, "created_at": at}
            )
            conn.execute(
                t["consents"].insert(),
                {"id": f"c{n}", "donor_id": donor, "program_id": "research", "created_at": at},
            )
            conn.execute(
                t["consent_periods"].insert(),
                {
                    "id": n,
                    "consent_id": f"c{n}",
                    "donor_id": donor,
                    "text_id": 1,
                    "valid_from": at,
                    "valid_until": None,
                    "ended_at": None,
                    "void": False,
                },
            )


def test_version_budgets_and_past_releases_carry_over(tmp_path, pg_url, db_kind) -> None:  # type: ignore[no-untyped-def]
    if db_kind == "postgresql":
        from tests.support.pgserver import new_database

        manager = new_database(pg_url, "mig")
        url = manager.__enter__()
    else:
        manager = None
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    try:
        upgrade(engine, "0005")  # the privacy branch as it was, with the kernel below it
        upgrade(engine, "0003")  # and the consent registry
        sessions = make_sessionmaker(engine)
        now = utcnow()
        with engine.begin() as conn:
            for sql in (
                (
                    "INSERT INTO datasets (id, title_it, title_en, description_it, "
                    "description_en, theme, publisher, access, geography, licence, keywords, "
                    "frequency, created_at, modified_at) VALUES (:d, 't', 't', '', '', 'SOCI', 'p', "
                    "'private', 'ITC11', 'l', '[]', 'IRREG', :now, :now)"
                ),
                ("INSERT INTO organisations (id, name, created_at) VALUES (7, 'Coop A', :now)"),
            ):
                conn.execute(text(sql), {"d": DATASET, "now": now})
            for vid in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO dataset_versions (id, dataset_id, number, content_hash, rows, "
                        "size_bytes, arrow_schema, status, provenance, created_at, created_by, "
                        "status_changed_at) VALUES (:v, :d, :v, :h, 1, 1, '[]', 'published', '{}', "
                        ":now, 't', :now)"
                    ),
                    {"v": vid, "d": DATASET, "h": f"{vid:064d}", "now": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO budget_accounts (version_id, scope, spent_nano) "
                        "VALUES (:v, 'total', :s), (:v, 'org:7', :s)"
                    ),
                    {"v": vid, "s": vid * NANO // 2},
                )
        seed_consents_as_in_0003(engine, donor_ids=["D1", "D2", "D3"], at=now - timedelta(hours=1))
        with engine.begin() as conn:  # two releases made before the ledger, after the consents
            for n, eps in ((1, 0.25), (2, 0.5)):
                conn.execute(
                    text(
                        "INSERT INTO dp_releases (id, kind, dataset_id, version_id, organisation_id, "
                        "actor, purpose, query_hash, query, result, epsilon, donors, created_at) VALUES "
                        "(:id, 'query', :d, :n, 7, 'a', 'dpv:ScientificResearch', :id, '{}', '{}', :e, "
                        "3, :at)"
                    ),
                    {"id": f"r{n}", "d": DATASET, "n": n, "e": eps, "at": now + timedelta(seconds=n)},
                )
        clear_cache()
        upgrade(engine)
        clear_cache()
        privacy_loss.clear_cache()
        with sessions() as session:
            spent = dict(
                session.execute(
                    text("SELECT scope, spent_nano FROM dataset_budgets WHERE dataset_id = :d"),
                    {"d": DATASET},
                ).all()
            )
            assert spent == {"total": 3 * NANO // 2, "org:7": 3 * NANO // 2}  # 0.5 + 1.0
            losses = {d: privacy_loss.history(session, d) for d in ("D1", "D2", "D3")}
        for donor in ("D1", "D2", "D3"):
            eps, count, releases = losses[donor]
            assert (eps, count, [r["release_id"] for r in releases]) == (0.75, 2, ["r2", "r1"])
        assert ledger.to_nano(0.75) == 3 * NANO // 4
    finally:
        engine.dispose()
        if manager is not None:
            manager.__exit__(None, None, None)
