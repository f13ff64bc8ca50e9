"""ISTAT: unemployment, employment and NEET rates for Turin and Piedmont, offline."""

from __future__ import annotations

from datacommons import registry
from datacommons.db import transaction
from tests.connectors.recorded import Recorded, fixture

BASE = "http://sdmx.istat.it/SDMXWS/rest/data"
URLS = {
    "151_914": f"{BASE}/151_914/A.ITC1+ITC11......",
    "150_915": f"{BASE}/150_915/A.ITC1+ITC11.....",
    "172_931": f"{BASE}/172_931/A.ITC1+ITC11....",
}
ACCEPT = "application/vnd.sdmx.data+csv;version=1.0.0"


def source() -> Recorded:
    return Recorded({url: fixture(f"istat/{flow}.csv", content_type=ACCEPT) for flow, url in URLS.items()})


def test_three_flows_for_turin_and_piedmont(run, store, session_factory) -> None:  # type: ignore[no-untyped-def]
    istat = source()
    result = run("istat", http=istat.client())
    assert istat.urls == list(URLS.values())
    assert {r.headers["Accept"] for r in istat.requests} == {ACCEPT}
    assert [(s.dataset_id, s.rows, s.created) for s in result.staged] == [
        ("istat-151-914", 36, True),
        ("istat-150-915", 36, True),
        ("istat-172-931", 36, True),
    ]
    with transaction(session_factory) as session:
        version = registry.get_version(session, "istat-151-914")
        dataset = registry.get_dataset(session, "istat-151-914")
        table = store.read_table(version.content_hash)
    assert table.column_names == [
        "freq",
        "ref_area",
        "data_type",
        "sex",
        "age",
        "edu_lev_highest",
        "citizenship",
        "duration_unemployment",
        "time",
        "value",
        "flag",
    ]
    turin_total = [
        (r["time"], r["value"]) for r in table.to_pylist() if r["ref_area"] == "ITC11" and r["sex"] == "9"
    ]
    assert turin_total == [
        ("2019", 8.4),
        ("2020", 8.3),
        ("2021", 8.4),
        ("2022", 7.0),
        ("2023", 6.9),
        ("2024", 6.0),
    ]
    assert dataset.publisher == "ISTAT" and dataset.geography == "ITC11"
    ref_area = next(c for c in dataset.schema_spec["columns"] if c["name"] == "ref_area")
    assert ref_area["codes"] == ["ITC1", "ITC11"]
    assert version.provenance["attribution"] == "Fonte: ISTAT"
    assert version.provenance["source_url"] == URLS["151_914"]


def test_observation_status_becomes_the_flag(run, store, session_factory) -> None:  # type: ignore[no-untyped-def]
    istat = Recorded({URLS["172_931"]: fixture("istat/172_931.csv")})
    run("istat", params={"flows": ["172_931"]}, http=istat.client())
    with transaction(session_factory) as session:
        table = store.read_table(registry.get_version(session, "istat-172-931").content_hash)
    flagged = [
        (r["ref_area"], r["sex"], r["time"], r["value"]) for r in table.to_pylist() if r["flag"] is not None
    ]
    assert flagged == [("ITC11", "1", "2023", 12.6)]


def test_the_same_answer_twice_stages_nothing_new(run, versions) -> None:  # type: ignore[no-untyped-def]
    run("istat", params={"flows": "151_914"}, http=source().client())
    again = run("istat", params={"flows": "151_914"}, http=source().client())
    assert [(s.version, s.created) for s in again.staged] == [(1, False)]
    assert versions() == {"istat-151-914": [1]}


def test_an_explicit_key_and_areas_filter_the_rows(run, store) -> None:  # type: ignore[no-untyped-def]
    url = f"{BASE}/151_914/A.ITC11.UNEM_R.9.Y15-74"
    istat = Recorded({url: fixture("istat/151_914.csv")})
    result = run(
        "istat",
        params={"flows": "151_914", "areas": "ITC11", "key": "A.ITC11.UNEM_R.9.Y15-74"},
        http=istat.client(),
    )
    assert istat.urls == [url]
    table = store.read_table(result.staged[0].content_hash)
    assert set(table["ref_area"].to_pylist()) == {"ITC11"} and table.num_rows == 18
