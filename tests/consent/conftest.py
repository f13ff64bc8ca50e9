"""Fixtures of the consent registry's tests: a program, donors and their tokens."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consent import donors
from consent.receipts import Signer
from datacommons.config import Settings
from datacommons.db import transaction
from tests.conftest import bearer

DATASET = "inserimento-lavorativo"

PROGRAM: dict[str, Any] = {
    "id": "ricerca-inserimento",
    "title_it": "Ricerca sull'inserimento lavorativo",
    "title_en": "Research on job placement",
    "purpose": "dpv:ScientificResearch",
    "controller": "Università di Torino",
    "controller_contact": "dpo@example.org",
    "retention_days": 3650,
    "text": {
        "text_it": "Acconsento all'uso dei miei dati pseudonimizzati per la ricerca scientifica.",
        "text_en": "I agree to the use of my pseudonymised data for scientific research.",
        "datasets": [DATASET],
        "data_categories": ["job placement", "wage"],
        "recipients": ["class:researchers", "class:social-enterprises"],
        "special_categories": ["health"],
        "duration_days": 365,
    },
}


def make_program(client: TestClient, admin_token: str, **changes: Any) -> dict[str, Any]:
    """Create a program through the admin API (PROGRAM with ``changes``)."""
    body = {**PROGRAM, **changes}
    answer = client.post("/api/v1/admin/programs", json=body, headers=bearer(admin_token))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def register(client: TestClient, dataset: str = DATASET, **personal: str) -> tuple[str, str]:
    """A donor whose cooperative registered their records in ``dataset`` and who claimed them with
    the code it gave them, through the API: (donor id, token)."""
    factory = client.app.state.commons.sessions  # type: ignore[attr-defined]
    with transaction(factory, immediate=True) as session:
        [row] = donors.register_for_organisation(
            session, organisation="Coop", donor_ids=[f"P-{secrets.token_hex(6)}"], dataset_ids=[dataset]
        )
    answer = client.post(
        "/api/v1/donors/claim", json={"donor_id": row["donor_id"], "code": row["claim_code"], **personal}
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return body["donor_id"], body["token"]


def register_self(client: TestClient, **personal: str) -> tuple[str, str]:
    """A donor who registered themselves, with no records linked yet: (donor id, token)."""
    answer = client.post("/api/v1/donors", json=personal)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return body["donor_id"], body["token"]


def give(client: TestClient, token: str, program_id: str, version: int = 1) -> dict[str, Any]:
    """Give consent through the API; the answer's body."""
    answer = client.post(
        "/api/v1/consents", json={"program_id": program_id, "text_version": version}, headers=bearer(token)
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture
def program(client: TestClient, tokens: dict[str, str]) -> dict[str, Any]:
    """The research program on the private dataset."""
    return make_program(client, tokens["admin"])


@pytest.fixture
def signer(settings: Settings) -> Signer:
    """The test instance's receipt signer."""
    return Signer.of(settings)
