"""Synthetic donated microdata: *inserimento lavorativo*, people in work-integration pathways.

Type-B social cooperatives place disadvantaged people in work-integration pathways (internships, work
grants, hiring under art. 14 D.Lgs. 276/2003). This generator makes records that look like what they
would donate — a pseudonymous ``donor_id``, the public dimensions (comune of the Metropolitan City of
Turin, age band, sex, disadvantage, pathway, year) and two outcomes (employed 12 months later, monthly
wage) — with plausible marginals and 1 to :data:`MAX_ROWS_PER_DONOR` rows per person (one per year
in a pathway). It is deterministic by seed and vectorised, so the metropolitan scale (2.2 million
rows) takes seconds. Nothing in it describes a real person.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.istat_comuni import turin_codes

DATASET_ID = "inserimento-lavorativo"
MAX_ROWS_PER_DONOR = 3
TORINO = "001272"
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64")
AGE_P = (0.22, 0.27, 0.21, 0.18, 0.12)
SEXES = ("F", "M")
DISADVANTAGES = ("disability", "long_term_unemployed", "neet", "former_detainee", "migrant", "addiction")
DISADVANTAGE_P = (0.34, 0.24, 0.14, 0.07, 0.16, 0.05)
PATHWAYS = ("internship", "work_grant", "hiring_art14")
PATHWAY_P = (0.45, 0.30, 0.25)
#: Chance of being employed 12 months after the pathway, by pathway.
EMPLOYED_P = {"internship": 0.38, "work_grant": 0.49, "hiring_art14": 0.83}
#: Mean monthly wage (EUR) of those employed, by pathway.
WAGE_MEAN = {"internship": 980.0, "work_grant": 1080.0, "hiring_art14": 1290.0}
YEARS = tuple(range(2019, 2026))
ROWS_P = (0.70, 0.22, 0.08)  # rows per donor: 1, 2, 3


def _comune_weights(codes: list[str], rng: np.random.Generator) -> np.ndarray:
    """Turin city takes about 38% of the placements (its share of the metro population), the rest
    follows a heavy-tailed spread over the other 311 comuni."""
    weights = rng.lognormal(mean=0.0, sigma=1.3, size=len(codes))
    weights[codes.index(TORINO)] = 0.0
    weights = weights / weights.sum() * 0.62
    weights[codes.index(TORINO)] = 0.38
    return weights


def generate(*, n_donors: int | None = None, n_rows: int | None = None, seed: int = 2030) -> pa.Table:
    """A synthetic *inserimento-lavorativo* table: give ``n_donors`` or ``n_rows``."""
    if (n_donors is None) == (n_rows is None):
        raise ValueError("give exactly one of n_donors and n_rows")
    rng = np.random.default_rng(seed)
    mean_rows = float(np.dot(ROWS_P, range(1, MAX_ROWS_PER_DONOR + 1)))
    donors = n_donors if n_donors is not None else math.ceil(n_rows / mean_rows * 1.02) + 10  # type: ignore[operator]
    codes = turin_codes()

    rows_per = rng.choice(np.arange(1, MAX_ROWS_PER_DONOR + 1), size=donors, p=ROWS_P)
    comune = rng.choice(len(codes), size=donors, p=_comune_weights(codes, rng))
    sex = rng.choice(len(SEXES), size=donors, p=(0.43, 0.57))
    disadvantage = rng.choice(len(DISADVANTAGES), size=donors, p=DISADVANTAGE_P)
    age = rng.choice(len(AGE_BANDS), size=donors, p=AGE_P)
    neet = disadvantage == DISADVANTAGES.index("neet")
    age[neet] = rng.choice(2, size=int(neet.sum()), p=(0.7, 0.3))  # NEET are under 35
    first_year = YEARS[0] + (rng.random(donors) * (len(YEARS) - rows_per + 1)).astype(np.int64)

    donor = np.repeat(np.arange(donors), rows_per)
    starts = np.repeat(np.cumsum(rows_per) - rows_per, rows_per)
    step = np.arange(donor.size) - starts
    if n_rows is not None:
        donor, step = donor[:n_rows], step[:n_rows]
    total = donor.size

    pathway = rng.choice(len(PATHWAYS), size=total, p=PATHWAY_P)
    pathway = np.minimum(pathway + (step > 0) * rng.integers(0, 2, size=total), len(PATHWAYS) - 1)
    p_employed = np.array([EMPLOYED_P[p] for p in PATHWAYS])[pathway]
    p_employed = p_employed * np.where(
        disadvantage[donor] == DISADVANTAGES.index("former_detainee"), 0.8, 1.0
    )
    employed = (rng.random(total) < p_employed).astype(np.int64)
    wage_mean = np.array([WAGE_MEAN[p] for p in PATHWAYS])[pathway]
    wage = np.clip(rng.normal(wage_mean, 230.0), 450.0, 3200.0).round(2) * employed

    ids = pc.binary_join_element_wise(
        "D", pc.utf8_lpad(pc.cast(pa.array(donor + 1), pa.string()), 7, "0"), ""
    )

    def labels(values: tuple[str, ...], index: np.ndarray) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32)), pa.array(values)).cast(
            pa.string()
        )

    return pa.table(
        {
            "donor_id": ids,
            "comune": labels(tuple(codes), comune[donor]),
            "age_band": labels(AGE_BANDS, age[donor]),
            "sex": labels(SEXES, sex[donor]),
            "disadvantage": labels(DISADVANTAGES, disadvantage[donor]),
            "pathway": labels(PATHWAYS, pathway),
            "employed_12m": pa.array(employed),
            "monthly_wage": pa.array(wage),
            "year": pa.array(first_year[donor] + step),
        }
    )
