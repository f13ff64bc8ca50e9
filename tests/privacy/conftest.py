"""Small synthetic private microdata for the engine's tests."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from datacommons.datasets import AccessPolicy
from privacy.frames import RANK

AGE_BANDS = ["15-24", "25-34", "35-44", "45-54", "55-64"]
COMUNI = [f"001{i:03d}" for i in range(1, 41)]
SCHEMA = {
    "donor_id": "string",
    "comune": "string",
    "age_band": "string",
    "sex": "string",
    "employed_12m": "int64",
    "monthly_wage": "double",
    "year": "int64",
}


def make_frame(n_rows: int = 20_000, n_donors: int = 8_000, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    donors = rng.integers(0, n_donors, n_rows)
    employed = rng.integers(0, 2, n_rows)
    frame = pl.DataFrame(
        {
            "donor_id": [f"D{d:07d}" for d in donors],
            "comune": rng.choice(COMUNI, n_rows),
            "age_band": rng.choice(AGE_BANDS, n_rows),
            "sex": rng.choice(["F", "M"], n_rows),
            "employed_12m": employed,
            "monthly_wage": np.where(employed == 1, rng.uniform(400, 2600, n_rows), 0.0),
            "year": rng.choice([2022, 2023, 2024], n_rows),
        }
    )
    return frame.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).over("donor_id").alias(RANK))


@pytest.fixture(scope="session")
def frame() -> pl.DataFrame:
    return make_frame()


@pytest.fixture
def policy() -> AccessPolicy:
    return AccessPolicy(
        dataset_id="inserimento-lavorativo",
        privacy_unit="donor_id",
        max_rows_per_unit=3,
        public_dimensions={
            "comune": COMUNI,
            "age_band": AGE_BANDS,
            "sex": ["F", "M"],
            "year": ["2022", "2023", "2024"],
        },
        epsilon_total=5.0,
        epsilon_per_organisation=2.0,
        epsilon_per_query=1.0,
    )


@pytest.fixture
def private(sessions, settings):  # type: ignore[no-untyped-def]
    """The private test dataset published, with its donors' consents; the donors' pseudonyms."""
    from tests.privacy.test_api import publish_private

    return publish_private(sessions, settings)
