"""CKAN: a CSV or XLSX resource of any CKAN portal (dati.gov.it, AperTO, dati.piemonte.it, ...).

The connector finds the package (``package_show`` by name or id, or the first hit of ``package_search``),
picks its resource (the one named, or the first CSV or XLSX), downloads it and infers column types.
A resource whose ``last_modified`` equals the newest version's is not downloaded again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.base import Connector, ConnectorConfig, Fetched, Parsed, Source, dataset_slug
from connectors.tabular import Delimiter, Encoding, infer_types, read_table
from datacommons.errors import InvalidInput
from datacommons.specs import ColumnSpec, DatasetMeta, SchemaSpec

BASE_URL = "https://www.dati.gov.it/opendata"
FORMATS = ("csv", "xlsx")


class CkanConfig(ConnectorConfig):
    """Which portal, which package (by name/id or by search), which resource, and how to read it."""

    base_url: str = BASE_URL
    package: str | None = None
    query: str | None = None
    resource: str | None = None
    dataset: str | None = None
    title_it: str | None = None
    title_en: str | None = None
    geography: str = "ITC11"
    encoding: Encoding = "utf-8"
    delimiter: Delimiter | None = None


def snake(name: str) -> str:
    """A column header as a tidy column name (``Numero Occupati (2023)`` → ``numero_occupati_2023``)."""
    text = re.sub(r"[^0-9a-zA-Z]+", "_", name.strip().lower()).strip("_")
    return text or "column"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def schema_of(table: pa.Table) -> SchemaSpec:
    """A declared schema from the inferred types: numbers are measures, text are dimensions."""
    columns = []
    for field in table.schema:
        if pa.types.is_integer(field.type):
            kind, role = "integer", "measure"
        elif pa.types.is_floating(field.type):
            kind, role = "float", "measure"
        else:
            kind, role = "string", "dimension"
        columns.append(ColumnSpec(name=field.name, type=kind, role=role, nullable=True))
    return SchemaSpec(columns=columns)


class CkanConnector(Connector[CkanConfig]):
    """Any CKAN action API: package_search, package_show, CSV or XLSX resource download."""

    name = "ckan"
    version = "1"
    config_type = CkanConfig
    summary = "A CSV or XLSX resource from any CKAN portal (e.g. dati.gov.it)"
    unchanged_reason = "CKAN resource last modified {last_update} unchanged; not downloaded"

    def action_url(self, action: str) -> str:
        """The URL of a CKAN action."""
        return f"{self.config.base_url.rstrip('/')}/api/3/action/{action}"

    def _action(self, action: str, params: dict[str, str]) -> Any:
        body, _ = self.context.http.get_bytes(self.action_url(action), source=f"ckan {action}", params=params)
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise InvalidInput(f"ckan {action}: the portal did not answer JSON (an HTML page?)") from exc
        if not isinstance(answer, dict) or not answer.get("success"):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise InvalidInput(f"ckan {action}: the portal refused: {error or 'no result'}")
        return answer["result"]

    def find_package(self) -> dict[str, Any]:
        """The package named by ``package``, or the first hit of ``query``."""
        if self.config.package:
            return dict(self._action("package_show", {"id": self.config.package}))
        if self.config.query:
            result = self._action("package_search", {"q": self.config.query, "rows": "1"})
            if not result.get("results"):
                raise InvalidInput(
                    f"ckan: no package matches {self.config.query!r} on {self.config.base_url}"
                )
            return dict(result["results"][0])
        raise InvalidInput("ckan: give --param package=NAME or --param query=TEXT")

    def pick_resource(self, package: dict[str, Any]) -> dict[str, Any]:
        """The resource named by ``resource``, or the package's first CSV or XLSX."""
        resources = package.get("resources") or []
        if self.config.resource:
            for res in resources:
                if self.config.resource in (res.get("id"), res.get("name")):
                    return dict(res)
            raise InvalidInput(
                f"ckan: package {package.get('name')} has no resource {self.config.resource!r}"
            )
        for res in resources:
            if str(res.get("format", "")).lower().lstrip(".") in FORMATS:
                return dict(res)
        formats = sorted({str(r.get("format", "?")) for r in resources})
        raise InvalidInput(
            f"ckan: package {package.get('name')} has no CSV or XLSX resource "
            f"(formats: {', '.join(formats) or 'none'})"
        )

    def meta_for(self, package: dict[str, Any] | None, table: pa.Table) -> DatasetMeta:
        """The dataset description from the package's metadata and the configuration."""
        package = package or {}
        name = package.get("name") or self.config.package
        if not (self.config.dataset or name):
            raise InvalidInput("ckan: give --param dataset=ID for a file without a package")
        title = package.get("title") or name or self.config.dataset
        organisation = (package.get("organization") or {}).get("title")
        return DatasetMeta(
            id=self.config.dataset or dataset_slug(str(name), prefix="ckan-"),
            title_it=self.config.title_it or str(title),
            title_en=self.config.title_en or str(title),
            description_it=str(package.get("notes") or ""),
            description_en=str(package.get("notes") or ""),
            theme="SOCI",
            publisher=str(organisation or package.get("author") or "CKAN portal"),
            access="open",
            geography=self.config.geography,
            licence=str(
                package.get("license_url")
                or package.get("license_title")
                or "https://creativecommons.org/licenses/by/4.0/"
            ),
            keywords=[str(t.get("name")) for t in package.get("tags") or [] if t.get("name")],
            schema_spec=schema_of(table),
        )

    def _table(self, path: Path, source: str, fmt: str | None) -> pa.Table:
        table = read_table(
            path, source=source, fmt=fmt, encoding=self.config.encoding, delimiter=self.config.delimiter
        )
        table = table.rename_columns(_unique([snake(c) for c in table.column_names]))
        return infer_types(table)

    def sources(self) -> Iterator[Source]:
        """The chosen resource of the package (not downloaded again while its ``last_modified`` holds)."""
        package = self.find_package()
        resource = self.pick_resource(package)
        url = str(resource.get("url") or "")
        if not url:
            raise InvalidInput(f"ckan: resource {resource.get('id')} has no download URL")
        yield Source(
            dataset_id=self.config.dataset or dataset_slug(str(package.get("name")), prefix="ckan-"),
            url=url,
            source=f"ckan {package.get('name')}",
            last_update=(
                resource.get("last_modified")
                or resource.get("metadata_modified")
                or package.get("metadata_modified")
            ),
            same_url=True,
            extra={
                "portal": self.config.base_url,
                "package": package.get("name"),
                "resource_id": resource.get("id"),
            },
            ref=(package, resource),
        )

    def parse(self, fetched: Fetched) -> Iterator[Parsed]:
        """The resource as one dataset (or the given file, described by the package if one is named)."""
        source = fetched.source
        if source is None:
            package = self.find_package() if (self.config.package or self.config.query) else None
            table = self._table(fetched.path, fetched.name, None)
        else:
            package, resource = source.ref
            fmt = str(resource.get("format", "")).lower().lstrip(".")
            table = self._table(
                fetched.path, f"{source.source} ({source.url})", fmt if fmt in FORMATS else None
            )
        yield Parsed(meta=self.meta_for(package, table), table=table)
