"""The server killed with SIGKILL in the middle of writes loses nothing it acknowledged.

Each test runs the real ``datacommons serve`` in a child process, keeps it busy with writes from
several client threads, kills it (SIGKILL: no shutdown code runs) at a seeded random moment while at
least one write is inside its transaction (see :mod:`tests.reliability.faults`), restarts it on the
same data directory and database, and checks that

- every write whose response arrived is there, and nothing else but the writes cut off in flight;
- no half-done write is visible: every version's Parquet file is whole and hashes to its recorded
  hash, the budget ledger equals the sum of the stored releases, consent events agree with periods;
- the transparency chain verifies (``datacommons audit verify`` exits 0);
- the restarted server goes on from there: what the crash interrupted can be done again.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator

import httpx
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import select

from connectors import synthetic
from consent.models import Consent, ConsentEvent, TransparencyEntry
from datacommons import registry
from datacommons.config import Settings
from datacommons.db import transaction
from datacommons.specs import DatasetMeta
from datacommons.storage import ParquetStore
from privacy.ledger import TOTAL, to_nano
from privacy.models import Release
from tests.conftest import bearer
from tests.privacy.test_api import DATASET, distinct_question, publish_private
from tests.reliability.checks import (
    check_audit,
    check_budget_ledger,
    check_consents,
    check_publications,
    check_store,
)
from tests.reliability.driver import Drive, Job
from tests.reliability.seed import admin_token, analyst_tokens, grant_body, program_and_donors
from tests.reliability.server import Server, wait_until
from tests.support.cli import run_cli

#: The seed of the kill moments; set RELIABILITY_SEED to explore other interleavings.
SEED = int(os.environ.get("RELIABILITY_SEED", "20261125"))
DELAY = 0.15


def kill_in_flight(server: Server, drive: Drive, name: str) -> None:
    """Kill the server once writes reached their slow step a seeded number of times, then a seeded
    fraction of the pause later: at that instant at least one write is inside its transaction."""
    rng = random.Random(f"{SEED}:{name}")
    marks, extra = rng.randint(4, 16), rng.uniform(0.0, DELAY * 0.8)
    wait_until(
        lambda: server.mark_count() >= marks, timeout=60, what=f"{marks} writes to reach their slow step"
    )
    time.sleep(extra)
    server.kill()
    drive.stop.set()
    drive.join()
    assert drive.cut, "the kill cut no request in flight"
    print(
        f"{name}: killed after {marks} marks + {extra:.3f}s; {len(drive.acknowledged)} "
        f"acknowledged, {len(drive.cut)} cut off in flight"
    )


def test_kill_during_ingests(settings: Settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    admin = bearer(admin_token(session_factory))
    uploads = settings.data_dir.parent / "uploads"
    uploads.mkdir()

    def lane(first: int) -> Iterator[Job]:
        for seed in range(first, 1000, 2):
            path = uploads / f"donazione-{seed}.csv"
            pacsv.write_csv(synthetic.generate(n_donors=40, seed=seed), path)

            def send(client: httpx.Client, path=path) -> httpx.Response:  # type: ignore[no-untyped-def]
                return client.post(
                    "/api/v1/admin/ingest/file",
                    headers=admin,
                    data={"params": json.dumps({"schema": DATASET})},
                    files={"file": (path.name, path.read_bytes(), "text/csv")},
                )

            yield seed, send

    server = Server(settings, slow=["parquet-write", "stage-version"], delay=DELAY).start()
    drive = Drive(server.url, [lane(0), lane(1)]).start()
    try:
        kill_in_flight(server, drive, "ingest")
    finally:
        server.stop()
    assert drive.statuses() <= {200}, [r.text for _, r in drive.acknowledged]
    staged = [r.json()["staged"][0] for _, r in drive.acknowledged]
    acked = {s["content_hash"]: (s["version"], s["status"]) for s in staged}

    server = Server(settings).start()
    try:
        store = ParquetStore(settings.store_dir)
        with session_factory() as session:
            versions = check_store(session, store)
        found = {v.content_hash: (v.number, v.status) for v in versions}
        assert acked.items() <= found.items()  # every acknowledged version, number and status
        assert len(found) <= len(acked) + len(drive.cut)  # and nothing but the ones cut off

        # the loads cut off, sent again, are staged now (or found, if one committed unanswered)
        resent = set()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for seed in sorted(drive.cut):
                path = uploads / f"donazione-{seed}.csv"
                answer = client.post(
                    "/api/v1/admin/ingest/file",
                    headers=admin,
                    data={"params": json.dumps({"schema": DATASET})},
                    files={"file": (path.name, path.read_bytes(), "text/csv")},
                )
                assert answer.status_code == 200, answer.text
                resent.add(answer.json()["staged"][0]["content_hash"])
        with session_factory() as session:
            versions = check_store(session, store)
        assert {v.content_hash for v in versions} == set(acked) | resent
    finally:
        server.stop()


def test_kill_during_publications(settings: Settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    admin = bearer(admin_token(session_factory))
    store = ParquetStore(settings.store_dir)
    count = 30
    with transaction(session_factory, immediate=True) as session:
        dataset = registry.upsert_dataset(
            session,
            meta=DatasetMeta(
                id="occupati", title_it="Occupati", title_en="Employed", publisher="Città metropolitana"
            ),
        )
        for n in range(count):
            version, _ = registry.stage_table(
                session,
                store=store,
                dataset=dataset,
                table=pa.table({"anno": [2000 + n], "valore": [n]}),
                provenance={},
                actor="test",
            )
            registry.transition(session, version=version, to="validated", actor="test")

    def lane(first: int) -> Iterator[Job]:
        for number in range(first, count + 1, 3):
            yield (
                number,
                lambda client, n=number: client.post(
                    f"/api/v1/admin/datasets/occupati/versions/{n}/publish", headers=admin
                ),
            )

    server = Server(settings, slow=["record-use"], delay=DELAY).start()
    drive = Drive(server.url, [lane(1), lane(2), lane(3)]).start()
    try:
        kill_in_flight(server, drive, "publish")
    finally:
        server.stop()
    assert drive.statuses() <= {200}, [r.text for _, r in drive.acknowledged]
    acked = {number for number, _ in drive.acknowledged}

    server = Server(settings).start()
    try:
        with session_factory() as session:
            versions = check_store(session, store)
            check_publications(session)
            published = {v.number for v in versions if v.status == "published"}
            check_audit(session, settings)
        assert acked <= published <= acked | set(drive.cut)

        with httpx.Client(base_url=server.url, timeout=60) as client:
            for number in range(1, count + 1):  # the rest, and the interrupted ones, publish now
                if number not in published:
                    answer = client.post(
                        f"/api/v1/admin/datasets/occupati/versions/{number}/publish", headers=admin
                    )
                    assert answer.status_code == 200, answer.text
        with session_factory() as session:
            versions = check_store(session, store)
            check_publications(session)
            assert {v.status for v in versions} == {"published"}
            check_audit(session, settings)
            kinds = session.scalars(select(TransparencyEntry.kind)).all()
            assert kinds.count("publication") == count  # one entry per publication
    finally:
        server.stop()


def test_kill_during_consent_writes(settings: Settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    tokens = program_and_donors(session_factory, 4)
    ids = sorted(tokens)

    def step(donor_id: str, n: int, consent_id: list[str]) -> Job:
        headers = bearer(tokens[donor_id])

        def send(client: httpx.Client) -> httpx.Response:
            if n % 2 == 0:
                answer = client.post("/api/v1/consents", headers=headers, json=grant_body())
                if answer.status_code == 201:
                    consent_id[:] = [answer.json()["consent"]["id"]]
                return answer
            return client.post(f"/api/v1/consents/{consent_id[0]}/withdraw", headers=headers)

        return (donor_id, n), send

    def lane(donor_id: str) -> Iterator[Job]:  # give, withdraw, give, withdraw, ...
        consent_id: list[str] = []
        for n in range(1000):
            yield step(donor_id, n, consent_id)

    server = Server(settings, slow=["consent-event"], delay=DELAY).start()
    drive = Drive(server.url, [lane(d) for d in ids]).start()
    try:
        kill_in_flight(server, drive, "consent")
    finally:
        server.stop()
    assert {(n % 2, r.status_code) for (_, n), r in drive.acknowledged} <= {(0, 201), (1, 200)}
    acked: dict[str, list[tuple[int, str]]] = {d: [] for d in ids}
    for (donor_id, _n), answer in sorted(drive.acknowledged, key=lambda item: item[0]):
        event = answer.json()["consent"]["events"][-1]
        acked[donor_id].append((event["id"], event["event"]))
    cut = {donor_id for donor_id, _ in drive.cut}

    server = Server(settings).start()
    try:
        with session_factory() as session:
            kinds = check_consents(session)
            for donor_id in ids:
                stored = [
                    tuple(row)
                    for row in session.execute(
                        select(ConsentEvent.id, ConsentEvent.event)
                        .join(Consent, Consent.id == ConsentEvent.consent_id)
                        .where(Consent.donor_id == donor_id)
                        .order_by(ConsentEvent.id)
                    )
                ]
                mine = acked[donor_id]
                assert stored[: len(mine)] == mine  # every acknowledged event, in order
                assert len(stored) <= len(mine) + (donor_id in cut)  # and at most the one cut off
                assert [k for _, k in stored] == kinds.get(donor_id, [])
        last = next(r for _, r in reversed(drive.acknowledged) if r.status_code in (200, 201))
        verified = run_cli(settings, "consent", "verify", last.json()["receipt"])
        assert verified.returncode == 0, verified.stderr

        with httpx.Client(base_url=server.url, timeout=60) as client:  # every donor goes on
            for donor_id in ids:
                headers = bearer(tokens[donor_id])
                [mine] = client.get("/api/v1/consents", headers=headers).json()["data"] or [None]
                if mine is None or mine["status"] == "withdrawn":
                    answer = client.post("/api/v1/consents", headers=headers, json=grant_body())
                    assert answer.status_code == 201, answer.text
                else:
                    answer = client.post(f"/api/v1/consents/{mine['id']}/withdraw", headers=headers)
                    assert answer.status_code == 200, answer.text
        with session_factory() as session:
            after = check_consents(session)
        assert {d: len(after[d]) for d in ids} == {d: len(kinds.get(d, [])) + 1 for d in ids}
    finally:
        server.stop()


def test_kill_during_budget_reservations(settings: Settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    total, per_org, epsilon = 2.0, 1.0, 0.1
    publish_private(session_factory, settings, total=total, per_org=per_org, n_rows=2000, n_donors=900)
    tokens = analyst_tokens(session_factory, ["Coop A", "Coop B", "Università"])
    url = f"/api/v1/datasets/{DATASET}/queries"

    def lane(token: str) -> Iterator[Job]:
        for i in range(1000):  # distinct queries (other cells), so none is a free repeat
            query = {**distinct_question(i), "epsilon": epsilon}
            yield (token, i), lambda client, q=query: client.post(url, json=q, headers=bearer(token))

    server = Server(settings, slow=["budget-reserve", "record-use"], delay=DELAY).start()
    drive = Drive(server.url, [lane(t) for t in tokens]).start()
    try:
        kill_in_flight(server, drive, "budget")
    finally:
        server.stop()
    assert drive.statuses() <= {200, 429}, [r.text for _, r in drive.acknowledged]
    acked = {r.json()["release_id"] for _, r in drive.ok(200)}

    server = Server(settings).start()
    try:
        with session_factory() as session:
            check_budget_ledger(session)
            stored = set(session.scalars(select(Release.id)))
            check_audit(session, settings)
        assert acked <= stored
        assert len(stored) <= len(acked) + len(drive.cut)

        # No epsilon was lost to the crash: the rest of the budget is still there to spend, and
        # exactly the budget is released in all.
        with httpx.Client(base_url=server.url, timeout=60) as client:
            refused = set()
            for i in range(100, 200):
                for token in tokens:
                    if token in refused:
                        continue
                    query = {**distinct_question(i), "epsilon": epsilon}
                    answer = client.post(url, json=query, headers=bearer(token))
                    assert answer.status_code in (200, 429), answer.text
                    if answer.status_code == 429:
                        refused.add(token)
                if len(refused) == len(tokens):
                    break
        with session_factory() as session:
            spent = check_budget_ledger(session)
            releases = list(session.scalars(select(Release)))
            check_audit(session, settings)
        dataset_id = releases[0].dataset_id
        assert spent[(dataset_id, TOTAL)] == to_nano(total)
        assert len(releases) == round(total / epsilon)
    finally:
        server.stop()
