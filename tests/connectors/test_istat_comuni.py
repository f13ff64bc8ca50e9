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
