"""``datacommons backup`` and ``datacommons restore``, run as an operator runs them.

Every restore goes into an empty data directory and a new, empty database of the leg's kind; on the
PostgreSQL leg the demo's backup is also restored into SQLite and back, to show the format is
portable and lossless.
"""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from connectors.istat_comuni import reference_path
from consent import donors, ledger, programs, transparency
from consent.models import ConsentEvent, TransparencyEntry
from consent.receipts import Signer
from datacommons.app import create_app
from datacommons.backup import make_backup
from datacommons.config import Settings
from datacommons.datasets import DatasetVersion
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.demo import DONOR_ORGANISATION, run_demo
from datacommons.storage import ParquetStore, file_sha256
from tests.conftest import bearer
from tests.consent.conftest import PROGRAM
from tests.support.cli import run_cli

SECRET = "test-secret-" + "x" * 32
Target = Callable[..., Settings]


@pytest.fixture
def target(tmp_path: Path, pg_url: str | None) -> Iterator[Target]:
    """Makes settings of an instance to restore into: an empty data directory and an empty database.

    The database is of the leg's kind (``kind="sqlite"`` forces a SQLite file); a PostgreSQL one is
    created empty, with no schema at all.
    """
    created: list[str] = []
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT") if pg_url else None

    def make(name: str, *, kind: str | None = None, secret: str | None = SECRET) -> Settings:
        data_dir = tmp_path / name
        if admin is None or kind == "sqlite":
            url = f"sqlite:///{data_dir / 'datacommons.sqlite3'}"
        else:
            database = f"r_{uuid.uuid4().hex[:16]}"
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {database}"))
            created.append(database)
            url = make_url(pg_url).set(database=database).render_as_string(hide_password=False)
        return Settings(_env_file=None, env="test", data_dir=data_dir, database_url=url, secret_key=secret)

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for database in created:
                conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        admin.dispose()


def table_counts(settings: Settings) -> dict[str, int]:
    """Rows per table of an instance's database (Alembic's own table left out)."""
    engine = make_engine(settings.database_url_resolved)
    try:
        with engine.connect() as conn:
            metadata = MetaData()
            metadata.reflect(conn)
            return {
                name: conn.scalar(select(func.count()).select_from(table)) or 0
                for name, table in sorted(metadata.tables.items())
                if name != "alembic_version"
            }
    finally:
        engine.dispose()


def untouched(settings: Settings) -> bool:
    """Whether a target made by ``target`` is still as it was: no data directory, no table."""
    if settings.data_dir.exists():
        return False
    url = settings.database_url_resolved
    if url.startswith("sqlite"):
        return not Path(make_url(url).database or "").exists()
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def db_files(backup: Path) -> dict[str, str]:
    """The SHA-256 of each table file of a backup directory (what the rows are, byte for byte)."""
    return {p.name: file_sha256(p) for p in sorted((backup / "db").iterdir())}


def ok(result: Any) -> str:
    """The stdout of a CLI run that must have succeeded."""
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def test_the_demo_restored_into_an_empty_instance_is_the_same_commons(
    tmp_path: Path, database_url: str, target: Target, pg_url: str | None
) -> None:
    # The secret lives in the data directory, as in development: the backup must carry it.
    source = Settings(_env_file=None, env="test", data_dir=tmp_path / "source", database_url=database_url)
    demo = run_demo(source)
    assert (source.data_dir / "secret.key").is_file()
    donor = bearer(demo.tokens["donor"])
    app = create_app(source)
    with TestClient(app) as client:
        policy = next(
            p
            for p in client.get("/api/v1/programs").json()["data"]
            if p["purpose"] == "dpv:PublicPolicyMaking"
        )
        given = client.post(
            "/api/v1/consents",
            json={"program_id": policy["id"], "text_version": policy["current_text"]["version"]},
            headers=donor,
        )
        assert given.status_code == 201, given.text
        receipt = given.json()["receipt"]
        export_before = client.get("/api/v1/donors/me/export", headers=donor).json()
    app.state.commons.engine.dispose()
    chain = ok(run_cli(source, "audit", "verify"))
    entries = int(chain.split()[3])

    backup = tmp_path / "backups" / "demo"
    backup.parent.mkdir()
    counts = table_counts(source)
    out = ok(run_cli(source, "backup", str(backup)))
    assert last_kind(source) == "backup"  # logged once it is made, so not in the backup
    stored = sum(p.stat().st_size for p in (backup / "store").rglob("*.parquet"))
    assert out == (
        f"backup written to {backup}: {len(counts)} tables, {sum(counts.values())} rows, "
        f"6 dataset files ({stored / 1e6:.1f} MB), instance secret included\n"
    )
    assert sorted(p.name for p in backup.iterdir()) == ["db", "keys", "manifest.json", "store"]

    restored = target("restored", secret=None)
    out = ok(run_cli(restored, "restore", str(backup)))
    assert out.startswith(f"restored {backup} (made ")

    # The same transparency log, intact, with the restore logged; the same rows in every table; the
    # same secret.
    assert ok(run_cli(restored, "audit", "verify")) == intact(entries + 1)
    assert last_kind(restored) == "restore"
    assert restored_from(table_counts(restored), counts)
    assert (restored.data_dir / "secret.key").read_bytes() == (source.data_dir / "secret.key").read_bytes()
    # Every version's Parquet file is there and hashes to its recorded hash.
    engine = make_engine(restored.database_url_resolved)
    with engine.connect() as conn:
        hashes = list(conn.scalars(select(DatasetVersion.content_hash)))
    engine.dispose()
    assert len(hashes) == 6
    store = ParquetStore(restored.store_dir)
    for content_hash in hashes:
        assert file_sha256(store.path_for(content_hash)) == content_hash
    # A receipt issued before the backup verifies against the restored keys.
    claims = json.loads(ok(run_cli(restored, "consent", "verify", receipt)))
    assert claims["program"]["id"] == policy["id"]
    # The donor's data still decrypts, and the restored instance signs new receipts.
    app = create_app(restored)
    with TestClient(app) as client:
        export_after = client.get("/api/v1/donors/me/export", headers=donor).json()
        withdrawn = client.post(f"/api/v1/consents/{given.json()['consent']['id']}/withdraw", headers=donor)
    app.state.commons.engine.dispose()
    assert export_after["name"] == "Donatrice Demo"
    assert export_after["email"] == "donatrice.demo@example.org"
    assert {**export_after, "exported_at": None} == {**export_before, "exported_at": None}
    assert withdrawn.status_code == 200, withdrawn.text
    ok(run_cli(restored, "consent", "verify", withdrawn.json()["receipt"]))
    # New rows get fresh ids (PostgreSQL sequences moved past the restored ones).
    ok(run_cli(restored, "token", "create", "--role", "analyst", "--name", "after restore"))

    # Lossless: a backup of the restored instance holds the very same rows, byte for byte.
    again = tmp_path / "backups" / "again.tar"
    ok(run_cli(restored, "backup", str(again)))
    unpacked = tmp_path / "unpacked"
    shutil.unpack_archive(again, unpacked, format="tar")
    changed = {k for k, v in db_files(unpacked).items() if db_files(backup)[k] != v}
    assert changed == {
        "api_tokens.jsonl",
        "consent_events.jsonl",
        "consent_periods.jsonl",
        "consent_counter.jsonl",
        "organisations.jsonl",
        # the withdrawal's commitment in the transparency log
        "transparency_log.jsonl",
        "transparency_head.jsonl",
        "transparency_nodes.jsonl",
    }  # the writes just made
    if pg_url is not None:
        # Portable: the PostgreSQL backup restores into SQLite, whose backup is the same rows.
        sqlite = target("sqlite-copy", kind="sqlite", secret=None)
        ok(run_cli(sqlite, "restore", str(backup)))
        assert ok(run_cli(sqlite, "audit", "verify")) == intact(entries + 1)
        copy = tmp_path / "backups" / "from-sqlite"
        ok(run_cli(sqlite, "backup", str(copy)))
        log_files = {f"{t}.jsonl" for t in (*LOG_TABLES, "transparency_head")}
        same = {k: v for k, v in db_files(copy).items() if k not in log_files}
        assert same == {k: v for k, v in db_files(backup).items() if k not in log_files}
        # ...and SQLite's backup restores into PostgreSQL again.
        back = target("back-to-pg", secret=None)
        ok(run_cli(back, "restore", str(copy)))
        assert restored_from(table_counts(back), counts, restores=2)


#: What seed_small logs: the program's creation, three uses of data and the commitments of five
#: consents. A restore logs itself, one entry more.
SMALL_LOG = 9
LOG_TABLES = ("transparency_log", "transparency_nodes")


def restored_from(after: dict[str, int], before: dict[str, int], restores: int = 1) -> bool:
    """The restored instance holds the backup's rows, and its log one entry more per restore."""
    rest = {k: v for k, v in after.items() if k not in LOG_TABLES}
    return rest == {k: v for k, v in before.items() if k not in LOG_TABLES} and (
        after["transparency_log"] == before["transparency_log"] + restores
    )


def intact(entries: int) -> str:
    return f"transparency log intact: {entries} entries\n"


def last_kind(settings: Settings) -> str:
    engine = make_engine(settings.database_url_resolved)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(text("SELECT kind FROM transparency_log ORDER BY id DESC LIMIT 1")))
    finally:
        engine.dispose()


def seed_small(settings: Settings) -> None:
    """A program, a few donors with consents and a few entries of the transparency log."""
    engine = make_engine(settings.database_url_resolved)
    signer = Signer.of(settings)
    try:
        with transaction(make_sessionmaker(engine), immediate=True) as session:
            programs.create_program(session, spec=programs.ProgramSpec.model_validate(PROGRAM), actor="test")
            rows = donors.register_for_organisation(
                session,
                organisation=DONOR_ORGANISATION,
                donor_ids=[f"D{i:07d}" for i in range(1, 6)],
                dataset_ids=[PROGRAM["text"]["datasets"][0]],
            )
            for donor_id in (row["donor_id"] for row in rows):
                ledger.grant(
                    session, donor_id=donor_id, program_id=PROGRAM["id"], text_version=1, signer=signer
                )
            for n in range(3):
                transparency.record_use(
                    session, kind="release", actor="test", purpose="research", datasets=[f"dataset-{n}"]
                )
    finally:
        engine.dispose()


def test_a_backup_taken_while_writes_go_on_is_one_consistent_snapshot(
    tmp_path: Path, settings: Settings, target: Target
) -> None:
    seed_small(settings)
    engine = make_engine(settings.database_url_resolved)
    factory = make_sessionmaker(engine)
    signer = Signer.of(settings)
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                # An ingest-like use of data, and a new donor's consent, each in its transaction.
                with transaction(factory, immediate=True) as session:
                    transparency.record_use(
                        session, kind="publication", actor="writer", purpose="test", datasets=[f"w-{n}"]
                    )
                with transaction(factory, immediate=True) as session:
                    [row] = donors.register_for_organisation(
                        session,
                        organisation="Coop",
                        donor_ids=[f"W{n:07d}"],
                        dataset_ids=["inserimento-lavorativo"],
                    )
                    ledger.grant(
                        session,
                        donor_id=row["donor_id"],
                        program_id=PROGRAM["id"],
                        text_version=1,
                        signer=signer,
                    )
            except BaseException as exc:  # pragma: no cover - shown by the assertion below
                errors.append(exc)
                return

    def entries() -> int:
        with factory() as session:
            return int(session.scalar(select(func.count()).select_from(TransparencyEntry)) or 0)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        before = entries()
        backup = tmp_path / "live.tar"
        result = run_cli(settings, "backup", str(backup))
        after = entries()
    finally:
        stop.set()
        writer.join()
    engine.dispose()
    assert not errors, errors
    ok(result)
    restored = target("restored")
    ok(run_cli(restored, "restore", str(backup)))
    in_backup = table_counts(restored)["transparency_log"]
    assert before < in_backup < after  # writes went on before and after the snapshot
    assert ok(run_cli(restored, "audit", "verify")) == f"transparency log intact: {in_backup} entries\n"


class WriteBetweenTables:
    """A progress reporter that commits writes from another connection while the dump goes on."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings.database_url_resolved)
        self.factory = make_sessionmaker(self.engine)
        self.signer = Signer.of(settings)
        self.writes = 0

    def advance(self, _n: int) -> None:
        self.writes += 1
        with transaction(self.factory, immediate=True) as session:
            transparency.record_use(session, kind="release", actor="between", purpose="test", datasets=["x"])
            [row] = donors.register_for_organisation(
                session,
                organisation="Coop",
                donor_ids=[f"X{self.writes:07d}"],
                dataset_ids=["inserimento-lavorativo"],
            )
            ledger.grant(
                session,
                donor_id=row["donor_id"],
                program_id=PROGRAM["id"],
                text_version=1,
                signer=self.signer,
            )

    @contextmanager
    def task(self, description: str, *, total: int | None = None) -> Iterator[Callable[[int], None]]:
        yield self.advance if description.startswith("backing up the database") else (lambda _n: None)


def test_rows_committed_between_two_tables_of_the_dump_are_not_in_the_backup(
    tmp_path: Path, settings: Settings, target: Target
) -> None:
    seed_small(settings)
    before = table_counts(settings)
    progress = WriteBetweenTables(settings)
    try:
        manifest = make_backup(settings=settings, dest=tmp_path / "b", progress=progress)
    finally:
        progress.engine.dispose()
    # A write was committed after every table was read, yet the backup is the state before them.
    assert progress.writes == sum(1 for t in manifest["tables"] if t["rows"])
    assert {t["name"]: t["rows"] for t in manifest["tables"]} == before
    # each write is a use of data and a consent (logged as its commitment)
    assert table_counts(settings)["transparency_log"] == before["transparency_log"] + 2 * progress.writes
    restored = target("restored")
    ok(run_cli(restored, "restore", str(tmp_path / "b")))
    assert restored_from(table_counts(restored), before)
    assert ok(run_cli(restored, "audit", "verify")) == intact(SMALL_LOG + 1)
    assert last_kind(restored) == "restore"


def corrupt_cases(backup: Path) -> Iterator[tuple[str, AbstractContextManager[Path], int, str]]:
    """(what, a damaged copy of ``backup``, exit code, start of the one-line reason)."""

    @contextmanager
    def damaged(change: Callable[[Path], None]) -> Iterator[Path]:
        copy = backup.parent / f"damaged-{uuid.uuid4().hex[:6]}"
        shutil.copytree(backup, copy)
        change(copy)
        yield copy

    def flip(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))

    def truncate(path: Path) -> None:
        path.write_bytes(path.read_bytes()[:-10])

    def first(copy: Path, pattern: str) -> Path:
        return sorted(copy.glob(pattern))[0]

    yield (
        "a flipped bit in a table",
        damaged(lambda c: flip(c / "db" / "consents.jsonl")),
        1,
        "the backup is damaged: db/consents.jsonl does not match its SHA-256",
    )
    yield (
        "a truncated dataset file",
        damaged(lambda c: truncate(first(c, "store/*/*/*.parquet"))),
        1,
        "the backup is damaged: store/objects/",
    )
    yield (
        "a missing table file",
        damaged(lambda c: (c / "db" / "donors.jsonl").unlink()),
        1,
        "the backup is incomplete: db/donors.jsonl is missing",
    )
    yield (
        "no manifest (a backup killed before its end)",
        damaged(lambda c: (c / "manifest.json").unlink()),
        2,
        f"{backup.parent}/damaged-",
    )
    yield (
        "a truncated manifest",
        damaged(lambda c: truncate(c / "manifest.json")),
        1,
        "the backup's manifest.json is damaged (not valid JSON)",
    )

    @contextmanager
    def truncated_tar() -> Iterator[Path]:
        archive = backup.parent / f"cut-{uuid.uuid4().hex[:6]}.tar"
        shutil.make_archive(str(archive.with_suffix("")), "tar", backup)
        archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
        yield archive

    yield ("a .tar cut in half", truncated_tar(), 1, f"the backup archive {backup.parent}/cut-")


def test_a_damaged_backup_is_refused_and_the_target_left_untouched(
    tmp_path: Path, settings: Settings, target: Target
) -> None:
    # Two dataset files in the store (from the shipped copy of ISTAT's list).
    ok(run_cli(settings, "ingest", "istat-comuni", "--file", str(reference_path())))
    seed_small(settings)
    backup = tmp_path / "good"
    ok(run_cli(settings, "backup", str(backup)))
    for what, damaged, code, reason in corrupt_cases(backup):
        restored = target(f"restored-{uuid.uuid4().hex[:6]}")
        with damaged as copy:
            result = run_cli(restored, "restore", str(copy))
        assert result.returncode == code, (what, result.stderr)
        assert result.stderr.startswith(f"datacommons: error: {reason}"), (what, result.stderr)
        assert result.stderr.count("\n") == 1, what
        assert untouched(restored), what
    # The good one restores.
    restored = target("good")
    ok(run_cli(restored, "restore", str(backup)))
    assert table_counts(restored) == table_counts(settings)


def test_restore_refuses_a_target_that_holds_data_unless_forced(
    tmp_path: Path, settings: Settings, target: Target
) -> None:
    seed_small(settings)
    backup = tmp_path / "b.tar"
    ok(run_cli(settings, "backup", str(backup)))
    restored = target("restored")
    ok(run_cli(restored, "init"))  # a migrated but unused database counts as empty
    ok(run_cli(restored, "restore", str(backup)))
    extra = ok(run_cli(restored, "token", "create", "--role", "analyst", "--name", "local"))
    counts = table_counts(restored)

    result = run_cli(restored, "restore", str(backup))
    assert result.returncode == 2
    assert result.stderr == (
        "datacommons: error: the target database already holds data (table "
        "api_tokens has 1 row(s)): restore into an empty database, or pass "
        "--force to replace it\n"
    )
    assert table_counts(restored) == counts

    ok(run_cli(restored, "restore", "--force", str(backup)))
    assert table_counts(restored) == table_counts(settings)  # the local token is gone
    app = create_app(restored)
    with TestClient(app) as client:
        assert client.get("/api/v1/budget", headers=bearer(extra.strip())).status_code == 401
    app.state.commons.engine.dispose()
    assert ok(run_cli(restored, "audit", "verify")) == intact(SMALL_LOG + 1)


def test_restore_refuses_a_secret_that_would_not_decrypt_the_backup(
    tmp_path: Path, settings: Settings, target: Target
) -> None:
    seed_small(settings)
    backup = tmp_path / "b"
    ok(run_cli(settings, "backup", str(backup)))
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["secret"]["included"] is False  # it comes from DATACOMMONS_SECRET_KEY

    for secret, reason in (
        (
            "another-secret-" + "y" * 32,
            "DATACOMMONS_SECRET_KEY is not the secret of the "
            "backed-up instance: donor data and signing keys "
            "would not decrypt",
        ),
        (
            None,
            "the backup does not hold the instance secret (it came from "
            "DATACOMMONS_SECRET_KEY): set DATACOMMONS_SECRET_KEY to that secret and "
            "restore again",
        ),
    ):
        restored = target(f"restored-{uuid.uuid4().hex[:6]}", secret=secret)
        result = run_cli(restored, "restore", str(backup))
        assert (result.returncode, result.stderr) == (2, f"datacommons: error: {reason}\n")
        assert untouched(restored)

    assert ok(run_cli(settings, "restore", "--check", str(backup))).startswith(f"backup {backup} is intact: ")


def test_restore_installs_the_backups_secret_file_and_keeps_a_replaced_one(
    tmp_path: Path, database_url: str, target: Target
) -> None:
    # Development: the secret is <data_dir>/secret.key, and the backup carries it.
    source = Settings(_env_file=None, env="test", data_dir=tmp_path / "source", database_url=database_url)
    seed_small(source)
    backup = tmp_path / "b.tar"
    ok(run_cli(source, "backup", str(backup)))
    again = run_cli(source, "backup", str(backup))
    assert (again.returncode, again.stderr) == (
        2,
        f"datacommons: error: {backup} already exists: a backup never overwrites anything, "
        "choose a new name\n",
    )

    restored = target("restored", secret=None)
    restored.data_dir.mkdir()
    (restored.data_dir / "secret.key").write_text("another-instance-secret-" + "z" * 40)
    result = run_cli(restored, "restore", str(backup))
    assert (result.returncode, result.stderr) == (
        2,
        f"datacommons: error: {restored.data_dir / 'secret.key'} holds another instance "
        "secret: pass --force to replace it (the old one is kept next to it)\n",
    )

    ok(run_cli(restored, "restore", "--force", str(backup)))
    assert (restored.data_dir / "secret.key").read_bytes() == (source.data_dir / "secret.key").read_bytes()
    [kept] = restored.data_dir.glob("secret.key.replaced-*")
    assert kept.read_text() == "another-instance-secret-" + "z" * 40
    # With the restored secret, the restored signing key signs new receipts, and old ones verify.
    engine = make_engine(restored.database_url_resolved)
    with transaction(make_sessionmaker(engine), immediate=True) as session:
        old = session.scalars(select(ConsentEvent.receipt).where(ConsentEvent.receipt.is_not(None))).first()
        [row] = donors.register_for_organisation(
            session, organisation="Coop", donor_ids=["N0000001"], dataset_ids=["inserimento-lavorativo"]
        )
        consent, _ = ledger.grant(
            session,
            donor_id=row["donor_id"],
            program_id=PROGRAM["id"],
            text_version=1,
            signer=Signer.of(restored),
        )
        new = ledger.events_of(session, consent.id)[-1].receipt
    engine.dispose()
    assert old and new
    for receipt in (old, new):
        ok(run_cli(restored, "consent", "verify", receipt))
    assert ok(run_cli(restored, "audit", "verify")) == intact(SMALL_LOG + 2)  # the restore, the grant
