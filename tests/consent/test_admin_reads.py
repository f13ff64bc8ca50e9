"""No administrator route reads a donor's personal data: name and e-mail are decrypted only for the
donor themselves (so there is no admin read of personal data to log; if one is ever added, this test
fails until it is logged and admitted here)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import bearer
from tests.consent.conftest import PROGRAM, give, register

NAME, EMAIL = "Ornella Riservata", "ornella.riservata@example.org"


def test_no_admin_get_route_shows_a_donors_name_or_e_mail(client: TestClient, tokens, program) -> None:  # type: ignore[no-untyped-def]
    donor_id, token = register(client, name=NAME, email=EMAIL)
    consent = give(client, token, PROGRAM["id"])["consent"]
    assert NAME in client.get("/api/v1/donors/me", headers=bearer(token)).text  # the donor sees it
    values = {"program_id": PROGRAM["id"], "consent_id": consent["id"], "donor_id": donor_id}
    spec = client.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        if "get" not in operations or "{" in re.sub(r"\{(program_id|consent_id|donor_id)\}", "", path):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
        for role in ("admin", "analyst", "researcher"):
            answer = client.get(url, headers=bearer(tokens[role]))
            assert NAME not in answer.text and EMAIL not in answer.text, (role, url)
            checked += 1
    assert checked > 30  # every parameterless or program/consent-keyed GET route, for each role
