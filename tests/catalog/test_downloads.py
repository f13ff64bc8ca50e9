"""Downloading open datasets; private ones point to the query endpoints."""

from __future__ import annotations

import io

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from tests.conftest import bearer

URL = "/api/v1/datasets/disoccupazione-piemonte/download"


def test_parquet_download_with_etag_and_length(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    response = client.get(URL, headers=bearer(tokens["analyst"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    assert int(response.headers["content-length"]) == len(response.content)
    table = pq.read_table(io.BytesIO(response.content))
    assert table.column("value").to_pylist() == [7.1, 6.9, 6.5]
    etag = response.headers["etag"]
    assert etag.endswith('.parquet"')
    again = client.get(URL, headers={**bearer(tokens["analyst"]), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    for header in (f"W/{etag}", f'"other", {etag}', "*"):  # weak, in a list, any
        cached = client.get(URL, headers={**bearer(tokens["analyst"]), "If-None-Match": header})
        assert cached.status_code == 304, header
    stale = client.get(URL, headers={**bearer(tokens["analyst"]), "If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.content == response.content


def test_csv_download(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    response = client.get(URL, params={"format": "csv"}, headers=bearer(tokens["researcher"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert int(response.headers["content-length"]) == len(response.content)
    assert 'filename="disoccupazione-piemonte-v1.csv"' in response.headers["content-disposition"]
    table = pacsv.read_csv(io.BytesIO(response.content))
    assert table.column_names == ["geo", "year", "value"] and table.num_rows == 3
    # the rendering is kept: a second request sends the same bytes
    assert (
        client.get(URL, params={"format": "csv"}, headers=bearer(tokens["researcher"])).content
        == response.content
    )


def test_private_dataset_cannot_be_downloaded(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/datasets/inserimento-lavorativo/download", headers=bearer(tokens["admin"]))
    assert response.status_code == 403
    body = response.json()
    assert body["error"].startswith("dataset inserimento-lavorativo holds private microdata")
    assert body["errors"] == [
        {
            "queries": "/api/v1/datasets/inserimento-lavorativo/queries",
            "preview": "/api/v1/datasets/inserimento-lavorativo/queries/preview",
            "extracts": "/api/v1/extracts",
        }
    ]
    assert b"D1" not in response.content


def test_unpublished_or_unknown(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["analyst"])
    none_yet = client.get("/api/v1/datasets/cooperative-sociali/download", headers=headers)
    assert (none_yet.status_code, none_yet.json()["error"]) == (
        404,
        "dataset cooperative-sociali has no published version yet",
    )
    assert client.get("/api/v1/datasets/nope/download", headers=headers).status_code == 404
    bad = client.get(URL, params={"format": "xlsx"}, headers=headers)
    assert bad.status_code == 422


def test_detail_lists_the_distributions(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["analyst"])
    open_one = client.get("/api/v1/datasets/disoccupazione-piemonte", headers=headers).json()
    assert [(d["format"], d["download_url"]) for d in open_one["distributions"]] == [
        ("parquet", "http://127.0.0.1:8000/api/v1/datasets/disoccupazione-piemonte/download?format=parquet"),
        ("csv", "http://127.0.0.1:8000/api/v1/datasets/disoccupazione-piemonte/download?format=csv"),
    ]
    private = client.get("/api/v1/datasets/inserimento-lavorativo", headers=headers).json()
    assert [(d["format"], d["access_url"], d["download_url"]) for d in private["distributions"]] == [
        ("dp-queries", "http://127.0.0.1:8000/api/v1/datasets/inserimento-lavorativo/queries", None)
    ]
