"""The demo publishes its datasets through the real connectors, offline, and only once."""

from __future__ import annotations

from datacommons import registry
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.demo import run_demo
from tests.support.cli import run_cli

PUBLISHED = [
    "comuni-italia",
    "comuni-torino",
    "plan2030",
    "eurostat-lfst-r-lfu3rt",
    "istat-151-914",
    "inserimento-lavorativo",
]


def test_demo_publishes_every_dataset_once(settings: Settings) -> None:
    first = run_demo(settings)
    assert list(first.datasets) == PUBLISHED
    second = run_demo(settings)
    assert second.datasets == first.datasets
    engine = make_engine(settings.database_url_resolved)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            summary = {
                d.id: (
                    d.access,
                    d.current_version.number,
                    d.current_version.status,
                    len(registry.list_versions(session, d.id)),
                )
                for d in registry.list_datasets(session)
            }
            donation = registry.get_dataset(session, "inserimento-lavorativo")
            policy = (
                donation.policy.privacy_unit,
                donation.policy.max_rows_per_unit,
                sorted(donation.policy.public_dimensions),
            )
            rows = donation.current_version.rows
            connectors = {
                d.id: d.current_version.provenance["connector"] for d in registry.list_datasets(session)
            }
    finally:
        engine.dispose()
    assert summary == {
        name: ("private" if name == "inserimento-lavorativo" else "open", 1, "published", 1)
        for name in PUBLISHED
    }
    assert policy == ("donor_id", 3, ["age_band", "comune", "disadvantage", "pathway", "sex", "year"])
    assert 20_000 <= rows <= 60_000
    assert connectors == {
        "comuni-italia": "istat-comuni",
        "comuni-torino": "istat-comuni",
        "plan2030": "plan2030",
        "eurostat-lfst-r-lfu3rt": "eurostat",
        "istat-151-914": "istat",
        "inserimento-lavorativo": "file",
    }


def test_demo_command_prints_every_published_dataset(settings: Settings) -> None:
    result = run_cli(settings, "demo")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Demo data ready:"
    assert [line.split()[0] for line in lines[1:7]] == PUBLISHED
    assert all(line.endswith("version 1 published") for line in lines[1:7])
