"""The query builder, donor portal and admin pages as HTML (the journeys in tests/web/ drive them)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from consent import ledger, privacy_loss
from consent.receipts import Signer
from datacommons.db import transaction, utcnow
from tests.catalog.test_pages import sign_in
from tests.consent.conftest import make_program, register


def test_query_builder_offers_the_policy_dimensions(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    page = client.get("/query/inserimento-lavorativo", params={"lang": "en"})
    assert page.status_code == 200
    assert '<label for="epsilon">Epsilon (privacy loss)</label>' in page.text
    assert 'name="group_by" value="year"' in page.text
    assert 'id="extract"' not in page.text  # analysts cannot download extracts
    assert '<script src="/static/app.js"></script>' in page.text
    sign_in(client, tokens["researcher"])
    assert 'id="extract"' in client.get("/query/inserimento-lavorativo").text
    open_dataset = client.get("/query/disoccupazione-piemonte")
    assert open_dataset.status_code == 422  # a page, not JSON: see tests/catalog/test_web_errors.py
    assert open_dataset.headers["content-type"].startswith("text/html")
    assert "is open: download it instead" in open_dataset.text


def test_donor_registers_signed_out_and_gets_a_session(client: TestClient) -> None:
    form = client.get("/donor", params={"lang": "en"})
    assert form.status_code == 200 and '<label for="name">Name (optional)</label>' in form.text
    page = client.post(
        "/donor/register", data={"name": "Anna", "email": ""}, headers={"accept-language": "en"}
    )
    assert page.status_code == 201
    token = client.cookies.get("dc_token")
    assert token and token.startswith("dc_") and f'value="{token}"' in page.text
    assert "Keep it: it is shown only now" in page.text
    again = client.get("/donor", params={"lang": "en"})
    assert "Your token" not in again.text and "Export my data (JSON)" in again.text
    bad = client.post("/donor/register", data={"email": "not-an-email"})
    assert bad.status_code == 422


def test_the_query_builder_is_not_for_donors(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["donor"])
    refused = client.get("/query/inserimento-lavorativo", params={"lang": "it"})
    assert refused.status_code == 403
    assert "Le interrogazioni sono riservate ad analisti e ricercatori." in refused.text
    sign_in(client, tokens["analyst"])
    assert client.get("/query/inserimento-lavorativo").status_code == 200


def test_admin_page_is_for_administrators(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/login?next=%2Fadmin"
    sign_in(client, tokens["analyst"])
    refused = client.get("/admin", params={"lang": "en"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "<title>Not allowed" in refused.text and "This page is for administrators" in refused.text
    assert "inserimento-lavorativo" not in refused.text  # nothing of the admin page leaks
    sign_in(client, tokens["admin"])
    page = client.get("/admin", params={"lang": "en"})
    assert page.status_code == 200
    chain = client.get("/api/v1/admin/audit/verify").json()
    assert chain["ok"] and f"Chain intact ({chain['count']} entries)" in page.text
    assert "inserimento-lavorativo" in page.text
    assert "/api/v1/admin/reports/altruism.html" in page.text


def test_the_registration_answer_links_back_to_the_portal(client: TestClient) -> None:
    answer = client.get("/donor/register", params={"lang": "en"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/donor?lang=en"


def test_an_expired_consent_is_renewed_from_the_portal(
    client: TestClient,
    tokens,
    settings,  # type: ignore[no-untyped-def]
    sessions,
) -> None:
    program = make_program(client, tokens["admin"])
    donor_id, token = register(client)
    with transaction(sessions, immediate=True) as session:
        consent, _ = ledger.grant(
            session,
            donor_id=donor_id,
            program_id=program["id"],
            text_version=1,
            signer=Signer.of(settings),
            duration_days=30,
            at=utcnow() - timedelta(days=60),
        )
        consent_id = consent.id
    sign_in(client, token)
    page = client.get("/donor", params={"lang": "en"}).text
    assert "consent expired" in page
    renew = f'data-api="/api/v1/consents/{consent_id}/renew" data-body=\'{{"text_version": 1}}\''
    assert renew in page and "Renew consent" in page and "Withdraw consent" not in page

    # what the button does: the page's script posts with the CSRF header
    answer = client.post(
        f"/api/v1/consents/{consent_id}/renew",
        json={"text_version": 1},
        headers={"X-CSRF-Token": client.cookies.get("dc_csrf") or ""},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["consent"]["status"] == "active"
    page = client.get("/donor", params={"lang": "en"}).text
    assert "consent given" in page and "Withdraw consent" in page and "Renew consent" not in page


def test_pages_show_purposes_uses_and_budgets_in_words(
    client: TestClient,
    tokens,
    catalog,  # type: ignore[no-untyped-def]
    sessions,
) -> None:
    from consent import transparency

    program = make_program(client, tokens["admin"])  # dpv:ScientificResearch, covers the dataset
    donor_id, token = register(client)
    answer = client.post(
        "/api/v1/consents",
        json={"program_id": program["id"], "text_version": 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    with transaction(sessions, immediate=True) as session:  # a release that included the donor
        transparency.record_use(
            session,
            kind="release",
            actor="analyst",
            organisation="org-analyst",
            purpose="dpv:ScientificResearch",
            datasets=["inserimento-lavorativo"],
        )
        included = frozenset({donor_id})
        chosen = privacy_loss.inclusion(session, donors=included, epsilon=0.5, cap=10.0)
        privacy_loss.charge(
            session,
            eligible=included,
            chosen=chosen,
            epsilon=0.5,
            cap=10.0,
            use=privacy_loss.Use(
                "r1",
                "release",
                "inserimento-lavorativo",
                1,
                "org-analyst",
                "dpv:ScientificResearch",
                0.5,
                utcnow(),
            ),
        )

    sign_in(client, tokens["analyst"])  # the query builder: the purpose's label, its CURIE as value
    builder = client.get("/query/inserimento-lavorativo", params={"lang": "it"}).text
    assert '<option value="dpv:ScientificResearch">Ricerca scientifica</option>' in builder
    english = client.get("/query/inserimento-lavorativo", params={"lang": "en"}).text
    assert '<option value="dpv:ScientificResearch">Scientific research</option>' in english

    sign_in(client, token)  # the donor's uses: kinds and purposes in words, times in UTC
    uses = client.get("/donor", params={"lang": "it"}).text.split('<table id="uses">', 1)[1]
    assert '<span title="release">aggregati con privacy differenziale</span>' in uses
    assert "<td>Ricerca scientifica</td>" in uses and "dpv:" not in uses
    assert "UTC</time>" in uses

    sign_in(client, tokens["admin"])  # the admin's budgets: the cap is per organisation
    admin = client.get("/admin", params={"lang": "it"}).text
    budgets = admin.split('<table id="budgets">', 1)[1]
    assert "ε per organizzazione" in budgets and "della tua organizzazione" not in budgets
    assert '<span title="dpv:ScientificResearch">Ricerca scientifica</span>' in admin
    assert ">pubblicata</span>" in admin
