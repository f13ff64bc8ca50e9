"""Programs, versioned texts, the modular consent form, and donors registered by an organisation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import bearer
from tests.consent.conftest import DATASET, PROGRAM, give, make_program, register, register_self

TEXT_V2 = {
    **PROGRAM["text"],
    "text_it": "Nuovo testo: acconsento anche ai tirocini, per la ricerca.",
    "text_en": "New text: I also agree to the traineeships data, for research.",
    "datasets": [DATASET, "tirocini"],
}


def test_program_is_public_and_its_form_is_json_and_printable(client: TestClient, program) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"/api/v1/programs/{PROGRAM['id']}").json()
    assert body == {
        "id": PROGRAM["id"],
        "title_it": PROGRAM["title_it"],
        "title_en": PROGRAM["title_en"],
        "purpose": "dpv:ScientificResearch",
        "purpose_iri": "https://w3id.org/dpv#ScientificResearch",
        "purpose_label_it": "Ricerca scientifica",
        "purpose_label_en": "Scientific research",
        "controller": PROGRAM["controller"],
        "controller_contact": PROGRAM["controller_contact"],
        "controller_address": "",
        "retention_days": 3650,
        "created_at": body["created_at"],
        "current_text": {
            "version": 1,
            "sha256": body["current_text"]["sha256"],
            "text_it": PROGRAM["text"]["text_it"],
            "text_en": PROGRAM["text"]["text_en"],
            "datasets": [DATASET],
            "data_categories": ["job placement", "wage"],
            "recipients": ["class:researchers", "class:social-enterprises"],
            "special_categories": ["health"],
            "duration_days": 365,
            "published_at": body["current_text"]["published_at"],
        },
    }
    form = client.get(f"/api/v1/programs/{PROGRAM['id']}/form").json()
    assert set(form["modules"]) == {
        "controller",
        "purpose",
        "datasets",
        "data_categories",
        "special_categories",
        "recipients",
        "duration",
        "retention",
        "rights",
    }
    assert form["modules"]["recipients"] == [
        {"id": "class:researchers", "label_it": "enti di ricerca", "label_en": "research organisations"},
        {
            "id": "class:social-enterprises",
            "label_it": "imprese sociali e cooperative",
            "label_en": "social enterprises and cooperatives",
        },
    ]
    assert form["modules"]["special_categories"] == [
        {"id": "health", "label_it": "dati relativi alla salute", "label_en": "data concerning health"}
    ]
    assert form["modules"]["duration"] == {"days": 365, "label_it": "365 giorni", "label_en": "365 days"}
    assert form["text"] == {
        "version": 1,
        "sha256": body["current_text"]["sha256"],
        "it": PROGRAM["text"]["text_it"],
        "en": PROGRAM["text"]["text_en"],
    }
    assert form["how_to_consent"]["body"] == {"program_id": PROGRAM["id"], "text_version": 1}
    page = client.get(f"/api/v1/programs/{PROGRAM['id']}/form.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for shown in (
        PROGRAM["text"]["text_it"].replace("'", "&#39;"),
        PROGRAM["text"]["text_en"],
        "Ricerca scientifica",
        "Scientific research",
        "enti di ricerca",
        "dati relativi alla salute",
        "art. 9(2)(a)",
        body["current_text"]["sha256"],
        "art. 25",
        f'/api/v1/programs/{PROGRAM["id"]}/form"',
    ):
        assert shown in page.text
    assert client.get("/api/v1/programs/nope").status_code == 404


def test_a_new_text_version_binds_only_new_consents(client: TestClient, tokens, program) -> None:  # type: ignore[no-untyped-def]
    _old, old_token = register(client)
    old = give(client, old_token, PROGRAM["id"])["consent"]
    answer = client.post(
        f"/api/v1/admin/programs/{PROGRAM['id']}/texts", json=TEXT_V2, headers=bearer(tokens["admin"])
    )
    assert answer.status_code == 201 and answer.json()["version"] == 2
    assert answer.json()["sha256"] != old["text_sha256"]

    # A donor who read version 1 cannot consent on it any more: they must read version 2.
    _new, new_token = register(client)
    stale = client.post(
        "/api/v1/consents", json={"program_id": PROGRAM["id"], "text_version": 1}, headers=bearer(new_token)
    )
    assert stale.status_code == 409
    assert "now version 2" in stale.json()["error"]
    assert give(client, new_token, PROGRAM["id"], 2)["consent"]["text_version"] == 2

    still = client.get(f"/api/v1/consents/{old['id']}", headers=bearer(old_token)).json()
    assert (still["status"], still["text_version"]) == ("active", 1)
    renewed = client.post(
        f"/api/v1/consents/{old['id']}/renew", json={"text_version": 2}, headers=bearer(old_token)
    ).json()
    assert [e["event"] for e in renewed["consent"]["events"]] == ["given", "renewed"]
    assert [e["text_version"] for e in renewed["consent"]["events"]] == [1, 2]
    texts = client.get(f"/api/v1/programs/{PROGRAM['id']}/texts").json()
    assert [t["version"] for t in texts["data"]] == [1, 2]


def test_giving_consent_twice_changes_nothing_and_withdrawal_is_one_call(client: TestClient, program) -> None:  # type: ignore[no-untyped-def]
    _donor, token = register(client)
    first = give(client, token, PROGRAM["id"])
    again = client.post(
        "/api/v1/consents", json={"program_id": PROGRAM["id"], "text_version": 1}, headers=bearer(token)
    )
    assert again.status_code == 200
    assert again.json()["consent"]["events"] == first["consent"]["events"]
    consent_id = first["consent"]["id"]
    out = client.post(f"/api/v1/consents/{consent_id}/withdraw", headers=bearer(token))
    assert out.status_code == 200 and out.json()["consent"]["status"] == "withdrawn"
    twice = client.post(f"/api/v1/consents/{consent_id}/withdraw", headers=bearer(token))
    assert twice.status_code == 409
    assert twice.json()["error"] == "this consent is not in force (it is withdrawn)"
    back = give(client, token, PROGRAM["id"])["consent"]
    assert back["id"] == consent_id
    assert [e["event"] for e in back["events"]] == ["given", "withdrawn", "given"]


def test_only_admins_create_programs_and_input_is_checked(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    assert (
        client.post("/api/v1/admin/programs", json=PROGRAM, headers=bearer(tokens["analyst"])).status_code
        == 403
    )
    bad = client.post(
        "/api/v1/admin/programs",
        json={**PROGRAM, "purpose": "dpv:Marketing"},
        headers=bearer(tokens["admin"]),
    )
    assert bad.status_code == 422 and "unknown purpose 'dpv:Marketing'" in bad.json()["error"]
    make_program(client, tokens["admin"])
    dup = client.post("/api/v1/admin/programs", json=PROGRAM, headers=bearer(tokens["admin"]))
    assert dup.status_code == 409


def test_organisation_registers_donors_who_claim_with_a_one_time_code(
    client: TestClient, tokens, program
) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(
        "/api/v1/admin/donors",
        headers=bearer(tokens["admin"]),
        json={
            "organisation": "Cooperativa Il Ponte",
            "dataset_ids": [DATASET],
            "donor_ids": ["D0000001", "D0000002"],
        },
    )
    assert answer.status_code == 201
    rows = answer.json()["data"]
    assert [row["pseudonym"] for row in rows] == ["D0000001", "D0000002"]
    ids = {row["pseudonym"]: row["donor_id"] for row in rows}
    codes = {row["pseudonym"]: row["claim_code"] for row in rows}
    # the commons' own donor ids, never the organisation's pseudonyms
    assert all(i.startswith("dn-") for i in ids.values()) and all(codes.values())

    wrong = client.post("/api/v1/donors/claim", json={"donor_id": ids["D0000001"], "code": "guess"})
    unknown = client.post("/api/v1/donors/claim", json={"donor_id": "dn-0000000000000000", "code": "guess"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()

    claimed = client.post(
        "/api/v1/donors/claim",
        json={"donor_id": ids["D0000001"], "code": codes["D0000001"], "email": "d1@example.org"},
    )
    assert claimed.status_code == 201 and claimed.json()["donor_id"] == ids["D0000001"]
    token = claimed.json()["token"]
    me = client.get("/api/v1/donors/me", headers=bearer(token)).json()
    assert (me["source"], me["organisation"], me["datasets"], me["email"], me["name"]) == (
        "organisation",
        "Cooperativa Il Ponte",
        [DATASET],
        "d1@example.org",
        None,
    )
    assert me["claimed_at"] is not None
    reuse = client.post("/api/v1/donors/claim", json={"donor_id": ids["D0000001"], "code": codes["D0000001"]})
    assert reuse.status_code == 404
    # Registering again finds the same donors, and gives a new code only to those not yet claimed.
    again = client.post(
        "/api/v1/admin/donors",
        headers=bearer(tokens["admin"]),
        json={
            "organisation": "Cooperativa Il Ponte",
            "dataset_ids": [DATASET],
            "donor_ids": ["D0000001", "D0000002"],
        },
    ).json()
    assert {row["pseudonym"]: row["donor_id"] for row in again["data"]} == ids
    new_codes = {row["pseudonym"]: row["claim_code"] for row in again["data"]}
    assert new_codes["D0000001"] is None
    assert new_codes["D0000002"] not in (None, codes["D0000002"])
    assert (
        client.post(
            "/api/v1/donors/claim", json={"donor_id": ids["D0000002"], "code": codes["D0000002"]}
        ).status_code
        == 404
    )


def test_no_claim_code_for_a_donor_who_registered_themselves(client: TestClient, tokens, program) -> None:  # type: ignore[no-untyped-def]
    """An organisation naming a self-registered donor's id registers someone else under its own
    pseudonym: it never gets a code, a link or any other hold on the self-registered donor."""
    own_id, own_token = register_self(client, name="Maria Rossi", email="maria@example.org")
    answer = client.post(
        "/api/v1/admin/donors",
        headers=bearer(tokens["admin"]),
        json={"organisation": "Cooperativa Il Ponte", "dataset_ids": [DATASET], "donor_ids": [own_id]},
    )
    assert answer.status_code == 201
    [row] = answer.json()["data"]
    assert row["pseudonym"] == own_id and row["donor_id"] != own_id
    me = client.get("/api/v1/donors/me", headers=bearer(own_token)).json()
    assert (me["source"], me["organisation"], me["datasets"]) == ("self", None, [])
