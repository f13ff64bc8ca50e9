"""What an attack review of the per-person ledger found, each reproduced and now refused."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from consent import donors as donor_records
from consent import privacy_loss
from consent.models import LossGroup, LossMember
from consent.receipts import Signer
from datacommons import registry
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.migrations import upgrade
from datacommons.storage import ParquetStore
from privacy import service
from privacy.frames import RANK
from tests.conftest import bearer
from tests.privacy.test_api import DATASET, URL, make_frame, publish_private
from tests.privacy.test_per_person import by_year, eligible

CAP = 1.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"privacy_epsilon_per_person": CAP})


def test_a_nan_is_missing_not_a_free_oracle(
    client: TestClient,
    tokens,
    sessions,  # type: ignore[no-untyped-def]
    settings: Settings,
) -> None:
    """A NaN wage (a CSV cell "NaN") made the sum's integer cast fail before anything was spent:
    whether a cell's query failed told whether one of its donors had a NaN, for free, again and
    again. NaN now counts as missing: every cell answers, and each answer is paid for."""
    publish_private(sessions, settings)
    frame = make_frame(n_rows=6000, n_donors=2500).drop(RANK)
    consenting = eligible(sessions)
    idx = next(i for i, d in enumerate(frame["donor_id"].to_list()) if d in consenting)
    target = frame.row(idx, named=True)
    poisoned = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == idx)
        .then(float("nan"))
        .otherwise(pl.col("monthly_wage"))
        .alias("monthly_wage")
    )
    with transaction(sessions, immediate=True) as session:
        version, _ = registry.stage_table(
            session,
            store=ParquetStore(settings.store_dir),
            dataset=registry.get_dataset(session, DATASET),
            table=poisoned.to_arrow(),
            provenance={},
            actor="t",
        )
        registry.transition(session, version=version, to="validated", actor="t")
        registry.publish(session, dataset_id=DATASET, number=version.number, actor="t")
    statuses = []
    for comune in (target["comune"], "001001" if target["comune"] != "001001" else "001002"):
        for op in ("sum", "mean", "quantile", "histogram"):
            measure = {"op": op, "column": "monthly_wage", "bounds": [0, 5000]}
            if op == "quantile":
                measure["q"] = 0.5
            if op == "histogram":
                measure = {"op": op, "column": "monthly_wage", "bins": [0, 1000, 5000]}
            answer = client.post(
                URL,
                headers=bearer(tokens["researcher"]),
                json={
                    "purpose": "dpv:ScientificResearch",
                    "group_by": ["sex"],
                    "filters": {"comune": [comune], "age_band": [target["age_band"]]},
                    "measures": [measure],
                    "epsilon": 0.05,
                },
            )
            statuses.append(answer.status_code)
    assert statuses == [200] * 8


def test_a_release_racing_an_erasure_never_includes_the_erased_donor(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings, monkeypatch
) -> None:
    """The donors were chosen before the erasure committed, the charge came after: the erased donor
    was included and their erased link to a history was made again."""
    publish_private(sessions, settings)
    assert client.post(URL, json=by_year("2022", 0.25), headers=bearer(tokens["analyst"])).status_code == 200
    victim = sorted(eligible(sessions))[0]
    never_included = sorted(eligible(sessions))[1]
    computed = service.release_cells
    seen: list[frozenset[str]] = []

    def erase_meanwhile(frame, plan, *, policy, eligible):  # type: ignore[no-untyped-def]
        seen.append(eligible)
        if len(seen) == 1:  # the erasure commits while the first attempt computes
            with transaction(sessions, immediate=True) as session:
                donor_records.erase(session, donor_id=victim, signer=Signer.of(settings))
        return computed(frame, plan, policy=policy, eligible=eligible)

    monkeypatch.setattr(service, "release_cells", erase_meanwhile)
    answer = client.post(URL, json=by_year("2023", 0.25), headers=bearer(tokens["analyst"]))
    assert answer.status_code == 200
    assert len(seen) == 2 and victim in seen[0] and victim not in seen[1]  # computed again
    with sessions() as session:
        member = session.get(LossMember, victim)
        assert member is not None and member.group_id is None
        assert privacy_loss.history(session, victim) == (0.0, 0, [])
        assert privacy_loss.history(session, never_included)[:2] == (0.5, 2)
    # an erased donor who had never been included is kept out the same way
    with transaction(sessions, immediate=True) as session:
        privacy_loss.forget(session, "D9999999")
    with sessions() as session:
        assert not privacy_loss.inclusion(
            session, donors=frozenset({"D9999999"}), epsilon=0.1, cap=CAP
        ).donors


def charge(sessions, donors: set[str], epsilon: float, release_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with transaction(sessions, immediate=True) as session:
        chosen = privacy_loss.inclusion(session, donors=frozenset(donors), epsilon=epsilon, cap=CAP)
        privacy_loss.charge(
            session,
            eligible=frozenset(donors),
            chosen=chosen,
            epsilon=epsilon,
            cap=CAP,
            use=privacy_loss.Use(
                release_id, "release", "ds", 1, "org", "dpv:ScientificResearch", epsilon, datetime.now(UTC)
            ),
        )
        return sorted(chosen.donors)


def test_a_database_restored_under_a_running_process_is_read_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Restore a backup under a running process and let another process move the counter back to
    the value this process had cached: the copy must not be trusted (it would include a donor at
    the cap and reset their loss)."""
    path, backup = tmp_path / "ledger.sqlite3", tmp_path / "backup.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    shutil.copy(path, backup)
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_sessionmaker(engine)
    privacy_loss.clear_cache()
    assert charge(sessions, {"A"}, 0.5, "r1") == ["A"]
    with sessions() as session:  # this process's copy: A in group 1, at membership 1
        privacy_loss.inclusion(session, donors=frozenset({"A"}), epsilon=0.1, cap=CAP)
    engine.dispose()
    shutil.copy(backup, path)  # the backup is restored
    mine = dict(privacy_loss._members)
    privacy_loss.clear_cache()  # another process, with no copy, releases over B at the cap
    assert charge(sessions, {"B"}, 1.0, "r2") == ["B"]
    privacy_loss._members.update(mine)  # back in the first process
    assert charge(sessions, {"A", "B"}, 0.5, "r3") == ["A"]
    with sessions() as session:
        assert privacy_loss.history(session, "B")[:2] == (1.0, 1)
        assert privacy_loss.history(session, "A")[:2] == (0.5, 1)
    engine.dispose()


def test_many_groups_split_at_once_stay_consistent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Donors join in 40 batches (40 groups); one release takes a few from each (40 splits in one
    charge, each moving the smaller side): sizes, members and losses all agree afterwards."""
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    privacy_loss.clear_cache()
    batches = [{f"D{b:02d}{i:03d}" for i in range(50)} for b in range(40)]
    joined: set[str] = set()
    for b, batch in enumerate(batches):
        joined |= batch
        charge(sessions, batch, 0.01, f"join{b}")
    few = {d for batch in batches for d in sorted(batch)[:5]}  # 5 of 50: the included are fewer
    most = {d for batch in batches[:20] for d in sorted(batch)[:45]}  # 45 of 50: the others are
    assert charge(sessions, few | most, 0.02, "split") == sorted(few | most)
    with sessions() as session:
        sizes = dict(session.execute(select(LossGroup.id, LossGroup.size)).all())
        members = session.execute(select(LossMember.donor_id, LossMember.group_id)).all()
        counted: dict[int, int] = {}
        for _donor, group in members:
            counted[group] = counted.get(group, 0) + 1
        assert {g: n for g, n in sizes.items() if n} == counted
        losses = {d: privacy_loss.history(session, d)[0] for d in joined}
    assert {losses[d] for d in few | most} == {0.03}
    assert {losses[d] for d in joined - few - most} == {0.01}
    engine.dispose()


def test_no_amount_of_epsilon_is_free() -> None:
    """ledger.to_nano(4e-13) was 0: such releases cost nothing, so there could be any number."""
    from privacy import ledger

    assert privacy_loss.to_nano(4e-13) == ledger.to_nano(4e-13) == 1
    assert sum(privacy_loss.to_nano(0.1) for _ in range(10)) == privacy_loss.to_nano(1.0)
    assert privacy_loss.to_nano(0.1000000001) == 100_000_001  # rounded up, never down


def test_a_query_below_the_minimum_epsilon_is_refused(
    client: TestClient,
    tokens,
    sessions,  # type: ignore[no-untyped-def]
    settings: Settings,
) -> None:
    publish_private(sessions, settings)
    answer = client.post(URL, json=by_year("2022", 4e-7), headers=bearer(tokens["analyst"]))
    assert answer.status_code == 422
    assert answer.json()["error"] == (
        "invalid query: epsilon: 4e-07 is below the minimum of 1e-06 a query may spend"
    )
