"""Reading ISTAT's list of comuni: the real file, renamed headers, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.istat_comuni import read_comuni, reference_path, turin_subset
from datacommons.errors import InvalidInput


def test_the_real_list_has_7901_comuni_and_312_in_turin() -> None:
    table = read_comuni(reference_path())
    assert table.num_rows == 7901
    turin = turin_subset(table)
    assert turin.num_rows == 312
    assert turin["codice_comune"].to_pylist()[0] == "001001"
    assert set(turin["sigla_provincia"].to_pylist()) == {"TO"}


def test_columns_are_matched_by_header_text(tmp_path: Path) -> None:
    text = reference_path().read_bytes().decode("latin-1")
    header, rest = text.split("\n", 1)[0], text
    # ISTAT renames columns between releases: shuffle footnotes and add a newer NUTS year
    renamed = rest.replace("Codice NUTS3 2021", "Codice NUTS3 2024 (4)", 1)
    path = tmp_path / "renamed.csv"
    path.write_bytes(renamed.encode("latin-1"))
    table = read_comuni(path)
    assert table.num_rows == 7901 and "nuts3" in table.column_names
    assert header  # the original header was read


def test_utf8_copy_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "utf8.csv"
    path.write_bytes(reference_path().read_bytes().decode("latin-1").encode("utf-8"))
    assert read_comuni(path).equals(read_comuni(reference_path()))


def test_missing_column_is_named(tmp_path: Path) -> None:
    text = reference_path().read_bytes().decode("latin-1")
    path = tmp_path / "nocode.csv"
    path.write_bytes(text.replace("Codice Comune formato alfanumerico", "Codice", 1).encode("latin-1"))
    with pytest.raises(InvalidInput, match="no column for codice_comune"):
        read_comuni(path)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty.csv: the file is empty"):
        read_comuni(path)


# --- the istat-comuni connector, run as a user would -------------------------------------------

REAL_LIST = Path("/work/shared/data/istat/Elenco-comuni-italiani.csv")


def _real_list() -> Path:
    """ISTAT's real file: the shared copy when present, else the identical bundled one."""
    return REAL_LIST if REAL_LIST.is_file() else reference_path()


def test_ingest_stages_italy_and_the_turin_reference_once(settings) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.support.cli import run_cli

    first = run_cli(settings, "ingest", "istat-comuni", "--file", str(_real_list()))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "staged comuni-italia version 1 (7901 rows): validated",
        "staged comuni-torino version 1 (312 rows): validated",
    ]
    second = run_cli(settings, "ingest", "istat-comuni", "--file", str(_real_list()))
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [
        "unchanged comuni-italia: version 1 (validated) already holds this content",
        "unchanged comuni-torino: version 1 (validated) already holds this content",
    ]
    listing = json.loads(run_cli(settings, "datasets", "list", "--json").stdout)
    assert sorted(d["id"] for d in listing["data"]) == ["comuni-italia", "comuni-torino"]


def test_a_truncated_list_exits_2_and_stages_nothing(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.support.cli import run_cli

    data = _real_list().read_bytes()
    cut = tmp_path / "Elenco-comuni-italiani.csv"
    cut.write_bytes(data[: len(data) // 2])
    result = run_cli(settings, "ingest", "istat-comuni", "--file", str(cut))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("datacommons: error: Elenco-comuni-italiani.csv: ")
    assert "truncated" in result.stderr
    listing = json.loads(run_cli(settings, "datasets", "list", "--json").stdout)
    assert listing == {"data": [], "count": 0}
