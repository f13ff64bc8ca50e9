"""The budget ledger: epsilon reserved atomically, so concurrent requests can never overspend.

Budgets are allocation rules over a dataset's whole lineage: every version, a re-ingest of the same
rows, a rollback or a re-publication draw on the same accounts, so no new version restores spent
budget. (Each donor's own lifetime loss, across every dataset, is :mod:`consent.privacy_loss`.)

Each reservation is a conditional ``UPDATE … SET spent = spent + e WHERE spent + e <= limit`` on the
dataset's total account and on the organisation's account, in the caller's transaction. The update
either changes one row or none: on PostgreSQL the row lock makes the second of two racing updates
re-check the condition against the first one's result; on SQLite the write transaction is exclusive.
If either account refuses, the caller's transaction rolls back and nothing is spent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from consent.privacy_loss import NANO, to_nano  # one rounding rule for every account
from datacommons.datasets import AccessPolicy
from datacommons.errors import TooManyRequests
from privacy.models import BudgetAccount

TOTAL = "total"


def org_scope(organisation_id: int) -> str:
    """The account name of an organisation."""
    return f"org:{organisation_id}"


@dataclass(frozen=True)
class Budget:
    """One budget: its limit, what is spent and what remains (epsilon)."""

    scope: str
    limit: float
    spent: float

    @property
    def remaining(self) -> float:
        return max(0.0, round(self.limit - self.spent, 9))

    def as_dict(self) -> dict[str, float | str]:
        return {
            "scope": self.scope,
            "limit": self.limit,
            "spent": round(self.spent, 9),
            "remaining": self.remaining,
        }


def _ensure_accounts(session: Session, dataset_id: str, scopes: list[str]) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [{"dataset_id": dataset_id, "scope": s, "spent_nano": 0} for s in scopes]
    session.execute(
        insert(BudgetAccount).values(rows).on_conflict_do_nothing(index_elements=["dataset_id", "scope"])
    )


def budgets(
    session: Session, *, dataset_id: str, organisation_id: int, policy: AccessPolicy
) -> dict[str, Budget]:
    """The dataset's total budget (all its versions), the organisation's there, the per-query cap."""
    spent = dict(
        session.execute(
            select(BudgetAccount.scope, BudgetAccount.spent_nano).where(
                BudgetAccount.dataset_id == dataset_id,
                BudgetAccount.scope.in_([TOTAL, org_scope(organisation_id)]),
            )
        ).all()
    )
    return {
        "dataset_total": Budget(TOTAL, policy.epsilon_total, spent.get(TOTAL, 0) / NANO),
        "organisation": Budget(
            org_scope(organisation_id),
            policy.epsilon_per_organisation,
            spent.get(org_scope(organisation_id), 0) / NANO,
        ),
        "per_query": Budget("query", policy.epsilon_per_query, 0.0),
    }


def check_available(
    session: Session, *, dataset_id: str, organisation_id: int, policy: AccessPolicy, epsilon: float
) -> None:
    """Refuse early (429) when ``epsilon`` is clearly not available; :func:`reserve` decides."""
    current = budgets(session, dataset_id=dataset_id, organisation_id=organisation_id, policy=policy)
    _refuse_if_short(current, epsilon)


def _refuse_if_short(current: dict[str, Budget], epsilon: float) -> None:
    short = [b for key, b in current.items() if key != "per_query" and b.remaining + 1e-12 < epsilon]
    if short:
        what = ", ".join(f"{b.scope} has {b.remaining:g} left" for b in short)
        raise TooManyRequests(
            f"privacy budget exhausted: this query needs epsilon {epsilon:g}, {what}",
            errors=[{"budgets": {k: b.as_dict() for k, b in current.items()}}],
        )


def reserve(
    session: Session, *, dataset_id: str, organisation_id: int, policy: AccessPolicy, epsilon: float
) -> None:
    """Spend ``epsilon`` on the dataset and the organisation, or raise 429 and spend nothing.

    Runs in the caller's transaction: the caller commits it together with the release it pays for.
    """
    amount = to_nano(epsilon)
    scopes = [
        (TOTAL, to_nano(policy.epsilon_total)),
        (org_scope(organisation_id), to_nano(policy.epsilon_per_organisation)),
    ]
    _ensure_accounts(session, dataset_id, [s for s, _ in scopes])
    for scope, limit in scopes:
        result = session.execute(
            update(BudgetAccount)
            .where(
                BudgetAccount.dataset_id == dataset_id,
                BudgetAccount.scope == scope,
                BudgetAccount.spent_nano + amount <= limit,
            )
            .values(spent_nano=BudgetAccount.spent_nano + amount)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            current = budgets(session, dataset_id=dataset_id, organisation_id=organisation_id, policy=policy)
            _refuse_if_short(current, epsilon)
            raise TooManyRequests(f"privacy budget exhausted ({scope})")
