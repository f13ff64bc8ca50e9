"""Redaction: an erased donor's records leave every version of the datasets that held them.

Versions are immutable, except that immutability yields to erasure (GDPR art. 17). When a donor is
erased, each version of each dataset that held their records is rewritten without them: the new
Parquet file names the file it replaces in its metadata (so two versions never collide), the version
points at it, the rewrite is recorded as a :class:`DatasetRedaction`, and the old file leaves the
store once the transaction has committed (:func:`drop_files`).

So that the next donation of the same file does not bring the person back, the erased unit is kept
as a digest of (dataset, pseudonym) in :class:`ErasedUnit`; staging drops matching rows
(:func:`without_erased`), and an organisation cannot give that pseudonym in that dataset to someone
else. The digest reveals only that some erased person had that pseudonym there, whose records are
gone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from datacommons.datasets import Dataset, DatasetVersion
from datacommons.db import Base, utcnow
from datacommons.storage import ParquetStore

#: The Parquet metadata key that names the file a redacted file replaces.
REDACTED_FROM = b"datacommons.redacted_from"


class DatasetRedaction(Base):
    """A version rewritten without an erased donor's records."""

    __tablename__ = "dataset_redactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(100))
    rows_removed: Mapped[int] = mapped_column(Integer)
    previous_hash: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))


class ErasedUnit(Base):
    """A privacy unit (pseudonym) of a dataset whose donor was erased, as a digest."""

    __tablename__ = "erased_units"

    dataset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)


def unit_digest(dataset_id: str, unit: str) -> str:
    """The digest an erased unit is kept as."""
    return hashlib.sha256(f"{dataset_id}\0{unit}".encode()).hexdigest()


def is_erased(session: Session, dataset_id: str, unit: str) -> bool:
    """Whether ``unit`` of ``dataset_id`` belonged to an erased donor."""
    return session.get(ErasedUnit, (dataset_id, unit_digest(dataset_id, unit))) is not None


def _digests(session: Session, dataset_id: str) -> set[str]:
    return set(session.scalars(select(ErasedUnit.digest).where(ErasedUnit.dataset_id == dataset_id)))


def _drop(table: pa.Table, dataset_id: str, column: str, digests: set[str]) -> tuple[pa.Table, int]:
    """``table`` without the rows whose ``column`` value digests into ``digests``."""
    if not digests or column not in table.column_names:
        return table, 0
    values = [v for v in pc.unique(table[column]).to_pylist() if v is not None]
    erased = [v for v in values if unit_digest(dataset_id, str(v)) in digests]
    if not erased:
        return table, 0
    kept = table.filter(pc.invert(pc.is_in(table[column], value_set=pa.array(erased))))
    return kept, table.num_rows - kept.num_rows


def _lock(session: Session, dataset_id: str) -> None:
    """Take the dataset row's write lock for this transaction (PostgreSQL; SQLite writers queue)."""
    session.execute(select(Dataset.id).where(Dataset.id == dataset_id).with_for_update())


def without_erased(session: Session, dataset: Dataset, table: pa.Table) -> tuple[pa.Table, int]:
    """``table`` without the rows of the dataset's erased units, and how many rows went.

    Locks the dataset's row first, as :func:`redact` does: a donation staged while a donor is erased
    either sees the erasure or is itself rewritten by it.
    """
    _lock(session, dataset.id)
    if dataset.policy is None:
        return table, 0
    return _drop(table, dataset.id, dataset.policy.privacy_unit, _digests(session, dataset.id))


@dataclass
class Redacted:
    """What a redaction did: rows removed per version, and the files to drop after commit."""

    rows_removed: int = 0
    versions: int = 0
    obsolete: list[str] = field(default_factory=list)


def redact(
    session: Session, store: ParquetStore, *, dataset_id: str, units: set[str], reason: str
) -> Redacted:
    """Record ``units`` of ``dataset_id`` as erased and rewrite every version holding their rows.

    Call in the erasure's transaction; after it commits, :func:`drop_files` the obsolete files.
    """
    done = Redacted()
    for unit in units:
        if not is_erased(session, dataset_id, unit):
            session.add(ErasedUnit(dataset_id=dataset_id, digest=unit_digest(dataset_id, unit)))
    session.flush()
    _lock(session, dataset_id)  # see without_erased
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or dataset.policy is None:
        return done
    column = dataset.policy.privacy_unit
    digests = _digests(session, dataset_id)
    versions = session.scalars(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id))
    for version in versions:
        if not store.exists(version.content_hash):
            continue
        kept, removed = _drop(store.read_table(version.content_hash), dataset_id, column, digests)
        if not removed:
            continue
        metadata = dict(kept.schema.metadata or {})
        metadata[REDACTED_FROM] = version.content_hash.encode()
        stored = store.write_table(kept.replace_schema_metadata(metadata))
        session.add(
            DatasetRedaction(
                version_id=version.id,
                reason=reason,
                rows_removed=removed,
                previous_hash=version.content_hash,
                content_hash=stored.content_hash,
            )
        )
        done.obsolete.append(version.content_hash)
        version.content_hash = stored.content_hash
        version.rows = stored.rows
        version.size_bytes = stored.size
        done.rows_removed += removed
        done.versions += 1
    session.flush()
    return done


def drop_files(store: ParquetStore, hashes: list[str]) -> None:
    """Remove replaced files, and whatever was derived from them, from the store."""
    for content_hash in hashes:
        store.path_for(content_hash).unlink(missing_ok=True)
        for derived in (store.root / "derived" / content_hash[:2]).glob(f"{content_hash}.*"):
            derived.unlink(missing_ok=True)
