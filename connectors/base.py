"""The connector plug-in interface: a small base class of typed, documented hooks.

A connector turns a source (a web API, a portal, a donated file) into one or more :class:`Load` —
an Arrow table, the description of the dataset it belongs to, its provenance and, for private
microdata, its access policy. The ingest service (:mod:`connectors.ingest`) stages each load as a
dataset version; a connector never touches the registry itself.

A connector says *what* to fetch (:meth:`Connector.sources`, one :class:`Source` per download) and
*how to read* a local copy (:meth:`Connector.parse`, :class:`Parsed` tables); the base class's
:meth:`Connector.extract` does the rest: ``--file`` or download, the "unchanged" check against the
newest version, the progress bar and the provenance. Writing one::

    class MyConfig(ConnectorConfig):
        url: str = "https://example.org/data.csv"

    class MyConnector(Connector[MyConfig]):
        name = "my-source"
        version = "1"
        config_type = MyConfig

        def sources(self) -> Iterator[Source]:
            yield Source(dataset_id="my-data", url=self.config.url, source=self.name)

        def parse(self, fetched: Fetched) -> Iterator[Parsed]:
            table = infer_types(read_table(fetched.path, source=fetched.name))
            yield Parsed(meta=DatasetMeta(id="my-data", ...), table=table)

A connector whose data does not come from one file or download per source (generated, or read from
several files) overrides :meth:`Connector.extract` instead and builds its provenance with
:meth:`Connector.provenance`.

Built-ins are listed in :mod:`connectors.catalogue`; third-party packages add theirs through the
entry-point group ``datacommons.connectors`` (``name = "package.module:ConnectorClass"``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, model_validator

from connectors.http import Download, HttpClient
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


@dataclass(frozen=True)
class Source:
    """One thing a connector downloads when no ``--file`` is given, and what the download becomes.

    :meth:`Connector.extract` skips it when its upstream last update equals the newest version's
    ``upstream_last_update`` (an :class:`Unchanged`), else downloads it, hands the local copy to
    :meth:`Connector.parse` and records its provenance.
    """

    #: The dataset it becomes (the first, when it is parsed into several): the unchanged check
    #: compares with this dataset's newest version.
    dataset_id: str
    #: What to GET, with its query parameters and request headers.
    url: str
    #: How errors and the progress bar name it (``eurostat lfst_r_lfu3rt``).
    source: str
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
    #: The upstream's last update, for the unchanged check: a value (also recorded as
    #: ``upstream_last_update``), or a callable that finds it cheaply (a metadata call), called only
    #: when the newest version recorded one and not recorded itself (parse records what the data
    #: says). None: no check, always download.
    last_update: str | Callable[[], str | None] | None = None
    #: The unchanged check also needs the newest version's ``source_url`` to be ``url``; ``url`` is
    #: then recorded as ``source_url`` (not the download's final URL, which a redirect may change).
    same_url: bool = False
    #: The response header recorded as ``upstream_last_update`` when nothing else gives one.
    last_update_header: str | None = None
    #: Extra provenance keys of every load of this source.
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: Whatever :meth:`Connector.parse` needs to know of it (a flow id, a CKAN package and resource).
    ref: Any = None


@dataclass(frozen=True)
class Fetched:
    """A local copy for :meth:`Connector.parse`: the file given with ``--file``, or a download."""

    path: Path
    #: The file's URI, or the URL the download came from (after redirects).
    url: str
    #: The source downloaded; None for ``--file``.
    source: Source | None = None
    #: The download's response headers (none for ``--file``).
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """How errors name it: the file's name, or the source's label."""
        return self.path.name if self.source is None else self.source.source


@dataclass(frozen=True)
class Parsed:
    """One dataset read by :meth:`Connector.parse`: a :class:`Load` whose provenance the base class fills."""

    meta: DatasetMeta
    table: pa.Table
    policy: PolicySpec | None = None
    #: What the data itself says of its last update (SDMX's ``LAST UPDATE``): recorded first.
    upstream_last_update: str | None = None
    #: The ``source_url`` to record instead of the file's URI or the download's URL.
    source_url: str | None = None
    #: Extra provenance keys (after the source's).
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What the ingest service hands a connector: HTTP, progress, scratch space, the latest load."""

    http: HttpClient
    work_dir: Path
    progress: Progress = field(default_factory=NullProgress)
    latest_provenance: Callable[[str], dict[str, Any] | None] = lambda _dataset_id: None


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


class Connector(Generic[ConfigT]):
    """Base class of connectors. Subclasses set the class attributes and implement :meth:`sources`
    (what to download) and :meth:`parse` (how to read a local copy), or override :meth:`extract`."""

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
    #: The reason of an :class:`Unchanged` (``{source}``: the source's label, ``{last_update}``).
    unchanged_reason: ClassVar[str] = "{source}: last update {last_update} unchanged; not downloaded"

    def __init__(self, config: ConfigT, *, context: Context) -> None:
        self.config = config
        self.context = context

    def sources(self) -> Iterator[Source]:
        """What to download when no ``--file`` is given, in the order the loads are to come.

        May look things up first (a portal's package); a connector that only reads files need not
        implement it.
        """
        raise InvalidInput(f"connector {self.name} needs a file (--file PATH)")

    def parse(self, fetched: Fetched) -> Iterator[Parsed]:
        """The dataset(s) in a local copy: the file given with ``--file`` (``fetched.source`` None)
        or the download of one of :meth:`sources`.

        Raise :class:`~datacommons.errors.InvalidInput` naming the file, row or column for bad input:
        nothing is staged unless every load of one run is good.
        """
        raise NotImplementedError(f"connector {self.name} does not implement parse()")

    def extract(self, *, file: Path | None) -> Iterator[Load | Unchanged]:
        """Yield a :class:`Load` per dataset (or :class:`Unchanged` when its source has not changed).

        ``file`` is a local copy of the source given by the user (``--file``) instead of a download:
        it is parsed and recorded as itself. Otherwise each of :meth:`sources` is skipped when
        unchanged (:meth:`unchanged`), or downloaded, parsed and recorded with its download.
        """
        if file is not None:
            parsed = list(self.parse(Fetched(path=file, url=file.resolve().as_uri())))
            url, retrieved, digest = self.local_source(file)
            for item in parsed:
                yield self._load(item, source_url=url, retrieved_at=retrieved, sha256=digest)
            return
        for source in self.sources():
            unchanged = self.unchanged(source)
            if unchanged is not None:
                yield unchanged
                continue
            download = self.context.http.download(
                source.url,
                source=source.source,
                params=source.params,
                headers=source.headers,
                dest_dir=self.context.work_dir,
                progress=self.context.progress,
            )
            fetched = Fetched(path=download.path, url=download.url, source=source, headers=download.headers)
            for item in self.parse(fetched):
                yield self._load(
                    item,
                    source_url=source.url if source.same_url else download.url,
                    retrieved_at=download.retrieved_at,
                    sha256=download.sha256,
                    source=source,
                    download=download,
                )

    def unchanged(self, source: Source) -> Unchanged | None:
        """An :class:`Unchanged` when the source's last update is the newest version's (and, with
        ``same_url``, its URL too); None when it is to be downloaded."""
        if source.last_update is None:
            return None
        latest = self.context.latest_provenance(source.dataset_id)
        if not latest or not latest.get("upstream_last_update"):
            return None
        if source.same_url and latest.get("source_url") != source.url:
            return None
        upstream = source.last_update() if callable(source.last_update) else source.last_update
        if not upstream or upstream != latest["upstream_last_update"]:
            return None
        return Unchanged(
            source.dataset_id, self.unchanged_reason.format(source=source.source, last_update=upstream)
        )

    def _load(
        self,
        item: Parsed,
        *,
        source_url: str,
        retrieved_at: str,
        sha256: str,
        source: Source | None = None,
        download: Download | None = None,
    ) -> Load:
        """The load of a parsed table, with its provenance."""
        upstream = item.upstream_last_update
        if upstream is None and source is not None and not callable(source.last_update):
            upstream = source.last_update
        if upstream is None and source is not None and source.last_update_header and download is not None:
            upstream = download.headers.get(source.last_update_header)
        return Load(
            meta=item.meta,
            table=item.table,
            policy=item.policy,
            provenance=self.provenance(
                source_url=item.source_url or source_url,
                retrieved_at=retrieved_at,
                sha256=sha256,
                upstream_last_update=upstream,
                **{**(source.extra if source is not None else {}), **item.extra},
            ),
        )

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
