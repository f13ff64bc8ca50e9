"""The connector registry: built-ins, and plug-ins through the entry-point group."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pyarrow as pa
import pytest

from connectors import catalogue
from connectors.base import Connector, ConnectorConfig, Load, Unchanged
from datacommons.errors import InvalidInput
from datacommons.specs import DatasetMeta


class GreetingConfig(ConnectorConfig):
    """How many greetings."""

    count: int = 2
    words: list[str] = ["ciao"]


class GreetingConnector(Connector[GreetingConfig]):
    """A third-party connector, as a plug-in package would ship it."""

    name = "greetings"
    version = "0.1"
    config_type = GreetingConfig
    accepts_file = False

    def extract(self, *, file: Path | None) -> Iterator[Load | Unchanged]:
        table = pa.table(
            {
                "n": list(range(self.config.count)),
                "word": [self.config.words[i % len(self.config.words)] for i in range(self.config.count)],
            }
        )
        yield Load(
            meta=DatasetMeta(id="greetings", title_it="Saluti", title_en="Greetings", publisher="Plug-in"),
            table=table,
            provenance=self.provenance(source_url="urn:greetings", retrieved_at="now", sha256="0" * 64),
        )


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(
        name="greetings",
        group=catalogue.ENTRY_POINT_GROUP,
        value="tests.connectors.test_catalogue:GreetingConnector",
    )
    monkeypatch.setattr(
        catalogue, "entry_points", lambda group: [point] if group == catalogue.ENTRY_POINT_GROUP else []
    )


def test_builtins_are_listed_in_one_registry() -> None:
    assert sorted(catalogue.BUILTINS) == ["ckan", "eurostat", "file", "istat", "istat-comuni", "plan2030"]
    assert all(issubclass(c, Connector) and c.__doc__ for c in catalogue.BUILTINS.values())


def test_a_plugin_connector_is_found_and_ingests(plugin, run, store) -> None:  # type: ignore[no-untyped-def]
    assert catalogue.get_connector("greetings") is GreetingConnector
    result = run("greetings", params={"count": "3", "words": "ciao,salve"})
    assert [(s.dataset_id, s.rows) for s in result.staged] == [("greetings", 3)]
    table = store.read_table(result.staged[0].content_hash)
    assert table.to_pydict() == {"n": [0, 1, 2], "word": ["ciao", "salve", "ciao"]}
    with pytest.raises(InvalidInput, match="connector greetings does not take a file"):
        run("greetings", file=Path(__file__))


def test_a_plugin_that_is_not_a_connector_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="bad", group=catalogue.ENTRY_POINT_GROUP, value="json:loads")
    monkeypatch.setattr(catalogue, "entry_points", lambda group: [point])
    with pytest.raises(InvalidInput, match="entry point bad = json:loads is not a Connector class"):
        catalogue.available()


def test_every_builtin_has_a_docs_page_listing_its_parameters() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "connectors"
    for name, cls in catalogue.BUILTINS.items():
        page = (docs / f"{name}.md").read_text()
        assert page.startswith(f"# `{name}`"), name
        for field, info in cls.config_type.model_fields.items():
            assert f"`{info.alias or field}`" in page, (name, field)
        assert "## Example" in page and f"datacommons ingest {name}" in page
