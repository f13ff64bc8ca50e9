"""Searching the catalog: words in Italian or English, accents, ranking, facets, paging, sorting."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import bearer


def ids(body) -> list[str]:  # type: ignore[no-untyped-def]
    return [d["id"] for d in body["data"]]


def test_finds_italian_and_english_words(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    get = lambda q: client.get("/api/v1/datasets", params={"q": q},  # noqa: E731
                               headers=bearer(tokens["analyst"])).json()
    assert ids(get("disoccupazione")) == ["disoccupazione-piemonte"]
    assert ids(get("unemployment")) == ["disoccupazione-piemonte"]
    # accents folded both ways; the title match ranks above the publisher match
    assert ids(get("CITTÀ metropolitana")) == ["occupazione-torino", "cooperative-sociali"]
    assert ids(get("citta")) == ["occupazione-torino", "cooperative-sociali"]
    # a word's beginning finds it: "lavor" -> lavorativo (title), lavoro (keywords)
    assert ids(get("lavor")) == ["inserimento-lavorativo", "occupazione-torino",
                                 "disoccupazione-piemonte"]
    assert get("nothing-like-this")["count"] == 0


def test_title_matches_rank_above_description_matches(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/datasets", params={"q": "labour"},
                      headers=bearer(tokens["analyst"])).json()
    # "labour" is a keyword of one dataset and only in the description of none other
    assert ids(body)[0] == "disoccupazione-piemonte"
    scores = [d["score"] for d in body["data"]]
    assert scores == sorted(scores, reverse=True)


def test_facets_count_the_matches(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/datasets", headers=bearer(tokens["researcher"])).json()
    assert body["count"] == 4
    assert body["facets"] == {
        "theme": {"SOCI": 3, "ECON": 1},
        "publisher": {"Città metropolitana di Torino": 1, "Cooperative sociali di tipo B": 1,
                      "Eurostat": 1, "ISTAT": 1},
        "access": {"open": 3, "private": 1},
        "format": {"CSV": 2, "PARQUET": 2, "DP-API": 1},
        "geography": {"ITC11": 3, "ITC1": 1},
        "year": {"2024": 3, "2023": 3, "2022": 1},
    }
    filtered = client.get("/api/v1/datasets", params=[("theme", "SOCI"), ("geography", "ITC11")],
                          headers=bearer(tokens["researcher"])).json()
    assert sorted(ids(filtered)) == ["inserimento-lavorativo", "occupazione-torino"]
    assert filtered["facets"]["access"] == {"open": 1, "private": 1}
    by_year = client.get("/api/v1/datasets", params={"year": "2022"},
                         headers=bearer(tokens["researcher"])).json()
    assert ids(by_year) == ["disoccupazione-piemonte"]


def test_paging_and_sorting(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["analyst"])
    first = client.get("/api/v1/datasets", params={"limit": 2, "sort": "title"}, headers=headers).json()
    second = client.get("/api/v1/datasets", params={"limit": 2, "offset": 2, "sort": "title"},
                        headers=headers).json()
    assert first["count"] == second["count"] == 4
    assert (first["limit"], first["offset"], second["offset"]) == (2, 0, 2)
    assert ids(first) + ids(second) == ["occupazione-torino", "cooperative-sociali",
                                        "disoccupazione-piemonte", "inserimento-lavorativo"]
    backwards = client.get("/api/v1/datasets", params={"sort": "-title"}, headers=headers).json()
    assert ids(backwards) == list(reversed(ids(first) + ids(second)))


def test_bad_parameters_are_422(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["analyst"])
    too_many = client.get("/api/v1/datasets", params={"limit": 1000}, headers=headers)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["loc"] == ["query", "limit"]
    assert client.get("/api/v1/datasets", params={"sort": "size"}, headers=headers).status_code == 422


def test_index_follows_changes(client: TestClient, tokens, catalog, sessions) -> None:  # type: ignore[no-untyped-def]
    from datacommons import registry
    from datacommons.db import transaction
    from datacommons.registry import DatasetMeta

    headers = bearer(tokens["analyst"])
    assert client.get("/api/v1/datasets", params={"q": "povertà"}, headers=headers).json()["count"] == 0
    with transaction(sessions) as session:
        registry.upsert_dataset(session, meta=DatasetMeta(
            id="poverta", title_it="Rischio di povertà o esclusione sociale",
            title_en="At risk of poverty or social exclusion", publisher="Eurostat"))
    assert ids(client.get("/api/v1/datasets", params={"q": "poverta"}, headers=headers).json()) == [
        "poverta"]
