"""The measures a DP query may ask for, one type each.

Each measure checks itself against a dataset's schema (:meth:`problems`), plans the noisy statistics
it needs (:meth:`parts`, each a :class:`Part` with its sensitivity and OpenDP noise scale) and turns
their noisy values into its answer columns (:meth:`finish`). :data:`Measure` is their union,
discriminated by ``op``; the engine aggregates each part exactly and adds the noise, and knows no
measure by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field

from privacy import mechanisms
from privacy.frames import FIXED_POINT

#: persons: distinct donors in a cell; rows: their records in a cell.
PartKind = Literal["persons", "rows", "sum", "histogram", "quantile"]
QUANTILE_CANDIDATES = 101
MAX_BINS = 100
#: The largest magnitude of a clamping bound: sums are exact 64-bit integers (in fixed point), and
#: wider bounds would overflow them (a monthly wage, a count of people stay far below it).
MAX_BOUND = 1e9
NUMERIC_TYPES = (
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float",
    "double",
    "halffloat",
)
#: The fields of a measure as a repeat key knows them (see ``Query.canonical_hash``).
KEY_FIELDS = ("op", "column", "bounds", "q", "bins")
Row = dict[str, Any]
Noisy = list[tuple["Part", np.ndarray]]


@dataclass(frozen=True)
class Part:
    """One noisy statistic of a measure: its sensitivity, epsilon and OpenDP noise scale.

    Sensitivity and scale are in integer units; ``unit`` converts them to the column's units.
    """

    measure: int
    kind: PartKind
    column: str | None
    sensitivity: int
    epsilon: float
    scale: float
    unit: float = 1.0
    low: float = 0.0
    high: float = 0.0
    candidates: tuple[float, ...] = ()
    q: float = 0.5
    #: What each clamped value is summed around, in integer units (a mean's sum is centred).
    centre: int = 0

    def accuracy(self, alpha: float) -> float | None:
        """Half-width of the (1 - alpha) interval of this part's noise, in the column's units."""
        if self.kind == "quantile":
            return None
        return mechanisms.accuracy(self.scale, alpha) * self.unit

    @property
    def mechanism(self) -> str:
        if self.kind == "quantile":
            return "OpenDP private quantile (noisy max, permute-and-flip, over quantile scores)"
        return "OpenDP discrete Laplace"


def _is_float(arrow_type: str) -> bool:
    return arrow_type in ("float", "double", "halffloat")


class _Measure(BaseModel):
    """What every measure knows how to do."""

    op: str
    #: Whether it divides by the noisy number of records in each cell (one count, shared).
    needs_records: ClassVar[bool] = False
    #: Whether it releases that count itself (the others then share it).
    gives_records: ClassVar[bool] = False

    @property
    def values_per_cell(self) -> int:
        """How many noisy values it releases in each cell."""
        return 1

    @property
    def name(self) -> str:
        """The name of this measure's values in the answer rows."""
        return self.op

    @property
    def measured(self) -> str | None:
        """The column measured, if any."""
        return None

    def key(self) -> dict[str, Any]:
        """The measure as a repeat key knows it (the same fields for every type)."""
        dumped = self.model_dump(mode="json")
        return {name: dumped.get(name) for name in KEY_FIELDS}

    def problems(self, *, schema: dict[str, str], unit: str) -> list[str]:
        """Every way this measure breaks the dataset (``schema``: column → Arrow type)."""
        return []

    def parts(self, index: int, *, k: int, cells: int, epsilon: float, schema: dict[str, str]) -> list[Part]:
        """The noisy statistics of this measure, each spending ``epsilon``.

        A donor has at most ``k`` rows (the truncation) and so adds at most ``k`` to the row counts and
        sums over all cells together; to the person counts they add at most 1 in each of at most
        ``min(k, cells)`` cells.
        """
        raise NotImplementedError

    def finish(self, rows: list[Row], noisy: Noisy, alpha: float, *, records: Noisy) -> None:
        """Write this measure's post-processed values, raw values and intervals into the answer rows.

        ``records`` is the query's noisy record count (one part), or empty when no measure needs it.
        """
        raise NotImplementedError

    def precision(self, own: list[Part], alpha: float, *, records: list[Part]) -> dict[str, Any]:
        """What the preview states of this measure's interval before any data is read: its
        half-width (``ci_halfwidth``, None where the data decides it)."""
        return {"ci_halfwidth": own[0].accuracy(alpha)}


class _Counting(_Measure):
    def finish(self, rows: list[Row], noisy: Noisy, alpha: float, *, records: Noisy) -> None:
        # plain Python numbers: per-cell numpy indexing costs more than the arithmetic
        (part, values), name = noisy[0], self.name
        a = part.accuracy(alpha) or 0.0
        for row, value in zip(rows, values.tolist(), strict=True):
            # the raw noisy count is unbiased (it may be negative); the count is its nearest possible
            # value, never farther from the truth, so the interval around it covers at least as often
            raw = int(value)
            count = max(0, raw)
            row[name] = count
            row[f"{name}_raw"] = raw
            row[f"{name}_ci"] = [max(0, math.floor(count - a)), max(math.ceil(count + a), 1)]
            row[f"{name}_unreliable"] = a >= count


class Count(_Counting):
    """Distinct persons (donors) in each cell."""

    op: Literal["count"] = Field(description="count: distinct persons (donors) in each cell")

    def parts(self, index: int, *, k: int, cells: int, epsilon: float, schema: dict[str, str]) -> list[Part]:
        persons = min(k, cells)
        return [Part(index, "persons", None, persons, epsilon, mechanisms.laplace_scale(persons, epsilon))]


def rows_part(index: int, *, k: int, epsilon: float) -> Part:
    """The noisy number of records in each cell: a donor adds at most ``k`` over all cells."""
    return Part(index, "rows", None, k, epsilon, mechanisms.laplace_scale(k, epsilon))


class Rows(_Counting):
    """Records in each cell (a person may have several)."""

    op: Literal["rows"] = Field(description="rows: the donors' records in each cell")
    gives_records: ClassVar[bool] = True

    def parts(self, index: int, *, k: int, cells: int, epsilon: float, schema: dict[str, str]) -> list[Part]:
        return [rows_part(index, k=k, epsilon=epsilon)]


class _OfColumn(_Measure):
    """A statistic of one numeric column, clamped to declared bounds."""

    column: str | None = None
    bounds: tuple[float, float] | None = Field(None, description="Clamping bounds [lower, upper]")

    @property
    def name(self) -> str:
        return f"{self.op}_{self.column}"

    @property
    def measured(self) -> str | None:
        return self.column

    def problems(self, *, schema: dict[str, str], unit: str) -> list[str]:
        measured = self.column
        if not measured:
            return [f"{self.op} needs a column"]
        if measured == unit:
            return [f"{measured!r} identifies donors: it cannot be measured"]
        if measured not in schema:
            return [f"unknown column {measured!r}"]
        found = []
        if schema[measured] not in NUMERIC_TYPES:
            found.append(f"{measured!r} is not numeric ({schema[measured]})")
        return found + self.shape_problems()

    def shape_problems(self) -> list[str]:
        """What is wrong with the measure's own parameters (bounds, q, bins)."""
        if self.bounds is None:
            return [f"{self.op} of {self.column!r} needs bounds [lower, upper]"]
        low, high = self.bounds
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            return ["bounds must be finite with lower < upper"]
        if max(abs(low), abs(high)) > MAX_BOUND:
            return [f"bounds must lie within -{MAX_BOUND:.0e} and {MAX_BOUND:.0e}"]
        return []

    def _total(
        self, index: int, *, k: int, epsilon: float, schema: dict[str, str], centred: bool = False
    ) -> Part:
        """The clamped sum of the column, in fixed point for floats: a donor adds at most ``k``
        values, each as far from the centre as a bound can be (from 0, or centred on the bounds'
        midpoint, which halves that distance when the bounds are [0, U])."""
        assert self.column is not None and self.bounds is not None
        low, high = self.bounds
        factor = FIXED_POINT if _is_float(schema[self.column]) else 1
        int_low, int_high = math.floor(low * factor), math.ceil(high * factor)
        centre = (int_low + int_high) // 2 if centred else 0
        sensitivity = k * max(abs(int_low - centre), abs(int_high - centre))
        scale = mechanisms.laplace_scale(sensitivity, epsilon)
        part = Part(index, "sum", self.column, sensitivity, epsilon, scale, 1 / factor, low, high)
        return replace(part, centre=centre)


class Sum(_OfColumn):
    """The sum of a column over each cell."""

    op: Literal["sum"] = Field(description="sum: of a column, clamped to its bounds")

    def parts(self, index: int, *, k: int, cells: int, epsilon: float, schema: dict[str, str]) -> list[Part]:
        return [self._total(index, k=k, epsilon=epsilon, schema=schema)]

    def finish(self, rows: list[Row], noisy: Noisy, alpha: float, *, records: Noisy) -> None:
        (part, values), name = noisy[0], self.name
        a = part.accuracy(alpha) or 0.0
        for row, raw in zip(rows, values.tolist(), strict=True):
            value = float(raw) * part.unit
            row[name] = round(value, 2)
            row[f"{name}_raw"] = value
            row[f"{name}_ci"] = [_down(value - a), _up(value + a)]
            row[f"{name}_unreliable"] = a >= abs(value)


class Mean(_OfColumn):
    """The mean of a column over each cell's records: a noisy sum centred on the bounds' midpoint,
    over the query's one noisy record count (shared with a ``rows`` measure and other means)."""

    op: Literal["mean"] = Field(description="mean: of a column over each cell's records")
    needs_records: ClassVar[bool] = True

    def parts(self, index: int, *, k: int, cells: int, epsilon: float, schema: dict[str, str]) -> list[Part]:
        return [self._total(index, k=k, epsilon=epsilon, schema=schema, centred=True)]

    def precision(self, own: list[Part], alpha: float, *, records: list[Part]) -> dict[str, Any]:
        # it depends on how many records a cell holds: stated for 10, 100 and 1000 of them
        by_records = {str(n): self.halfwidth_at(own, alpha, records=records, n=n) for n in (10, 100, 1000)}
        return {"ci_halfwidth": None, "ci_halfwidth_by_records": by_records}

    def halfwidth_at(self, own: list[Part], alpha: float, *, records: list[Part], n: int) -> float | None:
        """The interval's half-width in a cell of ``n`` records whose mean is the bounds' midpoint
        (``None`` where the count's noise could reach zero records: no bound but the bounds)."""
        if not own or not records or n - (records[0].accuracy(alpha) or 0.0) < 1:
            return None
        return min(mechanisms.pair_accuracy(own[0].scale * own[0].unit, 0.0, alpha) / n, self._span / 2)

    @property
    def _span(self) -> float:
        low, high = self.bounds or (0.0, 0.0)
        return high - low

    def finish(self, rows: list[Row], noisy: Noisy, alpha: float, *, records: Noisy) -> None:
        """Each mean with its (1 - alpha) interval from both noisy parts.

        To first order the mean's error is (Zs - m Zc) / n: the centred sum's Laplace noise Zs less
        the count's Zc times the centred mean m, over the records n; the interval is that sum of two
        Laplace noises' exact (1 - alpha) half-width over n. Where the count's own interval reaches
        zero records, or the interval is as wide as the bounds, or lies wholly outside them, the cell
        is flagged unreliable (and in the last case its interval is the bounds themselves).
        """
        (part, sums), (c_part, counts), name = noisy[0], records[0], self.name
        a_c = c_part.accuracy(alpha) or 0.0
        low, high, unit = part.low, part.high, part.unit
        mid, b_sum, b_count = part.centre * unit, part.scale * unit, c_part.scale
        for row, raw_sum, raw_count in zip(rows, sums.tolist(), counts.tolist(), strict=True):
            centred, n = float(raw_sum) * unit, float(raw_count)
            if n < 1:
                row[name], row[f"{name}_raw"] = None, None
                row[f"{name}_ci"], row[f"{name}_unreliable"] = [low, high], True
                continue
            raw = mid + centred / n
            mean = min(max(raw, low), high)
            if n - a_c < 1:
                lo, hi = low, high
            else:
                half = mechanisms.pair_accuracy(b_sum, abs(mean - mid) * b_count, alpha) / n
                lo, hi = raw - half, raw + half
            outside = hi <= low or lo >= high  # no mean the records could have is in the interval
            row[name] = round(mean, 2)
            row[f"{name}_raw"] = raw
            if outside:
                lo, hi = low, high
            row[f"{name}_ci"] = [_down(max(min(lo, mean), low)), _up(min(max(hi, mean), high))]
            row[f"{name}_unreliable"] = outside or n - a_c < 1 or hi - lo >= high - low


class Quantile(_OfColumn):
    """A quantile of a column in each cell, by OpenDP's private quantile over a grid of candidates.

    As ``make_private_quantile`` computes it: OpenDP's quantile scores of the candidates (computed by
    the engine for all cells at once, see :func:`privacy.mechanisms.quantile_scores`), then OpenDP's
    noisy max on each cell's scores, at the scale found on ``make_private_quantile`` itself.
    """

    op: Literal["quantile"] = Field(description="quantile: of a column, in each cell")
    q: float | None = Field(None, gt=0, lt=1, description="The quantile to estimate, in (0, 1)")

    @property
    def name(self) -> str:
        return f"q{round((self.q or 0) * 100):02d}_{self.column}"

    def shape_problems(self) -> list[str]:
        found = super().shape_problems()
        if not (self.q is not None and 0 < self.q < 1):
            found.append("quantile needs q between 0 and 1")
        return found

    def parts(self, index: int, *, k: int, cells: int, epsilon: float, schema: dict[str, str]) -> list[Part]:
        assert self.column is not None and self.bounds is not None
        low, high = self.bounds
        q = float(self.q or 0.5)
        candidates = tuple(float(c) for c in np.linspace(low, high, QUANTILE_CANDIDATES))
        scale = mechanisms.quantile_scale(candidates, q, k, epsilon)
        part = Part(index, "quantile", self.column, k, epsilon, scale, low=low, high=high, q=q)
        return [replace(part, candidates=candidates)]

    def finish(self, rows: list[Row], noisy: Noisy, alpha: float, *, records: Noisy) -> None:
        (_part, values), name = noisy[0], self.name
        for row, value in zip(rows, values.tolist(), strict=True):
            row[name] = round(float(value), 2)


class Histogram(_OfColumn):
    """Counts of a column's values in bins, in each cell."""

    op: Literal["histogram"] = Field(description="histogram: of a column, in each cell")
    bins: list[float] | None = Field(
        None, description="Histogram bin edges, increasing; values are clamped into them"
    )

    @property
    def name(self) -> str:
        return f"hist_{self.column}"

    def shape_problems(self) -> list[str]:
        bins = self.bins or []
        if len(bins) < 2 or any(b >= c for b, c in zip(bins, bins[1:], strict=False)):
            return ["histogram needs at least two increasing bin edges"]
        if len(bins) - 1 > MAX_BINS:
            return [f"at most {MAX_BINS} bins"]
        return []

    def parts(self, index: int, *, k: int, cells: int, epsilon: float, schema: dict[str, str]) -> list[Part]:
        scale = mechanisms.laplace_scale(k, epsilon)
        return [Part(index, "histogram", self.column, k, epsilon, scale, candidates=tuple(self.bins or ()))]

    @property
    def values_per_cell(self) -> int:
        return max(1, len(self.bins or ()) - 1)

    def finish(self, rows: list[Row], noisy: Noisy, alpha: float, *, records: Noisy) -> None:
        (_part, values), name = noisy[0], self.name
        for row, bins in zip(rows, values.tolist(), strict=True):
            row[name] = [max(0, int(v)) for v in bins]
            row[f"{name}_raw"] = [int(v) for v in bins]


def _down(value: float) -> float:
    """``value`` rounded down to a cent (an interval's ends are rounded outwards)."""
    return math.floor(value * 100) / 100


def _up(value: float) -> float:
    return math.ceil(value * 100) / 100


Measure = Annotated[Count | Rows | Sum | Mean | Quantile | Histogram, Field(discriminator="op")]
