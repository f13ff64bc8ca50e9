"""The ingest service: run a connector and stage what it yields as dataset versions.

One pipeline, :func:`run`, serves ``datacommons ingest`` and ``POST /api/v1/admin/ingest/{name}``:
:func:`extract` reads and checks every load of a run in a read transaction (no write lock held
during a download), then :func:`stage` stages them all in one short write transaction, the quality
gate validating each table as it was staged: a bad input stages nothing. :func:`ingest` is the same
two steps on a session the caller holds (the demo, the tests). The same content gives back the
existing version (its hash is the same), and connectors skip sources whose upstream last update has
not changed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from connectors.base import Context, Load, Unchanged
from connectors.catalogue import get_connector
from connectors.http import HttpClient
from connectors.progress import NullProgress, Progress
from datacommons import datasets, redaction, registry, specs
from datacommons.commons import Commons
from datacommons.datasets import DatasetVersion
from datacommons.errors import Conflict, InvalidInput, NotFound
from datacommons.quality.gate import validate_version
from datacommons.storage import ParquetStore


@dataclass(frozen=True)
class Staged:
    """A dataset version a run produced (or found already there: ``created`` is False)."""

    dataset_id: str
    version: int
    created: bool
    rows: int
    status: str
    content_hash: str
    #: The failing expectations of the quality gate's run (empty when it passed or did not run).
    failures: list[str] = field(default_factory=list)
    #: Why the gate could not run (a code list whose reference dataset is not published yet), if so.
    gate_note: str = ""


@dataclass
class IngestResult:
    """What one run of a connector did."""

    connector: str
    staged: list[Staged] = field(default_factory=list)
    unchanged: list[Unchanged] = field(default_factory=list)

    @property
    def created(self) -> list[Staged]:
        """The versions that are new."""
        return [s for s in self.staged if s.created]


def config_error(connector: str, exc: ValidationError) -> InvalidInput:
    """A one-line error for a bad ``--param``."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "params"
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    return InvalidInput(
        f"connector {connector}: parameter {where}: {first.get('msg', 'invalid')}", errors=errors
    )


def latest_provenance(session: Session, dataset_id: str) -> dict[str, Any] | None:
    """The provenance of a dataset's newest version, if it has one."""
    try:
        return dict(registry.get_version(session, dataset_id).provenance or {})
    except NotFound:
        return None


def run(
    commons: Commons,
    *,
    connector_name: str,
    file: Path | None = None,
    params: Mapping[str, Any] | None = None,
    actor: str,
    progress: Progress | None = None,
) -> IngestResult:
    """Run connector ``connector_name`` on ``commons``: extract in a read transaction, then stage in
    one write transaction. Outbound requests go through the commons' transport."""
    with HttpClient(transport=commons.http_transport) as http, commons.transaction() as session:
        items = extract(
            session,
            store=commons.store,
            connector_name=connector_name,
            file=file,
            params=params,
            http=http,
            progress=progress,
        )
    with commons.transaction(immediate=True) as session:
        return stage(
            session,
            store=commons.store,
            connector_name=connector_name,
            items=items,
            actor=actor,
            progress=progress,
        )


def ingest(
    session: Session,
    *,
    store: ParquetStore,
    connector_name: str,
    file: Path | None = None,
    params: Mapping[str, Any] | None = None,
    actor: str,
    http: HttpClient | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Run connector ``connector_name`` and stage each dataset it yields; return what was staged.

    ``params`` configure the connector (strings from the command line are converted to their types);
    ``file`` is a local copy of the source. Raises :class:`InvalidInput` (exit 2, HTTP 422) for a bad
    connector name, parameter or input; the caller rolls back its transaction on any error.
    This is :func:`extract` then :func:`stage` on one session; :func:`run` is the same in two
    transactions, for callers that must not hold a write lock during a long download.
    """
    items = extract(
        session,
        store=store,
        connector_name=connector_name,
        file=file,
        params=params,
        http=http,
        progress=progress,
    )
    return stage(
        session, store=store, connector_name=connector_name, items=items, actor=actor, progress=progress
    )


def extract(
    session: Session,
    *,
    store: ParquetStore,
    connector_name: str,
    file: Path | None = None,
    params: Mapping[str, Any] | None = None,
    http: HttpClient | None = None,
    progress: Progress | None = None,
) -> list[Load | Unchanged]:
    """Run the connector and return every load, read and checked, without writing anything.

    The session is only read (the newest version's provenance, to skip unchanged sources).
    """
    cls = get_connector(connector_name)
    if file is not None and not cls.accepts_file:
        raise InvalidInput(f"connector {connector_name} does not take a file")
    if file is None and cls.requires_file:
        raise InvalidInput(f"connector {connector_name} needs a file (--file PATH)")
    if file is not None and not Path(file).is_file():
        raise InvalidInput(f"{file}: no such file")
    try:
        config = cls.config_type.model_validate(dict(params or {}))
    except ValidationError as exc:
        raise config_error(connector_name, exc) from exc

    store.ensure()
    own_http = http is None
    client = http or HttpClient()
    try:
        with tempfile.TemporaryDirectory(prefix="ingest-", dir=store.tmp_dir) as work:
            context = Context(
                http=client,
                work_dir=Path(work),
                progress=progress or NullProgress(),
                latest_provenance=lambda d: latest_provenance(session, d),
            )
            connector = cls(config, context=context)
            items = list(connector.extract(file=Path(file) if file is not None else None))
    finally:
        if own_http:
            client.close()
    ids = [i.meta.id if isinstance(i, Load) else i.dataset_id for i in items]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"connector {connector_name} yielded a dataset twice: {sorted(ids)}")
    return items


def _check_owner(session: Session, dataset_id: str, connector: str) -> None:
    """A dataset is loaded by one connector: a donation cannot overwrite the Turin reference."""
    latest = latest_provenance(session, dataset_id)
    owner = (latest or {}).get("connector")
    if owner and owner != connector:
        raise Conflict(f"dataset {dataset_id} is loaded by connector {owner}, not {connector}")


def _gate(
    session: Session, *, store: ParquetStore, version: DatasetVersion, table: pa.Table, actor: str
) -> tuple[list[str], str]:
    """Run the quality gate on a staged version: it becomes validated or rejected.

    Versions already validated, rejected or published are left as they are. When the gate cannot
    run yet (its code lists refer to a dataset not published yet), the version stays staged and the
    reason is returned: ``datacommons validate`` runs it later.
    """
    if version.status != "staged":
        return [], ""
    try:
        report = validate_version(session, store=store, version=version, actor=actor, table=table)
    except (InvalidInput, NotFound) as exc:
        return [], f"not validated yet: {exc.message}"
    return report.failures, ""


#: A declaration's budgets apply when its dataset is first loaded; after that they are the
#: administrators' (``PUT /admin/datasets/{id}/policy/budget``), and a new donation keeps them.
BUDGETS = ("epsilon_total", "epsilon_per_organisation", "epsilon_per_query")


def _declared_policy(dataset: datasets.Dataset, declared: specs.PolicySpec) -> specs.PolicySpec:
    if dataset.policy is None:
        return declared
    return declared.model_copy(update={name: getattr(dataset.policy, name) for name in BUDGETS})


def stage(
    session: Session,
    *,
    store: ParquetStore,
    connector_name: str,
    items: list[Load | Unchanged],
    actor: str,
    progress: Progress | None = None,
) -> IngestResult:
    """Stage each load of :func:`extract` as a dataset version (the same content: the same version)."""
    progress = progress or NullProgress()
    result = IngestResult(connector=connector_name)
    for item in items:
        if isinstance(item, Unchanged):
            result.unchanged.append(item)
            continue
        _check_owner(session, item.meta.id, item.provenance.connector)
        dataset = registry.upsert_dataset(session, meta=item.meta)
        if item.policy is not None:
            registry.set_policy(
                session, dataset=dataset, spec=_declared_policy(dataset, item.policy), actor=actor
            )
        # an erased donor's records never come back with a later donation of the same file
        table, erased_rows = redaction.without_erased(session, dataset, item.table)
        provenance = item.provenance.as_dict()
        if erased_rows:
            provenance["erased_rows_dropped"] = erased_rows
        with progress.task(f"{dataset.id}: write Parquet", total=table.num_rows) as advance:
            version, created = registry.stage_table(
                session,
                store=store,
                dataset=dataset,
                table=table,
                provenance=provenance,
                actor=actor,
            )
            advance(table.num_rows)
        failures, note = _gate(session, store=store, version=version, table=table, actor=actor)
        result.staged.append(
            Staged(
                dataset_id=dataset.id,
                version=version.number,
                created=created,
                rows=version.rows,
                status=version.status,
                content_hash=version.content_hash,
                failures=failures,
                gate_note=note,
            )
        )
    return result
