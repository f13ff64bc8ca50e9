"""What "nothing lost, nothing half done" means, checked on the database and the store after a fault."""

from __future__ import annotations

from collections import defaultdict

import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import ledger as consent_ledger
from consent.models import Consent, ConsentEvent, ConsentPeriod, TransparencyEntry
from consent.transparency import verify_chain
from datacommons.config import Settings
from datacommons.datasets import AccessPolicy, Dataset, DatasetVersion, VersionTransition
from datacommons.storage import ParquetStore, file_sha256
from privacy.ledger import TOTAL, org_scope, to_nano
from privacy.models import BudgetAccount, Release
from tests.support.cli import run_cli


def check_store(session: Session, store: ParquetStore) -> list[DatasetVersion]:
    """Every registered version is whole in the store, and every visible file is a whole version.

    A version row exists only with its file, whose bytes still hash to the recorded hash; a file
    under ``objects/`` is named by the hash of its bytes and is a readable Parquet file (what a
    crash can leave is a temporary file, never a visible one). Returns the versions.
    """
    versions = list(session.scalars(select(DatasetVersion).order_by(DatasetVersion.id)))
    for version in versions:
        store.verify(version.content_hash)  # raises CheckFailed if missing or corrupt
        assert pq.read_metadata(store.path_for(version.content_hash)).num_rows == version.rows
    for path in store.objects_dir.rglob("*"):
        if path.is_file():
            assert path.name == f"{file_sha256(path)}.parquet", f"{path} is not a whole version"
            pq.read_metadata(path)
    by_dataset: dict[str, list[int]] = defaultdict(list)
    for version in versions:
        by_dataset[version.dataset_id].append(version.number)
        transitions = list(
            session.scalars(
                select(VersionTransition)
                .where(VersionTransition.version_id == version.id)
                .order_by(VersionTransition.id)
            )
        )
        assert transitions and transitions[0].to_status == "staged", version.number
        assert transitions[-1].to_status == version.status, version.number
    for dataset_id, numbers in by_dataset.items():  # numbered 1..n without a hole
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), dataset_id
    for dataset in session.scalars(select(Dataset)):
        if dataset.current_version is not None:
            assert dataset.current_version.status == "published", dataset.id
    return versions


def check_publications(session: Session) -> None:
    """Each publication is logged exactly once, in the same transaction that made it current."""
    published = defaultdict(int)
    for version in session.scalars(select(DatasetVersion)):
        steps = session.scalars(
            select(VersionTransition).where(
                VersionTransition.version_id == version.id, VersionTransition.to_status == "published"
            )
        )
        published[(version.dataset_id, version.content_hash)] = len(list(steps))
    logged = defaultdict(int)
    for entry in session.scalars(select(TransparencyEntry).where(TransparencyEntry.kind == "publication")):
        logged[(entry.datasets[0], entry.details["content_hash"])] += 1
    assert dict(logged) == {key: n for key, n in published.items() if n}


def check_budget_ledger(session: Session) -> dict[tuple[str, str], int]:
    """Spent epsilon per account is exactly the sum of the stored releases, and never over its limit.

    Returns the spent amounts (nano-epsilon) by (dataset id, scope).
    """
    releases = list(session.scalars(select(Release)))
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for release in releases:
        expected[(release.dataset_id, TOTAL)] += to_nano(release.epsilon)
        expected[(release.dataset_id, org_scope(release.organisation_id))] += to_nano(release.epsilon)
    spent = {(a.dataset_id, a.scope): a.spent_nano for a in session.scalars(select(BudgetAccount))}
    assert {k: v for k, v in spent.items() if v} == dict(expected)
    for (dataset_id, scope), amount in spent.items():
        policy = session.get(AccessPolicy, dataset_id)
        assert policy is not None
        limit = policy.epsilon_total if scope == TOTAL else policy.epsilon_per_organisation
        assert amount <= to_nano(limit), (scope, amount, limit)
    logged = [
        e.details["release_id"]
        for e in session.scalars(
            select(TransparencyEntry).where(TransparencyEntry.kind.in_(["release", "extract"]))
        )
    ]
    assert sorted(logged) == sorted(r.id for r in releases)  # every release logged, once
    return spent


def check_consents(session: Session) -> dict[str, list[str]]:
    """Each consent's events alternate as the workflow allows and agree with its periods.

    Returns the event kinds of each consent, oldest first, by donor.
    """
    out: dict[str, list[str]] = {}
    for consent in session.scalars(select(Consent)):
        kinds = [e.event for e in consent_ledger.events_of(session, consent.id)]
        assert kinds and kinds[0] == "given"
        assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False)), kinds  # no double step
        open_periods = list(
            session.scalars(
                select(ConsentPeriod).where(
                    ConsentPeriod.consent_id == consent.id, ConsentPeriod.ended_at.is_(None)
                )
            )
        )
        state = consent_ledger.state_of(session, consent).status
        assert (state, len(open_periods)) == (("active", 1) if kinds[-1] == "given" else ("withdrawn", 0))
        receipts = list(
            session.scalars(select(ConsentEvent.receipt).where(ConsentEvent.consent_id == consent.id))
        )
        assert len(receipts) == len(kinds) and all(receipts)  # each event signed with it
        out[consent.donor_id] = kinds
    return out


def check_audit(session: Session, settings: Settings) -> int:
    """The transparency chain verifies, in the library and with ``datacommons audit verify``."""
    result = verify_chain(session)
    assert result.ok, result
    done = run_cli(settings, "audit", "verify")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"transparency log intact: {result.count} entries\n",
        "",
    )
    return result.count
