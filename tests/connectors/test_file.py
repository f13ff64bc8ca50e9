"""Donated files: a declared schema, a private dataset with its access policy, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from connectors import synthetic
from connectors.istat_comuni import turin_codes
from datacommons import registry, specs
from datacommons.db import transaction
from datacommons.errors import InvalidInput

SCHEMA = {"schema": "inserimento-lavorativo"}


@pytest.fixture(scope="module")
def donation() -> pa.Table:
    return synthetic.generate(n_donors=400, seed=7)


def write_csv(table: pa.Table, path: Path) -> Path:
    pacsv.write_csv(table, path)
    return path


def test_a_donation_becomes_a_private_dataset_with_its_policy(
    run,
    store,
    session_factory,  # type: ignore[no-untyped-def]
    donation,
    tmp_path,
) -> None:
    path = write_csv(donation, tmp_path / "coop-il-ponte-2025.csv")
    result = run("file", file=path, params=SCHEMA)
    assert [(s.dataset_id, s.rows, s.created) for s in result.staged] == [
        ("inserimento-lavorativo", donation.num_rows, True)
    ]
    with transaction(session_factory) as session:
        dataset = registry.get_dataset(session, "inserimento-lavorativo")
        policy = dataset.policy
        version = registry.get_version(session, dataset.id)
        stored = store.read_table(version.content_hash)
        spec = specs.SchemaSpec.model_validate(dataset.schema_spec)
        assert dataset.access == "private"
        assert (policy.privacy_unit, policy.max_rows_per_unit) == ("donor_id", 3)
        dims = dict(policy.public_dimensions)
        assert version.provenance["source_url"] == "donation:coop-il-ponte-2025.csv"
    assert dims["comune"] == turin_codes() and len(dims["comune"]) == 312
    assert dims["sex"] == ["F", "M"] and dims["year"] == [str(y) for y in range(2019, 2026)]
    assert set(dims) == {"comune", "age_band", "sex", "disadvantage", "pathway", "year"}
    assert stored.equals(donation)  # the types were restored from the CSV text
    assert spec.column("donor_id").role == "privacy_unit"
    assert spec.column("comune").code_list == "comuni-torino:codice_comune"


def test_xlsx_and_parquet_donations_read_the_same(run, donation, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    small = donation.slice(0, 30)
    book = Workbook()
    sheet = book.active
    sheet.append(small.column_names)
    for row in small.to_pylist():
        sheet.append(list(row.values()))
    book.save(tmp_path / "d.xlsx")
    pq.write_table(small, tmp_path / "d.parquet")
    first = run("file", file=tmp_path / "d.xlsx", params=SCHEMA).staged[0]
    second = run("file", file=tmp_path / "d.parquet", params=SCHEMA).staged[0]
    assert (first.version, first.created) == (1, True)
    assert (second.version, second.created) == (1, False)  # same content, same version


def test_undeclared_columns_are_dropped_and_recorded(
    run,
    store,
    session_factory,
    donation,  # type: ignore[no-untyped-def]
    tmp_path,
) -> None:
    table = donation.slice(0, 10).append_column("nome", pa.array(["Mario Rossi"] * 10))
    run("file", file=write_csv(table, tmp_path / "d.csv"), params=SCHEMA)
    with transaction(session_factory) as session:
        version = registry.get_version(session, "inserimento-lavorativo")
        stored = store.read_table(version.content_hash)
        assert version.provenance["dropped_columns"] == ["nome"]
    assert "nome" not in stored.column_names


def test_a_json_declaration_for_another_donation(run, session_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    decl = {
        "dataset": "borse-lavoro",
        "title_it": "Borse lavoro",
        "title_en": "Work grants",
        "publisher": "Servizi per il lavoro (demo)",
        "pseudonym": "person",
        "max_rows_per_unit": 1,
        "columns": [
            {"name": "person", "type": "string"},
            {
                "name": "comune",
                "type": "string",
                "role": "dimension",
                "code_list": "comuni-torino:codice_comune",
            },
            {"name": "months", "type": "integer", "role": "measure", "min": 1, "max": 24},
        ],
    }
    path = tmp_path / "grants.csv"
    path.write_text("person,comune,months\nP1,001272,6\nP2,001156,12\n")
    result = run("file", file=path, params={"schema": json.dumps(decl)})
    assert [(s.dataset_id, s.rows) for s in result.staged] == [("borse-lavoro", 2)]
    with transaction(session_factory) as session:
        policy = registry.get_dataset(session, "borse-lavoro").policy
        assert list(policy.public_dimensions) == ["comune"]


def _csv_text(donation: pa.Table, tmp_path: Path) -> str:
    return write_csv(donation.slice(0, 20), tmp_path / "base.csv").read_text()


def header_and_rows(text: str) -> tuple[str, list[str]]:
    lines = text.splitlines()
    return lines[0], lines[1:]


BAD_INPUTS = {
    # name: (how to spoil the file, what the one-line reason must say)
    "wrong-encoding": (
        lambda t: t.encode().replace(b'"18-24"', b'"18\xe2\x80-24"', 1),
        "donation.csv: row 8 is not utf-8 (byte 0xe2 at offset 541)",
    ),
    "missing-column": (
        lambda t: "\n".join(
            ",".join(c for i, c in enumerate(line.split(",")) if i != 3) for line in t.splitlines()
        ).encode(),
        "donation.csv: missing column sex (columns found: donor_id, comune, ",
    ),
    "renamed-column": (
        lambda t: t.replace('"monthly_wage"', '"retribuzione_mensile"', 1).encode(),
        "donation.csv: missing column monthly_wage (columns found: donor_id",
    ),
    "wrong-type": (
        lambda t: "\n".join(
            [
                *t.splitlines()[:3],
                t.splitlines()[3].rsplit(",", 1)[0] + ',"duemilaventi"',
                *t.splitlines()[4:],
            ]
        ).encode(),
        "donation.csv: row 4, column year: 'duemilaventi' is not an integer",
    ),
    "empty-file": (lambda t: b"", "donation.csv: the file is empty"),
    "header-only": (
        lambda t: (t.splitlines()[0] + "\n").encode(),
        "donation.csv: the file has a header but no rows",
    ),
    "truncated": (
        lambda t: t.encode()[: len(t.encode()) - 40],
        "donation.csv: row 21 has 5 fields instead of 9 (a truncated or malformed file?)",
    ),
    "html-error-page": (
        lambda t: (
            b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\n"
        ),
        "donation.csv: got an HTML page instead of data",
    ),
    "comune-outside-turin": (
        lambda t: t.replace('"001', '"058', 1).encode(),
        "donation.csv: row 2, column comune: '058272' is not a comune of the Metropolitan City of Turin",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_the_problem_and_stages_nothing(
    case,
    run,
    versions,
    donation,  # type: ignore[no-untyped-def]
    tmp_path,
) -> None:
    spoil, expected = BAD_INPUTS[case]
    path = tmp_path / "donation.csv"
    path.write_bytes(spoil(_csv_text(donation, tmp_path)))
    with pytest.raises(InvalidInput) as caught:
        run("file", file=path, params=SCHEMA)
    assert caught.value.exit_code == 2
    assert expected in caught.value.message
    assert "\n" not in caught.value.message
    assert versions() == {}


def test_a_truncated_parquet_file_is_refused(run, versions, donation, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pq.write_table(donation, tmp_path / "full.parquet")
    data = (tmp_path / "full.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInput, match=r"cut.parquet: not a valid Parquet file \(truncated"):
        run("file", file=tmp_path / "cut.parquet", params=SCHEMA)
    assert versions() == {}


def test_more_rows_per_donor_than_declared_is_refused(run, versions, donation, tmp_path) -> None:  # type: ignore[no-untyped-def]
    many = pa.concat_tables([donation.slice(0, 1)] * 4)
    with pytest.raises(
        InvalidInput, match="column donor_id: 'D0000001' has 4 rows, more than the declared 3 per person"
    ):
        run("file", file=write_csv(many, tmp_path / "d.csv"), params=SCHEMA)
    assert versions() == {}


def test_a_measure_out_of_its_range_is_refused(run, donation, tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = donation.slice(0, 5)
    table = table.set_column(6, "employed_12m", pa.array([0, 1, 2, 0, 1]))
    with pytest.raises(InvalidInput, match="row 4, column employed_12m: 2 is above the declared maximum 1"):
        run("file", file=write_csv(table, tmp_path / "d.csv"), params=SCHEMA)


def test_a_declaration_is_required(run, donation, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(donation.slice(0, 5), tmp_path / "d.csv")
    with pytest.raises(InvalidInput, match="connector file: parameter schema: Field required"):
        run("file", file=path)
    with pytest.raises(InvalidInput, match="unknown schema 'nope'"):
        run("file", file=path, params={"schema": "nope"})
    with pytest.raises(InvalidInput, match="connector file needs a file"):
        run("file", params=SCHEMA)


def test_synthetic_generator_is_deterministic_and_bounded() -> None:
    first = synthetic.generate(n_rows=50_000, seed=11)
    assert first.equals(synthetic.generate(n_rows=50_000, seed=11))
    assert not first.equals(synthetic.generate(n_rows=50_000, seed=12))
    assert first.num_rows == 50_000
    per_donor = pc.value_counts(first["donor_id"]).field("counts")
    assert pc.max(per_donor).as_py() <= synthetic.MAX_ROWS_PER_DONOR
    assert set(first["comune"].to_pylist()) <= set(turin_codes())
    torino = pc.mean(pc.cast(pc.equal(first["comune"], "001272"), pa.float64())).as_py()
    employed = pc.mean(first["employed_12m"]).as_py()
    assert 0.33 < torino < 0.43 and 0.45 < employed < 0.65
    neet = first.filter(pc.equal(first["disadvantage"], "neet"))
    assert set(neet["age_band"].to_pylist()) == {"18-24", "25-34"}
    unemployed_wages = first.filter(pc.equal(first["employed_12m"], 0))["monthly_wage"]
    assert pc.max(unemployed_wages).as_py() == 0.0
    assert first["donor_id"][0].as_py() == "D0000001"


def test_a_donation_cannot_take_over_a_dataset_of_another_connector(
    run,
    versions,  # type: ignore[no-untyped-def]
    tmp_path,
) -> None:
    from datacommons.errors import Conflict

    run("plan2030")
    decl = {
        "dataset": "plan2030",
        "title_it": "x",
        "title_en": "x",
        "publisher": "x",
        "pseudonym": "p",
        "max_rows_per_unit": 1,
        "columns": [{"name": "p", "type": "string"}],
    }
    path = tmp_path / "d.csv"
    path.write_text("p\nA\n")
    with pytest.raises(Conflict, match="dataset plan2030 is loaded by connector plan2030, not file"):
        run("file", file=path, params={"schema": json.dumps(decl)})
    assert versions() == {"plan2030": [1]}


def test_a_new_version_cannot_open_a_private_dataset(
    run,
    versions,
    session_factory,  # type: ignore[no-untyped-def]
    donation,
    tmp_path,
) -> None:
    from connectors.file import inserimento_lavorativo_schema
    from datacommons.errors import Conflict

    run("file", file=write_csv(donation.slice(0, 20), tmp_path / "d.csv"), params=SCHEMA)
    opened = inserimento_lavorativo_schema().model_dump(mode="json") | {"access": "open"}
    with pytest.raises(
        Conflict, match="dataset inserimento-lavorativo is private: a new version cannot make it open"
    ):
        run(
            "file",
            file=write_csv(donation.slice(0, 10), tmp_path / "e.csv"),
            params={"schema": json.dumps(opened)},
        )
    assert versions() == {"inserimento-lavorativo": [1]}
    with transaction(session_factory) as session:
        dataset = registry.get_dataset(session, "inserimento-lavorativo")
        assert dataset.access == "private" and dataset.policy is not None


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"encoding": "no-such-enc"}, "parameter encoding: Value error, unknown encoding 'no-such-enc'"),
        ({"delimiter": "ab"}, "parameter delimiter: String should have at most 1 character"),
    ],
)
def test_an_unknown_encoding_or_a_long_delimiter_is_bad_input(
    run,
    versions,
    donation,
    tmp_path,  # type: ignore[no-untyped-def]
    params,
    reason,
) -> None:
    path = write_csv(donation.slice(0, 5), tmp_path / "d.csv")
    with pytest.raises(InvalidInput, match=reason):
        run("file", file=path, params=SCHEMA | params)
    assert versions() == {}


def test_a_new_donation_keeps_the_budgets_the_administrators_set(
    run,
    session_factory,
    donation,  # type: ignore[no-untyped-def]
    tmp_path,
) -> None:
    run("file", file=write_csv(donation.slice(0, 20), tmp_path / "d.csv"), params=SCHEMA)
    with transaction(session_factory) as session:
        policy = registry.get_dataset(session, "inserimento-lavorativo").policy
        assert (policy.epsilon_total, policy.epsilon_per_organisation) == (10.0, 3.0)
        policy.epsilon_total, policy.epsilon_per_organisation, policy.epsilon_per_query = 4.0, 2.0, 0.5
    run("file", file=write_csv(donation.slice(0, 30), tmp_path / "e.csv"), params=SCHEMA)
    with transaction(session_factory) as session:
        dataset = registry.get_dataset(session, "inserimento-lavorativo")
        policy = dataset.policy
        assert (policy.epsilon_total, policy.epsilon_per_organisation, policy.epsilon_per_query) == (
            4.0,
            2.0,
            0.5,
        )
        assert policy.privacy_unit == "donor_id"  # the rest still follows the declaration
        assert [v.number for v in registry.list_versions(session, dataset.id)] == [2, 1]
