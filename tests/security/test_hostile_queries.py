"""Differentially-private queries at the edges: each of these once answered 500.

A quantile over the whole dataset (no group-by) failed on release; bounds near the float maximum
overflowed the fixed-point sums; an epsilon too small for OpenDP's noise calibration escaped as an
OpenDP error; a quantile's ``q`` near the float maximum overflowed its name; an extract's epsilon
so small that its share per table underflowed to zero failed validation inside the service (the
last two found by the fuzzer). Now the first is answered and the others are refused with a reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import bearer
from tests.security.conftest import PRIVATE, World

URL = f"/api/v1/datasets/{PRIVATE}/queries"
PURPOSE = "dpv:ScientificResearch"


def ask(world: World, path: str, body: dict[str, Any] | str) -> Any:
    """POST a query (a dict, or raw JSON text) as the analyst."""
    headers = bearer(world.tokens["analyst"])
    if isinstance(body, str):
        return world.client.post(path, content=body, headers={**headers, "Content-Type": "application/json"})
    return world.client.post(path, json=body, headers=headers)


def test_a_quantile_over_the_whole_dataset_is_released(world: World) -> None:
    query = {
        "purpose": PURPOSE,
        "epsilon": 0.1,
        "measures": [{"op": "quantile", "q": 0.5, "column": "monthly_wage", "bounds": [0, 5000]}],
    }
    answer = ask(world, URL, query)
    assert answer.status_code == 200, answer.text
    [row] = answer.json()["rows"]
    assert 0 <= row["q50_monthly_wage"] <= 5000


@pytest.mark.parametrize("path", [URL + "/preview", URL])
@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {
                "purpose": PURPOSE,
                "epsilon": 0.1,
                "measures": [{"op": "sum", "column": "monthly_wage", "bounds": [0, 1e308]}],
            },
            "invalid query: measures.0: bounds must lie within -1e+09 and 1e+09",
        ),
        (
            {"purpose": PURPOSE, "epsilon": 1e-300, "measures": [{"op": "count"}]},
            "invalid query: epsilon: 1e-300 is below the minimum of 1e-06 a query may spend",
        ),
        (
            {
                "purpose": PURPOSE,
                "epsilon": 1e-5,
                "measures": [{"op": "sum", "column": "monthly_wage", "bounds": [0, 1e9]}],
            },
            "invalid query: epsilon: too small for OpenDP to calibrate the noise of this query "
            "(spend more epsilon, or narrow the bounds)",
        ),
        (
            '{"purpose": "dpv:ScientificResearch", "epsilon": Infinity, "measures": [{"op": "count"}]}',
            "invalid query: epsilon: inf is over this dataset's cap of 1.0 per query",
        ),
        (
            '{"purpose": "dpv:ScientificResearch", "epsilon": 0.1, "measures": [{"op": "mean", '
            '"column": "monthly_wage", "bounds": [NaN, 10]}]}',
            "invalid query: measures.0: bounds must be finite with lower < upper",
        ),
        (
            {
                "purpose": PURPOSE,
                "epsilon": 0.1,
                "measures": [{"op": "quantile", "column": "monthly_wage", "bounds": [0, 10], "q": 1.8e306}],
            },
            "invalid request: body.measures.0.quantile.q: Input should be less than 1",
        ),
        (
            # found by the fuzzer: at alpha 5e-324 the interval's half-width is infinite
            {"purpose": PURPOSE, "epsilon": 0.1, "alpha": 5e-324, "measures": [{"op": "count"}]},
            "invalid request: body.alpha: Input should be greater than or equal to 0.000000001",
        ),
    ],
    ids=[
        "huge-bounds",
        "tiny-epsilon",
        "uncalibratable",
        "infinite-epsilon",
        "nan-bounds",
        "huge-q",
        "tiny-alpha",
    ],
)
def test_queries_at_the_edges_are_refused_with_a_reason(
    world: World, path: str, body: dict[str, Any] | str, error: str
) -> None:
    answer = ask(world, path, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == error


def test_an_extract_at_a_vanishing_alpha_is_refused(world: World) -> None:
    body = {
        "dataset": PRIVATE,
        "purpose": PURPOSE,
        "epsilon": 0.5,
        "alpha": 5e-324,
        "tables": [{"name": "a", "measures": [{"op": "count"}]}],
    }
    answer = world.client.post("/api/v1/extracts", json=body, headers=bearer(world.tokens["researcher"]))
    assert answer.status_code == 422, answer.text
    assert (
        answer.json()["error"]
        == "invalid request: body.alpha: Input should be greater than or equal to 0.000000001"
    )


def test_an_extract_whose_epsilon_share_underflows_is_refused(world: World) -> None:
    body = {
        "dataset": PRIVATE,
        "purpose": PURPOSE,
        "epsilon": 5e-324,
        "tables": [
            {"name": "a", "measures": [{"op": "count"}]},
            {"name": "b", "measures": [{"op": "count"}]},
        ],
    }
    answer = world.client.post("/api/v1/extracts", json=body, headers=bearer(world.tokens["researcher"]))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid extract: epsilon: too small to share among its tables"
