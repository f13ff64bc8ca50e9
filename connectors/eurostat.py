"""Eurostat: regional labour-market and social-inclusion indicators over SDMX 2.1 REST (SDMX-CSV 1.0).

Each flow becomes the open dataset ``eurostat-<flow>`` (``lfst_r_lfu3rt`` → ``eurostat-lfst-r-lfu3rt``),
filtered to Italy and Piedmont (``geo`` IT, ITC1). Before downloading a flow, the connector reads the
flow's ``UPDATE_DATA`` annotation; when it equals the ``upstream_last_update`` of the dataset's newest
version, the flow is not fetched again.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import Connector, ConnectorConfig, Fetched, Parsed, Source, dataset_slug
from connectors.http import SourceRejected, SourceUnavailable
from connectors.sdmx import SdmxData, parse_last_update, read_fetched, tidy_columns
from datacommons.errors import InvalidInput
from datacommons.specs import ColumnSpec, DatasetMeta, SchemaSpec

BASE_URL = "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1"
LICENCE = "https://creativecommons.org/licenses/by/4.0/"


@dataclass(frozen=True)
class Flow:
    """What we know of a Eurostat flow: its dimensions in key order and its titles."""

    dimensions: tuple[str, ...]
    title_it: str
    title_en: str
    unit: str = "PC"


FLOWS: dict[str, Flow] = {
    "lfst_r_lfu3rt": Flow(
        ("freq", "isced11", "sex", "age", "unit", "geo"),
        "Tasso di disoccupazione per regione NUTS 2 (Italia, Piemonte)",
        "Unemployment rate by NUTS 2 region (Italy, Piedmont)",
    ),
    "lfst_r_lfe2emprt": Flow(
        ("freq", "sex", "age", "unit", "geo"),
        "Tasso di occupazione per regione NUTS 2 (Italia, Piemonte)",
        "Employment rate by NUTS 2 region (Italy, Piedmont)",
    ),
    "ilc_peps11n": Flow(
        ("freq", "unit", "geo"),
        "Persone a rischio di povertà o esclusione sociale (Italia, Piemonte)",
        "People at risk of poverty or social exclusion (Italy, Piedmont)",
    ),
    "edat_lfse_22": Flow(
        ("freq", "training", "wstatus", "sex", "age", "unit", "geo"),
        "Giovani che non lavorano e non studiano (NEET) (Italia, Piemonte)",
        "Young people neither in employment nor in education and training (NEET) (Italy, Piedmont)",
    ),
}
DEFAULT_FLOWS = list(FLOWS)


class EurostatConfig(ConnectorConfig):
    """Which flows, for which areas, from when."""

    flows: list[str] = DEFAULT_FLOWS
    geo: list[str] = ["IT", "ITC1"]
    start_period: str | None = None
    key: str | None = None
    base_url: str = BASE_URL


def dataset_id(flow: str) -> str:
    """The dataset id of a Eurostat flow."""
    return dataset_slug(flow, prefix="eurostat-")


def flow_key(flow: str, geo: list[str]) -> str:
    """The SDMX 2.1 series key: every dimension open except ``geo`` (``all`` for an unknown flow,
    whose rows are then filtered here)."""
    if flow not in FLOWS:
        return "all"
    return ".".join("+".join(geo) if d == "geo" else "" for d in FLOWS[flow].dimensions)


def meta_for(flow: str, data: SdmxData) -> DatasetMeta:
    """The dataset description of a flow, with its declared schema."""
    known = FLOWS.get(flow)
    title_it = known.title_it if known else f"Eurostat {flow}"
    title_en = known.title_en if known else f"Eurostat {flow}"
    columns = tidy_columns(
        data,
        area="geo",
        area_rules={"codes": ["IT"], "code_list": "comuni-italia:nuts2"},
        time_description="Reference period (year, or year-quarter)",
        value=ColumnSpec(
            name="value",
            type="float",
            role="measure",
            nullable=True,
            min=0,
            description="Observed value; null where Eurostat publishes ':'",
        ),
        flag_description="Eurostat observation flag (b break, p provisional, u low reliability, ...)",
    )
    return DatasetMeta(
        id=dataset_id(flow),
        title_it=title_it,
        title_en=title_en,
        description_it=f"Eurostat, flusso {flow} (SDMX 2.1), filtrato a Italia e Piemonte (ITC1).",
        description_en=f"Eurostat dataflow {flow} (SDMX 2.1), filtered to Italy and Piedmont (ITC1).",
        theme="SOCI",
        publisher="Eurostat",
        access="open",
        geography="ITC1",
        licence=LICENCE,
        keywords=["Eurostat", flow, "Piemonte", "Piedmont", "labour market", "lavoro"],
        frequency="ANNUAL",
        schema_spec=SchemaSpec(columns=columns, keys=[*data.dimensions, "time"]),
    )


class EurostatConnector(Connector[EurostatConfig]):
    """Eurostat SDMX 2.1 REST, SDMX-CSV 1.0."""

    name = "eurostat"
    version = "1"
    config_type = EurostatConfig
    summary = "Eurostat regional indicators (SDMX 2.1, SDMX-CSV) for Italy and Piedmont"
    unchanged_reason = "Eurostat last update {last_update} unchanged; not downloaded"

    def data_url(self, flow: str) -> str:
        """The URL of a flow's observations for the configured areas."""
        key = self.config.key or flow_key(flow, self.config.geo)
        return f"{self.config.base_url}/data/{flow.upper()}/{key}"

    def data_params(self) -> dict[str, str]:
        """Query parameters of a data request."""
        params = {"format": "SDMX-CSV"}
        if self.config.start_period:
            params["startPeriod"] = self.config.start_period
        return params

    def upstream_update(self, flow: str) -> str | None:
        """The flow's ``UPDATE_DATA`` annotation (ISO), or None when it cannot be read."""
        url = f"{self.config.base_url}/dataflow/ESTAT/{flow.upper()}"
        try:
            body, _ = self.context.http.get_bytes(url, source=f"eurostat {flow}")
            root = ET.fromstring(body)
        except (SourceUnavailable, SourceRejected, ET.ParseError):
            return None  # no metadata: fetch the data and let the content hash decide
        for annotation in root.iter():
            if not annotation.tag.endswith("}Annotation"):
                continue
            kind = next((c.text for c in annotation if c.tag.endswith("}AnnotationType")), None)
            title = next((c.text for c in annotation if c.tag.endswith("}AnnotationTitle")), None)
            if kind == "UPDATE_DATA":
                return parse_last_update(title)
        return None

    def sources(self) -> Iterator[Source]:
        """Each configured flow, skipped when its ``UPDATE_DATA`` is the newest version's."""
        for raw_flow in self.config.flows:
            flow = raw_flow.strip().lower()
            yield Source(
                dataset_id=dataset_id(flow),
                url=self.data_url(flow),
                source=f"eurostat {flow}",
                params=self.data_params(),
                last_update=partial(self.upstream_update, flow),
                ref=flow,
            )

    def parse(self, fetched: Fetched) -> Iterator[Parsed]:
        """A flow's SDMX-CSV answer (or the one SDMX-CSV file given) as a tidy dataset."""
        yield self._parsed(*read_fetched(self, fetched))

    def _parsed(self, flow: str, data: SdmxData) -> Parsed:
        table = data.table
        if "geo" in table.column_names:  # whatever the key asked for, keep the configured areas
            table = table.filter(pc.is_in(table["geo"], pa.array(self.config.geo)))
        if table.num_rows == 0:
            raise InvalidInput(f"eurostat {flow}: no observation for geo {','.join(self.config.geo)}")
        return Parsed(
            meta=meta_for(flow, data),
            table=table,
            upstream_last_update=data.last_update,
            extra={"dataflow": data.dataflow, "attribution": "Source: Eurostat"},
        )
