"""Benchmark of ``consent.eligibility.eligible_donors``, the hot path of every private query.

Seeds N organisation donors with the demo's consents (about 85% eligible for research), then times:

- baseline: reading every donor id of the consent periods (``SELECT donor_id``), the least any answer
  that reads the database can cost;
- cold: the first call (empty cache);
- warm: the same call again with nothing changed (answered from the cache after one counter read);
- after change: the first call after one withdrawal (the counter moved, so it is cold again).

Usage: python benchmarks/eligible_donors.py [--donors 500000] [--database-url URL]
(default: a SQLite file in a temporary directory).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text  # noqa: E402

from consent import eligibility, ledger  # noqa: E402
from consent.demo import seed_consent  # noqa: E402
from consent.models import Consent  # noqa: E402
from consent.receipts import Signer  # noqa: E402
from datacommons.config import Settings  # noqa: E402
from datacommons.db import make_engine, make_sessionmaker, transaction, utcnow  # noqa: E402
from datacommons.migrations import upgrade  # noqa: E402
from tests.support.live_server import timed  # noqa: E402

DATASET = "inserimento-lavorativo"
PURPOSE = "dpv:ScientificResearch"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--donors", type=int, default=500_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dc-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    settings = Settings(
        _env_file=None, env="test", data_dir=tmp, database_url=url, secret_key="benchmark-secret-" + "x" * 32
    )
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    ids = [f"D{i:07d}" for i in range(1, args.donors + 1)]
    start = time.perf_counter()
    with transaction(factory, immediate=True) as session:
        seeded = seed_consent(
            session, dataset_id=DATASET, donor_ids=ids, organisation="Bench", settings=settings
        )
    print(
        f"seeded {seeded.donors_added} donors, {seeded.consents_given} consents "
        f"in {time.perf_counter() - start:.1f} s ({engine.dialect.name})"
    )

    at = utcnow()
    with factory() as session:

        def baseline() -> int:
            return len(session.execute(text("SELECT donor_id FROM consent_periods")).all())

        def call() -> frozenset[str]:
            return eligibility.eligible_donors(session, dataset_id=DATASET, purpose=PURPOSE, at=at)

        def cold() -> frozenset[str]:
            eligibility.clear_cache()
            return call()

        base, rows = timed(baseline, 3)
        t_cold, donors = timed(cold, 3)
        t_warm, _ = timed(call, 50)
    with transaction(factory, immediate=True) as session:
        some = sorted(donors)[0]  # type: ignore[arg-type]
        consent = session.scalars(select(Consent).where(Consent.donor_id == some)).first()
        assert consent is not None
        ledger.withdraw(session, donor_id=some, consent_id=consent.id, signer=Signer.of(settings))
    with factory() as session:
        t_change, after = timed(
            lambda: eligibility.eligible_donors(session, dataset_id=DATASET, purpose=PURPOSE, at=utcnow())
        )
    assert some not in after  # type: ignore[operator]
    print(f"eligible: {len(donors)} of {len(ids)} donors ({rows} consent periods)")  # type: ignore[arg-type]
    print(f"baseline (read every period's donor id): {base * 1000:8.1f} ms")
    print(
        f"cold:                                    {t_cold * 1000:8.1f} ms  ({t_cold / base:.2f}x baseline)"
    )
    print(
        f"warm:                                    {t_warm * 1000:8.3f} ms  ({t_warm / base:.4f}x baseline)"
    )
    print(
        f"first call after a withdrawal:           {t_change * 1000:8.1f} ms  "
        f"({t_change / base:.2f}x baseline)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
