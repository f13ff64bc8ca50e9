"""The registry: datasets, content-addressed versions and the publication workflow."""

from __future__ import annotations

import pyarrow as pa
import pytest

from datacommons import registry, specs
from datacommons.db import transaction
from datacommons.errors import Conflict, InvalidInput, NotFound
from datacommons.specs import DatasetMeta, PolicySpec

META = DatasetMeta(
    id="occupati",
    title_it="Occupati",
    title_en="Employed",
    publisher="ISTAT",
    keywords=["lavoro", "employment"],
)


def stage(session, store, values, actor="admin:test"):  # type: ignore[no-untyped-def]
    dataset = registry.upsert_dataset(session, meta=META)
    table = pa.table({"year": [2023, 2024], "value": values})
    return registry.stage_table(
        session, store=store, dataset=dataset, table=table, provenance={"connector": "test"}, actor=actor
    )


def test_same_content_gives_the_same_version(session_factory, store) -> None:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        first, created = stage(session, store, [1.0, 2.0])
        again, created_again = stage(session, store, [1.0, 2.0])
        other, created_other = stage(session, store, [1.0, 3.0])
        assert (created, created_again, created_other) == (True, False, True)
        assert again.id == first.id
        assert (first.number, other.number) == (1, 2)
        assert first.rows == 2 and first.status == "staged"
        assert first.arrow_schema == [
            {"name": "year", "type": "int64", "nullable": True},
            {"name": "value", "type": "double", "nullable": True},
        ]
        assert [v.number for v in registry.list_versions(session, "occupati")] == [2, 1]


def test_only_a_validated_version_can_be_published(session_factory, store) -> None:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        version, _ = stage(session, store, [1.0, 2.0])
        with pytest.raises(Conflict, match="only a validated version"):
            registry.publish(session, dataset_id="occupati", number=1, actor="admin:a")
        registry.transition(session, version=version, to="rejected", actor="system:gate")
        with pytest.raises(Conflict, match="rejected"):
            registry.publish(session, dataset_id="occupati", number=1, actor="admin:a")
        registry.transition(session, version=version, to="validated", actor="system:gate", note="suite fixed")
        registry.publish(session, dataset_id="occupati", number=1, actor="admin:a")
        dataset = registry.get_dataset(session, "occupati")
        assert dataset.current_version_id == version.id and version.status == "published"
        with pytest.raises(Conflict, match="cannot become"):
            registry.transition(session, version=version, to="rejected", actor="x")
        steps = [(t.from_status, t.to_status, t.actor) for t in registry.transitions_of(session, version)]
        assert steps == [
            (None, "staged", "admin:test"),
            ("staged", "rejected", "system:gate"),
            ("rejected", "validated", "system:gate"),
            ("validated", "published", "admin:a"),
        ]


def test_an_older_published_version_can_be_made_current_again(session_factory, store) -> None:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        for values in ([1.0, 2.0], [5.0, 6.0]):
            version, _ = stage(session, store, values)
            registry.transition(session, version=version, to="validated", actor="gate")
            registry.publish(session, dataset_id="occupati", number=version.number, actor="admin:a")
        assert registry.get_dataset(session, "occupati").current_version.number == 2
        registry.publish(session, dataset_id="occupati", number=1, actor="admin:b")
        assert registry.get_dataset(session, "occupati").current_version.number == 1
        again = registry.publish(session, dataset_id="occupati", number=1, actor="admin:b")
        assert again.number == 1
        notes = [t.note for t in registry.transitions_of(session, again)]
        assert notes.count("made current again") == 1


def test_unknown_dataset_and_version_are_not_found(session_factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        with pytest.raises(NotFound, match="no dataset 'nope'"):
            registry.get_version(session, "nope", 1)
        registry.upsert_dataset(session, meta=META)
        with pytest.raises(NotFound, match="has no version 7"):
            registry.get_version(session, "occupati", 7)


def test_dataset_ids_are_slugs() -> None:
    with pytest.raises(ValueError, match="invalid dataset id"):
        DatasetMeta(id="Not A Slug", title_it="t", title_en="t", publisher="p")
    with pytest.raises(InvalidInput):
        specs.check_slug("-leading")


def test_empty_table_is_refused(session_factory, store) -> None:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        dataset = registry.upsert_dataset(session, meta=META)
        with pytest.raises(InvalidInput, match="no rows"):
            registry.stage_table(
                session,
                store=store,
                dataset=dataset,
                table=pa.table({"a": pa.array([], pa.int64())}),
                provenance={},
                actor="x",
            )


def test_policies_belong_to_private_datasets(session_factory) -> None:  # type: ignore[no-untyped-def]
    spec = PolicySpec(privacy_unit="donor_id", max_rows_per_unit=3, public_dimensions={"sex": ["F", "M"]})
    with transaction(session_factory) as session:
        open_ds = registry.upsert_dataset(session, meta=META)
        with pytest.raises(InvalidInput, match="only private datasets"):
            registry.set_policy(session, dataset=open_ds, spec=spec)
        private = registry.upsert_dataset(
            session, meta=META.model_copy(update={"id": "microdati", "access": "private"})
        )
        policy = registry.set_policy(session, dataset=private, spec=spec)
        assert (policy.privacy_unit, policy.max_rows_per_unit) == ("donor_id", 3)
        assert policy.public_dimensions == {"sex": ["F", "M"]}


def test_a_dataset_names_an_eu_data_theme_and_a_frequency_code() -> None:
    from typing import get_args

    from pydantic import ValidationError

    from datacommons.vocabularies import DATA_THEMES

    assert set(get_args(specs.Theme)) == set(DATA_THEMES)
    for bad in ({"theme": "soci"}, {"theme": "Social"}, {"frequency": "every year"}):
        with pytest.raises(ValidationError):
            META.model_validate(META.model_dump() | bad)
    assert META.model_validate(META.model_dump() | {"theme": "ECON", "frequency": "ANNUAL_2"})
