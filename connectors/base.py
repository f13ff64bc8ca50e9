"""The connector plug-in interface: a small base class of typed, documented hooks.

A connector turns a source (a web API, a portal, a donated file) into one or more :class:`Load` —
an Arrow table, the description of the dataset it belongs to, its provenance and, for private
microdata, its access policy. The ingest service (:mod:`connectors.ingest`) stages each load as a
dataset version; a connector never touches the registry itself.

Writing one::

    class MyConfig(ConnectorConfig):
        url: str = "https://example.org/data.csv"

    class MyConnector(Connector[MyConfig]):
        name = "my-source"
        version = "1"
        config_type = MyConfig

        def extract(self, *, file: Path | None) -> Iterator[Load | Unchanged]:
            raw = file or self.context.http.download(self.config.url, ...).path
            yield Load(meta=..., table=..., provenance=self.provenance(...))

Built-ins are listed in :mod:`connectors.catalogue`; third-party packages add theirs through the
entry-point group ``datacommons.connectors`` (``name = "package.module:ConnectorClass"``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, model_validator

from connectors.http import HttpClient
from connectors.progress import NullProgress, Progress
from datacommons.errors import InvalidInput
from datacommons.specs import DatasetMeta, PolicySpec
from datacommons.storage import file_sha256


class ConnectorConfig(BaseModel):
    """Base of every connector's configuration: keyword-only, typed, unknown keys refused.

    Values given on the command line arrive as strings; list fields accept ``a,b,c``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _split_lists(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, info in cls.model_fields.items():
            value = out.get(name)
            if isinstance(value, str) and _is_list(info.annotation):
                out[name] = [part.strip() for part in value.split(",") if part.strip()]
        return out


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (list, tuple):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in get_args(annotation))
    return False


@dataclass(frozen=True)
class Provenance:
    """Where a load came from: stored with the version it becomes."""

    connector: str
    connector_version: str
    source_url: str
    retrieved_at: str
    sha256: str
    upstream_last_update: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form recorded on the dataset version."""
        return {
            "connector": self.connector,
            "connector_version": self.connector_version,
            "source_url": self.source_url,
            "retrieved_at": self.retrieved_at,
            "upstream_last_update": self.upstream_last_update,
            "sha256": self.sha256,
            "params": self.params,
            **self.extra,
        }


@dataclass(frozen=True)
class Load:
    """One dataset's worth of data produced by a connector."""

    meta: DatasetMeta
    table: pa.Table
    provenance: Provenance
    policy: PolicySpec | None = None


@dataclass(frozen=True)
class Unchanged:
    """A dataset the connector did not fetch again because its source has not changed."""

    dataset_id: str
    reason: str


@dataclass
class Context:
    """What the ingest service hands a connector: HTTP, progress, scratch space, the latest load."""

    http: HttpClient
    work_dir: Path
    progress: Progress = field(default_factory=NullProgress)
    latest_provenance: Callable[[str], dict[str, Any] | None] = lambda _dataset_id: None


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


class Connector(Generic[ConfigT]):
    """Base class of connectors. Subclasses set the class attributes and implement :meth:`extract`."""

    #: The name used on the command line and in the API (``datacommons ingest NAME``).
    name: ClassVar[str]
    #: Bumped whenever the connector's output for the same input changes.
    version: ClassVar[str] = "1"
    #: The typed configuration (``--param k=v`` / the API's ``params``).
    config_type: ClassVar[type[ConnectorConfig]] = ConnectorConfig
    #: One line for ``--help`` and the API.
    summary: ClassVar[str] = ""
    #: Whether ``--file`` is accepted, and whether it is required.
    accepts_file: ClassVar[bool] = True
    requires_file: ClassVar[bool] = False

    def __init__(self, config: ConfigT, *, context: Context) -> None:
        self.config = config
        self.context = context

    def extract(self, *, file: Path | None) -> Iterator[Load | Unchanged]:
        """Yield a :class:`Load` per dataset (or :class:`Unchanged` when its source has not changed).

        ``file`` is a local copy of the source given by the user (``--file``) instead of a download.
        Raise :class:`~datacommons.errors.InvalidInput` naming the file, row or column for bad input:
        nothing is staged unless every load of one run is good.
        """
        raise NotImplementedError

    def provenance(
        self,
        *,
        source_url: str,
        retrieved_at: str,
        sha256: str,
        upstream_last_update: str | None = None,
        **extra: Any,
    ) -> Provenance:
        """Provenance for a load by this connector with its configuration."""
        return Provenance(
            connector=self.name,
            connector_version=self.version,
            source_url=source_url,
            retrieved_at=retrieved_at,
            sha256=sha256,
            upstream_last_update=upstream_last_update,
            params=self.config.model_dump(mode="json", exclude_defaults=True, by_alias=True),
            extra=extra,
        )

    def converting(self, what: str) -> AbstractContextManager[Callable[[int], None]]:
        """A progress spinner while ``what`` is parsed and converted (in a terminal only)."""
        return self.context.progress.task(f"{what}: convert", total=None)

    def local_source(self, file: Path) -> tuple[str, str, str]:
        """``(source_url, retrieved_at, sha256)`` for a local file given with ``--file``."""
        return (file.resolve().as_uri(), now_iso(), file_sha256(file))


def now_iso() -> str:
    """The current instant as an ISO 8601 string (seconds, UTC)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")


def sniff(path: Path, *, source: str | None = None) -> bytes:
    """Refuse the inputs no parser should see: a missing or empty file, an HTML page.

    Returns the first bytes of the file (for format checks by the caller).
    """
    name = source or path.name
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot read the file ({exc.strerror})") from exc
    if not head.strip():
        raise InvalidInput(f"{name}: the file is empty")
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith(HTML_MARKERS) or (lowered.startswith(b"<?xml") and b"<html" in lowered):
        raise InvalidInput(f"{name}: got an HTML page instead of data (an error page from the source?)")
    return head


def dataset_slug(text: str, *, prefix: str = "") -> str:
    """A dataset id from a source's name: lower case, ``_`` and spaces as hyphens."""
    slug = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return f"{prefix}{slug}"[:64].strip("-")


def line_number(path: Path, text: str, *, encoding: str = "utf-8") -> int | None:
    """The 1-based number of the line of ``path`` that reads exactly ``text`` (slow; for errors)."""
    wanted = text.encode(encoding, "replace").rstrip(b"\r\n")
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.rstrip(b"\r\n") == wanted:
                return number
    return None
