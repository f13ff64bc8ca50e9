"""The base class's template: ``--file`` or download, the unchanged check, the provenance it fills.

A tiny connector declares one :class:`Source` and parses a CSV; everything else is the base class's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import Connector, ConnectorConfig, Context, Fetched, Load, Parsed, Source, Unchanged
from connectors.http import SourceRejected
from connectors.tabular import infer_types, read_table
from datacommons.errors import InvalidInput
from datacommons.specs import DatasetMeta
from tests.connectors.recorded import Recorded

URL = "https://example.org/tiny.csv"
ANSWERED = f"{URL}?format=csv"
BODY = b"area,value\nITC11,1\nITC1,2\n"
META = DatasetMeta(id="tiny", title_it="Piccolo", title_en="Tiny", publisher="Test")


class TinyConfig(ConnectorConfig):
    """One setting, to see it recorded in the provenance."""

    rows: int = 2


class Tiny(Connector[TinyConfig]):
    """One CSV: the source is given by each test, the parse records what it was handed."""

    name = "tiny"
    version = "2"
    config_type = TinyConfig

    def __init__(self, config: TinyConfig, *, context: Context, source: Source | None = None) -> None:
        super().__init__(config, context=context)
        self.source = source
        self.fetched: list[Fetched] = []

    def sources(self) -> Iterator[Source]:
        if self.source is None:
            return super().sources()
        return iter([self.source])

    def parse(self, fetched: Fetched) -> Iterator[Parsed]:
        self.fetched.append(fetched)
        table = infer_types(read_table(fetched.path, source=fetched.name))
        yield Parsed(meta=META, table=table, extra={"rows": table.num_rows})


def source(**kwargs: Any) -> Source:
    spec: dict[str, Any] = {
        "dataset_id": "tiny",
        "url": URL,
        "source": "tiny data",
        "params": {"format": "csv"},
        "headers": {"Accept": "text/csv"},
        "extra": {"portal": "example.org"},
    }
    return Source(**{**spec, **kwargs})


def tiny(
    tmp_path: Path,
    web: Recorded,
    spec: Source | None = None,
    *,
    latest: dict[str, dict[str, Any]] | None = None,
    config: TinyConfig | None = None,
) -> Tiny:
    context = Context(http=web.client(), work_dir=tmp_path / "work", latest_provenance=(latest or {}).get)
    return Tiny(config or TinyConfig(), context=context, source=spec)


def answer(**headers: str) -> httpx.Response:
    return httpx.Response(200, content=BODY, headers={"Content-Type": "text/csv", **headers})


def provenance(item: Load | Unchanged) -> dict[str, Any]:
    assert isinstance(item, Load)
    return item.provenance.as_dict()


def test_a_file_is_parsed_and_recorded_as_itself(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_bytes(BODY)
    web = Recorded()
    connector = tiny(tmp_path, web, source(last_update="2026-01-01"), config=TinyConfig(rows=3))
    items = list(connector.extract(file=path))
    assert web.urls == []  # a file is never a download
    assert [i.meta.id for i in items if isinstance(i, Load)] == ["tiny"]
    (fetched,) = connector.fetched
    assert (fetched.path, fetched.source, fetched.name, fetched.url) == (
        path,
        None,
        "tiny.csv",
        path.resolve().as_uri(),
    )
    prov = provenance(items[0])
    assert prov.pop("retrieved_at").endswith("+00:00")
    assert prov == {
        "connector": "tiny",
        "connector_version": "2",
        "source_url": path.resolve().as_uri(),
        "upstream_last_update": None,
        "sha256": hashlib.sha256(BODY).hexdigest(),
        "params": {"rows": 3},
        "rows": 2,  # the parse's extra keys, not the source's
    }


def test_a_download_is_parsed_and_recorded_with_its_download(tmp_path: Path) -> None:
    web = Recorded({ANSWERED: answer()})
    spec = source(last_update="2026-01-01")
    connector = tiny(tmp_path, web, spec)
    items = list(connector.extract(file=None))
    assert web.urls == [ANSWERED]
    assert web.requests[0].headers["Accept"] == "text/csv"
    (fetched,) = connector.fetched
    assert (fetched.source, fetched.name, fetched.url) == (spec, "tiny data", ANSWERED)
    assert fetched.path.parent == tmp_path / "work" and fetched.path.read_bytes() == BODY
    assert items[0].table.to_pydict() == {"area": ["ITC11", "ITC1"], "value": [1, 2]}  # type: ignore[union-attr]
    prov = provenance(items[0])
    assert prov.pop("retrieved_at").endswith("+00:00")
    assert prov == {
        "connector": "tiny",
        "connector_version": "2",
        "source_url": ANSWERED,
        "upstream_last_update": "2026-01-01",
        "sha256": hashlib.sha256(BODY).hexdigest(),
        "params": {},
        "portal": "example.org",  # the source's extra keys, then the parse's
        "rows": 2,
    }


def test_an_unchanged_last_update_is_not_downloaded(tmp_path: Path) -> None:
    web = Recorded({ANSWERED: answer()})
    latest = {"tiny": {"upstream_last_update": "2026-01-01", "source_url": "https://elsewhere.org/"}}
    connector = tiny(tmp_path, web, source(last_update="2026-01-01"), latest=latest)
    assert list(connector.extract(file=None)) == [
        Unchanged("tiny", "tiny data: last update 2026-01-01 unchanged; not downloaded")
    ]
    assert web.urls == [] and connector.fetched == []
    newer = tiny(tmp_path, web, source(last_update="2026-02-01"), latest=latest)
    assert provenance(next(newer.extract(file=None)))["upstream_last_update"] == "2026-02-01"
    assert web.urls == [ANSWERED]


def test_a_connectors_own_unchanged_reason(tmp_path: Path) -> None:
    class Terse(Tiny):
        unchanged_reason = "{source} still at {last_update}"

    latest = {"tiny": {"upstream_last_update": "2026-01-01"}}
    context = Context(http=Recorded().client(), work_dir=tmp_path, latest_provenance=latest.get)
    connector = Terse(TinyConfig(), context=context, source=source(last_update="2026-01-01"))
    assert [u.reason for u in connector.extract(file=None)] == ["tiny data still at 2026-01-01"]  # type: ignore[union-attr]


def test_a_last_update_callable_is_asked_only_when_the_newest_version_recorded_one(tmp_path: Path) -> None:
    asked: list[str] = []

    def metadata() -> str:
        asked.append("metadata")
        return "2026-01-01"

    web = Recorded({ANSWERED: answer()})
    first = list(tiny(tmp_path, web, source(last_update=metadata)).extract(file=None))
    assert asked == [] and web.urls == [ANSWERED]  # no version yet: nothing to compare with
    assert provenance(first[0])["upstream_last_update"] is None  # a callable is for the check only
    none_recorded = {"tiny": {"upstream_last_update": None}}
    list(tiny(tmp_path, web, source(last_update=metadata), latest=none_recorded).extract(file=None))
    assert asked == [] and web.urls == [ANSWERED] * 2
    recorded = {"tiny": {"upstream_last_update": "2026-01-01"}}
    again = list(tiny(tmp_path, web, source(last_update=metadata), latest=recorded).extract(file=None))
    assert asked == ["metadata"] and web.urls == [ANSWERED] * 2
    assert again == [Unchanged("tiny", "tiny data: last update 2026-01-01 unchanged; not downloaded")]


def test_without_a_last_update_a_source_is_always_downloaded(tmp_path: Path) -> None:
    web = Recorded({ANSWERED: answer()})
    latest = {"tiny": {"upstream_last_update": "2026-01-01", "source_url": ANSWERED}}
    items = list(tiny(tmp_path, web, source(), latest=latest).extract(file=None))
    assert web.urls == [ANSWERED] and isinstance(items[0], Load)


def test_same_url_compares_and_records_the_sources_url(tmp_path: Path) -> None:
    moved = "https://cdn.example.org/tiny-v2.csv"
    web = Recorded({URL: httpx.Response(302, headers={"Location": moved}), moved: answer()})
    spec = source(params=None, last_update="2026-01-01", same_url=True)
    elsewhere = {"tiny": {"upstream_last_update": "2026-01-01", "source_url": "https://old.example.org/"}}
    connector = tiny(tmp_path, web, spec, latest=elsewhere)
    items = list(connector.extract(file=None))
    assert web.urls == [URL, moved]  # same last update, another URL: downloaded
    assert connector.fetched[0].url == moved
    assert provenance(items[0])["source_url"] == URL  # what the check compares, not the redirect
    here = {"tiny": {"upstream_last_update": "2026-01-01", "source_url": URL}}
    assert [type(i) for i in tiny(tmp_path, web, spec, latest=here).extract(file=None)] == [Unchanged]


def test_a_response_header_as_the_upstream_last_update(tmp_path: Path) -> None:
    modified = "Tue, 02 Jun 2026 10:00:00 GMT"
    web = Recorded({ANSWERED: answer(**{"Last-Modified": modified})})
    items = list(tiny(tmp_path, web, source(last_update_header="last-modified")).extract(file=None))
    assert provenance(items[0])["upstream_last_update"] == modified

    class Dated(Tiny):
        def parse(self, fetched: Fetched) -> Iterator[Parsed]:
            for item in super().parse(fetched):
                yield Parsed(meta=item.meta, table=item.table, upstream_last_update="2026-05-22T11:00:00")

    context = Context(http=web.client(), work_dir=tmp_path)
    dated = Dated(TinyConfig(), context=context, source=source(last_update_header="last-modified"))
    assert provenance(next(dated.extract(file=None)))["upstream_last_update"] == "2026-05-22T11:00:00"


def test_a_failed_download_is_named_by_the_sources_label(tmp_path: Path) -> None:
    connector = tiny(tmp_path, Recorded(), source())
    with pytest.raises(SourceRejected, match=r"^tiny data: GET " + re.escape(ANSWERED) + " answered 404"):
        list(connector.extract(file=None))


def test_a_connector_without_sources_needs_a_file(tmp_path: Path) -> None:
    connector = tiny(tmp_path, Recorded())
    with pytest.raises(InvalidInput, match=r"^connector tiny needs a file \(--file PATH\)$"):
        list(connector.extract(file=None))
