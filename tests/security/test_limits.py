"""Bounded answers and refused oversized input: every list is paged with caps; ids fit the database;
a cookie alone cannot change anything (CSRF); the OpenAPI description documents every error body."""

from __future__ import annotations

from typing import Any

import pytest

from datacommons.schemas import MAX_INT, MAX_OFFSET, MAX_PAGE_SIZE
from tests.conftest import bearer
from tests.security.conftest import PRIVATE, RESEARCH, World

#: Every list route that grows with use, and who may read it.
PAGED = [
    ("/api/v1/datasets/{dataset}/versions", "admin"),
    ("/api/v1/admin/tokens", "admin"),
    ("/api/v1/donors/me/uses", "donor"),
    ("/api/v1/admin/audit/log", "admin"),
    ("/api/v1/admin/datasets/{open_dataset}/versions/1/reports", "admin"),
    ("/api/v1/programs", "admin"),
    (f"/api/v1/programs/{RESEARCH}/texts", "admin"),
]


def get(world: World, path: str, role: str, **params: Any) -> Any:
    """GET ``path`` (with the world's ids filled in) as ``role``."""
    return world.client.get(path.format(**world.ids), params=params, headers=bearer(world.tokens[role]))


@pytest.mark.parametrize(("path", "role"), PAGED, ids=[p for p, _ in PAGED])
def test_lists_answer_one_page_and_count_them_all(world: World, path: str, role: str) -> None:
    everything = get(world, path, role, limit=MAX_PAGE_SIZE).json()
    assert everything["count"] == len(everything["data"]) >= 1
    first = get(world, path, role, limit=1).json()
    assert first == {"data": everything["data"][:1], "count": everything["count"]}
    beyond = get(world, path, role, offset=everything["count"]).json()
    assert beyond == {"data": [], "count": everything["count"]}


@pytest.mark.parametrize(("path", "role"), PAGED, ids=[p for p, _ in PAGED])
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("limit", MAX_PAGE_SIZE + 1, f"query.limit: Input should be less than or equal to {MAX_PAGE_SIZE}"),
        ("limit", 0, "query.limit: Input should be greater than or equal to 1"),
        ("offset", MAX_OFFSET + 1, f"query.offset: Input should be less than or equal to {MAX_OFFSET}"),
        ("offset", -1, "query.offset: Input should be greater than or equal to 0"),
    ],
)
def test_paging_beyond_the_caps_is_refused(
    world: World, path: str, role: str, name: str, value: int, message: str
) -> None:
    answer = get(world, path, role, **{name: value})
    assert answer.status_code == 422
    assert answer.json()["error"] == f"invalid request: {message}"


def test_the_catalog_search_and_its_dcat_export_are_capped(world: World) -> None:
    assert get(world, "/api/v1/datasets", "analyst", limit=101).status_code == 422
    assert get(world, "/api/v1/datasets", "analyst", offset=100_001).status_code == 422
    assert get(world, "/api/v1/catalog.jsonld", "analyst", page_size=10_000).status_code == 422
    assert get(world, "/api/v1/catalog.jsonld", "analyst", page=MAX_INT + 1).status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "role", "params"),
    [
        ("GET", f"/api/v1/programs/{RESEARCH}/form", "admin", {"version": MAX_INT + 1}),
        ("GET", "/api/v1/datasets/plan2030/download", "admin", {"version": MAX_INT + 1}),
        ("GET", "/api/v1/consents/{consent}/receipt", "donor", {"event_id": MAX_INT + 1}),
        ("POST", f"/api/v1/admin/tokens/{MAX_INT + 1}/revoke", "admin", {}),
        ("GET", f"/api/v1/admin/reports/{MAX_INT + 1}", "admin", {}),
        ("GET", f"/api/v1/admin/datasets/plan2030/versions/{MAX_INT + 1}/report", "admin", {}),
    ],
)
def test_ids_beyond_the_database_integer_are_refused(
    world: World, method: str, path: str, role: str, params: dict[str, int]
) -> None:
    answer = world.client.request(
        method, path.format(**world.ids), params=params, headers=bearer(world.tokens[role])
    )
    assert answer.status_code == 422
    assert f"less than or equal to {MAX_INT}" in answer.json()["error"]


def test_a_text_version_beyond_the_database_integer_is_refused(world: World) -> None:
    answer = world.client.post(
        "/api/v1/consents",
        headers=bearer(world.tokens["donor"]),
        json={"program_id": RESEARCH, "text_version": MAX_INT + 1},
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == (
        f"invalid request: body.text_version: Input should be less than or equal to {MAX_INT}"
    )


def test_a_cookie_without_the_csrf_token_changes_nothing(world: World) -> None:
    world.client.cookies.set("dc_token", world.tokens["admin"])
    try:
        answer = world.client.post("/api/v1/admin/consent/keys/rotate")
        keys = world.client.get("/api/v1/admin/consent/keys").json()["count"]
        world.client.cookies.set("dc_csrf", "c" * 32)
        with_csrf = world.client.post("/api/v1/admin/consent/keys/rotate", headers={"X-CSRF-Token": "c" * 32})
    finally:
        world.client.cookies.clear()
    assert answer.status_code == 403
    assert answer.json()["error"] == "missing or wrong CSRF token (X-CSRF-Token header)"
    assert with_csrf.status_code == 201
    after = world.client.get("/api/v1/admin/consent/keys", headers=bearer(world.tokens["admin"]))
    assert after.json()["count"] == keys + 1


def test_every_error_answer_is_documented_as_the_json_error_body(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    errors = {
        (path, method, status): response.get("content")
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status[0] in "45"
    }
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    assert {key for key, content in errors.items() if content != body} == set()
    assert ("/api/v1/admin/reports/altruism.html", "get", "401") in errors
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_another_donors_consent_answers_as_if_it_did_not_exist(world: World) -> None:
    other = world.tokens["other_donor"]
    mine = world.client.get(f"/api/v1/consents/{world.ids['consent']}/receipt", headers=bearer(other))
    missing = world.client.get("/api/v1/consents/no-such-consent/receipt", headers=bearer(other))
    assert mine.status_code == missing.status_code == 404
    assert mine.json()["error"].replace(world.ids["consent"], "X") == missing.json()["error"].replace(
        "no-such-consent", "X"
    )
    assert PRIVATE not in mine.text


def test_a_nul_character_is_never_a_server_error(world: World, db_kind: str) -> None:
    answer = world.client.post(
        "/api/v1/admin/tokens",
        headers=bearer(world.tokens["admin"]),
        json={"role": "analyst", "name": "nul", "organisation": "\u0000"},
    )
    if db_kind == "postgresql":  # PostgreSQL cannot store NUL in text: the input is refused
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == (
            "invalid input: a value the database cannot store (a NUL character, or a number out of range)"
        )
    else:  # SQLite stores it
        assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    "url", ["/datasets/%00", "/query/%00", "/api/v1/datasets/%00", "/api/v1/programs/%00"]
)
def test_a_nul_character_in_a_path_is_refused_or_not_found(world: World, db_kind: str, url: str) -> None:
    world.client.cookies.set("dc_token", world.tokens["analyst"])
    try:
        answer = world.client.get(url, headers=bearer(world.tokens["analyst"]))
    finally:
        world.client.cookies.clear()
    assert answer.status_code == (422 if db_kind == "postgresql" else 404), answer.text


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example"]
)
def test_signing_in_never_sends_the_browser_to_another_site(world: World, target: str) -> None:
    answer = world.client.post(
        "/login", data={"token": world.tokens["analyst"], "next": target}, follow_redirects=False
    )
    world.client.cookies.clear()
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
