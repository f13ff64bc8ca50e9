"""What the privacy API answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class BudgetPublic(BaseModel):
    """One budget, in epsilon."""

    scope: str
    limit: float
    spent: float
    remaining: float


class Budgets(BaseModel):
    """The budgets a query is charged to."""

    dataset_total: BudgetPublic = Field(description="The dataset's total budget, over all its versions")
    organisation: BudgetPublic
    per_query: BudgetPublic


class NoisyPart(BaseModel):
    """One noisy statistic of a measure."""

    statistic: str
    mechanism: str
    epsilon: float
    sensitivity: float
    scale: float
    ci_halfwidth: float | None
    shared: bool = Field(False, description="The record count a mean shares with the query's other measures")


class MeasureInfo(BaseModel):
    """A measure's privacy cost and accuracy."""

    name: str
    op: str
    column: str | None
    epsilon: float = Field(description="The epsilon of its own noisy parts (a shared count is not repeated)")
    alpha: float
    ci_halfwidth: float | None = Field(
        None, description="The half-width of the measure's interval, where the data does not decide it"
    )
    ci_halfwidth_by_records: dict[str, float | None] | None = Field(
        None,
        description="A mean's interval half-width in a cell of 10, 100 or 1000 records (null: no "
        "bound tighter than the bounds)",
    )
    parts: list[NoisyPart]


class Coverage(BaseModel):
    """Whose records an answer covers: the rule and the per-person cap, never who was left out."""

    epsilon_per_person: float = Field(description="Each donor's lifetime privacy-loss cap (epsilon)")
    rule: str


class Preview(BaseModel):
    """Cost and accuracy of a query, before spending anything."""

    dataset: str
    version: int
    purpose: str
    program: str | None = Field(None, description="The program (data-use agreement) it ran under")
    epsilon: float
    epsilon_spent: float
    cells: int
    affordable: bool
    measures: list[MeasureInfo]
    budget: Budgets
    coverage: Coverage


class Released(BaseModel):
    """What every release answers: what was asked, what it spent, the budgets left, whom it covers."""

    release_id: str
    dataset: str
    version: int
    purpose: str
    program: str | None = Field(None, description="The program (data-use agreement) it ran under")
    epsilon: float
    epsilon_spent: float
    alpha: float
    repeat: bool
    created_at: str
    budget: Budgets
    coverage: Coverage | None = Field(
        None, description="Absent on releases made before the per-person cap existed"
    )


class QueryAnswer(Released):
    """A released answer: noisy rows, epsilon spent, budgets left, scales and intervals."""

    group_by: list[str]
    measures: list[MeasureInfo]
    rows: list[dict[str, Any]]


class ExtractTableOut(BaseModel):
    """One released table of an extract."""

    name: str
    group_by: list[str]
    filters: dict[str, list[str]]
    epsilon: float
    measures: list[MeasureInfo]
    rows: list[dict[str, Any]]


class ExtractAnswer(Released):
    """A released extract."""

    contributions_per_donor: int
    licence: str | None
    tables: list[ExtractTableOut]


class DPParameters(BaseModel):
    """How an extract was made private."""

    library: str
    mechanism: str
    privacy_unit: str
    contributions_per_donor: int | None
    epsilon: float
    alpha: float
    split: str
    coverage: Coverage | None = None


class ExtractTableInfo(BaseModel):
    """One table of an extract, without its rows: what it holds and how accurate it is."""

    name: str
    group_by: list[str]
    filters: dict[str, list[str]]
    epsilon: float
    cells: int
    accuracy: list[MeasureInfo]


class ExtractDistribution(BaseModel):
    """A DCAT distribution of an extract (a ZIP, Parquet or CSV tables inside)."""

    model_config = ConfigDict(populate_by_name=True)

    type: str = Field(alias="@type")
    title: str
    accessURL: str  # noqa: N815 - the DCAT property name
    mediaType: str  # noqa: N815
    format: str
    license: str | None


class ExtractMetadata(BaseModel):
    """An extract's metadata: its DCAT distributions, DP parameters and accuracy per table."""

    id: str
    release_ids: list[str]
    dataset: str
    version: int
    purpose: str
    program: str | None = Field(None, description="The program (data-use agreement) it ran under")
    created_at: str
    licence: str | None
    differential_privacy: DPParameters
    tables: list[ExtractTableInfo]
    distributions: list[ExtractDistribution]


class DatasetBudget(BaseModel):
    """The caller's budgets on one private dataset (over all its versions; ``version`` is the
    current one)."""

    dataset: str
    version: int
    budget: Budgets
