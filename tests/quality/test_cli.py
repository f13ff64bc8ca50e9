"""``datacommons validate`` and ``datacommons publish`` as an administrator runs them."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session, sessionmaker

from datacommons.config import Settings
from datacommons.db import transaction
from datacommons.storage import ParquetStore
from tests.quality.conftest import DONORS, MICRO_ID, micro_rows, stage
from tests.support.cli import run_cli


def test_validate_and_publish_from_the_command_line(
    settings: Settings, session_factory: sessionmaker[Session], store: ParquetStore, reference: None
) -> None:
    with transaction(session_factory, immediate=True) as session:
        stage(session, store, micro_rows())
        stage(
            session,
            store,
            micro_rows(
                comune=["001272", "099999", "001002", "001272"],
                monthly_wage=[1200.0, 0.0, -50.0, 0.0],
                donor_id=["D0000001", None, "D0000003", "D0000004"],
            ),
        )

    bad = run_cli(settings, "validate", MICRO_ID)  # the newest version: 2
    assert bad.returncode == 1, bad.stderr
    out = bad.stdout.splitlines()
    assert out[0].startswith(f"{MICRO_ID} version 2: FAILED — ")
    found = re.search(r"; status rejected \(report (\d+)\)$", out[0])
    assert found is not None
    rid = found.group(1)
    assert [line.split(":")[0].strip() for line in out if line.startswith("  FAIL")] == [
        "FAIL expect_column_values_to_not_be_null(donor_id)",
        "FAIL expect_column_values_to_be_in_set(comune)",
        "FAIL expect_column_values_to_be_between(monthly_wage)",
    ]
    assert "(e.g. '099999')" in bad.stdout and "(e.g. -50.0)" in bad.stdout
    assert out[-1] == f"report: http://127.0.0.1:8000/api/v1/admin/reports/{rid}.html"
    assert not [d for d in DONORS if d in bad.stdout + bad.stderr]
    assert bad.stderr.strip() == (
        f"datacommons: error: version 2 of {MICRO_ID} failed validation (report {rid}): "
        "expect_column_values_to_not_be_null(donor_id), expect_column_values_to_be_in_set(comune), "
        "expect_column_values_to_be_between(monthly_wage)"
    )

    refused = run_cli(settings, "publish", MICRO_ID, "--version", "2")
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith(
        f"datacommons: error: version 2 of {MICRO_ID} is rejected: only a validated version can be "
        f"published; its last validation (report {rid}) failed: expect_column_values_to_not_be_null"
    )

    good = run_cli(settings, "validate", MICRO_ID, "--version", "1")
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines()[0].startswith(f"{MICRO_ID} version 1: PASSED — ")
    published = run_cli(settings, "publish", MICRO_ID, "--version", "1")
    assert (published.returncode, published.stdout.strip()) == (
        0,
        f"{MICRO_ID} version 1 is published and current",
    )

    missing = run_cli(settings, "validate", MICRO_ID, "--version", "9")
    assert (missing.returncode, missing.stderr.strip()) == (
        2,
        f"datacommons: error: dataset {MICRO_ID!r} has no version 9",
    )


def test_the_demo_validates_and_publishes_through_the_gate(settings: Settings) -> None:
    demo = run_cli(settings, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "comuni-torino            version 1 published" in demo.stdout
    again = run_cli(settings, "validate", "comuni-torino")  # a published version can be re-checked
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("comuni-torino version 1: PASSED — ")
    assert re.search(r"on 312 rows; status published \(report \d+\)$", again.stdout.splitlines()[0])
