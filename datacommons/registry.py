"""The catalog's records: Dataset, DatasetVersion, VersionTransition and AccessPolicy.

A dataset is described once (bilingual titles, theme, publisher, access, geography, licence, keywords);
each load of its data is a :class:`DatasetVersion` that moves through::

    staged ──► validated ──► published
       │  ▲        │
       ▼  │        ▼
      rejected ◄───┘          (a rejected version may be validated again once its suite is fixed)

Published versions are immutable; the dataset's *current* version is the one served, and an older
published version can be made current again. Every status change is a :class:`VersionTransition`
recording who and when.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal

import pyarrow as pa
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship

from datacommons import acts
from datacommons.db import Base, utcnow
from datacommons.errors import Conflict, InvalidInput, NotFound, validated_by
from datacommons.storage import ParquetStore, StoredFile

Access = Literal["open", "private"]
#: The EU data themes (Publications Office authority table): the export points to their IRIs.
Theme = Literal[
    "AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI", "SOCI", "TECH", "TRAN"
]
Status = Literal["staged", "validated", "rejected", "published"]
STATUSES: tuple[Status, ...] = ("staged", "validated", "rejected", "published")

#: Which status changes are allowed (publishing and rollback go through :func:`publish`).
TRANSITIONS: dict[str, frozenset[str]] = {
    "staged": frozenset({"validated", "rejected"}),
    "rejected": frozenset({"validated", "rejected"}),
    "validated": frozenset({"validated", "rejected", "published"}),
    "published": frozenset(),
}

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def check_slug(value: str) -> str:
    """Return ``value`` if it is a valid dataset id (lower-case letters, digits, inner hyphens)."""
    if not SLUG.match(value):
        raise InvalidInput(
            f"invalid dataset id {value!r}: use 1-64 lower-case letters, digits and inner hyphens"
        )
    return value


#: A dataset (or program) id in a pydantic model: validated like :func:`check_slug`.
Slug = Annotated[str, validated_by(check_slug)]


class Dataset(Base):
    """A dataset of the catalog, described in Italian and English."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_it: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_it: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str] = mapped_column(String(16))
    publisher: Mapped[str] = mapped_column(String(200))
    access: Mapped[str] = mapped_column(String(16))
    geography: Mapped[str] = mapped_column(String(32))
    licence: Mapped[str] = mapped_column(String(300))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    frequency: Mapped[str] = mapped_column(String(32), default="IRREG")
    schema_spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", use_alter=True, name="fk_datasets_current_version")
    )

    current_version: Mapped[DatasetVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True, lazy="joined"
    )
    policy: Mapped[AccessPolicy | None] = relationship(back_populates="dataset", lazy="selectin")


class DatasetVersion(Base):
    """One immutable load of a dataset's data: a Parquet file in the store plus its provenance."""

    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "content_hash", name="uq_dataset_versions_hash"),
        UniqueConstraint("dataset_id", "number", name="uq_dataset_versions_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    arrow_schema: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="staged", index=True)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class VersionTransition(Base):
    """A recorded status change of a version: from, to, who, when, why."""

    __tablename__ = "version_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class AccessPolicy(Base):
    """How a private dataset may be queried: privacy unit, contribution bound, dimensions, budgets."""

    __tablename__ = "access_policies"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    privacy_unit: Mapped[str] = mapped_column(String(100))
    max_rows_per_unit: Mapped[int] = mapped_column(Integer)
    public_dimensions: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    epsilon_total: Mapped[float] = mapped_column(default=10.0)
    epsilon_per_organisation: Mapped[float] = mapped_column(default=3.0)
    epsilon_per_query: Mapped[float] = mapped_column(default=1.0)

    dataset: Mapped[Dataset] = relationship(back_populates="policy")


ColumnType = Literal["string", "integer", "float", "boolean", "date"]
ColumnRole = Literal["key", "privacy_unit", "dimension", "time", "measure", "attribute"]


class ColumnSpec(BaseModel):
    """One declared column: its type, its role and the rules its values follow."""

    name: str = Field(min_length=1, max_length=100)
    type: ColumnType
    role: ColumnRole = "attribute"
    nullable: bool = True
    unique: bool = False
    codes: list[str] | None = Field(None, description="The allowed values (a closed code list)")
    code_list: str | None = Field(
        None, description="A named reference code list, e.g. 'comuni-ITC11' or 'nuts'"
    )
    min: float | None = None
    max: float | None = None
    description: str = ""


class SchemaSpec(BaseModel):
    """The declared schema of a dataset: what its versions must look like to pass the quality gate."""

    columns: list[ColumnSpec]
    keys: list[str] = Field(default_factory=list, description="Columns that together are unique")
    expectations: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Dataset-specific Great Expectations expectations: {'type': ..., 'kwargs': {...}}",
    )

    def column(self, name: str) -> ColumnSpec | None:
        """The spec of column ``name``, if declared."""
        return next((c for c in self.columns if c.name == name), None)


class DatasetMeta(BaseModel):
    """What describes a dataset, as given by a connector, the demo or an administrator."""

    id: Slug
    title_it: str = Field(min_length=1, max_length=300)
    title_en: str = Field(min_length=1, max_length=300)
    description_it: str = ""
    description_en: str = ""
    theme: Theme = Field("SOCI", description="EU data-theme code (SOCI, ECON, GOVE, REGI, ...)")
    publisher: str = Field(min_length=1, max_length=200)
    access: Access = "open"
    geography: str = Field("ITC11", description="NUTS or ISTAT code of the area covered")
    licence: str = "https://creativecommons.org/licenses/by/4.0/"
    keywords: list[str] = Field(default_factory=list)
    frequency: str = Field(
        "IRREG", pattern=r"^[A-Z0-9_]{1,20}$", description="EU frequency code (ANNUAL, QUARTERLY, IRREG, ...)"
    )
    schema_spec: SchemaSpec | None = None


class PolicySpec(BaseModel):
    """An access policy, as declared for a private dataset."""

    privacy_unit: str
    max_rows_per_unit: int = Field(ge=1, le=1000)
    public_dimensions: dict[str, list[str]]
    epsilon_total: float = Field(10.0, gt=0)
    epsilon_per_organisation: float = Field(3.0, gt=0)
    epsilon_per_query: float = Field(1.0, gt=0)

    @field_validator("public_dimensions")
    @classmethod
    def _keys_once(cls, dims: dict[str, list[str]]) -> dict[str, list[str]]:
        # A key listed twice would make every query grouped on it answer that cell twice, each copy
        # with its own noise, and averaging copies undoes the noise.
        for column, keys in dims.items():
            repeated = sorted(k for k, n in Counter(keys).items() if n > 1)
            if repeated:
                raise ValueError(f"{column}: key {repeated[0]!r} is listed more than once")
        return dims


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
