"""SDMX-CSV input that is not what it should be: each is refused with one line, nothing staged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datacommons.errors import InvalidInput
from tests.connectors.recorded import FIXTURES, Recorded
from tests.support.cli import run_cli

GOOD = (FIXTURES / "eurostat/lfst_r_lfu3rt.csv").read_text()
LINES = GOOD.splitlines()

BAD = {
    "truncated": (
        GOOD[: GOOD.index("\n", 900) + 30],
        "lfst_r_lfu3rt.csv: row 13 has 2 fields instead of 12 (a truncated or malformed file?)",
    ),
    "not-a-number": (
        "\n".join([*LINES[:4], LINES[4].replace(",9.4,", ",n.d.,"), *LINES[5:]]),
        "lfst_r_lfu3rt.csv: row 5, column OBS_VALUE: 'n.d.' is not a number",
    ),
    "renamed-column": (
        GOOD.replace("TIME_PERIOD", "PERIOD", 1),
        "lfst_r_lfu3rt.csv: no column TIME_PERIOD (not SDMX-CSV 1.0? header: "
        "DATAFLOW,LAST UPDATE,freq,isced11,sex,age,unit,geo)",
    ),
    "missing-dimension-value": (
        "\n".join([*LINES[:3], LINES[3].replace(",F,", ",,", 1), *LINES[4:]]),
        "lfst_r_lfu3rt.csv: row 4 has no value in column sex",
    ),
    "header-only": (LINES[0] + "\n", "lfst_r_lfu3rt.csv: the file has a header but no observations"),
    "empty": ("", "lfst_r_lfu3rt.csv: the file is empty"),
    "html": (
        "<!DOCTYPE html><html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
        "lfst_r_lfu3rt.csv: got an HTML page instead of data",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_sdmx_csv_is_refused(case, run, versions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text, expected = BAD[case]
    path = tmp_path / "lfst_r_lfu3rt.csv"
    path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        run("eurostat", file=path)
    assert caught.value.message.startswith(expected), caught.value.message
    assert versions() == {}


def test_wrong_encoding_names_the_row(run, versions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "151_914.csv"
    text = (
        (FIXTURES / "istat/151_914.csv")
        .read_text()
        .replace("TOTAL,TOTAL,2021,8.4", "TOTALE ù,TOTAL,2021,8.4", 1)
    )
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(InvalidInput, match=r"^151_914.csv: row 4 is not UTF-8 \(byte 0xf9"):
        run("istat", file=path)
    assert versions() == {}


def test_a_flag_glued_to_the_value_is_split(run, store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "lfst_r_lfu3rt.csv"
    path.write_text("\n".join([*LINES[:2], LINES[2].replace(",10.3,", ",10.3 p,"), *LINES[3:]]))
    result = run("eurostat", file=path)
    table = store.read_table(result.staged[0].content_hash)
    row = table.slice(1, 1).to_pylist()[0]
    assert (row["time"], row["value"], row["flag"]) == ("2020", 10.3, "p")


def test_an_html_error_page_from_the_source_exits_the_run(run, versions) -> None:  # type: ignore[no-untyped-def]
    import httpx

    url = (
        "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data/ILC_PEPS11N/..IT+ITC1?format=SDMX-CSV"
    )
    page = httpx.Response(
        200,
        text="<html><head><title>Maintenance</title></head></html>",
        headers={"Content-Type": "text/html"},
    )
    eurostat = Recorded({url: page})
    with pytest.raises(InvalidInput, match=r"^eurostat ilc_peps11n \(https://.*\): got an HTML page"):
        run("eurostat", params={"flows": "ilc_peps11n"}, http=eurostat.client())
    assert versions() == {}


def test_cli_truncated_file_exits_2_and_adds_no_version(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = run_cli(settings, "ingest", "eurostat", "--file", str(FIXTURES / "eurostat/lfst_r_lfu3rt.csv"))
    assert good.returncode == 0 and good.stdout == (
        "staged eurostat-lfst-r-lfu3rt version 1 (42 rows): not validated yet: no dataset 'comuni-italia'\n"
    )
    path = tmp_path / "lfst_r_lfu3rt.csv"
    path.write_text(BAD["truncated"][0])
    result = run_cli(settings, "ingest", "eurostat", "--file", str(path))
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr == f"datacommons: error: {BAD['truncated'][1]}\n"
    listing = json.loads(run_cli(settings, "datasets", "list", "--json").stdout)
    assert [(d["id"], d["current_version"]) for d in listing["data"]] == [("eurostat-lfst-r-lfu3rt", None)]
    versions = run_cli(settings, "datasets", "list")
    assert "eurostat-lfst-r-lfu3rt" in versions.stdout
