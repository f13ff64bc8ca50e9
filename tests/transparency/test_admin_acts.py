"""Every administrative act is in the public log: ingest, validation, publication, rollback, policy
and budget changes, token issue and revoke, program changes, backup and restore — each as one entry
whose public form names no person (not the actor, not a token's name or value)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
from fastapi.testclient import TestClient

from connectors import synthetic
from datacommons.db import transaction
from datacommons.demo import seed_comuni
from datacommons.storage import ParquetStore
from tests.conftest import bearer
from tests.consent.conftest import PROGRAM, make_program
from tests.support.cli import run_cli

DATASET = "inserimento-lavorativo"
PERSON = "Mario Rossi"


def public_log(client: TestClient) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/transparency/entries", params={"start": 0})  # no token
    assert answer.status_code == 200
    return [e["entry"] for e in answer.json()["entries"]]


def upload(client: TestClient, admin: dict[str, str], path: Path, seed: int) -> int:
    pacsv.write_csv(synthetic.generate(n_donors=40, seed=seed), path)
    with path.open("rb") as fh:
        answer = client.post(
            "/api/v1/admin/ingest/file",
            headers=admin,
            data={"params": json.dumps({"schema": DATASET})},
            files={"file": (path.name, fh, "text/csv")},
        )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["staged"][0]["version"])


def step(client: TestClient, admin: dict[str, str], number: int, action: str) -> None:
    answer = client.post(f"/api/v1/admin/datasets/{DATASET}/versions/{number}/{action}", headers=admin)
    assert answer.status_code == 200, answer.text


def test_each_administrative_act_is_one_public_entry(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings, tmp_path: Path
) -> None:
    admin = bearer(tokens["admin"])
    with transaction(sessions, immediate=True) as session:  # the code list of the comune column
        seed_comuni(session, ParquetStore(settings.store_dir))
    before = len(public_log(client))

    def new_kinds() -> list[str]:
        return [e["kind"] for e in public_log(client)[before:]]

    created = client.post(
        "/api/v1/admin/tokens",
        json={"role": "analyst", "name": PERSON, "organisation": "Coop Sole"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    value = created.json()["token"]
    assert (
        client.post(f"/api/v1/admin/tokens/{created.json()['id']}/revoke", headers=admin).status_code == 200
    )
    assert new_kinds() == ["token", "token"]
    issued, revoked = public_log(client)[before:]
    assert (issued["purpose"], revoked["purpose"]) == ("token issued", "token revoked")
    assert issued["organisation"] == "Coop Sole" and issued["details"]["role"] == "analyst"

    first = upload(client, admin, tmp_path / "uno.csv", seed=1)
    step(client, admin, first, "validate")
    step(client, admin, first, "publish")
    second = upload(client, admin, tmp_path / "due.csv", seed=2)
    step(client, admin, second, "validate")
    step(client, admin, second, "publish")
    step(client, admin, first, "publish")  # back to the first: a rollback, not a publication
    budget = {"epsilon_total": 9, "epsilon_per_organisation": 4, "epsilon_per_query": 1}
    answer = client.put(f"/api/v1/admin/datasets/{DATASET}/policy/budget", json=budget, headers=admin)
    assert answer.status_code == 200, answer.text
    make_program(client, tokens["admin"])
    text = {**PROGRAM["text"], "text_it": PROGRAM["text"]["text_it"] + " (v2)"}
    answer = client.post(f"/api/v1/admin/programs/{PROGRAM['id']}/texts", json=text, headers=admin)
    assert answer.status_code == 201, answer.text

    kinds = new_kinds()
    assert Counter(kinds) == {
        "token": 2,
        "policy": 1,  # the file's declared policy, set with the first donation
        "ingest": 2,
        "validation": 4,  # each upload runs the gate, and so does each explicit call
        "publication": 2,
        "rollback": 1,
        "budget": 1,
        "program": 2,
    }
    entries = public_log(client)[before:]
    rollback = next(e for e in entries if e["kind"] == "rollback")
    assert rollback["datasets"] == [DATASET]
    assert (rollback["details"]["version"], rollback["details"]["replaces_version"]) == (first, second)
    assert "rows" not in rollback["details"]  # a private dataset's row count is outside any budget
    change = next(e for e in entries if e["kind"] == "budget")["details"]
    assert (change["epsilon_total"], change["epsilon_per_query"]) == (9, 1)
    texts = [e["details"] for e in entries if e["kind"] == "program"]
    assert [t["text_version"] for t in texts] == [1, 2] and all(len(t["text_sha256"]) == 64 for t in texts)
    validation = next(e for e in entries if e["kind"] == "validation")["details"]
    assert validation["success"] is True and validation["version"] == first

    published = json.dumps(public_log(client), ensure_ascii=False)
    for secret in (PERSON, value, value[:10], *tokens.values(), "test admin", "admin:"):
        assert secret not in published


def test_a_backup_is_logged_once_made(tmp_path: Path, settings, client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    before = public_log(client)
    made = run_cli(settings, "backup", str(tmp_path / "b.tar"))
    assert made.returncode == 0, made.stderr
    [entry] = public_log(client)[len(before) :]
    assert (entry["kind"], entry["purpose"]) == ("backup", "backup made")
    # what the backup holds of the log: everything before it (the restore tests in
    # tests/datacommons/test_backup.py check that a restore is logged in the restored instance)
    assert entry["details"]["log_entries_in_backup"] == len(before)
