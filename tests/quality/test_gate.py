"""The gate as a service: what passes, what is rejected and why, drift, re-validation, rollback."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session, sessionmaker

from datacommons import registry
from datacommons.db import transaction
from datacommons.errors import Conflict, InvalidInput
from datacommons.quality import publish_version, validate_version
from datacommons.quality.models import latest_report
from datacommons.storage import ParquetStore
from tests.quality.conftest import DONORS, MICRO_ID, SPEC, micro_rows, stage

pytestmark = pytest.mark.usefixtures("reference")


def _validate(factory: sessionmaker[Session], store: ParquetStore, rows, spec=None):  # type: ignore[no-untyped-def]
    with transaction(factory, immediate=True) as session:
        version = stage(session, store, rows, spec)
        report = validate_version(session, store=store, version=version, actor="admin:alice")
        return version.number, version.status, report.report


def test_a_clean_version_passes_every_expectation_and_can_be_published(
    session_factory: sessionmaker[Session], store: ParquetStore
) -> None:
    number, status, report = _validate(session_factory, store, micro_rows())
    assert (status, report["success"], report["failures"], report["error"]) == (
        "validated",
        True,
        [],
        None,
    )
    names = [e["name"] for e in report["expectations"]]
    assert "expect_column_values_to_be_in_set(comune)" in names
    assert "expect_compound_columns_to_be_unique(donor_id, year)" in names
    comune = next(
        e for e in report["expectations"] if e["name"] == "expect_column_values_to_be_in_set(comune)"
    )
    assert comune["rule"] == "comune is one of 312 values (code list comuni-torino:codice_comune)"
    assert report["statistics"] == {
        "evaluated": len(names),
        "successful": len(names),
        "unsuccessful": 0,
    }
    with transaction(session_factory, immediate=True) as session:
        version = publish_version(session, dataset_id=MICRO_ID, number=number, actor="admin:alice")
        assert version.status == "published"
        assert registry.get_dataset(session, MICRO_ID).current_version_id == version.id


@pytest.mark.parametrize(
    ("changes", "failing", "example"),
    [
        (
            {"comune": ["001272", "099999", "001002", "001272"]},
            "expect_column_values_to_be_in_set(comune)",
            "099999",
        ),
        (
            {"monthly_wage": [1200.0, 0.0, -50.0, 0.0]},
            "expect_column_values_to_be_between(monthly_wage)",
            -50.0,
        ),
        (
            {"donor_id": ["D0000001", None, "D0000003", "D0000004"]},
            "expect_column_values_to_not_be_null(donor_id)",
            None,
        ),
    ],
)
def test_a_bad_version_is_rejected_with_the_failing_expectation_named(
    session_factory: sessionmaker[Session], store: ParquetStore, changes, failing, example
) -> None:  # type: ignore[no-untyped-def]
    number, status, report = _validate(session_factory, store, micro_rows(**changes))
    assert (status, report["success"], report["failures"]) == ("rejected", False, [failing])
    row = next(e for e in report["expectations"] if e["name"] == failing)
    assert row["unexpected_count"] == 1
    if failing.endswith("(donor_id)"):
        assert (row["examples"], row["examples_withheld"]) == ([], True)
    else:
        assert row["examples"] == [{"value": example, "count": 1}]
    with transaction(session_factory, immediate=True) as session, pytest.raises(Conflict) as err:
        publish_version(session, dataset_id=MICRO_ID, number=number, actor="admin:alice")
    assert err.value.errors == [{"expectation": failing, "report": report["id"]}]
    assert f"failed: {failing}" in err.value.message


def test_a_wage_without_employment_breaks_the_dataset_specific_expectation(
    session_factory: sessionmaker[Session], store: ParquetStore
) -> None:
    _n, status, report = _validate(
        session_factory, store, micro_rows(monthly_wage=[1200.0, 300.0, 1200.0, 0.0])
    )
    assert (status, report["failures"]) == (
        "rejected",
        ["expect_column_values_to_be_between(monthly_wage)"],
    )
    row = next(e for e in report["expectations"] if not e["success"])
    assert (row["origin"], row["rule"]) == ("config", "no wage without employment")


def test_a_private_report_never_contains_a_donor_identifier(
    session_factory: sessionmaker[Session], store: ParquetStore
) -> None:
    # duplicated key (donor, year), a donor id pasted into the comune column, a null donor id
    rows = micro_rows(
        donor_id=["D0000001", "D0000001", None, "D0000004"],
        comune=["001272", "D0000004", "001002", "001272"],
    )
    _n, status, report = _validate(session_factory, store, rows)
    assert status == "rejected"
    assert set(report["failures"]) == {
        "expect_column_values_to_not_be_null(donor_id)",
        "expect_column_values_to_be_in_set(comune)",
        "expect_compound_columns_to_be_unique(donor_id, year)",
    }
    text = json.dumps(report)
    assert not [d for d in DONORS if d in text]
    comune = next(
        e for e in report["expectations"] if e["name"] == "expect_column_values_to_be_in_set(comune)"
    )
    assert (comune["unexpected_count"], comune["examples"], comune["examples_withheld"]) == (
        1,
        [],
        True,
    )


def test_a_rejected_version_passes_once_its_suite_is_fixed(
    session_factory: sessionmaker[Session], store: ParquetStore
) -> None:
    rows = micro_rows(pathway=["internship", "social-farming", "work-grant", "internship"])
    number, status, report = _validate(session_factory, store, rows)
    assert (status, report["failures"]) == (
        "rejected",
        ["expect_column_values_to_be_in_set(pathway)"],
    )
    fixed = json.loads(json.dumps(SPEC))
    fixed["columns"][3]["codes"].append("social-farming")
    with transaction(session_factory, immediate=True) as session:
        version = stage(session, store, rows, fixed)  # same content: the same version
        assert version.number == number
        report2 = validate_version(session, store=store, version=version, actor="admin:bob")
        assert (report2.success, version.status) == (True, "validated")
        publish_version(session, dataset_id=MICRO_ID, number=number, actor="admin:bob")
        history = [(t.from_status, t.to_status, t.actor) for t in registry.transitions_of(session, version)]
    assert history == [
        (None, "staged", "test:ingest"),
        ("staged", "rejected", "admin:alice"),
        ("rejected", "validated", "admin:bob"),
        ("validated", "published", "admin:bob"),
    ]


def test_drift_against_the_published_version_is_a_warning_not_a_failure(
    session_factory: sessionmaker[Session], store: ParquetStore
) -> None:
    number, _status, _report = _validate(session_factory, store, micro_rows())
    with transaction(session_factory, immediate=True) as session:
        publish_version(session, dataset_id=MICRO_ID, number=number, actor="admin:alice")
    bigger = micro_rows(
        8,
        pathway=["art14-hiring"] * 8,
        monthly_wage=[2400.0 if i % 2 == 0 else 0.0 for i in range(8)],
    )
    number2, status, report = _validate(session_factory, store, bigger)
    assert (number2, status, report["success"], report["compared_with"]) == (
        2,
        "validated",
        True,
        1,
    )
    got = {
        (w["kind"], w["column"]): {k: v for k, v in w.items() if k != "message"} for w in report["warnings"]
    }
    assert got[("row_count", None)] == {
        "kind": "row_count",
        "column": None,
        "previous": 4,
        "current": 8,
        "change": 1.0,
    }
    assert set(got) == {
        ("row_count", None),
        ("new_categories", "pathway"),
        ("vanished_categories", "pathway"),
        ("mean_shift", "monthly_wage"),
    }
    assert got[("new_categories", "pathway")] == {
        "kind": "new_categories",
        "column": "pathway",
        "values": ["art14-hiring"],
        "count": 1,
    }
    assert got[("vanished_categories", "pathway")] == {
        "kind": "vanished_categories",
        "column": "pathway",
        "values": ["internship", "work-grant"],
        "count": 2,
    }
    assert got[("mean_shift", "monthly_wage")] == {
        "kind": "mean_shift",
        "column": "monthly_wage",
        "previous": 600.0,
        "current": 1200.0,
        "change": 1.0,
    }
    assert report["warnings"][0]["message"] == "row count changed by +100.0% (4 → 8) since version 1"


def test_an_older_published_version_can_be_made_current_again(
    session_factory: sessionmaker[Session], store: ParquetStore
) -> None:
    first, _s, _r = _validate(session_factory, store, micro_rows())
    with transaction(session_factory, immediate=True) as session:
        publish_version(session, dataset_id=MICRO_ID, number=first, actor="admin:alice")
    second, _s, _r = _validate(session_factory, store, micro_rows(year=[2023] * 4))
    with transaction(session_factory, immediate=True) as session:
        publish_version(session, dataset_id=MICRO_ID, number=second, actor="admin:alice")
        back = publish_version(session, dataset_id=MICRO_ID, number=first, actor="admin:carol")
        dataset = registry.get_dataset(session, MICRO_ID)
        assert (dataset.current_version_id, back.number) == (back.id, first)
        last = registry.transitions_of(session, back)[-1]
    assert (last.from_status, last.to_status, last.actor, last.note) == (
        "published",
        "published",
        "admin:carol",
        "made current again",
    )


def test_a_dataset_without_a_declared_schema_is_rejected(
    session_factory: sessionmaker[Session], store: ParquetStore
) -> None:
    with transaction(session_factory, immediate=True) as session:
        version = stage(session, store, micro_rows())
        registry.get_dataset(session, MICRO_ID).schema_spec = None
        report = validate_version(session, store=store, version=version, actor="admin:alice")
        assert (version.status, report.success, report.report["expectations"]) == (
            "rejected",
            False,
            [],
        )
        assert report.report["error"].startswith("the dataset declares no schema")


def test_a_code_list_without_a_published_reference_is_bad_input_and_changes_nothing(
    session_factory: sessionmaker[Session], store: ParquetStore
) -> None:
    spec = json.loads(json.dumps(SPEC))
    spec["columns"][1]["code_list"] = "comuni-torino:no_such_column"
    with transaction(session_factory, immediate=True) as session:
        version = stage(session, store, micro_rows(), spec)
        with pytest.raises(InvalidInput, match="dataset comuni-torino has no column no_such_column"):
            validate_version(session, store=store, version=version, actor="admin:alice")
        assert version.status == "staged"


def test_the_reference_geography_of_the_demo_passed_its_suite(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        report = latest_report(session, "comuni-torino", 1)
        assert (report.success, report.actor, report.report["rows"]) == (True, "system:demo", 312)
        names = {e["name"] for e in report.report["expectations"]}
    assert {
        "expect_table_row_count_to_equal",
        "expect_column_values_to_be_unique(codice_comune)",
        "expect_column_values_to_be_in_set(nuts3)",
    } <= names
