"""Who may call what: the authorization matrix of every route of the app.

``MATRIX`` holds one entry per route (method and path template, as ``app.routes`` lists them: the
JSON API, the HTML pages, the well-known keys, the OpenAPI description and its pages, the static
files). Each entry gives the exact status every caller gets: no token, an expired token, a revoked
token, an administrator, an analyst, a researcher, a donor, and another donor acting on the first
donor's records. A route without an entry, or an entry without a route, fails the suite: a new route
must say who may call it.

API routes are called with ``Authorization: Bearer``; HTML pages with the web front's session cookie
(signed-out visitors are sent to the sign-in page with 303).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from tests.conftest import bearer
from tests.security.conftest import EXTRACT, PRIVATE, QUERY, RESEARCH, World

#: Every caller, in the order they call a route (the donor last: its call may change the record).
CALLERS = ("anonymous", "expired", "revoked", "analyst", "researcher", "admin", "other_donor", "donor")
SIGNED_OUT = ("anonymous", "expired", "revoked")
ROLES = ("admin", "analyst", "researcher", "donor", "other_donor")


@dataclass(frozen=True)
class Entry:
    """What each caller gets from a route, and how to call it with real records."""

    expect: dict[str, int]
    path: dict[str, Callable[[World], Any]] = field(default_factory=dict)
    json: Callable[[World], Any] | None = None
    form: dict[str, str] | None = None
    query: dict[str, str] | None = None
    cookie: bool = False
    #: The route changes the calling donor's records: both donor callers are fresh ones (each with
    #: one consent), so the seeded donors stay as they are.
    fresh_donor: bool = False


def expect(default: int, signed_out: int = 401, **by_caller: int) -> dict[str, int]:
    """Statuses by caller: ``signed_out`` for the three without a valid token, else ``default``."""
    out = {c: signed_out for c in SIGNED_OUT} | {c: default for c in ROLES}
    return out | by_caller


def public(status: int = 200) -> dict[str, int]:
    """Everyone gets ``status``: the route needs no token and ignores one."""
    return {c: status for c in CALLERS}


def only(status: int, *roles: str, signed_out: int = 401) -> dict[str, int]:
    """``roles`` get ``status``; other roles 403; callers without a valid token ``signed_out``."""
    return expect(403, signed_out, **{r: status for r in roles})


def admin(status: int = 200) -> dict[str, int]:
    """Administrators only."""
    return only(status, "admin")


def donors(status: int, other: int) -> dict[str, int]:
    """Donors only; ``other``: another donor naming the first donor's record."""
    return only(status, "donor", "other_donor") | {"other_donor": other}


def page(status: int = 200, **by_caller: int) -> dict[str, int]:
    """An HTML page for any signed-in user; signed-out visitors are sent to sign in (303)."""
    return expect(status, 303, **by_caller)


DATASET = {"dataset_id": lambda w: w.ids["dataset"]}
OPEN = {"dataset_id": lambda w: w.ids["open_dataset"]}
VERSION = {"dataset_id": lambda w: w.ids["open_dataset"], "number": lambda w: w.ids["number"]}
PROGRAM = {"program_id": lambda w: w.ids["program"]}
CONSENT = {"consent_id": lambda w: w.ids["consent"]}
EXTRACT_ID = {"extract_id": lambda w: w.ids["extract"]}
REPORT = {"report_id": lambda w: w.ids["report"]}
NEW_PROGRAM = {
    "id": "security-matrix",
    "purpose": "dpv:ScientificResearch",
    "title_it": "Programma di prova",
    "title_en": "Test program",
    "controller": "Test",
    "controller_contact": "dpo@example.org",
    "retention_days": 365,
    "text": {
        "text_it": "Acconsento all'uso dei miei dati.",
        "text_en": "I agree to the use of my data.",
        "datasets": [PRIVATE],
        "data_categories": ["test"],
        # nobody who queries in these tests: two programs naming the same caller for one purpose
        # would make that caller's purpose-only queries ambiguous (a 422 asking for the program)
        "recipients": ["Ente di prova"],
        "duration_days": 365,
    },
}

MATRIX: dict[tuple[str, str], Entry] = {
    # --- meta and documentation ---------------------------------------------------------------
    ("GET", "/openapi.json"): Entry(public()),
    ("GET", "/docs"): Entry(public()),
    ("GET", "/static"): Entry(public()),
    ("GET", "/docs/oauth2-redirect"): Entry(public()),  # Swagger UI's, unused: no OAuth2 here
    ("GET", "/static/swagger"): Entry(public()),  # Swagger UI's own assets, served by the commons
    ("GET", "/.well-known/jwks.json"): Entry(public()),
    ("GET", "/api/v1/health"): Entry(public()),
    # --- catalog ------------------------------------------------------------------------------
    ("GET", "/api/v1/catalog.jsonld"): Entry(expect(200)),
    ("GET", "/api/v1/datasets/{dataset_id}.jsonld"): Entry(expect(200), DATASET),
    ("GET", "/api/v1/datasets"): Entry(expect(200)),
    ("GET", "/api/v1/datasets/{dataset_id}"): Entry(expect(200), DATASET),
    ("GET", "/api/v1/datasets/{dataset_id}/versions"): Entry(expect(200), DATASET),
    ("GET", "/api/v1/datasets/{dataset_id}/download"): Entry(expect(200), OPEN),
    # --- privacy ------------------------------------------------------------------------------
    # An administrator's role may query, but no consent text names the administrator as a
    # recipient: 403 (no data-use agreement), like any organisation the donors did not name.
    ("POST", "/api/v1/datasets/{dataset_id}/queries/preview"): Entry(
        only(200, "analyst", "researcher"), DATASET, json=lambda w: QUERY
    ),
    ("POST", "/api/v1/datasets/{dataset_id}/queries"): Entry(
        only(200, "analyst", "researcher"), DATASET, json=lambda w: QUERY
    ),
    ("GET", "/api/v1/budget"): Entry(only(200, "admin", "analyst", "researcher")),
    ("POST", "/api/v1/extracts"): Entry(only(201, "researcher"), json=lambda w: EXTRACT),
    # An extract belongs to the organisation that made it: the researcher's is not the admin's.
    ("GET", "/api/v1/extracts/{extract_id}"): Entry(
        only(200, "researcher", "admin") | {"admin": 404}, EXTRACT_ID
    ),
    ("GET", "/api/v1/extracts/{extract_id}/download"): Entry(
        only(200, "researcher", "admin") | {"admin": 404}, EXTRACT_ID
    ),
    # --- tokens -------------------------------------------------------------------------------
    ("GET", "/api/v1/admin/tokens"): Entry(admin()),
    ("POST", "/api/v1/admin/tokens"): Entry(
        admin(201), json=lambda w: {"role": "analyst", "name": "matrix", "organisation": "org-m"}
    ),
    ("POST", "/api/v1/admin/tokens/{token_id}/revoke"): Entry(
        admin(), {"token_id": lambda w: w.new_token("analyst")[0]}
    ),
    # --- donors and consents ------------------------------------------------------------------
    ("POST", "/api/v1/donors"): Entry(public(201), json=lambda w: {"name": "Nuovo Donatore"}),
    ("POST", "/api/v1/donors/claim"): Entry(
        public(404), json=lambda w: {"donor_id": "no-such-donor", "code": "wrong"}
    ),
    ("GET", "/api/v1/donors/me"): Entry(donors(200, 200)),
    ("GET", "/api/v1/donors/me/uses"): Entry(donors(200, 200)),
    ("GET", "/api/v1/donors/me/export"): Entry(donors(200, 200)),
    ("DELETE", "/api/v1/donors/me"): Entry(donors(200, 200), fresh_donor=True),
    ("GET", "/api/v1/programs"): Entry(public()),
    # anyone holding a receipt may ask; an unknown record id is a 404 for everyone alike
    ("GET", "/api/v1/receipts/{record_id}/status"): Entry(
        public(404), {"record_id": lambda w: "00000000-0000-0000-0000-000000000000"}
    ),
    # --- the public transparency log ------------------------------------------------------------
    ("GET", "/api/v1/transparency/checkpoint"): Entry(public()),
    ("GET", "/api/v1/transparency/key"): Entry(public()),
    ("GET", "/api/v1/transparency/keys"): Entry(public()),
    ("GET", "/api/v1/transparency/checkpoint/cosigned"): Entry(public(404)),  # no witness yet
    # a witness's signature is its credential: a token changes nothing (this body is no note)
    ("POST", "/api/v1/transparency/cosignature"): Entry(public(422), json=lambda _w: "not a checkpoint"),
    ("GET", "/api/v1/transparency/entries"): Entry(public()),
    ("GET", "/api/v1/transparency/proof/inclusion"): Entry(public(), query={"index": "0"}),
    ("GET", "/api/v1/transparency/proof/consistency"): Entry(public(), query={"first": "1"}),
    ("GET", "/api/v1/programs/{program_id}"): Entry(public(), PROGRAM),
    ("GET", "/api/v1/programs/{program_id}/texts"): Entry(public(), PROGRAM),
    ("GET", "/api/v1/programs/{program_id}/form"): Entry(public(), PROGRAM),
    ("GET", "/api/v1/programs/{program_id}/form.html"): Entry(public(), PROGRAM),
    ("GET", "/api/v1/consents"): Entry(donors(200, 200)),
    # Consent already in force on that version: 200, nothing changes.
    ("POST", "/api/v1/consents"): Entry(
        donors(200, 200), json=lambda w: {"program_id": RESEARCH, "text_version": 1}
    ),
    # Another donor naming the first donor's consent gets 404, exactly as for no such consent.
    ("GET", "/api/v1/consents/{consent_id}"): Entry(donors(200, 404), CONSENT),
    ("GET", "/api/v1/consents/{consent_id}/receipt"): Entry(donors(200, 404), CONSENT),
    ("POST", "/api/v1/consents/{consent_id}/renew"): Entry(
        donors(200, 404), CONSENT, json=lambda w: {"text_version": 1}, fresh_donor=True
    ),
    ("POST", "/api/v1/consents/{consent_id}/withdraw"): Entry(donors(200, 404), CONSENT, fresh_donor=True),
    # --- consent administration ---------------------------------------------------------------
    ("POST", "/api/v1/admin/programs"): Entry(admin(201), json=lambda w: NEW_PROGRAM),
    # A new text of the other demo program: consents to the research program stay on version 1.
    ("POST", "/api/v1/admin/programs/{program_id}/texts"): Entry(
        admin(201), {"program_id": lambda w: f"{PRIVATE}-politiche"}, json=lambda w: NEW_PROGRAM["text"]
    ),
    ("POST", "/api/v1/admin/donors"): Entry(
        admin(201),
        json=lambda w: {
            "organisation": "org-matrix",
            "dataset_ids": [PRIVATE],
            "donor_ids": ["matrix-donor-1"],
        },
    ),
    ("GET", "/api/v1/admin/consent/keys"): Entry(admin()),
    ("POST", "/api/v1/admin/consent/keys/rotate"): Entry(admin(201)),
    ("GET", "/api/v1/admin/audit/verify"): Entry(admin()),
    ("GET", "/api/v1/admin/audit/log"): Entry(admin()),
    ("GET", "/api/v1/admin/reports/altruism"): Entry(admin()),
    ("GET", "/api/v1/admin/reports/altruism.html"): Entry(admin()),
    # --- quality gate and ingest --------------------------------------------------------------
    # A published version may be validated again (a new report) and made current again.
    ("POST", "/api/v1/admin/datasets/{dataset_id}/versions/{number}/validate"): Entry(admin(200), VERSION),
    ("POST", "/api/v1/admin/datasets/{dataset_id}/versions/{number}/publish"): Entry(admin(200), VERSION),
    ("GET", "/api/v1/admin/datasets/{dataset_id}/versions/{number}/report"): Entry(admin(), VERSION),
    ("GET", "/api/v1/admin/datasets/{dataset_id}/versions/{number}/reports"): Entry(admin(), VERSION),
    ("GET", "/api/v1/admin/reports/{report_id}.html"): Entry(admin(), REPORT),
    ("GET", "/api/v1/admin/reports/{report_id}"): Entry(admin(), REPORT),
    ("GET", "/api/v1/admin/connectors"): Entry(admin()),
    # --- privacy budgets ------------------------------------------------------------------------
    ("GET", "/api/v1/admin/datasets/{dataset_id}/policy"): Entry(admin(), DATASET),
    ("PUT", "/api/v1/admin/datasets/{dataset_id}/policy/budget"): Entry(
        admin(),
        DATASET,
        json=lambda w: {"epsilon_total": 50.0, "epsilon_per_organisation": 20.0, "epsilon_per_query": 1.0},
    ),
    ("POST", "/api/v1/admin/ingest/{connector}"): Entry(
        admin(), {"connector": lambda w: "plan2030"}, json=lambda w: {"params": {}}
    ),
    # --- web pages (session cookie) -----------------------------------------------------------
    ("GET", "/login"): Entry(public(), cookie=True),
    # The caller's token is the form's: no token is invalid input, a dead one is refused.
    ("POST", "/login"): Entry(expect(303, 401, anonymous=422), cookie=True),
    ("POST", "/logout"): Entry(public(303), cookie=True),
    ("GET", "/"): Entry(page(), cookie=True),
    ("GET", "/datasets/{dataset_id}"): Entry(page(), DATASET, cookie=True),
    # Donors may not query: they get the page saying so (403), not the query builder.
    ("GET", "/query/{dataset_id}"): Entry(page(donor=403, other_donor=403), DATASET, cookie=True),
    ("GET", "/donor"): Entry(public(), cookie=True),
    ("GET", "/donor/register"): Entry(public(303), cookie=True),
    ("POST", "/donor/register"): Entry(public(201), form={"name": "Da Pagina"}, cookie=True),
    ("POST", "/donor/claim"): Entry(public(404), form={"donor_id": "dn-none", "code": "wrong"}, cookie=True),
    ("GET", "/admin"): Entry(page(403, admin=200), cookie=True),
    # The transparency log is public; its English address leads to it.
    ("GET", "/trasparenza"): Entry(public(), cookie=True),
    ("GET", "/transparency"): Entry(public(307), cookie=True),
}


def app_routes(world: World) -> set[tuple[str, str]]:
    """Every (method, path template) the app answers; a mount counts as GET on its prefix."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(world.app.routes):
        if isinstance(context.original_route, Mount):
            found.add(("GET", context.path))
            continue
        for method in set(getattr(context, "methods", None) or ()) - {"HEAD"}:
            found.add((method, context.path))
    return found


def test_every_route_has_an_entry_and_every_entry_a_route(world: World) -> None:
    routes = app_routes(world)
    assert sorted(routes - set(MATRIX)) == [], "routes without an entry in the matrix"
    assert sorted(set(MATRIX) - routes) == [], "matrix entries naming no route"


def credentials(world: World, caller: str, entry: Entry, token: str | None) -> dict[str, dict[str, str]]:
    """How ``caller`` presents its token: a bearer header, the session cookie, or a login form."""
    if token is None:
        return {}
    if entry.form is None and entry.cookie and entry.expect.get("anonymous") == 422:
        return {"data": {"token": token}}  # POST /login: the token is what the form sends
    if entry.cookie:
        return {"cookies": {"dc_token": token}}
    return {"headers": bearer(token)}


def call(
    world: World,
    method: str,
    template: str,
    entry: Entry,
    caller: str,
    donor: dict[str, str],
    other: dict[str, str],
) -> Any:
    """Call the route as ``caller`` on real records; the answer."""
    params = {name: value(world) for name, value in entry.path.items()}
    if "consent_id" in params and entry.fresh_donor:
        params["consent_id"] = donor["consent_id"]
    assets = {"/static": "/static/app.js", "/static/swagger": "/static/swagger/swagger-ui-bundle.js"}
    url = assets.get(template) or template.format(**params)
    token = {"anonymous": None, "donor": donor["token"], "other_donor": other["token"]}.get(
        caller, world.tokens.get(caller)
    )
    kwargs: dict[str, Any] = credentials(world, caller, entry, token)
    if entry.json is not None:
        kwargs["json"] = entry.json(world)
    if entry.form is not None:
        kwargs["data"] = entry.form
    world.client.cookies.clear()
    cookies = kwargs.pop("cookies", None)
    if cookies:
        world.client.cookies.update(cookies)
    try:
        return world.client.request(method, url, params=entry.query, follow_redirects=False, **kwargs)
    finally:
        world.client.cookies.clear()


@pytest.mark.parametrize(("method", "template"), sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)])
def test_caller_gets_the_status_the_matrix_gives(world: World, method: str, template: str) -> None:
    entry = MATRIX[(method, template)]
    donor, other = (
        (world.new_donor(), world.new_donor())
        if entry.fresh_donor
        else ({"token": world.tokens["donor"]}, {"token": world.tokens["other_donor"]})
    )
    got = {}
    for caller in CALLERS:
        answer = call(world, method, template, entry, caller, donor, other)
        got[caller] = answer.status_code
        if answer.status_code in (401, 403) and answer.headers.get("content-type", "").startswith(
            "application/json"
        ):
            assert answer.json()["status"] == answer.status_code
    assert got == {c: entry.expect[c] for c in CALLERS}
    world.restore_tokens()
    operation = world.app.openapi()["paths"].get(template, {}).get(method.lower())
    if operation is not None:  # in the OpenAPI description: every status it answered is documented
        assert set(map(str, got.values())) <= set(operation["responses"]), operation["responses"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_no_one_downloads_private_microdata(world: World, fmt: str) -> None:
    for caller in ("admin", "analyst", "researcher", "donor"):
        answer = world.client.get(
            f"/api/v1/datasets/{PRIVATE}/download",
            params={"format": fmt},
            headers=bearer(world.tokens[caller]),
        )
        assert answer.status_code == 403, (caller, answer.text)
        assert answer.json()["error"].startswith(
            f"dataset {PRIVATE} holds private microdata and cannot be downloaded"
        )
