"""Four server processes on one database give the same exact results as one.

``datacommons serve --workers 4`` starts four uvicorn worker processes sharing the leg's database
(PostgreSQL, or the SQLite file in WAL mode) and the Parquet store. Clients open a new connection per
request, so requests spread over the workers; the concurrent budget and consent tests of
``tests/privacy`` and ``tests/consent`` are repeated across them, with exact expected outcomes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import httpx
from sqlalchemy import select

from datacommons.config import Settings
from privacy.ledger import TOTAL, org_scope, to_nano
from privacy.models import Release
from tests.conftest import bearer
from tests.privacy.test_api import DATASET, distinct_question, publish_private
from tests.reliability.checks import check_audit, check_budget_ledger, check_consents
from tests.reliability.driver import Drive, Job
from tests.reliability.seed import analyst_tokens, grant_body, program_and_donors
from tests.reliability.server import Server, cpu_ticks, serving

WORKERS = 4


def busy_workers(server: Server, before: dict[int, int], *, at_least: int = 3) -> dict[int, int]:
    """The workers that used CPU since ``before`` (idle ones use none: requests reached these), with
    the clock ticks each used."""
    assert sorted(server.worker_pids()) == sorted(before)  # no worker died or was replaced
    assert " died" not in server.output()  # nor was one, slow to start, killed by the supervisor
    used = {pid: cpu_ticks(pid) - ticks for pid, ticks in before.items()}
    print(f"CPU ticks used by each worker: {used}")
    return {pid: ticks for pid, ticks in used.items() if ticks >= at_least}


def all_at_once(url: str, jobs: list[Job]) -> Drive:
    """Send every job at the same moment, each from its own client thread; wait for the answers."""
    drive = Drive(url, [[job] for job in jobs]).start().join()
    assert drive.cut == []
    return drive


def test_budget_is_exact_across_four_workers(settings: Settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    total, per_org, epsilon, asks = 1.5, 0.6, 0.1, 8
    publish_private(session_factory, settings, total=total, per_org=per_org, n_rows=2000, n_donors=900)
    tokens = analyst_tokens(session_factory, ["Coop A", "Coop B", "Coop C", "Università"])
    url = f"/api/v1/datasets/{DATASET}/queries"

    def ask(token: str, i: int) -> Callable[[httpx.Client], httpx.Response]:
        query = {**distinct_question(i), "epsilon": epsilon}
        return lambda client: client.post(url, json=query, headers=bearer(token))

    with serving(settings, workers=WORKERS) as server:
        pids = server.worker_pids()
        assert len(pids) == WORKERS
        before = {pid: cpu_ticks(pid) for pid in pids}
        drive = all_at_once(server.url, [((t, i), ask(t, i)) for t in tokens for i in range(asks)])
        served_by = busy_workers(server, before)

    # The version's total (1.5) allows exactly 15 releases of 0.1, whatever the interleaving;
    # each organisation's share (0.6) would allow 6, so 4 x 8 asks exhaust the total first.
    statuses = Counter(r.status_code for _, r in drive.acknowledged)
    assert statuses == {200: round(total / epsilon), 429: len(tokens) * asks - round(total / epsilon)}
    accepted = Counter(token for (token, _), r in drive.acknowledged if r.status_code == 200)
    assert all(n <= round(per_org / epsilon) for n in accepted.values())
    refused = {r.json()["error"].split(":")[0] for _, r in drive.ok(429)}
    assert refused == {"privacy budget exhausted"}
    with session_factory() as session:
        spent = check_budget_ledger(session)
        releases = list(session.scalars(select(Release)))
        check_audit(session, settings)
    dataset_id = releases[0].dataset_id
    assert spent[(dataset_id, TOTAL)] == to_nano(total)  # spent exactly, never over
    by_org = Counter(r.organisation_id for r in releases)
    assert {spent[(dataset_id, org_scope(org))] for org in by_org} <= {
        to_nano(epsilon) * n for n in range(1, 7)
    }
    assert sorted(accepted.values()) == sorted(by_org.values())
    assert len(served_by) >= 2, f"the requests reached only workers {served_by}"


def test_consent_is_exact_across_four_workers(settings: Settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    tokens = program_and_donors(session_factory, 6)
    racing = 4  # requests per donor at the same moment

    with serving(settings, workers=WORKERS) as server:
        pids = server.worker_pids()
        assert len(pids) == WORKERS
        before = {pid: cpu_ticks(pid) for pid in pids}

        def give(token: str) -> Callable[[httpx.Client], httpx.Response]:
            return lambda client: client.post("/api/v1/consents", json=grant_body(), headers=bearer(token))

        granted = all_at_once(
            server.url, [((d, k), give(t)) for d, t in tokens.items() for k in range(racing)]
        )
        # one request gave consent (201); the others found it given and changed nothing (200)
        per_donor = Counter((d, r.status_code) for (d, _), r in granted.acknowledged)
        assert per_donor == {**{(d, 201): 1 for d in tokens}, **{(d, 200): racing - 1 for d in tokens}}
        consent_of = {d: r.json()["consent"]["id"] for (d, _), r in granted.acknowledged}
        assert len(set(consent_of.values())) == len(tokens)
        with session_factory() as session:
            assert check_consents(session) == {d: ["given"] for d in tokens}

        def withdraw(donor_id: str, token: str) -> Callable[[httpx.Client], httpx.Response]:
            path = f"/api/v1/consents/{consent_of[donor_id]}/withdraw"
            return lambda client: client.post(path, headers=bearer(token))

        withdrawn = all_at_once(
            server.url, [((d, k), withdraw(d, t)) for d, t in tokens.items() for k in range(racing)]
        )
        served_by = busy_workers(server, before)
    per_donor = Counter((d, r.status_code) for (d, _), r in withdrawn.acknowledged)
    assert per_donor == {**{(d, 200): 1 for d in tokens}, **{(d, 409): racing - 1 for d in tokens}}
    assert {r.json()["error"] for _, r in withdrawn.ok(409)} == {
        "this consent is not in force (it is withdrawn)"
    }
    with session_factory() as session:
        assert check_consents(session) == {d: ["given", "withdrawn"] for d in tokens}
    assert len(served_by) >= 2, f"the requests reached only workers {served_by}"
