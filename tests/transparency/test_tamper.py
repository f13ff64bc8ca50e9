"""A saved checkpoint catches every rewrite of history: `audit verify --checkpoint` against a
checkpoint kept before the change finds altered, deleted, reordered and truncated logs, and a log
rewritten with every chain hash and tree node recomputed (which the hash chain alone calls intact)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update

from consent import tlog
from consent.models import TransparencyEntry, TransparencyHead, TransparencyNode
from consent.transparency import GENESIS, entry_hash, record_use
from datacommons.config import Settings
from datacommons.db import make_engine, transaction
from tests.support.cli import run_cli


def append(sessions, n: int, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions, immediate=True) as session:
        for i in range(start, start + n):
            record_use(
                session,
                kind="release",
                actor="analyst:a",
                organisation="Cooperativa Uno",
                purpose="dpv:ScientificResearch",
                datasets=["inserimento-lavorativo"],
                details={"release_id": str(i)},
            )


def raw(settings: Settings, *statements: str) -> None:
    engine = make_engine(settings.database_url_resolved)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def rewrite_history(sessions) -> None:  # type: ignore[no-untyped-def]
    """The dishonest administrator: entry 2 now says another organisation and purpose, and every
    hash of the chain, the head and the tree is recomputed to match."""
    with transaction(sessions, immediate=True) as session:
        session.execute(
            update(TransparencyEntry)
            .where(TransparencyEntry.id == 2)
            .values(organisation="Comune di Torino", purpose="dpv:PublicPolicyMaking")
        )
        session.execute(delete(TransparencyNode))
        prev = GENESIS
        for entry in session.scalars(select(TransparencyEntry).order_by(TransparencyEntry.id)):
            entry.prev_hash = prev
            entry.entry_hash = entry_hash(
                id=entry.id,
                at=entry.at,
                kind=entry.kind,
                actor=entry.actor,
                organisation=entry.organisation,
                purpose=entry.purpose,
                datasets=list(entry.datasets),
                fee_eur=entry.fee_eur,
                details=dict(entry.details),
                prev_hash=prev,
            )
            prev = entry.entry_hash
            session.flush()
            tlog.append(session, entry)
        session.execute(update(TransparencyHead).values(entry_hash=prev))


TAMPERS = {
    "altered": (
        ["UPDATE transparency_log SET purpose = 'dpv:PublicPolicyMaking' WHERE id = 2"],
        "history was altered, deleted, reordered or rewritten",
    ),
    "deleted": (["DELETE FROM transparency_log WHERE id = 3"], "entry 3 is missing from the log"),
    "reordered": (
        [
            "UPDATE transparency_log SET id = 99 WHERE id = 2",
            "UPDATE transparency_log SET id = 2 WHERE id = 3",
            "UPDATE transparency_log SET id = 3 WHERE id = 99",
        ],
        "history was altered, deleted, reordered or rewritten",
    ),
    "truncated": (
        [
            "DELETE FROM transparency_log WHERE id > 4",
            "DELETE FROM transparency_nodes",
            "UPDATE transparency_head SET seq = 4",
        ],
        "fewer than the 6 of the saved checkpoint: it was truncated",
    ),
}


@pytest.fixture
def saved(client: TestClient, sessions, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Six entries, a checkpoint saved by someone outside, then two entries more."""
    append(sessions, 6)
    path = tmp_path / "checkpoint.txt"
    path.write_text(client.get("/api/v1/transparency/checkpoint").text)
    append(sessions, 2, start=6)
    return path


def test_an_honest_log_extends_the_saved_checkpoint(settings: Settings, saved: Path) -> None:
    result = run_cli(settings, "audit", "verify", "--checkpoint", str(saved))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "transparency log consistent with the checkpoint of 6 entries (now 8)",
        "transparency log intact: 8 entries",
    ]


@pytest.mark.parametrize("kind", sorted(TAMPERS))
def test_every_tampering_is_caught_by_the_saved_checkpoint(
    settings: Settings, saved: Path, kind: str
) -> None:
    statements, says = TAMPERS[kind]
    raw(settings, *statements)
    result = run_cli(settings, "audit", "verify", "--checkpoint", str(saved))
    assert result.returncode == 1, (kind, result.stdout)
    assert says in result.stderr and result.stderr.count("\n") == 1


def test_a_rewrite_with_recomputed_hashes_is_caught(settings: Settings, sessions, saved: Path) -> None:  # type: ignore[no-untyped-def]
    rewrite_history(sessions)
    chain_only = run_cli(settings, "audit", "verify")
    assert chain_only.returncode == 0  # the review's finding: the chain alone cannot tell
    result = run_cli(settings, "audit", "verify", "--checkpoint", str(saved))
    assert result.returncode == 1
    assert "history was altered, deleted, reordered or rewritten" in result.stderr


def test_a_forged_checkpoint_is_refused(settings: Settings, saved: Path) -> None:
    text_ = saved.read_text()
    forged = saved.with_name("forged.txt")
    forged.write_text(text_.replace("\n6\n", "\n5\n", 1))
    result = run_cli(settings, "audit", "verify", "--checkpoint", str(forged))
    assert result.returncode == 1
    assert "the checkpoint's signature does not verify" in result.stderr


def test_a_file_that_is_no_checkpoint_is_bad_input(settings: Settings, saved: Path) -> None:
    garbage = saved.with_name("garbage.txt")
    garbage.write_text("this is not a checkpoint\n")
    result = run_cli(settings, "audit", "verify", "--checkpoint", str(garbage))
    assert result.returncode == 2
    assert result.stderr == (
        "datacommons: error: not a signed note: no blank line between the text and its signatures\n"
    )
