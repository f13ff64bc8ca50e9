"""No query or extract can buy two noisy copies of one cell (averaging the copies undoes the noise).

The review's reproductions: 5,000 copies of one Torino cell averaged to within 0.4 of the true count,
and ~50,000 copies of a one-donor cell gave that donor's exact count and wage. Each is now a 422 that
names the repeated value, before anything is planned or spent.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from datacommons.errors import InvalidInput
from datacommons.specs import PolicySpec
from privacy.engine import plan_query
from privacy.query import Query, check_query
from tests.conftest import bearer
from tests.privacy.conftest import SCHEMA
from tests.privacy.test_api import DATASET, RESEARCH, URL

TORINO_LIKE = "001001"  # a comune of the test key set
COPIES = 5_000


def repeated_filter_query(copies: int = COPIES) -> dict:  # type: ignore[type-arg]
    return {
        "purpose": RESEARCH,
        "group_by": ["comune"],
        "filters": {"comune": [TORINO_LIKE] * copies, "sex": ["F"], "age_band": ["25-34"]},
        "measures": [{"op": "count"}],
        "epsilon": 0.1,
    }


def test_repeated_filter_values_are_refused_over_http(client: TestClient, tokens, private) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["analyst"])
    for path in (URL, f"{URL}/preview"):
        answer = client.post(path, json=repeated_filter_query(), headers=headers)
        assert answer.status_code == 422, answer.text[:300]
        assert answer.json()["errors"] == [
            {"loc": "filters.comune", "msg": f"'{TORINO_LIKE}' is repeated: each value may be asked once"}
        ]
    budget = client.get("/api/v1/budget", headers=headers).json()
    # nothing was spent, not even on the first copy
    assert budget["data"][0]["budget"]["organisation"]["spent"] == 0.0


def test_repeated_filter_values_in_an_extract_are_refused(client: TestClient, tokens, private) -> None:  # type: ignore[no-untyped-def]
    query = repeated_filter_query(50_000)
    answer = client.post(
        "/api/v1/extracts",
        headers=bearer(tokens["researcher"]),
        json={
            "dataset": DATASET,
            "purpose": RESEARCH,
            "epsilon": 1.0,
            "tables": [
                {
                    "name": "one_donor",
                    "group_by": query["group_by"],
                    "filters": query["filters"],
                    "measures": [
                        {"op": "count"},
                        {"op": "sum", "column": "monthly_wage", "bounds": [0, 5000]},
                    ],
                }
            ],
        },
    )
    assert answer.status_code == 422, answer.text[:300]
    assert answer.json()["error"] == (
        f"table one_donor: invalid query: filters.comune: "
        f"'{TORINO_LIKE}' is repeated: each value may be asked once"
    )


def test_a_value_repeated_in_a_filter_on_a_column_not_grouped_is_refused_too(policy) -> None:  # type: ignore[no-untyped-def]
    query = Query.model_validate(
        {"purpose": RESEARCH, "filters": {"sex": ["F", "F"]}, "measures": [{"op": "count"}], "epsilon": 0.1}
    )
    with pytest.raises(InvalidInput) as caught:
        check_query(query, policy=policy, schema=SCHEMA)
    assert caught.value.errors == [
        {"loc": "filters.sex", "msg": "'F' is repeated: each value may be asked once"}
    ]


def test_a_repeated_group_by_column_is_named(policy) -> None:  # type: ignore[no-untyped-def]
    query = Query.model_validate(
        {
            "purpose": RESEARCH,
            "group_by": ["sex", "age_band", "sex"],
            "measures": [{"op": "count"}],
            "epsilon": 0.1,
        }
    )
    with pytest.raises(InvalidInput) as caught:
        check_query(query, policy=policy, schema=SCHEMA)
    assert caught.value.errors == [
        {"loc": "group_by", "msg": "'sex' is repeated: each column may be grouped on once"}
    ]


def test_plan_query_refuses_repeated_cells_even_unchecked(policy) -> None:  # type: ignore[no-untyped-def]
    """Defence in depth: a caller that skipped check_query still cannot plan a repeated cell."""
    query = Query.model_validate(repeated_filter_query(3))
    with pytest.raises(InvalidInput, match="the same cell would be answered twice"):
        plan_query(query, policy=policy, schema=SCHEMA)
    twice = Query.model_validate(
        {"purpose": RESEARCH, "group_by": ["sex", "sex"], "measures": [{"op": "count"}], "epsilon": 0.1}
    )
    with pytest.raises(InvalidInput, match="the same cell would be answered twice"):
        plan_query(twice, policy=policy, schema=SCHEMA)


def test_distinct_values_plan_one_cell_each(policy) -> None:  # type: ignore[no-untyped-def]
    query = Query.model_validate(
        {**repeated_filter_query(1), "filters": {"comune": ["001001", "001002", "001003"]}}
    )
    check_query(query, policy=policy, schema=SCHEMA)
    plan = plan_query(query, policy=policy, schema=SCHEMA)
    assert plan.keys == [("001001",), ("001002",), ("001003",)]


def test_a_policy_cannot_list_a_key_twice() -> None:
    with pytest.raises(ValidationError, match="comune: key '001272' is listed more than once"):
        PolicySpec(
            privacy_unit="donor_id",
            max_rows_per_unit=3,
            public_dimensions={"comune": ["001272", "001001", "001272"]},
        )
