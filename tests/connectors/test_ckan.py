"""CKAN: package_show / package_search and a CSV or XLSX resource, offline."""

from __future__ import annotations

import httpx
import pytest

from datacommons import registry
from datacommons.db import transaction
from datacommons.errors import InvalidInput
from tests.connectors.recorded import FIXTURES, Recorded, fixture

API = "https://www.dati.gov.it/opendata/api/3/action"
SHOW = f"{API}/package_show?id=albo-regionale-cooperative-sociali"
SEARCH = f"{API}/package_search?q=cooperative+sociali&rows=1"
CSV = "https://www.dati.piemonte.it/download/albo_cooperative_sociali.csv"
XLSX = "https://www.dati.piemonte.it/download/albo_cooperative_sociali.xlsx"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def portal() -> Recorded:
    return Recorded(
        {
            SHOW: fixture("ckan/package_show.json", content_type="application/json"),
            SEARCH: fixture("ckan/package_search.json", content_type="application/json"),
            CSV: fixture("ckan/albo_cooperative_sociali.csv"),
            XLSX: fixture("ckan/albo_cooperative_sociali.xlsx", content_type=XLSX_TYPE),
        }
    )


EXPECTED_COLUMNS = [
    "denominazione",
    "comune",
    "codice_istat_comune",
    "sezione_albo",
    "numero_addetti",
    "anno_iscrizione",
]


def test_package_show_and_the_first_csv_resource(run, store, session_factory) -> None:  # type: ignore[no-untyped-def]
    ckan = portal()
    result = run("ckan", params={"package": "albo-regionale-cooperative-sociali"}, http=ckan.client())
    assert ckan.urls == [SHOW, CSV]
    assert [(s.dataset_id, s.rows) for s in result.staged] == [("ckan-albo-regionale-cooperative-sociali", 8)]
    with transaction(session_factory) as session:
        dataset = registry.get_dataset(session, "ckan-albo-regionale-cooperative-sociali")
        version = registry.get_version(session, dataset.id)
        table = store.read_table(version.content_hash)
        described = (dataset.title_it, dataset.publisher, dataset.licence, dataset.keywords)
        prov = version.provenance
    assert described == (
        "Albo regionale delle cooperative sociali",
        "Regione Piemonte",
        "https://creativecommons.org/licenses/by/4.0/",
        ["cooperative sociali", "terzo settore"],
    )
    assert table.column_names == EXPECTED_COLUMNS
    assert str(table.schema.field("numero_addetti").type) == "int64"
    assert table["codice_istat_comune"].to_pylist()[0] == "001272"  # codes keep their zeros
    assert (prov["source_url"], prov["upstream_last_update"], prov["package"]) == (
        CSV,
        "2026-03-02T10:14:31.512743",
        "albo-regionale-cooperative-sociali",
    )


def test_package_search_and_a_named_xlsx_resource(run, store, session_factory) -> None:  # type: ignore[no-untyped-def]
    ckan = portal()
    result = run(
        "ckan",
        params={
            "query": "cooperative sociali",
            "dataset": "albo-coop-xlsx",
            "resource": "Albo regionale cooperative sociali - XLSX",
        },
        http=ckan.client(),
    )
    assert ckan.urls == [SEARCH, XLSX]
    with transaction(session_factory) as session:
        table = store.read_table(registry.get_version(session, "albo-coop-xlsx").content_hash)
    assert result.staged[0].rows == 8
    assert table.column_names == EXPECTED_COLUMNS
    assert table.slice(0, 1).to_pylist() == [
        {
            "denominazione": "Cooperativa Sociale Il Ponte",
            "comune": "Torino",
            "codice_istat_comune": "001272",
            "sezione_albo": "B",
            "numero_addetti": 48,
            "anno_iscrizione": 1994,
        }
    ]


def test_an_unmodified_resource_is_not_downloaded_again(run, versions) -> None:  # type: ignore[no-untyped-def]
    params = {"package": "albo-regionale-cooperative-sociali"}
    run("ckan", params=params, http=portal().client())
    ckan = portal()
    result = run("ckan", params=params, http=ckan.client())
    assert ckan.urls == [SHOW]
    assert [u.dataset_id for u in result.unchanged] == ["ckan-albo-regionale-cooperative-sociali"]
    assert versions() == {"ckan-albo-regionale-cooperative-sociali": [1]}


def test_an_unknown_package_is_refused(run, versions) -> None:  # type: ignore[no-untyped-def]
    url = f"{API}/package_show?id=nope"
    body = (FIXTURES / "ckan/package_show_not_found.json").read_bytes()
    ckan = Recorded({url: httpx.Response(404, content=body)})
    with pytest.raises(InvalidInput, match="ckan package_show: GET .* answered 404"):
        run("ckan", params={"package": "nope"}, http=ckan.client())
    assert ckan.urls == [url] and versions() == {}


def test_a_truncated_xlsx_resource_is_refused(run, versions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = (FIXTURES / "ckan/albo_cooperative_sociali.xlsx").read_bytes()
    path = tmp_path / "albo.xlsx"
    path.write_bytes(data[: len(data) - 300])
    with pytest.raises(
        InvalidInput,
        match=r"^albo.xlsx: not a valid XLSX file \(truncated or "
        "corrupt",
    ):
        run("ckan", file=path, params={"dataset": "albo"})
    assert versions() == {}


def test_a_latin1_csv_with_its_encoding_declared(run, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "albo.csv"
    text = (FIXTURES / "ckan/albo_cooperative_sociali.csv").read_text().replace("Ponte", "Ponte è")
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(InvalidInput, match=r"^albo.csv: row 2 is not utf-8 \(byte 0xe8"):
        run("ckan", file=path, params={"dataset": "albo"})
    result = run("ckan", file=path, params={"dataset": "albo", "encoding": "latin-1"})
    table = store.read_table(result.staged[0].content_hash)
    assert table["denominazione"][0].as_py() == "Cooperativa Sociale Il Ponte è"
