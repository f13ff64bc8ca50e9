"""The DCAT-AP 3 / DCAT-AP_IT export: the catalog and every dataset conform to the DCAT-AP 3.0.1 shapes.

The shapes (``dcat-ap-SHACL.ttl``) and the range checks (``ranges.ttl``) of the release are in
``tests/fixtures/dcat-ap-3.0.1/``, loaded by :mod:`tests.support.shacl`. The catalog is the demo's,
plus three datasets built here: an open one with a published version, a private one with an access
policy, and an open one with no version yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib import RDF, Literal, Namespace, URIRef

from catalog import dcat
from catalog.distributions import Distribution, distributions_of
from datacommons import registry
from datacommons.config import Settings
from datacommons.datasets import Dataset
from datacommons.db import transaction
from datacommons.demo import COMUNI_ID, run_demo
from datacommons.specs import DatasetMeta, PolicySpec
from datacommons.storage import ParquetStore
from tests.conftest import bearer
from tests.support.shacl import load_shapes, validate

BASE = "http://127.0.0.1:8000"  # the default public_url of the test settings
EU = "http://publications.europa.eu/resource/authority"
# Open namespaces: rdflib's closed DCAT one predates DCAT 3 (dcat:version).
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")  # DCTERMS["title"]: str.title is a method
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
CC_BY = "https://creativecommons.org/licenses/by/4.0/"

OPEN = DatasetMeta(
    id="occupazione-torino",
    title_it="Tasso di occupazione",
    title_en="Employment rate",
    description_it="Tasso di occupazione 15-64 anni.",
    description_en="Employment rate, ages 15-64.",
    theme="ECON",
    publisher="Eurostat",
    geography="ITC1",
    frequency="ANNUAL",
    keywords=["lavoro", "employment"],
)
PRIVATE = DatasetMeta(
    id="percorsi-privati",
    title_it="Percorsi di inserimento",
    title_en="Job placement",
    description_it="Microdati donati dalle cooperative sociali.",
    description_en="Microdata donated by social cooperatives.",
    theme="SOCI",
    publisher="Cooperativa sociale Il Ponte",
    access="private",
    geography="ITC11",
    frequency="QUARTERLY",
    licence=CC_BY,
)
UNVERSIONED = DatasetMeta(
    id="bandi-economia-sociale",
    title_it="Bandi per l'economia sociale",
    title_en="Calls for the social economy",
    theme="GOVE",
    publisher="Città metropolitana di Torino",
    geography="IT",
    frequency="IRREG",
    licence=CC_BY,
)

#: What each dataset of the catalog must say: theme, frequency, access right, licence, NUTS code.
CC_BY_IT = "https://creativecommons.org/licenses/by/3.0/it/"
EXPECTED = {
    COMUNI_ID: ("REGI", "ANNUAL", "PUBLIC", CC_BY_IT, "ITC11"),
    "comuni-italia": ("REGI", "ANNUAL", "PUBLIC", CC_BY_IT, "IT"),
    "eurostat-lfst-r-lfu3rt": ("SOCI", "ANNUAL", "PUBLIC", CC_BY, "ITC1"),
    "inserimento-lavorativo": ("SOCI", "IRREG", "NON_PUBLIC", CC_BY, "ITC11"),
    "istat-151-914": ("SOCI", "ANNUAL", "PUBLIC", CC_BY_IT, "ITC11"),
    "plan2030": ("SOCI", "IRREG", "PUBLIC", CC_BY, "ITC11"),
    OPEN.id: ("ECON", "ANNUAL", "PUBLIC", CC_BY, "ITC1"),
    PRIVATE.id: ("SOCI", "QUARTERLY", "NON_PUBLIC", CC_BY, "ITC11"),
    UNVERSIONED.id: ("GOVE", "IRREG", "PUBLIC", CC_BY, "IT"),
}


@pytest.fixture(scope="session")
def shapes() -> rdflib.Graph:
    """The DCAT-AP 3.0.1 shapes with their range checks, parsed once per session.

    Five controlled-vocabulary property shapes of the release are not in the fixtures (see
    :func:`tests.support.shacl.load_shapes`); the vocabulary IRIs themselves are asserted by
    :func:`test_every_dataset_carries_the_dcat_ap_it_properties`.
    """
    return load_shapes()


def to_graph(document: dict[str, Any]) -> rdflib.Graph:
    """A JSON-LD document as an RDF graph."""
    return rdflib.Graph().parse(data=json.dumps(document), format="json-ld")


def assert_conforms(document: dict[str, Any], shapes: rdflib.Graph) -> rdflib.Graph:
    """Validate a JSON-LD document against the shapes; return its graph."""
    graph = to_graph(document)
    conforms, text = validate(graph, shapes)
    assert conforms, text
    return graph


def registry_time(value: str) -> datetime:
    """A timestamp of the JSON API, to the second (the export's precision)."""
    return datetime.fromisoformat(value).replace(microsecond=0)


def seed(settings: Settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    """The demo catalog plus an open, a private and an unversioned dataset."""
    run_demo(settings)
    store = ParquetStore(settings.store_dir)
    with transaction(session_factory, immediate=True) as session:
        dataset = registry.upsert_dataset(session, meta=OPEN)
        table = pa.table({"geo": ["ITC1", "ITC1"], "year": [2023, 2024], "rate": [66.1, 67.0]})
        version, _ = registry.stage_table(
            session,
            store=store,
            dataset=dataset,
            table=table,
            provenance={"connector": "test"},
            actor="admin:test",
        )
        registry.transition(session, version=version, to="validated", actor="system:gate")
        registry.publish(session, dataset_id=OPEN.id, number=version.number, actor="admin:test")

        private = registry.upsert_dataset(session, meta=PRIVATE)
        registry.set_policy(
            session,
            dataset=private,
            spec=PolicySpec(
                privacy_unit="donor_id",
                max_rows_per_unit=3,
                public_dimensions={"sex": ["F", "M"], "age_band": ["15-24", "25-34"]},
            ),
        )
        registry.upsert_dataset(session, meta=UNVERSIONED)


@pytest.fixture
def catalog_client(
    settings: Settings,
    client: TestClient,
    tokens,
    session_factory,  # type: ignore[no-untyped-def]
) -> Iterator[TestClient]:
    """A client on a seeded catalog, sending the analyst's token."""
    seed(settings, session_factory)
    client.headers.update(bearer(tokens["analyst"]))
    yield client


def test_the_catalog_export_conforms_to_dcat_ap(catalog_client: TestClient, shapes: rdflib.Graph) -> None:
    answer = catalog_client.get("/api/v1/catalog.jsonld")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/ld+json"
    graph = assert_conforms(answer.json(), shapes)

    catalog = URIRef(f"{BASE}/api/v1/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    listed = {str(o) for o in graph.objects(catalog, DCAT.dataset)}
    assert listed == {f"{BASE}/api/v1/datasets/{i}" for i in EXPECTED}
    assert {(o.language, str(o)) for o in graph.objects(catalog, DCTERMS["title"])} == {
        ("it", dcat.CATALOG_TITLE["it"]),
        ("en", dcat.CATALOG_TITLE["en"]),
    }
    publisher = graph.value(catalog, DCTERMS.publisher)
    assert str(graph.value(publisher, FOAF.name)) == "Città metropolitana di Torino"
    assert graph.value(catalog, FOAF.homepage) == URIRef(f"{BASE}/")
    assert set(graph.objects(catalog, DCTERMS.language)) == {
        URIRef(f"{EU}/language/ITA"),
        URIRef(f"{EU}/language/ENG"),
    }
    # The catalog changed when its latest dataset did.
    latest = max(graph.value(URIRef(d), DCTERMS.modified).toPython() for d in listed)
    assert graph.value(catalog, DCTERMS.modified).toPython() == latest


def test_every_dataset_export_conforms_to_dcat_ap(catalog_client: TestClient, shapes: rdflib.Graph) -> None:
    ids = [d["id"] for d in catalog_client.get("/api/v1/datasets").json()["data"]]
    assert sorted(ids) == sorted(EXPECTED)
    for dataset_id in ids:
        answer = catalog_client.get(f"/api/v1/datasets/{dataset_id}.jsonld")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/ld+json"
        graph = assert_conforms(answer.json(), shapes)
        assert (URIRef(f"{BASE}/api/v1/datasets/{dataset_id}"), RDF.type, DCAT.Dataset) in graph


def test_every_dataset_carries_the_dcat_ap_it_properties(catalog_client: TestClient) -> None:
    for dataset_id, (theme, frequency, access, licence, nuts) in EXPECTED.items():
        detail = catalog_client.get(f"/api/v1/datasets/{dataset_id}").json()
        graph = to_graph(catalog_client.get(f"/api/v1/datasets/{dataset_id}.jsonld").json())
        node = URIRef(f"{BASE}/api/v1/datasets/{dataset_id}")

        assert graph.value(node, DCTERMS.identifier) == Literal(dataset_id)
        modified = graph.value(node, DCTERMS.modified)
        assert modified.datatype == XSD.dateTime
        assert modified.toPython() == registry_time(detail["modified_at"])
        assert graph.value(node, DCTERMS.issued).toPython() == registry_time(detail["created_at"])
        assert graph.value(node, DCAT.theme) == URIRef(f"{EU}/data-theme/{theme}")
        assert graph.value(node, DCTERMS.accrualPeriodicity) == URIRef(f"{EU}/frequency/{frequency}")
        assert graph.value(node, DCTERMS.accessRights) == URIRef(f"{EU}/access-right/{access}")
        assert graph.value(node, DCTERMS.spatial) == URIRef(f"http://data.europa.eu/nuts/code/{nuts}")
        holder = graph.value(node, DCTERMS.rightsHolder)
        assert holder == graph.value(node, DCTERMS.publisher)
        assert str(graph.value(holder, FOAF.name)) == detail["publisher"]
        assert graph.value(holder, DCTERMS.identifier) is not None
        assert {(t.language, str(t)) for t in graph.objects(node, DCTERMS["title"])} == {
            ("it", detail["title_it"]),
            ("en", detail["title_en"]),
        }
        for dist in graph.objects(node, DCAT.distribution):
            assert graph.value(dist, DCTERMS.license) == URIRef(licence)
            assert graph.value(dist, DCTERMS["format"]) is not None


def test_an_open_dataset_offers_parquet_and_csv(catalog_client: TestClient, session_factory) -> None:  # type: ignore[no-untyped-def]
    version = catalog_client.get(f"/api/v1/datasets/{OPEN.id}").json()["current_version"]
    url = f"{BASE}/api/v1/datasets/{OPEN.id}"
    with session_factory() as session:
        dists = distributions_of(registry.get_dataset(session, OPEN.id), base_url=BASE)
    assert dists == [
        Distribution(
            id="parquet",
            format="parquet",
            title_it="Tasso di occupazione (Parquet, versione 1)",
            title_en="Employment rate (Parquet, version 1)",
            access="open",
            access_url=f"{url}/download?format=parquet",
            download_url=f"{url}/download?format=parquet",
            media_type="application/vnd.apache.parquet",
            file_type="PARQUET",
            byte_size=version["size_bytes"],
            checksum_sha256=version["content_hash"],
            licence=OPEN.licence,
            version=1,
        ),
        Distribution(
            id="csv",
            format="csv",
            title_it="Tasso di occupazione (CSV, versione 1)",
            title_en="Employment rate (CSV, version 1)",
            access="open",
            access_url=f"{url}/download?format=csv",
            download_url=f"{url}/download?format=csv",
            media_type="text/csv",
            file_type="CSV",
            licence=OPEN.licence,
            version=1,
        ),
    ]

    graph = to_graph(catalog_client.get(f"/api/v1/datasets/{OPEN.id}.jsonld").json())
    parquet = URIRef(f"{url}#distribution-parquet")
    csv = URIRef(f"{url}#distribution-csv")
    assert set(graph.objects(URIRef(url), DCAT.distribution)) == {parquet, csv}
    assert graph.value(parquet, DCAT.downloadURL) == URIRef(f"{url}/download?format=parquet")
    assert graph.value(parquet, DCAT.accessURL) == URIRef(f"{url}/download?format=parquet")
    assert graph.value(parquet, DCTERMS["format"]) == URIRef(f"{EU}/file-type/PARQUET")
    assert graph.value(parquet, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/application/vnd.apache.parquet"
    )
    assert graph.value(parquet, DCAT.byteSize) == Literal(
        version["size_bytes"], datatype=XSD.nonNegativeInteger
    )
    checksum = graph.value(parquet, SPDX.checksum)
    assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert str(graph.value(checksum, SPDX.checksumValue)) == version["content_hash"]
    assert graph.value(csv, DCTERMS["format"]) == URIRef(f"{EU}/file-type/CSV")
    assert graph.value(csv, DCAT.byteSize) is None  # CSV is rendered on request: size unknown
    assert str(graph.value(URIRef(url), DCAT.version)) == "1"


def test_a_private_dataset_offers_only_the_dp_query_endpoint(catalog_client: TestClient) -> None:
    url = f"{BASE}/api/v1/datasets/{PRIVATE.id}"
    graph = to_graph(catalog_client.get(f"/api/v1/datasets/{PRIVATE.id}.jsonld").json())
    dists = list(graph.objects(URIRef(url), DCAT.distribution))
    assert dists == [URIRef(f"{url}#distribution-dp-queries")]
    (dist,) = dists
    assert graph.value(dist, DCAT.accessURL) == URIRef(f"{url}/queries")
    assert graph.value(dist, DCAT.downloadURL) is None  # no microdata file, ever
    assert graph.value(dist, DCTERMS.accessRights) == URIRef(f"{EU}/access-right/NON_PUBLIC")
    assert graph.value(dist, DCTERMS.license) == URIRef(CC_BY)
    service = graph.value(dist, DCAT.accessService)
    assert graph.value(service, DCAT.endpointURL) == URIRef(f"{url}/queries")
    assert "download" not in json.dumps(catalog_client.get(f"/api/v1/datasets/{PRIVATE.id}.jsonld").json())


def test_an_open_dataset_without_a_version_has_no_distribution(
    catalog_client: TestClient, shapes: rdflib.Graph
) -> None:
    document = catalog_client.get(f"/api/v1/datasets/{UNVERSIONED.id}.jsonld").json()
    assert document["dcat:distribution"] == []
    assert "dcat:version" not in document
    # No description given: the title stands in for it, as DCAT-AP requires one.
    assert document["dct:description"] == document["dct:title"]
    assert_conforms(document, shapes)


def test_the_catalog_is_paged_with_hydra_links(catalog_client: TestClient, shapes: rdflib.Graph) -> None:
    seen: list[str] = []
    for page in (1, 2):
        answer = catalog_client.get("/api/v1/catalog.jsonld", params={"page": page, "page_size": 5})
        assert answer.status_code == 200, answer.text
        catalog, view = answer.json()["@graph"]
        seen += [d["dct:identifier"] for d in catalog["dcat:dataset"]]
        link = f"{BASE}/api/v1/catalog.jsonld?page={{}}&page_size=5"
        expected_view = {
            "@id": link.format(page),
            "@type": ["hydra:PartialCollectionView", "hydra:PagedCollection"],
            "hydra:totalItems": {"@value": str(len(EXPECTED)), "@type": "xsd:nonNegativeInteger"},
            "hydra:itemsPerPage": {"@value": "5", "@type": "xsd:nonNegativeInteger"},
            "hydra:first": {"@id": link.format(1)},
            "hydra:firstPage": {"@id": link.format(1)},
            "hydra:last": {"@id": link.format(2)},
            "hydra:lastPage": {"@id": link.format(2)},
        }
        if page == 1:
            expected_view |= {
                "hydra:next": {"@id": link.format(2)},
                "hydra:nextPage": {"@id": link.format(2)},
            }
        else:
            expected_view |= {
                "hydra:previous": {"@id": link.format(1)},
                "hydra:previousPage": {"@id": link.format(1)},
            }
        assert view == expected_view
        graph = assert_conforms(answer.json(), shapes)  # every page is a valid catalog
        assert graph.value(URIRef(link.format(page)), HYDRA.totalItems).toPython() == len(EXPECTED)
    assert seen == sorted(EXPECTED)

    beyond = catalog_client.get("/api/v1/catalog.jsonld", params={"page": 3, "page_size": 5})
    assert beyond.status_code == 404
    assert beyond.json() == {
        "ok": False,
        "status": 404,
        "errors": [],
        "error": "no page 3: the catalog has 2 page(s) of 5",
    }
    too_big = catalog_client.get("/api/v1/catalog.jsonld", params={"page_size": 501})
    assert too_big.status_code == 422
    assert too_big.json()["error"].startswith("invalid request: query.page_size:")


def test_the_default_page_holds_100_datasets(catalog_client: TestClient) -> None:
    view = catalog_client.get("/api/v1/catalog.jsonld").json()["@graph"][1]
    assert view["hydra:itemsPerPage"]["@value"] == "100"
    assert "hydra:next" not in view and "hydra:previous" not in view


def test_jsonld_and_json_routes_of_a_dataset_do_not_clash(catalog_client: TestClient) -> None:
    plain_path, linked_path = f"/api/v1/datasets/{OPEN.id}", f"/api/v1/datasets/{OPEN.id}.jsonld"
    for order in ((plain_path, linked_path), (linked_path, plain_path)):
        answers = {path: catalog_client.get(path) for path in order}
        plain, linked = answers[plain_path], answers[linked_path]
        assert plain.headers["content-type"] == "application/json"
        assert plain.json()["id"] == OPEN.id
        assert linked.headers["content-type"] == "application/ld+json"
        assert linked.json()["@id"] == f"{BASE}/api/v1/datasets/{OPEN.id}"
    versions = catalog_client.get(f"/api/v1/datasets/{OPEN.id}/versions")
    assert versions.status_code == 200 and versions.json()["count"] == 1
    missing = catalog_client.get("/api/v1/datasets/nessuno.jsonld")
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "status": 404, "errors": [], "error": "no dataset 'nessuno'"}


def test_the_export_needs_a_token_of_any_role(
    client: TestClient, tokens: dict[str, str], settings: Settings, session_factory
) -> None:  # type: ignore[no-untyped-def]
    seed(settings, session_factory)
    for path in ("/api/v1/catalog.jsonld", f"/api/v1/datasets/{COMUNI_ID}.jsonld"):
        assert client.get(path).status_code == 401
        for role, token in tokens.items():
            assert client.get(path, headers=bearer(token)).status_code == 200, role


def test_iris_follow_the_public_url(session_factory, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    seed(settings, session_factory)
    with session_factory() as session:
        document = dcat.export_dataset(
            session=session, base_url="https://dati.example.org/", dataset_id=OPEN.id
        )
    assert document["@id"] == f"https://dati.example.org/api/v1/datasets/{OPEN.id}"
    assert document["dcat:distribution"][0]["dcat:downloadURL"]["@id"] == (
        f"https://dati.example.org/api/v1/datasets/{OPEN.id}/download?format=parquet"
    )
    assert document["dcat:landingPage"]["@id"] == f"https://dati.example.org/datasets/{OPEN.id}"


def test_the_shapes_reject_an_export_that_breaks_them(
    catalog_client: TestClient, shapes: rdflib.Graph
) -> None:
    """The validation can fail: a dataset without a title, or with an untyped theme, does not conform."""
    document = catalog_client.get(f"/api/v1/datasets/{OPEN.id}.jsonld").json()
    untitled = {k: v for k, v in document.items() if k != "dct:title"}
    untyped_theme = document | {"dcat:theme": {"@id": document["dcat:theme"]["@id"]}}
    for broken in (untitled, untyped_theme):
        conforms, _text = validate(to_graph(broken), shapes)
        assert not conforms


def test_a_municipality_code_and_an_unlisted_frequency_still_conform(shapes: rdflib.Graph) -> None:
    """A comune (ISTAT code, not NUTS) becomes a described place; an unlisted code keeps its IRI."""
    when = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    dataset = Dataset(
        id="servizi-torino",
        title_it="Servizi",
        title_en="Services",
        description_it="",
        description_en="",
        theme="soci",
        publisher="Comune di Torino",
        access="open",
        geography="001272",
        licence=CC_BY,
        keywords=[],
        frequency="WEEKLY_2",
        created_at=when,
        modified_at=when,
        current_version=None,
    )
    document = dcat.dataset_document(dataset, base_url=BASE)
    assert document["dct:spatial"] == {"@type": "dct:Location", "dct:identifier": "001272"}
    assert document["dcat:theme"]["@id"] == f"{EU}/data-theme/SOCI"
    assert document["dct:accrualPeriodicity"]["@id"] == f"{EU}/frequency/WEEKLY_2"
    assert document["dct:accrualPeriodicity"]["skos:prefLabel"] == [
        {"@value": "WEEKLY_2", "@language": "it"},
        {"@value": "WEEKLY_2", "@language": "en"},
    ]
    assert document["dct:modified"] == {"@value": "2025-03-01T09:30:00+00:00", "@type": "xsd:dateTime"}
    assert_conforms(document, shapes)
