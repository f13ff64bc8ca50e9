"""A seeded commons to attack: the demo's datasets, programs and donors, and one token per caller.

The demo is seeded once per test session (into a template: a SQLite file or a PostgreSQL template
database, plus its Parquet store), then each test module gets its own copy, so the fuzzer and the
authorization matrix may change what they like without seeing each other's changes.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url

from consent import donors
from datacommons import auth, demo
from datacommons.app import create_app
from datacommons.config import Settings
from datacommons.db import make_engine, transaction
from datacommons.quality.models import ValidationReport
from tests.conftest import TEMPLATE_DB, bearer
from tests.support.pgserver import new_database

SECRET = "test-secret-" + "x" * 32
SEEDED_DB = "datacommons_seeded"
#: Fewer donors than the demo's 28,000: enough for every code path, seeded in a few seconds.
DONORS = 1_500
PRIVATE = demo.PRIVATE_ID
RESEARCH = f"{PRIVATE}-ricerca"
QUERY: dict[str, Any] = {
    "purpose": "dpv:ScientificResearch",
    "group_by": ["sex"],
    "measures": [{"op": "count"}],
    "epsilon": 0.05,
}
EXTRACT: dict[str, Any] = {
    "dataset": PRIVATE,
    "purpose": "dpv:ScientificResearch",
    "epsilon": 0.05,
    "tables": [{"name": "by_sex", "group_by": ["sex"], "measures": [{"op": "count"}]}],
}


def make_settings(data_dir: Path, database_url: str) -> Settings:
    """Settings of a test instance (every copy shares the secret, so demo tokens stay valid).

    Rate limits are raised: these tests call the login-like routes with every kind of caller, far
    more often than a person would; the limits themselves are tested in test_middleware.py.
    """
    return Settings(
        _env_file=None,
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        secret_key=SECRET,
        rate_limit_login="100000/minute",
        rate_limit_query="100000/minute",
    )


def offline(request: httpx.Request) -> httpx.Response:
    """The connectors' transport in these tests: no request leaves the machine."""
    return httpx.Response(503, text=f"offline test: no request to {request.url}")


@dataclass(frozen=True)
class Seeded:
    """The seeded template: where its database and its data directory are."""

    database_url: str
    data_dir: Path


@pytest.fixture(scope="session")
def seeded(
    tmp_path_factory: pytest.TempPathFactory, pg_url: str | None, sqlite_template: Path | None
) -> Seeded:
    """The demo, seeded once (with fewer donors) into a template database and data directory."""
    root = tmp_path_factory.mktemp("seeded")
    if pg_url is None:
        assert sqlite_template is not None
        path = root / "seeded.sqlite3"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {SEEDED_DB} TEMPLATE {TEMPLATE_DB}"))
        admin.dispose()
        url = make_url(pg_url).set(database=SEEDED_DB).render_as_string(hide_password=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "DEMO_DONORS", DONORS)
        demo.run_demo(make_settings(root / "var", url))
    if pg_url is None:
        engine = make_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
    return Seeded(url, root / "var")


@pytest.fixture(scope="module")
def seeded_settings(
    tmp_path_factory: pytest.TempPathFactory, seeded: Seeded, pg_url: str | None
) -> Iterator[Settings]:
    """Settings of this module's own copy of the seeded commons."""
    root = tmp_path_factory.mktemp("world")
    shutil.copytree(seeded.data_dir, root / "var")
    if pg_url is None:
        path = root / "datacommons.sqlite3"
        shutil.copyfile(make_url(seeded.database_url).database or "", path)
        yield make_settings(root / "var", f"sqlite:///{path}")
        return
    with new_database(pg_url, "s", template=SEEDED_DB) as url:
        yield make_settings(root / "var", url)


@dataclass
class World:
    """The seeded app and everything a caller may name: tokens by caller, ids of real records."""

    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    token_ids: dict[str, int]
    ids: dict[str, Any] = field(default_factory=dict)

    def new_token(self, role: str, *, donor_id: str | None = None) -> tuple[int, str]:
        """A fresh token (id, clear value) of ``role``, for calls that use it up."""
        with transaction(self.app.state.commons.sessions) as session:
            org = None if role == "donor" else auth.get_or_create_organisation(session, "org-extra")
            token, clear = auth.create_token(
                session, role=role, name=f"extra {role}", organisation=org, donor_id=donor_id
            )
            return token.id, clear

    def new_donor(self) -> dict[str, str]:
        """A donor a cooperative registered in the private dataset, who claimed their record and
        gave one consent: its id, token and consent id."""
        with transaction(self.app.state.commons.sessions, immediate=True) as session:
            [row] = donors.register_for_organisation(
                session,
                organisation="Coop",
                donor_ids=[f"P-{secrets.token_hex(6)}"],
                dataset_ids=[PRIVATE],
            )
        answer = self.client.post(
            "/api/v1/donors/claim",
            json={
                "donor_id": row["donor_id"],
                "code": row["claim_code"],
                "name": "Donatore Prova",
                "email": "prova@example.org",
            },
        )
        assert answer.status_code == 201, answer.text
        donor = answer.json()
        program = self.client.get(f"/api/v1/programs/{RESEARCH}").json()
        given = self.client.post(
            "/api/v1/consents",
            headers=bearer(donor["token"]),
            json={"program_id": RESEARCH, "text_version": program["current_text"]["version"]},
        )
        assert given.status_code == 201, given.text
        return {
            "donor_id": donor["donor_id"],
            "token": donor["token"],
            "consent_id": given.json()["consent"]["id"],
        }

    def restore_tokens(self) -> None:
        """Un-revoke the callers' tokens (a fuzzed revoke call may have hit one of them)."""
        ids = [i for caller, i in self.token_ids.items() if caller != "revoked"]
        with transaction(self.app.state.commons.sessions) as session:
            session.execute(update(auth.ApiToken).where(auth.ApiToken.id.in_(ids)).values(revoked_at=None))


def build_world(settings: Settings) -> Iterator[World]:
    """Start the app on ``settings`` and arrange the callers and records the tests name."""
    app = create_app(settings, http_transport=httpx.MockTransport(offline))
    with TestClient(app, raise_server_exceptions=False) as client:
        tokens: dict[str, str] = {}
        token_ids: dict[str, int] = {}
        factory = app.state.commons.sessions
        with transaction(factory) as session:
            for role in auth.ROLES:
                org = None if role == "donor" else auth.get_or_create_organisation(session, f"org-{role}")
                token, clear = auth.create_token(
                    session,
                    role=role,
                    name=f"security {role}",
                    organisation=org,
                    donor_id="demo-donor-0001" if role == "donor" else None,
                )
                tokens[role], token_ids[role] = clear, token.id
            org = auth.get_or_create_organisation(session, "org-analyst")
            expired, tokens["expired"] = auth.create_token(
                session, role="admin", name="expired admin", organisation=org, ttl=timedelta(seconds=-1)
            )
            revoked, tokens["revoked"] = auth.create_token(
                session, role="admin", name="revoked admin", organisation=org
            )
            auth.revoke_token(session, revoked.id)
            token_ids["expired"], token_ids["revoked"] = expired.id, revoked.id
        world = World(app=app, client=client, tokens=tokens, token_ids=token_ids)
        other = world.new_donor()
        world.tokens["other_donor"] = other["token"]
        mine = client.get("/api/v1/consents", headers=bearer(tokens["donor"]))
        assert mine.status_code == 200, mine.text
        extract = client.post("/api/v1/extracts", json=EXTRACT, headers=bearer(tokens["researcher"]))
        assert extract.status_code == 201, extract.text
        with factory() as session:
            report_id = session.scalars(select(ValidationReport.id)).first()
        world.ids.update(
            dataset=PRIVATE,
            open_dataset="plan2030",
            program=RESEARCH,
            consent=mine.json()["data"][0]["id"],
            other_consent=other["consent_id"],
            extract=extract.json()["release_id"],
            report=report_id,
            number=1,
        )
        yield world
    app.state.commons.engine.dispose()


@pytest.fixture(scope="module")
def world(seeded_settings: Settings) -> Iterator[World]:
    """This module's seeded app, its callers and the ids of real records."""
    yield from build_world(seeded_settings)
