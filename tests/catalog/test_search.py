"""Searching the catalog: words in Italian or English, accents, ranking, facets, paging, sorting."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import bearer


def ids(body) -> list[str]:  # type: ignore[no-untyped-def]
    return [d["id"] for d in body["data"]]


def test_finds_italian_and_english_words(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    get = lambda q: client.get(  # noqa: E731
        "/api/v1/datasets",
        params={"q": q},
        headers=bearer(tokens["analyst"]),
    ).json()
    assert ids(get("disoccupazione")) == ["disoccupazione-piemonte"]
    assert ids(get("unemployment")) == ["disoccupazione-piemonte"]
    # accents folded both ways; the title match ranks above the publisher match
    assert ids(get("CITTÀ metropolitana")) == ["occupazione-torino", "cooperative-sociali"]
    assert ids(get("citta")) == ["occupazione-torino", "cooperative-sociali"]
    # a word's beginning finds it: "lavor" -> lavorativo (title), lavoro (keywords); the tie
    # between the two keyword matches follows the Italian titles ("Tasso di dis..." < "Tasso di occ...")
    assert ids(get("lavor")) == ["inserimento-lavorativo", "disoccupazione-piemonte", "occupazione-torino"]
    assert get("nothing-like-this")["count"] == 0


def test_title_matches_rank_above_description_matches(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/datasets", params={"q": "labour"}, headers=bearer(tokens["analyst"])).json()
    # "labour" is a keyword of one dataset and only in the description of none other
    assert ids(body)[0] == "disoccupazione-piemonte"
    scores = [d["score"] for d in body["data"]]
    assert scores == sorted(scores, reverse=True)


def test_facets_count_the_matches(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/datasets", headers=bearer(tokens["researcher"])).json()
    assert body["count"] == 4
    assert body["facets"] == {
        "theme": {"SOCI": 3, "ECON": 1},
        "publisher": {
            "Città metropolitana di Torino": 1,
            "Cooperative sociali di tipo B": 1,
            "Eurostat": 1,
            "ISTAT": 1,
        },
        "access": {"open": 3, "private": 1},
        "format": {"CSV": 2, "PARQUET": 2, "DP-API": 1},
        "geography": {"ITC11": 3, "ITC1": 1},
        "year": {"2024": 3, "2023": 3, "2022": 1},
    }
    filtered = client.get(
        "/api/v1/datasets",
        params=[("theme", "SOCI"), ("geography", "ITC11")],
        headers=bearer(tokens["researcher"]),
    ).json()
    assert sorted(ids(filtered)) == ["inserimento-lavorativo", "occupazione-torino"]
    assert filtered["facets"]["access"] == {"open": 1, "private": 1}
    by_year = client.get(
        "/api/v1/datasets", params={"year": "2022"}, headers=bearer(tokens["researcher"])
    ).json()
    assert ids(by_year) == ["disoccupazione-piemonte"]


def test_paging_and_sorting(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["analyst"])
    first = client.get("/api/v1/datasets", params={"limit": 2, "sort": "title"}, headers=headers).json()
    second = client.get(
        "/api/v1/datasets", params={"limit": 2, "offset": 2, "sort": "title"}, headers=headers
    ).json()
    assert first["count"] == second["count"] == 4
    assert (first["limit"], first["offset"], second["offset"]) == (2, 0, 2)
    # by the Italian titles unless asked otherwise: "Cooperative…", "Percorsi…", "Tasso di dis…", …
    italian = [
        "cooperative-sociali",
        "inserimento-lavorativo",
        "disoccupazione-piemonte",
        "occupazione-torino",
    ]
    assert ids(first) + ids(second) == italian
    backwards = client.get("/api/v1/datasets", params={"sort": "-title"}, headers=headers).json()
    assert ids(backwards) == list(reversed(italian))
    # no words, no sort: by title too
    assert ids(client.get("/api/v1/datasets", headers=headers).json()) == italian


def test_titles_sort_in_the_language_asked(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["analyst"])
    get = lambda **params: ids(  # noqa: E731
        client.get(
            "/api/v1/datasets",
            params=params,
            headers=headers,
        ).json()
    )
    # "Employment…", "Social…", "Unemployment…", "Work-integration…"
    english = [
        "occupazione-torino",
        "cooperative-sociali",
        "disoccupazione-piemonte",
        "inserimento-lavorativo",
    ]
    assert get(sort="title", lang="en") == english
    assert get(sort="-title", lang="en") == list(reversed(english))
    assert get(sort="title", lang="it") == [
        "cooperative-sociali",
        "inserimento-lavorativo",
        "disoccupazione-piemonte",
        "occupazione-torino",
    ]
    assert client.get("/api/v1/datasets", params={"lang": "fr"}, headers=headers).status_code == 422


def test_facet_counts_leave_out_their_own_filter(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["researcher"])
    get = lambda params: client.get(  # noqa: E731
        "/api/v1/datasets",
        params=params,
        headers=headers,
    ).json()
    social = get([("theme", "SOCI")])
    assert social["count"] == 3
    # the other themes stay in sight, with the number of datasets choosing them would add
    assert social["facets"]["theme"] == {"SOCI": 3, "ECON": 1}
    assert social["facets"]["access"] == {"open": 2, "private": 1}  # other facets: the matches
    either = get([("theme", "SOCI"), ("theme", "ECON")])
    assert either["count"] == 4 == social["count"] + social["facets"]["theme"]["ECON"]

    both = get([("theme", "SOCI"), ("geography", "ITC11")])
    assert sorted(ids(both)) == ["inserimento-lavorativo", "occupazione-torino"]
    assert both["facets"] == {
        "theme": {"SOCI": 2, "ECON": 1},  # the datasets of ITC11
        "publisher": {"Cooperative sociali di tipo B": 1, "ISTAT": 1},
        "access": {"open": 1, "private": 1},
        "format": {"CSV": 1, "DP-API": 1, "PARQUET": 1},
        "geography": {"ITC11": 2, "ITC1": 1},  # the datasets of theme SOCI
        "year": {"2023": 2, "2024": 2},
    }
    # words narrow every facet: only the datasets matching "tasso" are counted
    rate = get([("q", "tasso"), ("geography", "ITC1")])
    assert ids(rate) == ["disoccupazione-piemonte"]
    assert rate["facets"]["geography"] == {"ITC1": 1, "ITC11": 1}
    assert rate["facets"]["theme"] == {"SOCI": 1}


def test_bad_parameters_are_422(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["analyst"])
    too_many = client.get("/api/v1/datasets", params={"limit": 1000}, headers=headers)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["loc"] == ["query", "limit"]
    assert client.get("/api/v1/datasets", params={"sort": "size"}, headers=headers).status_code == 422


def test_index_follows_changes(client: TestClient, tokens, catalog, sessions) -> None:  # type: ignore[no-untyped-def]
    from datacommons import registry
    from datacommons.db import transaction
    from datacommons.specs import DatasetMeta

    headers = bearer(tokens["analyst"])
    assert client.get("/api/v1/datasets", params={"q": "povertà"}, headers=headers).json()["count"] == 0
    with transaction(sessions) as session:
        registry.upsert_dataset(
            session,
            meta=DatasetMeta(
                id="poverta",
                title_it="Rischio di povertà o esclusione sociale",
                title_en="At risk of poverty or social exclusion",
                publisher="Eurostat",
            ),
        )
    assert ids(client.get("/api/v1/datasets", params={"q": "poverta"}, headers=headers).json()) == ["poverta"]


def test_every_search_parameter_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/datasets"]["get"]
    described = {p["name"]: p.get("description", "") for p in operation["parameters"] if p["in"] == "query"}
    assert set(described) == {
        "q",
        "theme",
        "publisher",
        "access",
        "format",
        "geography",
        "year",
        "sort",
        "lang",
        "limit",
        "offset",
    }
    assert all(described.values()), [name for name, text in described.items() if not text]
    assert "OR within a facet" in described["theme"] and "AND across facets" in described["year"]
    assert "Default: `relevance` when `q` is given, else `title`" in described["sort"]
    guide = (Path(__file__).resolve().parents[2] / "docs" / "search.md").read_text()
    assert [name for name in described if f"| `{name}` |" not in guide] == []
