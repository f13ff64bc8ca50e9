"""The dataset page's chart on the demo's statistical tables (Eurostat and ISTAT samples): which slice
of a many-dimensional table it draws, and that it says so."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from catalog.charts import chart_for
from connectors.ingest import ingest
from connectors.istat_comuni import reference_path
from datacommons import registry
from datacommons.db import transaction
from datacommons.demo import ACTOR, SAMPLES, publish_staged
from datacommons.storage import ParquetStore
from tests.catalog.test_pages import sign_in

EUROSTAT = "eurostat-lfst-r-lfu3rt"
ISTAT = "istat-151-914"


@pytest.fixture
def statistics(settings, sessions) -> ParquetStore:  # type: ignore[no-untyped-def]
    """The demo's two unemployment tables, ingested from their shipped samples and published."""
    store = ParquetStore(settings.store_dir)
    store.ensure()
    steps = (
        ("istat-comuni", reference_path()),
        ("eurostat", SAMPLES / "eurostat_lfst_r_lfu3rt.csv"),
        ("istat", SAMPLES / "istat_151_914.csv"),
    )
    for connector, sample in steps:  # as the demo does (datacommons.demo), the comuni first
        with transaction(sessions, immediate=True) as session:
            result = ingest(
                session, store=store, connector_name=connector, file=sample, params={}, actor=ACTOR
            )
            publish_staged(session, store, result)
    return store


def chart_of(sessions, store: ParquetStore, dataset_id: str):  # type: ignore[no-untyped-def]
    with sessions() as session:
        chart = chart_for(registry.get_dataset(session, dataset_id), store)
    assert chart is not None, f"{dataset_id} has no chart"
    return chart


def test_the_eurostat_chart_shows_both_sexes_and_ignores_the_flag_column(sessions, statistics) -> None:  # type: ignore[no-untyped-def]
    chart = chart_of(sessions, statistics, EUROSTAT)
    # `flag` (an attribute, mostly null) slices nothing; sex and education keep their totals
    assert chart.slice == [("isced11", "TOTAL", True), ("sex", "T", True)]
    assert [s.label for s in chart.series] == ["IT", "ITC1"]
    piedmont = dict(chart.series[1].points)
    assert sorted(piedmont) == ["2019", "2020", "2021", "2022", "2023", "2024"]
    # Eurostat's published rate for Piedmont, both sexes, all levels of education, 2024
    assert piedmont["2024"] == 5.5


def test_the_istat_chart_keeps_the_total_sex_code_9(sessions, statistics) -> None:  # type: ignore[no-untyped-def]
    chart = chart_of(sessions, statistics, ISTAT)
    assert chart.slice == [("sex", "9", True)]
    turin = dict(chart.series[0].points)
    assert chart.series[0].label == "ITC11" and turin["2019"] == 8.4


def test_the_chart_caption_names_the_slice_in_the_page_language(
    client: TestClient,
    tokens,  # type: ignore[no-untyped-def]
    statistics,
) -> None:
    sign_in(client, tokens["analyst"])
    italian = client.get(f"/datasets/{EUROSTAT}", params={"lang": "it"}).text
    assert "<polyline" in italian
    assert (
        "Serie mostrata: istruzione (ISCED 2011) = <code>TOTAL</code> (totale); "
        "sesso = <code>T</code> (totale)"
    ) in italian
    assert "(asse verticale: valore; asse orizzontale: periodo)" in italian
    assert "(value / time)" not in italian
    assert "Piemonte" in italian  # the series are named, not coded
    english = client.get(f"/datasets/{EUROSTAT}", params={"lang": "en"}).text
    assert (
        "Series shown: education (ISCED 2011) = <code>TOTAL</code> (total); sex = <code>T</code> (total)"
    ) in english
    assert "Piedmont" in english
    # the y-axis ticks are numbers in the reader's language
    assert ">10,0</text>" in italian and ">10.0</text>" in english
