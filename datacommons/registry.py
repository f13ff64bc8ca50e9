"""The version workflow: datasets described and stored, versions staged, validated and published.

The records are :mod:`datacommons.datasets` (with the lifecycle of a version drawn there); what
describes a dataset before it is stored is :mod:`datacommons.specs`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from datacommons import acts
from datacommons.datasets import AccessPolicy, Dataset, DatasetVersion, Status, VersionTransition
from datacommons.db import utcnow
from datacommons.errors import Conflict, InvalidInput, NotFound
from datacommons.specs import DatasetMeta, PolicySpec
from datacommons.storage import ParquetStore, StoredFile

#: Which status changes are allowed (publishing and rollback go through :func:`publish`).
TRANSITIONS: dict[str, frozenset[str]] = {
    "staged": frozenset({"validated", "rejected"}),
    "rejected": frozenset({"validated", "rejected"}),
    "validated": frozenset({"validated", "rejected", "published"}),
    "published": frozenset(),
}


def schema_fields(schema: pa.Schema) -> list[dict[str, Any]]:
    """An Arrow schema as JSON: one ``{name, type, nullable}`` per field."""
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


def lock_dataset(session: Session, dataset_id: str) -> bool:
    """Lock the dataset's row until the transaction ends; return whether it exists.

    On PostgreSQL this makes concurrent loads of one dataset wait for each other (as SQLite's write
    lock already does), so they never race for the same version number.
    """
    found = session.execute(select(Dataset.id).where(Dataset.id == dataset_id).with_for_update())
    return found.first() is not None


def upsert_dataset(session: Session, *, meta: DatasetMeta) -> Dataset:
    """Create the dataset ``meta.id``, or update its description; return it (its row locked)."""
    values = meta.model_dump(mode="json")
    if not lock_dataset(session, meta.id):
        try:
            with session.begin_nested():
                created = Dataset(**values)
                session.add(created)
                session.flush()
            return created
        except IntegrityError:
            # Another load created it a moment before (PostgreSQL): lock it and update it below.
            lock_dataset(session, meta.id)
    dataset = session.get(Dataset, meta.id, populate_existing=True)
    if dataset is None:  # pragma: no cover - locked above, it cannot vanish
        raise NotFound(f"no dataset {meta.id!r}")
    if dataset.access != meta.access:
        # Access covers every version, the published ones included: opening a private dataset
        # would make its microdata downloadable row by row before any gate or publication.
        raise Conflict(
            f"dataset {meta.id} is {dataset.access}: a new version cannot make it "
            f"{meta.access} (load it under another dataset id)"
        )
    changed = False
    for key, value in values.items():
        if getattr(dataset, key) != value:
            setattr(dataset, key, value)
            changed = True
    if changed:
        dataset.modified_at = utcnow()
    session.flush()
    return dataset


def set_policy(
    session: Session, *, dataset: Dataset, spec: PolicySpec, actor: str = "system", kind: str = "policy"
) -> AccessPolicy:
    """Set (or replace) the access policy of a private dataset; a change is an act of ``kind``
    (``policy``, or ``budget`` when only the budget moved)."""
    if dataset.access != "private":
        raise InvalidInput(f"dataset {dataset.id} is open: only private datasets have a policy")
    policy = session.get(AccessPolicy, dataset.id)
    values = spec.model_dump()
    if policy is None:
        policy = AccessPolicy(dataset_id=dataset.id, **values)
        session.add(policy)
    elif all(getattr(policy, key) == value for key, value in values.items()):
        return policy
    else:
        for key, value in values.items():
            setattr(policy, key, value)
    dataset.modified_at = utcnow()  # the catalog's facets (years of private data) follow the policy
    session.flush()
    acts.record(
        session,
        acts.Act(
            kind=kind,
            actor=actor,
            purpose="budget change" if kind == "budget" else "access policy set",
            datasets=(dataset.id,),
            details=values,
        ),
    )
    return policy


def access_of(version: DatasetVersion) -> str:
    """The access (``open`` or ``private``) of the dataset a loaded version belongs to."""
    session = object_session(version)
    dataset = session.get(Dataset, version.dataset_id) if session is not None else None
    if dataset is None:  # pragma: no cover - a version is always loaded with its session
        raise NotFound(f"no dataset {version.dataset_id!r}")
    return dataset.access


def get_dataset(session: Session, dataset_id: str) -> Dataset:
    """The dataset with this id, or :class:`NotFound`."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id!r}")
    return dataset


def list_datasets(session: Session) -> list[Dataset]:
    """Every dataset, by id."""
    return list(session.scalars(select(Dataset).order_by(Dataset.id)))


def list_versions(session: Session, dataset_id: str) -> list[DatasetVersion]:
    """The versions of a dataset, newest first."""
    get_dataset(session, dataset_id)
    query = (
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset_id)
        .order_by(DatasetVersion.number.desc())
    )
    return list(session.scalars(query))


def get_version(session: Session, dataset_id: str, number: int | None = None) -> DatasetVersion:
    """Version ``number`` of a dataset; without a number, its newest version."""
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
    if number is None:
        query = query.order_by(DatasetVersion.number.desc()).limit(1)
    else:
        query = query.where(DatasetVersion.number == number)
    version = session.scalars(query).first()
    if version is None:
        get_dataset(session, dataset_id)
        what = f"version {number}" if number is not None else "any version"
        raise NotFound(f"dataset {dataset_id!r} has no {what}")
    return version


def stage_version(
    session: Session,
    *,
    dataset: Dataset,
    stored: StoredFile,
    schema: pa.Schema,
    provenance: dict[str, Any],
    actor: str,
) -> tuple[DatasetVersion, bool]:
    """Register a stored file as a new staged version; the same content gives back the old version.

    Returns the version and whether it is new.
    """
    lock_dataset(session, dataset.id)  # loads of one dataset are numbered one after the other
    query = select(DatasetVersion).where(
        DatasetVersion.dataset_id == dataset.id,
        DatasetVersion.content_hash == stored.content_hash,
    )
    existing = session.scalars(query).first()
    if existing is not None:
        return existing, False
    number = (
        session.scalar(select(func.max(DatasetVersion.number)).where(DatasetVersion.dataset_id == dataset.id))
        or 0
    ) + 1
    version = DatasetVersion(
        dataset_id=dataset.id,
        number=number,
        content_hash=stored.content_hash,
        rows=stored.rows,
        size_bytes=stored.size,
        arrow_schema=schema_fields(schema),
        status="staged",
        provenance=provenance,
        created_by=actor,
    )
    try:
        with session.begin_nested():
            session.add(version)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"another load of dataset {dataset.id} was staged at the same time; try again"
        ) from exc
    session.add(
        VersionTransition(
            version_id=version.id,
            from_status=None,
            to_status="staged",
            actor=actor,
            note=provenance.get("connector", ""),
        )
    )
    session.flush()
    acts.record(
        session,
        acts.Act(
            kind="ingest",
            actor=actor,
            purpose="new version staged",
            datasets=(dataset.id,),
            details={"version": number, "connector": provenance.get("connector"), **_content_of(version)},
        ),
    )
    return version, True


def transition(
    session: Session, *, version: DatasetVersion, to: Status, actor: str, note: str = ""
) -> DatasetVersion:
    """Move a version to status ``to`` if the workflow allows it, recording who and when."""
    if to not in TRANSITIONS[version.status]:
        raise Conflict(
            f"version {version.number} of {version.dataset_id} is {version.status}; it cannot become {to}"
        )
    session.add(
        VersionTransition(
            version_id=version.id, from_status=version.status, to_status=to, actor=actor, note=note
        )
    )
    version.status = to
    version.status_changed_at = utcnow()
    session.flush()
    return version


def publish(session: Session, *, dataset_id: str, number: int, actor: str) -> DatasetVersion:
    """Make version ``number`` the dataset's current one.

    A validated version becomes published; an already published one becomes current again (a rollback).
    Anything else is a :class:`Conflict`. Publishing the current version again changes nothing.
    """
    dataset = get_dataset(session, dataset_id)
    version = get_version(session, dataset_id, number)
    rollback = version.status == "published"
    if version.status == "validated":
        transition(session, version=version, to="published", actor=actor, note="published")
    elif version.status == "published":
        if dataset.current_version_id == version.id:
            return version
        session.add(
            VersionTransition(
                version_id=version.id,
                from_status="published",
                to_status="published",
                actor=actor,
                note="made current again",
            )
        )
    else:
        raise Conflict(
            f"version {number} of {dataset_id} is {version.status}: only a validated version can be published"
        )
    replaced = session.get(DatasetVersion, dataset.current_version_id) if dataset.current_version_id else None
    dataset.current_version_id = version.id
    dataset.modified_at = utcnow()
    session.flush()
    acts.record(
        session,
        acts.Act(
            kind="rollback" if rollback else "publication",
            actor=actor,
            purpose="earlier version made current again" if rollback else "publication in the catalog",
            datasets=(dataset_id,),
            details={
                "version": version.number,
                "replaces_version": replaced.number if replaced is not None else None,
                **_content_of(version),
            },
        ),
    )
    return version


def _content_of(version: DatasetVersion) -> dict[str, Any]:
    """What the log says of a version's content: its hash, and its row count when the data is open
    (a private dataset's row count is a statistic outside any budget)."""
    return {
        "content_hash": version.content_hash,
        **({"rows": version.rows} if access_of(version) == "open" else {}),
    }


def transitions_of(session: Session, version: DatasetVersion) -> list[VersionTransition]:
    """The recorded status changes of a version, oldest first."""
    query = (
        select(VersionTransition)
        .where(VersionTransition.version_id == version.id)
        .order_by(VersionTransition.id)
    )
    return list(session.scalars(query))


def stage_table(
    session: Session,
    *,
    store: ParquetStore,
    dataset: Dataset,
    table: pa.Table,
    provenance: dict[str, Any],
    actor: str,
) -> tuple[DatasetVersion, bool]:
    """Write ``table`` to the store and stage it as a version of ``dataset`` (see :func:`stage_version`)."""
    if table.num_rows == 0:
        raise InvalidInput(f"no rows to stage for dataset {dataset.id}")
    stored = store.write_table(table)
    return stage_version(
        session, dataset=dataset, stored=stored, schema=table.schema, provenance=provenance, actor=actor
    )
