"""Searching with the words people type: Italian elisions, plurals and other forms, accents."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from catalog.text import stems, words
from datacommons import registry
from datacommons.db import transaction
from datacommons.specs import DatasetMeta
from tests.conftest import bearer

COMUNI = [
    DatasetMeta(
        id="comuni-italiani",
        title_it="Comuni italiani",
        title_en="Italian municipalities",
        publisher="ISTAT",
        keywords=["comuni", "municipalities"],
    ),
    DatasetMeta(
        id="comuni-torino",
        title_it="Comuni della Città metropolitana di Torino",
        title_en="Municipalities of the Metropolitan City of Turin",
        publisher="ISTAT",
        geography="ITC11",
    ),
    DatasetMeta(
        id="anagrafe-torino",
        title_it="Anagrafe del comune di Torino",
        title_en="Population register of the city of Turin",
        publisher="ISTAT",
        geography="ITC11",
    ),
    DatasetMeta(
        id="disoccupazione-giovani",
        title_it="Ultimi tassi di disoccupazione giovanile",
        title_en="Latest youth unemployment rates",
        publisher="Eurostat",
        geography="ITC1",
    ),
]


@pytest.fixture
def comuni(catalog, sessions):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        for meta in COMUNI:
            registry.upsert_dataset(session, meta=meta)
    return catalog


@pytest.fixture
def find(client: TestClient, tokens):  # type: ignore[no-untyped-def]
    def find(q: str) -> list[str]:
        body = client.get("/api/v1/datasets", params={"q": q}, headers=bearer(tokens["analyst"])).json()
        return [d["id"] for d in body["data"]]

    return find


def test_elided_articles_and_prepositions_are_dropped(find, catalog) -> None:  # type: ignore[no-untyped-def]
    # keyword "economia sociale"; the straight and the typographic apostrophe
    assert find("dell'economia") == ["cooperative-sociali"]
    assert find("nell’economia sociale") == ["cooperative-sociali"]
    assert find("l'inclusione") == ["inserimento-lavorativo"]
    assert find("d'occupazione") == ["occupazione-torino"]
    assert find("un'impresa sociale") == ["cooperative-sociali"]  # imprese, by its stem
    assert find("all'inserimento, sull'inclusione") == ["inserimento-lavorativo"]
    assert find("quell'impresa, quest'economia") == ["cooperative-sociali"]


def test_other_forms_of_a_word_find_it(find, comuni) -> None:  # type: ignore[no-untyped-def]
    assert (
        set(find("comuni")) == set(find("comune")) == {"comuni-italiani", "comuni-torino", "anagrafe-torino"}
    )
    assert set(find("municipality")) == {"comuni-italiani", "comuni-torino"}  # plural in the data
    # "Cooperative sociali" in a title and in a publisher's name
    assert find("cooperativa") == ["cooperative-sociali", "inserimento-lavorativo"]
    assert find("cooperative sociale") == ["cooperative-sociali", "inserimento-lavorativo"]
    assert (
        set(find("rate"))
        == set(find("rates"))
        == {"disoccupazione-piemonte", "occupazione-torino", "disoccupazione-giovani"}
    )
    # stems ignore accents as words do
    assert find("comùne") == find("comune")
    assert find("città metropolitane") == find("citta metropolitana") != []


def test_the_word_itself_ranks_above_its_other_forms(find, comuni) -> None:  # type: ignore[no-untyped-def]
    # "comune" in one title, "comuni" in the others (ties follow the Italian titles)
    assert find("comune") == ["anagrafe-torino", "comuni-torino", "comuni-italiani"]
    assert find("comuni") == ["comuni-torino", "comuni-italiani", "anagrafe-torino"]
    # "rate" and "rates" share both their Italian and their English stem
    assert find("rates") == ["disoccupazione-giovani", "disoccupazione-piemonte", "occupazione-torino"]
    assert find("rate") == ["disoccupazione-piemonte", "occupazione-torino", "disoccupazione-giovani"]


def test_words_and_stems() -> None:
    assert words("Dell'economia nell’area: l'occupazione, un'impresa d'Aosta") == [
        "economia",
        "area",
        "occupazione",
        "impresa",
        "aosta",
    ]
    assert words("L’Aquila all'ingrosso") == ["aquila", "ingrosso"]
    assert words("don't stop") == ["don", "stop"]  # English apostrophes are left alone
    assert stems("comuni") == stems("comune")[:1] + ("comuni",)
    assert stems(words("Città")[0]) == stems("citta")
