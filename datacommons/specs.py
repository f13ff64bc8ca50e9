"""What describes a dataset before it is stored: its metadata, declared schema and access policy.

Connectors, the demo and administrators give these; :mod:`datacommons.registry` stores them as the
records of :mod:`datacommons.datasets`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from datacommons.errors import InvalidInput, validated_by

Access = Literal["open", "private"]
#: The EU data themes (Publications Office authority table): the export points to their IRIs.
Theme = Literal[
    "AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI", "SOCI", "TECH", "TRAN"
]
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
