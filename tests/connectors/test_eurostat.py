"""Eurostat: the four regional flows, offline from recorded SDMX-CSV answers."""

from __future__ import annotations

import hashlib

import httpx
import pyarrow.compute as pc

from datacommons import registry
from datacommons.db import transaction
from tests.connectors.recorded import FIXTURES, Recorded, fixture

BASE = "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1"
DATA_URLS = {
    "lfst_r_lfu3rt": f"{BASE}/data/LFST_R_LFU3RT/.....IT+ITC1?format=SDMX-CSV",
    "lfst_r_lfe2emprt": f"{BASE}/data/LFST_R_LFE2EMPRT/....IT+ITC1?format=SDMX-CSV",
    "ilc_peps11n": f"{BASE}/data/ILC_PEPS11N/..IT+ITC1?format=SDMX-CSV",
    "edat_lfse_22": f"{BASE}/data/EDAT_LFSE_22/......IT+ITC1?format=SDMX-CSV",
}
FLOW_URL = f"{BASE}/dataflow/ESTAT/LFST_R_LFU3RT"


def source() -> Recorded:
    routes = {url: fixture(f"eurostat/{flow}.csv") for flow, url in DATA_URLS.items()}
    routes[FLOW_URL] = fixture("eurostat/dataflow_lfst_r_lfu3rt.xml", content_type="application/xml")
    return Recorded(routes)


def test_the_four_flows_are_ingested_as_tidy_tables(run, store, session_factory) -> None:  # type: ignore[no-untyped-def]
    eurostat = source()
    result = run("eurostat", http=eurostat.client())
    assert eurostat.urls == list(DATA_URLS.values())
    assert [(s.dataset_id, s.version, s.created, s.rows) for s in result.staged] == [
        ("eurostat-lfst-r-lfu3rt", 1, True, 42),
        ("eurostat-lfst-r-lfe2emprt", 1, True, 36),
        ("eurostat-ilc-peps11n", 1, True, 24),
        ("eurostat-edat-lfse-22", 1, True, 36),
    ]
    with transaction(session_factory) as session:
        version = registry.get_version(session, "eurostat-lfst-r-lfu3rt")
        dataset = registry.get_dataset(session, "eurostat-lfst-r-lfu3rt")
        table = store.read_table(version.content_hash)
        assert version.status == "staged"
        prov = version.provenance
        assert dataset.schema_spec["keys"] == ["freq", "isced11", "sex", "age", "unit", "geo", "time"]
    assert table.column_names == ["freq", "isced11", "sex", "age", "unit", "geo", "time", "value", "flag"]
    assert set(table["geo"].to_pylist()) == {"IT", "ITC1"}
    # ':' is a missing value, its flag kept; a break flag is kept with its value
    ed = table.filter(pc.equal(table["isced11"], "ED0-2")).to_pylist()
    assert [(r["time"], r["value"], r["flag"]) for r in ed] == [
        ("2019", 12.9, None),
        ("2020", 13.1, None),
        ("2021", 12.4, "b"),
        ("2022", None, "u"),
        ("2023", 11.0, None),
        ("2024", 9.8, None),
    ]
    assert {
        k: prov[k]
        for k in ("connector", "connector_version", "source_url", "upstream_last_update", "dataflow")
    } == {
        "connector": "eurostat",
        "connector_version": "1",
        "source_url": DATA_URLS["lfst_r_lfu3rt"],
        "upstream_last_update": "2026-05-22T11:00:00",
        "dataflow": "ESTAT:LFST_R_LFU3RT(1.0)",
    }
    assert (
        prov["sha256"] == hashlib.sha256((FIXTURES / "eurostat/lfst_r_lfu3rt.csv").read_bytes()).hexdigest()
    )
    assert prov["retrieved_at"].endswith("+00:00")


def test_unchanged_last_update_skips_the_download(run, versions) -> None:  # type: ignore[no-untyped-def]
    run("eurostat", params={"flows": "lfst_r_lfu3rt"}, http=source().client())
    again = source()
    result = run("eurostat", params={"flows": "lfst_r_lfu3rt"}, http=again.client())
    assert again.urls == [FLOW_URL]  # only the flow's metadata, not the data
    assert result.staged == []
    assert [(u.dataset_id, u.reason) for u in result.unchanged] == [
        ("eurostat-lfst-r-lfu3rt", "Eurostat last update 2026-05-22T11:00:00 unchanged; not downloaded")
    ]
    assert versions() == {"eurostat-lfst-r-lfu3rt": [1]}


def test_a_newer_last_update_with_the_same_content_adds_no_version(run, versions) -> None:  # type: ignore[no-untyped-def]
    run("eurostat", params={"flows": "lfst_r_lfu3rt"}, http=source().client())
    newer = source()
    xml = (FIXTURES / "eurostat/dataflow_lfst_r_lfu3rt.xml").read_text()
    newer.routes[FLOW_URL] = httpx.Response(
        200, text=xml.replace("2026-05-22T11:00:00+0200", "2026-06-01T11:00:00+0200")
    )
    result = run("eurostat", params={"flows": "lfst_r_lfu3rt"}, http=newer.client())
    assert newer.urls == [FLOW_URL, DATA_URLS["lfst_r_lfu3rt"]]
    assert [(s.version, s.created) for s in result.staged] == [(1, False)]
    assert versions() == {"eurostat-lfst-r-lfu3rt": [1]}


def test_start_period_and_areas_shape_the_request(run) -> None:  # type: ignore[no-untyped-def]
    url = f"{BASE}/data/ILC_PEPS11N/..ITC1?format=SDMX-CSV&startPeriod=2021"
    eurostat = Recorded({url: fixture("eurostat/ilc_peps11n.csv")})
    run(
        "eurostat",
        params={"flows": "ilc_peps11n", "geo": "ITC1", "start_period": "2021"},
        http=eurostat.client(),
    )
    assert eurostat.urls == [url]


def test_a_local_sdmx_csv_file_is_ingested(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run("eurostat", file=FIXTURES / "eurostat/edat_lfse_22.csv")
    assert [(s.dataset_id, s.rows) for s in result.staged] == [("eurostat-edat-lfse-22", 36)]
