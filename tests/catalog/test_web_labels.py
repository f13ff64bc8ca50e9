"""What the pages say, in Italian and in English: labels instead of codes, numbers and times as the
reader writes them, provenance as named fields, descriptions cut at a word."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from datacommons import registry
from datacommons.db import transaction
from datacommons.specs import DatasetMeta
from tests.catalog.test_pages import sign_in
from web.i18n import format_datetime, format_number

LONG = (
    "Tutti i comuni italiani con codici ISTAT, codice catastale e codici NUTS, come li pubblica "
    "l'Istituto nazionale di statistica nel suo elenco ufficiale aggiornato, con le "
    "denominazioni in italiano e nelle altre lingue, la provincia, la regione e la zona "
    "altimetrica di ciascuno, per collegare ogni dataset del commons alla sua geografia"
)
PROVENANCE = {
    "connector": "istat-comuni",
    "connector_version": "1",
    "source_url": "file:///work/main/connectors/reference/Elenco-comuni-italiani.csv",
    "source_page": "https://www.istat.it/classificazione/codici-dei-comuni/",
    "retrieved_at": "2026-05-04T09:05:00+00:00",
    "upstream_last_update": None,
    "sha256": "5c3680efc27207d6bbd17915e790b2fd5e666676b888d85f8e2ac71100fe7889",
    "params": {"schema": {"columns": [{"name": "codice_comune", "role": "key"}]}},
    "attribution": "Fonte: ISTAT",
    "dropped_columns": [],
}


@pytest.fixture
def comuni(settings, sessions, catalog):  # type: ignore[no-untyped-def]
    """The catalog plus a 7,901-row list of comuni with a connector's full provenance."""
    meta = DatasetMeta(
        id="comuni-italia",
        title_it="Comuni italiani",
        title_en="Italian comuni",
        publisher="ISTAT",
        theme="REGI",
        geography="IT",
        frequency="ANNUAL",
        description_it=LONG,
        description_en="All Italian comuni.",
    )
    with transaction(sessions) as session:
        dataset = registry.upsert_dataset(session, meta=meta)
        version, _ = registry.stage_table(
            session,
            store=catalog,
            dataset=dataset,
            provenance=PROVENANCE,
            actor="test",
            table=pa.table({"codice_comune": [f"{i:06d}" for i in range(7901)]}),
        )
        registry.transition(session, version=version, to="validated", actor="test")
        registry.publish(session, dataset_id=meta.id, number=version.number, actor="test")
    return catalog


def test_numbers_and_times_are_written_as_the_reader_writes_them() -> None:
    assert format_number(7901, "it") == "7.901" and format_number(7901, "en") == "7,901"
    assert format_number(2.5, "it", 2) == "2,50" and format_number(None, "it") == ""
    assert format_datetime("2026-05-04T09:05:00+00:00", "it") == (
        '<time datetime="2026-05-04T09:05:00+00:00">04/05/2026 09:05 UTC</time>'
    )
    assert format_datetime("2026-05-04T11:05:00+02:00", "en") == (
        '<time datetime="2026-05-04T09:05:00+00:00">4 May 2026 09:05 UTC</time>'
    )
    # a source's own clock without a zone is not called UTC
    assert format_datetime("2026-05-22T11:00:00", "it", naive_is_utc=False) == (
        '<time datetime="2026-05-22T11:00:00">22/05/2026 11:00</time>'
    )


def test_the_dataset_page_names_codes_and_formats_numbers(client: TestClient, tokens, comuni) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    italian = client.get("/datasets/comuni-italia", params={"lang": "it"}).text
    assert "<dt>Righe</dt><dd>7.901</dd>" in italian
    assert '<span title="REGI">Regioni e città</span> <small class="code">REGI</small>' in italian
    assert '<span title="IT">Italia</span>' in italian
    assert '<span title="ANNUAL">Annuale</span>' in italian
    assert '<span class="badge published" title="published">pubblicata</span></td><td>7.901<' in italian
    assert "UTC</time>" in italian
    assert "Fonte dei comuni: ISTAT" in italian
    english = client.get("/datasets/comuni-italia", params={"lang": "en"}).text
    assert "<dt>Rows</dt><dd>7,901</dd>" in english and "Regions and cities" in english
    assert "Source of the municipalities: ISTAT" in english and "Fonte comuni" not in english
    assert ">published</span>" in english


def test_provenance_is_named_fields_never_a_repr(client: TestClient, tokens, comuni) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    page = client.get("/datasets/comuni-italia", params={"lang": "en"}).text
    provenance = page.split('<dl class="meta" id="provenance">', 1)[1].split("</dl>", 1)[0]
    labels = re.findall(r"<dt>(.*?)</dt>", provenance)
    assert labels == [
        "Source",
        "Source page",
        "Attribution",
        "Retrieved at",
        "Connector",
        "SHA-256 checksum of the source",
    ]  # empty values (None, []) left out
    assert "<code>file:///work/main/connectors/reference/Elenco-comuni-italiani.csv</code>" in provenance
    assert '<a href="https://www.istat.it/classificazione/codici-dei-comuni/">' in provenance
    assert "4 May 2026 09:05 UTC" in provenance and "istat-comuni (v1)" in provenance
    assert "None" not in provenance and "{" not in provenance
    # the rest (the connector's parameters) is folded away, as JSON
    more = page.split('<details class="more"><summary>More technical details</summary><pre>', 1)[1]
    assert more.startswith("{\n  &#34;params&#34;: {")
    assert "{&#39;" not in page  # never a Python repr


def test_facets_and_results_show_labels_with_the_code_as_tooltip(client: TestClient, tokens, comuni) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    page = client.get("/", params={"lang": "it"}).text
    assert re.search(r'title="SOCI" >Popolazione e società</a>', page)
    assert re.search(r'title="ITC11" >Città metropolitana di Torino</a>', page)
    assert re.search(r'title="DP-API" >Domande con privacy differenziale</a>', page)
    assert re.search(r'title="open" >aperto</a>', page)
    assert '<nav aria-label="Pagine dei risultati">' in page and 'aria-label="pages"' not in page
    assert "es. disoccupazione, cooperative" in page and "NEET" not in page
    english = client.get("/", params={"lang": "en"}).text
    assert re.search(r'title="SOCI" >Population and society</a>', english)
    assert '<nav aria-label="Result pages">' in english


def test_descriptions_are_cut_at_a_word_with_an_ellipsis(client: TestClient, tokens, comuni) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    page = client.get("/", params={"lang": "it", "q": "comuni"}).text
    shown = re.search(r"<p>(Tutti i comuni[^<]*)</p>", page)
    assert shown is not None
    text = shown.group(1).replace("&#39;", "'")
    assert text.endswith("…") and len(text) <= 240
    assert LONG.startswith(text[:-1]) and LONG[len(text) - 1] == " "  # cut before a space


def test_the_placeholder_suggests_words_that_find_something(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    for lang in ("it", "en"):
        page = client.get("/", params={"lang": lang}).text
        placeholder = re.search(r'placeholder="[^"]*?(?:es\.|e\.g\.) ([^"]*)"', page)
        assert placeholder is not None
        for word in placeholder.group(1).split(", "):
            found = client.get("/api/v1/datasets", params={"q": word}).json()["count"]
            assert found >= 1, f"the placeholder suggests {word!r}, which finds nothing"


def test_only_those_who_may_query_are_offered_to_ask(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["donor"])
    page = client.get("/datasets/inserimento-lavorativo", params={"lang": "en"}).text
    assert "/query/inserimento-lavorativo" not in page and "Ask a question" not in page
    assert "Questions on private data are for analysts and researchers." in page
    for role in ("analyst", "researcher", "admin"):
        sign_in(client, tokens[role])
        page = client.get("/datasets/inserimento-lavorativo", params={"lang": "en"}).text
        assert 'href="/query/inserimento-lavorativo?lang=en">Ask a question</a>' in page


def test_private_counts_withheld_render_as_nothing(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    page = client.get("/datasets/inserimento-lavorativo", params={"lang": "en"})
    assert page.status_code == 200 and "None" not in page.text
