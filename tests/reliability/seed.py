"""Records the reliability tests start from: an operator's token, a program and its donors."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from consent import donors, programs
from datacommons import auth
from datacommons.db import transaction
from tests.consent.conftest import DATASET, PROGRAM


def admin_token(factory: sessionmaker[Session]) -> str:
    """A token of the commons' operator."""
    with transaction(factory) as session:
        org = auth.get_or_create_organisation(session, "Città metropolitana")
        return auth.create_token(session, role="admin", name="operator", organisation=org)[1]


def analyst_tokens(factory: sessionmaker[Session], names: list[str]) -> list[str]:
    """One analyst token for each organisation named."""
    with transaction(factory) as session:
        return [
            auth.create_token(
                session,
                role="analyst",
                name=name,
                organisation=auth.get_or_create_organisation(session, name),
            )[1]
            for name in names
        ]


def program_and_donors(factory: sessionmaker[Session], count: int) -> dict[str, str]:
    """The research program and ``count`` donors registered by a cooperative: token by donor id."""
    pseudonyms = [f"D{i:07d}" for i in range(1, count + 1)]
    with transaction(factory, immediate=True) as session:
        programs.create_program(session, spec=programs.ProgramSpec.model_validate(PROGRAM), actor="test")
        rows = donors.register_for_organisation(
            session, organisation="Coop", donor_ids=pseudonyms, dataset_ids=[DATASET]
        )
        ids = [row["donor_id"] for row in rows]
        return {
            donor_id: auth.create_token(session, role="donor", name=donor_id, donor_id=donor_id)[1]
            for donor_id in ids
        }


def grant_body(version: int = 1) -> dict[str, object]:
    """The body of ``POST /api/v1/consents`` for the program."""
    return {"program_id": PROGRAM["id"], "text_version": version}
