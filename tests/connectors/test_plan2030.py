"""The figures of the metropolitan plan for the social economy, each with its source."""

from __future__ import annotations

import pytest

from datacommons.errors import InvalidInput


def test_the_plan_figures_with_their_sources(run, store) -> None:  # type: ignore[no-untyped-def]
    result = run("plan2030")
    table = store.read_table(result.staged[0].content_hash)
    figures = {
        (r["indicator"], r["area"]): (r["value"], r["unit"], r["qualifier"], r["source"])
        for r in table.to_pylist()
    }
    osserv = "Osservatorio sull'imprenditorialità sociale 2023"
    assert figures[("organizzazioni_impatto_sociale", "ITC11")] == (3358, "count", None, osserv)
    assert figures[("organizzazioni_impatto_sociale", "ITC1")] == (6719, "count", None, osserv)
    assert figures[("cooperative_sociali", "ITC11")] == (448, "count", None, osserv)
    assert figures[("cooperative_sociali_quota_piemonte", "ITC11")] == (47, "percent", None, osserv)
    assert figures[("imprese_sociali", "ITC11")][0] == 91
    assert figures[("imprese_sociali", "ITC1")][0] == 131
    assert figures[("associazioni_promozione_sociale", "ITC11")][0] == 1212
    assert figures[("organizzazioni_volontariato", "ITC11")][0] == 1241
    assert figures[("organizzazioni_volontariato", "ITC1")][:3] == (2900, "count", "more_than")
    assert figures[("organizzazioni_volontariato_quota_piemonte", "ITC11")][0] == 42
    assert figures[("startup_innovative_vocazione_sociale", "ITC11")][0] == 17
    assert figures[("startup_innovative_vocazione_sociale", "ITC1")][0] == 23
    assert figures[("societa_benefit", "ITC11")][0] == 124
    assert figures[("societa_benefit", "ITC1")][0] == 177
    assert figures[("altre_cooperative", "ITC11")][0] == 657
    assert figures[("cooperative_valore_produzione", "ITC11")] == (2.8e9, "EUR", None, "Euricse 2024")
    assert figures[("cooperative_lavoratori", "ITC11")] == (42000, "count", "more_than", "Euricse 2024")
    assert all(source for *_, source in figures.values())


def test_a_revised_copy_must_keep_the_columns(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "plan2030.csv"
    path.write_text("indicator,area,value\ncooperative_sociali,ITC11,450\n")
    with pytest.raises(
        InvalidInput,
        match="plan2030.csv: missing columns unit, qualifier, "
        "source_year, source, description_it, description_en",
    ):
        run("plan2030", file=path)
