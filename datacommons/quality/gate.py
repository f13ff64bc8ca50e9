"""The quality gate: validate a version, store its report, and publish only what passed.

:func:`validate_version` runs after every ingest and on demand (CLI, admin API). It reads the
version from the Parquet store, derives the suite from the dataset's declared schema, runs it with
Great Expectations, compares the version with the dataset's current published one (drift warnings),
stores a :class:`ValidationReport` and moves the version to ``validated`` or ``rejected`` through
:func:`datacommons.registry.transition` (who and when are recorded there). A published version may
be checked again: its report is stored, its status does not change.

:func:`publish_version` publishes through :func:`datacommons.registry.publish` (only validated
versions; an older published version can be made current again) and, when refused, names the failing
expectations of the version's last report.
"""

from __future__ import annotations

import time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from datacommons import acts, registry
from datacommons.datasets import DatasetVersion, Status
from datacommons.errors import CheckFailed, Conflict, NotFound
from datacommons.quality.drift import DEFAULT_THRESHOLDS, DriftThresholds, drift_warnings
from datacommons.quality.models import ValidationReport, latest_report
from datacommons.quality.suite import derive_checks, resolve_code_lists
from datacommons.specs import SchemaSpec
from datacommons.storage import ParquetStore

NO_SCHEMA = (
    "the dataset declares no schema (schema_spec): there is nothing to validate it "
    "against; declare its columns and validate again"
)


def _privacy_columns(spec: SchemaSpec | None) -> list[str]:
    return [c.name for c in spec.columns if c.role == "privacy_unit"] if spec else []


def _scrub_identifiers(rows: list[dict[str, Any]], table: pa.Table, columns: list[str]) -> None:
    """Drop any example value that is one of the version's privacy-unit values (defence in depth).

    Checks on privacy-unit columns carry no examples already; this also catches a donor id that
    turns up in another column (a shifted CSV, a dataset-specific expectation).
    """
    shown = {str(e["value"]) for r in rows for e in r["examples"] if e["value"] is not None}
    if not shown or not columns:
        return
    leaked: set[str] = set()
    candidates = pa.array(sorted(shown), pa.string())
    for name in columns:
        if name not in table.column_names:
            continue
        values = pc.cast(table[name], pa.string())
        hits = values.filter(pc.is_in(values, value_set=candidates))
        leaked |= set(pc.unique(hits).to_pylist()) - {None}
    if not leaked:
        return
    for row in rows:
        kept = [e for e in row["examples"] if str(e["value"]) not in leaked]
        if len(kept) != len(row["examples"]):
            row["examples"], row["examples_withheld"] = kept, True


def _previous_published(session: Session, version: DatasetVersion) -> DatasetVersion | None:
    dataset = registry.get_dataset(session, version.dataset_id)
    current = dataset.current_version
    return current if current is not None and current.id != version.id else None


def validate_version(
    session: Session,
    *,
    store: ParquetStore,
    version: DatasetVersion,
    actor: str,
    thresholds: DriftThresholds = DEFAULT_THRESHOLDS,
    table: pa.Table | None = None,
) -> ValidationReport:
    """Validate ``version`` against its dataset's suite; store the report; validate or reject it.

    ``table`` is the version's content when the caller holds it (the ingest that just wrote it), so
    that it is not read back from the store; by default it is read from there.

    Returns the stored report (``report.success``). Raises :class:`~datacommons.errors.InvalidInput`
    when the suite itself cannot be built (a code list whose reference is not published, an invalid
    dataset-specific expectation) — then nothing is stored and the status does not change.
    """
    # Great Expectations takes seconds to import: only a validation pays for it.
    from datacommons.quality.engine import gx, plain, run_checks, to_frame

    dataset = registry.get_dataset(session, version.dataset_id)
    started = time.perf_counter()
    spec = SchemaSpec.model_validate(dataset.schema_spec) if dataset.schema_spec else None
    rows: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    error: str | None = None
    previous = _previous_published(session, version)
    if spec is None:
        error = NO_SCHEMA
    else:
        checks = derive_checks(spec, code_lists=resolve_code_lists(session, store=store, spec=spec))
        if table is None:
            table = store.read_table(version.content_hash)
        hidden = _privacy_columns(spec)
        rows = run_checks(to_frame(table), checks, hidden_columns=hidden)
        _scrub_identifiers(rows, table, hidden)
        if previous is not None:
            wanted = [c.name for c in spec.columns if c.name in {f["name"] for f in previous.arrow_schema}]
            old = store.read_table(previous.content_hash, columns=wanted)
            warnings = drift_warnings(
                spec, new=table, old=old, old_number=previous.number, thresholds=thresholds
            )
    failures = [r["name"] for r in rows if not r["success"]]
    success = error is None and not failures
    evaluated = len(rows)
    body: dict[str, Any] = {
        "dataset_id": dataset.id,
        "version": version.number,
        "access": dataset.access,
        "success": success,
        "rows": version.rows,
        "actor": actor,
        "error": error,
        "statistics": {
            "evaluated": evaluated,
            "successful": evaluated - len(failures),
            "unsuccessful": len(failures),
        },
        "failures": failures,
        "expectations": rows,
        "warnings": warnings,
        "compared_with": previous.number if previous is not None else None,
        "great_expectations_version": gx.__version__,
    }
    record = ValidationReport(
        version_id=version.id,
        dataset_id=dataset.id,
        version_number=version.number,
        success=success,
        actor=actor,
        report=body,
    )
    session.add(record)
    session.flush()
    status_before = version.status
    if version.status != "published":
        target: Status = "validated" if success else "rejected"
        note = f"validation report {record.id}: " + (
            f"{evaluated} expectations passed"
            if success
            else error or f"{len(failures)} of {evaluated} expectations failed"
        )
        registry.transition(session, version=version, to=target, actor=actor, note=note)
    record.report = {
        **body,
        "id": record.id,
        "created_at": plain(record.created_at),
        "status_before": status_before,
        "status": version.status,
        "duration_seconds": round(time.perf_counter() - started, 3),
    }
    session.flush()
    acts.record(
        session,
        acts.Act(
            kind="validation",
            actor=actor,
            purpose="quality gate passed" if success else "quality gate failed",
            datasets=(dataset.id,),
            details={
                "version": version.number,
                "report": record.id,
                "success": success,
                "status": version.status,
                "expectations_failed": len(failures),
            },
        ),
    )
    return record


def summary_lines(report: ValidationReport) -> list[str]:
    """A short, readable summary of a report (the CLI prints it)."""
    body = report.report
    stats = body["statistics"]
    verdict = "PASSED" if report.success else "FAILED"
    lines = [
        f"{body['dataset_id']} version {body['version']}: {verdict} — "
        f"{stats['successful']}/{stats['evaluated']} expectations passed on {body['rows']} rows; "
        f"status {body['status']} (report {report.id})"
    ]
    if body.get("error"):
        lines.append(f"  error: {body['error']}")
    for row in body["expectations"]:
        if row["success"]:
            continue
        detail = row["exception"] or (
            f"{row['unexpected_count']} unexpected"
            if row["unexpected_count"] is not None
            else f"observed {row['observed_value']!r}"
        )
        examples = ", ".join(repr(e["value"]) for e in row["examples"])
        lines.append(
            f"  FAIL {row['name']}: {row['rule']} — {detail}" + (f" (e.g. {examples})" if examples else "")
        )
    for warning in body["warnings"]:
        lines.append(f"  WARN {warning['message']}")
    return lines


def failure_error(report: ValidationReport) -> CheckFailed:
    """The error a failed validation answers with: one line naming the failing expectations."""
    body = report.report
    named = body.get("error") or ", ".join(body["failures"])
    return CheckFailed(
        f"version {body['version']} of {body['dataset_id']} failed validation (report {report.id}): {named}",
        errors=[
            {
                "expectation": r["name"],
                "rule": r["rule"],
                "unexpected_count": r["unexpected_count"],
                "exception": r["exception"],
            }
            for r in body["expectations"]
            if not r["success"]
        ],
    )


def publish_version(session: Session, *, dataset_id: str, number: int, actor: str) -> DatasetVersion:
    """Publish version ``number`` (or make a published one current again); only validated versions.

    A refusal is a :class:`~datacommons.errors.Conflict` whose ``errors`` name the failing
    expectations of the version's last report.
    """
    try:
        return registry.publish(session, dataset_id=dataset_id, number=number, actor=actor)
    except Conflict as exc:
        errors: list[dict[str, Any]] = []
        try:
            last = latest_report(session, dataset_id, number)
        except NotFound:
            exc.message += "; it has not been validated yet (run: datacommons validate)"
        else:
            errors = [{"expectation": name, "report": last.id} for name in last.failures]
            if last.report.get("error"):
                errors.append({"error": last.report["error"], "report": last.id})
            if errors:
                exc.message += f"; its last validation (report {last.id}) failed: " + ", ".join(
                    e.get("expectation", e.get("error", "")) for e in errors
                )
        raise Conflict(exc.message, errors=errors) from exc
