"""The transparency log: hash-chained, verified by `datacommons audit verify` and the admin API."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from consent import transparency
from consent.transparency import record_use, verify_chain
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from tests.conftest import bearer
from tests.support.cli import run_cli


def append(factory, n: int = 4) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        with transaction(factory, immediate=True) as session:
            record_use(
                session,
                kind=("release", "extract", "publication")[i % 3],
                actor="researcher:Ada",
                organisation="Università di Torino",
                purpose="dpv:ScientificResearch",
                datasets=["inserimento-lavorativo"],
                fee_eur=12.5 if i == 1 else None,
                details={"release_id": i + 1},
            )


def raw(settings: Settings, sql: str) -> None:
    """Change the database behind the commons' back."""
    engine = make_engine(settings.database_url_resolved)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def test_intact_log_verifies(settings: Settings, session_factory, client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    issued = 3  # the fixture's admin, analyst and researcher tokens: each issue is a logged act
    empty = run_cli(settings, "audit", "verify")
    assert (empty.returncode, empty.stdout) == (0, f"transparency log intact: {issued} entries\n")
    append(session_factory)
    ok = run_cli(settings, "audit", "verify")
    assert (ok.returncode, ok.stdout) == (0, f"transparency log intact: {issued + 4} entries\n")
    answer = client.get("/api/v1/admin/audit/verify", headers=bearer(tokens["admin"]))
    assert answer.json() == {"ok": True, "count": issued + 4, "first_bad_id": None, "reason": None}
    log = client.get("/api/v1/admin/audit/log", headers=bearer(tokens["admin"])).json()
    assert [e["kind"] for e in log["data"]] == ["token"] * issued + [
        "release",
        "extract",
        "publication",
        "release",
    ]
    assert [e["id"] for e in log["data"]] == list(range(1, issued + 5))
    assert [e["prev_hash"] for e in log["data"][1:]] == [e["entry_hash"] for e in log["data"][:-1]]
    uses = log["data"][issued:]
    assert uses[1]["fee_eur"] == 12.5 and uses[1]["details"] == {"release_id": 2}
    assert client.get("/api/v1/admin/audit/verify", headers=bearer(tokens["analyst"])).status_code == 403


@pytest.mark.parametrize(
    ("tamper", "bad_id", "says"),
    [
        ("UPDATE transparency_log SET purpose = 'dpv:Marketing' WHERE id = 2", 2, "entry 2 was altered"),
        ("UPDATE transparency_log SET fee_eur = 0 WHERE id = 2", 2, "entry 2 was altered"),
        ("DELETE FROM transparency_log WHERE id = 3", 3, "entry 3 is missing"),
        ("DELETE FROM transparency_log WHERE id = 4", 4, "entry 4 is missing"),
        # Reordered: entries 2 and 3 swap places (through a free id, the primary key is unique).
        (
            "UPDATE transparency_log SET id = 99 WHERE id = 2;"
            " UPDATE transparency_log SET id = 2 WHERE id = 3;"
            " UPDATE transparency_log SET id = 3 WHERE id = 99",
            2,
            "entry 2 does not follow entry 1",
        ),
    ],
)
def test_tampering_is_found_and_named(
    settings: Settings, session_factory, client: TestClient, tokens, tamper: str, bad_id: int, says: str
) -> None:  # type: ignore[no-untyped-def]
    append(session_factory)
    for statement in tamper.split(";"):
        raw(settings, statement)
    result = run_cli(settings, "audit", "verify")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"transparency log broken at entry {bad_id}: {says}" in result.stderr
    answer = client.get("/api/v1/admin/audit/verify", headers=bearer(tokens["admin"])).json()
    assert answer["ok"] is False and answer["first_bad_id"] == bad_id


def test_concurrent_writers_never_fork_the_chain(settings: Settings) -> None:
    engines = [make_engine(settings.database_url_resolved) for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(engines))

    def writer(engine) -> None:  # type: ignore[no-untyped-def]
        factory = make_sessionmaker(engine)
        barrier.wait()
        try:
            append(factory, 5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with make_sessionmaker(engines[0])() as session:
            assert verify_chain(session).as_dict() == {
                "ok": True,
                "count": 20,
                "first_bad_id": None,
                "reason": None,
            }
            assert [e.id for e in transparency.list_entries(session)] == list(range(1, 21))
    finally:
        for engine in engines:
            engine.dispose()


def test_record_use_refuses_bad_input(session_factory) -> None:  # type: ignore[no-untyped-def]
    from datacommons.errors import InvalidInput

    with session_factory() as session:
        for kwargs in ({"kind": "sale"}, {"datasets": []}, {"fee_eur": -1.0}):
            args = {
                "kind": "release",
                "actor": "a",
                "purpose": "dpv:ScientificResearch",
                "datasets": ["x"],
                **kwargs,
            }
            with pytest.raises(InvalidInput):
                record_use(session, **args)  # type: ignore[arg-type]
