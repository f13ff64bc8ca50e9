"""ISTAT: labour-market indicators for the Metropolitan City of Turin and Piedmont over SDMX REST.

The legacy endpoint ``http://sdmx.istat.it/SDMXWS/rest/data/{flow}/{key}`` answers SDMX-CSV 1.0 when
asked with ``Accept: application/vnd.sdmx.data+csv;version=1.0.0`` (the newer *esploradati* endpoint
is slow and mishandles ``endPeriod``). Each flow becomes the open dataset ``istat-<flow>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import Connector, ConnectorConfig, Fetched, Parsed, Source
from connectors.sdmx import SdmxData, read_fetched, tidy_columns
from datacommons.errors import InvalidInput
from datacommons.specs import ColumnSpec, DatasetMeta, SchemaSpec

BASE_URL = "http://sdmx.istat.it/SDMXWS/rest"
ACCEPT_CSV = "application/vnd.sdmx.data+csv;version=1.0.0"
LICENCE = "https://creativecommons.org/licenses/by/3.0/it/"


@dataclass(frozen=True)
class Flow:
    """What we know of an ISTAT flow: its dimensions in key order and its titles."""

    dimensions: tuple[str, ...]
    title_it: str
    title_en: str


FLOWS: dict[str, Flow] = {
    "151_914": Flow(
        (
            "FREQ",
            "REF_AREA",
            "DATA_TYPE",
            "SEX",
            "AGE",
            "EDU_LEV_HIGHEST",
            "CITIZENSHIP",
            "DURATION_UNEMPLOYMENT",
        ),
        "Tasso di disoccupazione (Città metropolitana di Torino, Piemonte)",
        "Unemployment rate (Metropolitan City of Turin, Piedmont)",
    ),
    "150_915": Flow(
        ("FREQ", "REF_AREA", "DATA_TYPE", "SEX", "AGE", "EDU_LEV_HIGHEST", "CITIZENSHIP"),
        "Tasso di occupazione (Città metropolitana di Torino, Piemonte)",
        "Employment rate (Metropolitan City of Turin, Piedmont)",
    ),
    "172_931": Flow(
        ("FREQ", "REF_AREA", "DATA_TYPE", "SEX", "AGE", "CITIZENSHIP"),
        "Giovani NEET (Città metropolitana di Torino, Piemonte)",
        "Young people not in employment, education or training (NEET) (Metropolitan City of Turin, Piedmont)",
    ),
}


class IstatConfig(ConnectorConfig):
    """Which flows, for which areas (NUTS codes as ISTAT writes them)."""

    flows: list[str] = list(FLOWS)
    areas: list[str] = ["ITC1", "ITC11"]
    start_period: str | None = None
    key: str | None = None
    base_url: str = BASE_URL


def dataset_id(flow: str) -> str:
    """The dataset id of an ISTAT flow (``151_914`` → ``istat-151-914``)."""
    return "istat-" + flow.replace("_", "-").lower()


def flow_key(flow: str, areas: list[str]) -> str:
    """The SDMX series key: annual, the configured areas, every other dimension open."""
    if flow not in FLOWS:
        return "all"  # an unknown flow: everything, filtered to the areas here
    parts = {"FREQ": "A", "REF_AREA": "+".join(areas)}
    return ".".join(parts.get(d, "") for d in FLOWS[flow].dimensions)


def meta_for(flow: str, data: SdmxData, areas: list[str]) -> DatasetMeta:
    """The dataset description of an ISTAT flow, with its declared schema."""
    known = FLOWS.get(flow)
    columns = tidy_columns(
        data,
        area="ref_area",
        area_rules={"codes": list(areas)},
        value=ColumnSpec(
            name="value",
            type="float",
            role="measure",
            nullable=True,
            min=0,
            max=100,
            description="Rate, per cent",
        ),
        flag_description="ISTAT observation status",
    )
    return DatasetMeta(
        id=dataset_id(flow),
        title_it=known.title_it if known else f"ISTAT {flow}",
        title_en=known.title_en if known else f"ISTAT {flow}",
        description_it=f"ISTAT, flusso SDMX {flow}, per la Città metropolitana di Torino (ITC11) "
        "e il Piemonte (ITC1). Fonte: ISTAT.",
        description_en=f"ISTAT SDMX dataflow {flow} for the Metropolitan City of Turin (ITC11) and "
        "Piedmont (ITC1). Source: ISTAT.",
        theme="SOCI",
        publisher="ISTAT",
        access="open",
        geography="ITC11",
        licence=LICENCE,
        keywords=["ISTAT", flow, "Torino", "Turin", "Piemonte", "lavoro", "labour market"],
        frequency="ANNUAL",
        schema_spec=SchemaSpec(columns=columns, keys=[*data.dimensions, "time"]),
    )


class IstatConnector(Connector[IstatConfig]):
    """ISTAT SDMX REST (legacy endpoint), SDMX-CSV by ``Accept`` header."""

    name = "istat"
    version = "1"
    config_type = IstatConfig
    summary = "ISTAT labour-market indicators (SDMX REST) for Turin and Piedmont"

    def data_url(self, flow: str) -> str:
        """The URL of a flow's observations for the configured areas."""
        key = self.config.key or flow_key(flow, self.config.areas)
        return f"{self.config.base_url}/data/{flow}/{key}"

    def sources(self) -> Iterator[Source]:
        """Each configured flow, as SDMX-CSV (its ``Last-Modified`` recorded, if any)."""
        params = {"startPeriod": self.config.start_period} if self.config.start_period else None
        for flow in self.config.flows:
            yield Source(
                dataset_id=dataset_id(flow),
                url=self.data_url(flow),
                source=f"istat {flow}",
                params=params,
                headers={"Accept": ACCEPT_CSV},
                last_update_header="last-modified",
                ref=flow,
            )

    def parse(self, fetched: Fetched) -> Iterator[Parsed]:
        """A flow's SDMX-CSV answer (or the one SDMX-CSV file given) as a tidy dataset."""
        yield self._parsed(*read_fetched(self, fetched))

    def _parsed(self, flow: str, data: SdmxData) -> Parsed:
        table = data.table
        if "ref_area" in table.column_names:  # whatever the key asked for, keep the areas
            table = table.filter(pc.is_in(table["ref_area"], pa.array(self.config.areas)))
        if table.num_rows == 0:
            raise InvalidInput(f"istat {flow}: no observation for {','.join(self.config.areas)}")
        return Parsed(
            meta=meta_for(flow, data, self.config.areas),
            table=table,
            extra={"dataflow": data.dataflow, "attribution": "Fonte: ISTAT"},
        )
