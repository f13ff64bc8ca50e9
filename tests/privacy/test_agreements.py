"""Data-use agreements: an organisation queries a dataset only under a program whose consent text
names it (or its class) as a recipient, and only donors who agreed to such a text count."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from consent import donors, ledger, programs
from consent.receipts import Signer
from datacommons.config import Settings
from datacommons.db import transaction
from privacy.models import Release
from tests.conftest import bearer
from tests.consent.conftest import PROGRAM
from tests.privacy.test_api import publish_private

DATASET = "agreements-ds"
RESEARCH = "dpv:ScientificResearch"
URL = f"/api/v1/datasets/{DATASET}/queries"
COUNT: dict[str, Any] = {"purpose": RESEARCH, "measures": [{"op": "count"}], "epsilon": 0.2}


def program_spec(program_id: str, recipients: list[str]) -> programs.ProgramSpec:
    text = {**PROGRAM["text"], "datasets": [DATASET], "recipients": recipients}
    return programs.ProgramSpec.model_validate({**PROGRAM, "id": program_id, "text": text})


def seed(sessions, settings: Settings, *, recipients: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """The dataset, a program naming ``recipients``, and every donor's consent to it: donor ids."""
    pseudonyms = publish_private(sessions, settings, dataset_id=DATASET, n_rows=120, n_donors=30, seed=False)
    signer = Signer.of(settings)
    with transaction(sessions, immediate=True) as session:
        programs.create_program(session, spec=program_spec("uno", recipients), actor="test")
        rows = donors.register_for_organisation(
            session, organisation="Cooperativa Uno", donor_ids=pseudonyms, dataset_ids=[DATASET]
        )
        ids = [row["donor_id"] for row in rows]
        for donor_id in ids:
            ledger.grant(session, donor_id=donor_id, program_id="uno", text_version=1, signer=signer)
    return ids


def test_no_agreement_is_a_403_that_says_what_is_missing(
    client: TestClient, tokens, sessions, settings
) -> None:  # type: ignore[no-untyped-def]
    seed(sessions, settings, recipients=["Cooperativa Uno"])
    headers = bearer(tokens["analyst"])  # organisation "org-analyst", named nowhere
    for path in (URL, f"{URL}/preview"):
        for body in (COUNT, {**COUNT, "program": "uno"}):
            answer = client.post(path, json=body, headers=headers)
            assert answer.status_code == 403, (path, body, answer.text)
            error = answer.json()["error"]
            assert "holds no data-use agreement" in error
            assert "names 'org-analyst' or class:social-enterprises as a recipient" in error
    # a purpose no program serves (the review's "dpv:Marketing") is refused the same way
    marketing = client.post(URL, json={**COUNT, "purpose": "dpv:Marketing"}, headers=headers)
    assert marketing.status_code == 403
    assert "any program for dpv:Marketing on agreements-ds" in marketing.json()["error"]
    with sessions() as session:  # nothing was released or spent
        assert session.scalars(select(Release).where(Release.dataset_id == DATASET)).first() is None


def test_a_text_naming_the_organisation_lets_it_query_over_who_agreed_to_that_text(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings
) -> None:
    ids = seed(sessions, settings, recipients=["Cooperativa Uno"])
    signer = Signer.of(settings)
    # Version 2 names the analyst's organisation; only some donors agree to it.
    with transaction(sessions, immediate=True) as session:
        program = programs.get_program(session, "uno")
        spec = program_spec("uno", ["Cooperativa Uno", "org-analyst"]).text
        programs.add_text_version(session, program=program, spec=spec, actor="admin:test")
        for donor_id in ids[:12]:
            ledger.grant(session, donor_id=donor_id, program_id="uno", text_version=2, signer=signer)
    headers = bearer(tokens["analyst"])
    answer = client.post(URL, json=COUNT, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["program"] == "uno"
    with sessions() as session:
        release = session.scalars(select(Release).where(Release.dataset_id == DATASET)).one()
        assert release.donors == 12  # the 18 who agreed only to version 1 never named this recipient
    # naming the program is the same question: a repeat, nothing spent again
    again = client.post(URL, json={**COUNT, "program": "uno"}, headers=headers)
    assert again.status_code == 200 and again.json()["repeat"] is True and again.json()["epsilon_spent"] == 0
    # a program with another purpose is refused as such
    wrong = client.post(
        URL, json={**COUNT, "purpose": "dpv:PublicPolicyMaking", "program": "uno"}, headers=headers
    )
    assert wrong.status_code == 422 and "is for dpv:ScientificResearch" in wrong.json()["error"]


def test_a_class_of_recipients_names_every_organisation_of_that_kind(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings
) -> None:
    seed(sessions, settings, recipients=["class:researchers"])
    assert client.post(URL, json=COUNT, headers=bearer(tokens["researcher"])).status_code == 200
    refused = client.post(URL, json=COUNT, headers=bearer(tokens["analyst"]))
    assert refused.status_code == 403


def test_two_programs_for_one_purpose_need_the_program_named(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings
) -> None:
    seed(sessions, settings, recipients=["class:social-enterprises"])
    with transaction(sessions, immediate=True) as session:
        programs.create_program(session, spec=program_spec("due", ["org-analyst"]), actor="test")
    headers = bearer(tokens["analyst"])
    ambiguous = client.post(URL, json=COUNT, headers=headers)
    assert ambiguous.status_code == 422
    assert ambiguous.json()["error"].endswith('say which with "program" (due, uno)')
    named = client.post(URL, json={**COUNT, "program": "due"}, headers=headers)
    assert named.status_code == 200 and named.json()["program"] == "due"
    with sessions() as session:  # nobody consented to "due": its release includes no one
        release = session.scalars(select(Release).where(Release.dataset_id == DATASET)).one()
        assert release.donors == 0
