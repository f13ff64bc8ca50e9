"""The DCAT-AP 3 / DCAT-AP_IT export of the catalog, as JSON-LD.

Plain functions turn registry records into JSON-LD documents (dicts):

- :func:`dataset_node` — one ``dcat:Dataset`` with its distributions, publisher, theme, coverage…;
- :func:`catalog_document` — one page of the ``dcat:Catalog`` with its datasets embedded and Hydra
  paging links;
- :func:`export_catalog` / :func:`export_dataset` — the same, read from the database.

Every node that another node points to is typed (``skos:Concept``, ``dct:LicenseDocument``,
``foaf:Agent``…) and labelled, so the export conforms to the DCAT-AP 3.0.1 SHACL shapes *including*
their range checks, without a validator having to fetch the EU vocabularies. DCAT-AP_IT's mandatory
properties are carried too: ``dct:identifier``, ``dct:modified``, ``dcat:theme``, ``dct:rightsHolder``,
``dct:accrualPeriodicity`` and a ``dct:license`` on every distribution. See ``docs/dcat.md``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.distributions import Distribution, dataset_url, distributions_of
from datacommons.datasets import Dataset
from datacommons.errors import InvalidInput, NotFound
from datacommons.registry import get_dataset
from datacommons.vocabularies import (
    ACCESS_RIGHT_SCHEME,
    ACCESS_RIGHTS,
    DATA_THEME_SCHEME,
    DATA_THEMES,
    FILE_TYPE_SCHEME,
    FREQUENCIES,
    FREQUENCY_SCHEME,
    LANGUAGE_SCHEME,
    LANGUAGES,
    code_iri,
    nuts_iri,
)

JSONLD_MEDIA_TYPE = "application/ld+json"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500

#: The prefixes the export uses; every property is written prefixed, every value explicitly typed,
#: so the document means the same to any JSON-LD processor without a remote context.
CONTEXT: dict[str, str] = {
    "adms": "http://www.w3.org/ns/adms#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcatapit": "http://dati.gov.it/onto/dcatapit#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "locn": "http://www.w3.org/ns/locn#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

#: The catalog itself: who runs the commons and what it holds.
CATALOG_TITLE = {
    "it": "Data commons per l'economia sociale — Città metropolitana di Torino",
    "en": "Data commons for the social economy — Metropolitan City of Turin",
}
CATALOG_DESCRIPTION = {
    "it": "Dati pubblici e dati donati sull'inclusione sociale e lavorativa nella Città metropolitana di "
    "Torino. I dati aperti si scaricano in Parquet e CSV; i microdati privati si interrogano solo con "
    "privacy differenziale, per le finalità a cui i donatori hanno acconsentito.",
    "en": "Public and donated data on social and labour inclusion in the Metropolitan City of Turin. "
    "Open data can be downloaded as Parquet and CSV; private microdata can only be queried with "
    "differential privacy, for the purposes their donors consented to.",
}
CATALOG_PUBLISHER = "Città metropolitana di Torino"
CATALOG_SPATIAL = "ITC11"


# --- small builders -----------------------------------------------------------------------------


def text(it: str, en: str) -> list[dict[str, str]]:
    """A bilingual literal: the non-empty ones of the Italian and English texts, language-tagged."""
    return [{"@value": v, "@language": lang} for lang, v in (("it", it), ("en", en)) if v.strip()]


def date_time(value: datetime) -> dict[str, str]:
    """An ``xsd:dateTime`` literal in UTC (naive values are taken as UTC, as the database stores them)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return {"@value": value.astimezone(UTC).isoformat(timespec="seconds"), "@type": "xsd:dateTime"}


def iri(value: str) -> dict[str, str]:
    """A reference to a node by IRI."""
    return {"@id": value}


def slugify(name: str) -> str:
    """A stable ASCII identifier for a name: ``Città metropolitana`` -> ``citta-metropolitana``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "agent"


def catalog_iri(base_url: str) -> str:
    """The IRI of the catalog."""
    return f"{base_url.rstrip('/')}/api/v1/catalog"


def concept(scheme: str, code: str, labels: tuple[str, str] | None, *types: str) -> dict[str, Any]:
    """A concept of an EU authority table, typed and labelled (unknown codes are labelled by code)."""
    it, en = labels or (code, code)
    return {
        "@id": code_iri(scheme, code),
        "@type": ["skos:Concept", *types],
        "skos:prefLabel": text(it, en),
        "skos:inScheme": iri(scheme),
        "skos:notation": code.strip().upper(),
    }


def agent(name: str, *, base_url: str) -> dict[str, Any]:
    """An organisation (publisher or rights holder) with a name and an identifier (DCAT-AP_IT)."""
    ident = slugify(name)
    return {
        "@id": f"{catalog_iri(base_url)}#agent-{ident}",
        "@type": ["foaf:Agent", "foaf:Organization", "dcatapit:Agent"],
        "foaf:name": name,
        "dct:identifier": ident,
    }


def location(code: str) -> dict[str, Any]:
    """The area a dataset covers: a NUTS region when the code is one, else a described place."""
    node: dict[str, Any] = {"@type": "dct:Location", "dct:identifier": code}
    nuts = nuts_iri(code)
    if nuts is not None:
        node["@id"] = nuts
    return node


def licence(url: str) -> dict[str, Any]:
    """A licence document by its URL."""
    return {"@id": url, "@type": "dct:LicenseDocument"}


def access_rights(access: str) -> dict[str, Any]:
    """PUBLIC or NON_PUBLIC from the EU access-right vocabulary."""
    code, it, en = ACCESS_RIGHTS[access]
    return {
        "@id": code_iri(ACCESS_RIGHT_SCHEME, code),
        "@type": "dct:RightsStatement",
        "rdfs:label": text(it, en),
    }


def document(url: str) -> dict[str, str]:
    """A web page or other resource given by URL (typed, as the DCAT-AP range checks require)."""
    return {"@id": url, "@type": "foaf:Document"}


def resource(url: str) -> dict[str, str]:
    """A plain web resource (an access or download URL)."""
    return {"@id": url, "@type": "rdfs:Resource"}


# --- datasets -----------------------------------------------------------------------------------


def distribution_node(dist: Distribution, *, dataset: Dataset, base_url: str) -> dict[str, Any]:
    """One ``dcat:Distribution`` of a dataset."""
    version = dataset.current_version
    node: dict[str, Any] = {
        "@id": f"{dataset_url(base_url, dataset.id)}#distribution-{dist.id}",
        "@type": ["dcat:Distribution", "dcatapit:Distribution"],
        "dct:identifier": f"{dataset.id}/{dist.id}",
        "dct:title": text(dist.title_it, dist.title_en),
        "dcat:accessURL": resource(dist.access_url),
        "dct:format": {"@id": code_iri(FILE_TYPE_SCHEME, dist.file_type), "@type": "dct:MediaTypeOrExtent"},
        "dcat:mediaType": {
            "@id": f"https://www.iana.org/assignments/media-types/{dist.media_type}",
            "@type": "dct:MediaType",
        },
        "dct:license": licence(dist.licence),
        "dct:accessRights": access_rights(dist.access),
    }
    if dist.download_url is not None:
        node["dcat:downloadURL"] = resource(dist.download_url)
    if dist.byte_size is not None:
        node["dcat:byteSize"] = {"@value": str(dist.byte_size), "@type": "xsd:nonNegativeInteger"}
    if dist.checksum_sha256 is not None:
        node["spdx:checksum"] = {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256", "@type": "spdx:ChecksumAlgorithm"},
            "spdx:checksumValue": {"@value": dist.checksum_sha256, "@type": "xsd:hexBinary"},
        }
    if version is not None and dist.access == "open":
        node["dct:issued"] = date_time(version.created_at)
    if dist.format == "dp-queries":
        # The query endpoint is an API, described as the data service that gives access to the data.
        node["dcat:accessService"] = {
            "@id": f"{dataset_url(base_url, dataset.id)}#dp-query-service",
            "@type": "dcat:DataService",
            "dct:title": text(
                "Servizio di interrogazione con privacy differenziale", "Differentially-private query service"
            ),
            "dcat:endpointURL": resource(dist.access_url),
            "dcat:servesDataset": iri(dataset_url(base_url, dataset.id)),
            "dct:accessRights": access_rights("private"),
            "dct:license": licence(dist.licence),
        }
    return node


def dataset_node(dataset: Dataset, *, base_url: str) -> dict[str, Any]:
    """One ``dcat:Dataset`` (also a ``dcatapit:Dataset``), with its distributions embedded."""
    url = dataset_url(base_url, dataset.id)
    publisher = agent(dataset.publisher, base_url=base_url)
    description = text(dataset.description_it, dataset.description_en) or text(
        dataset.title_it, dataset.title_en
    )  # DCAT-AP requires a description; a dataset described by its title alone reuses the title
    node: dict[str, Any] = {
        "@id": url,
        "@type": ["dcat:Dataset", "dcatapit:Dataset"],
        "dct:identifier": dataset.id,
        "dct:title": text(dataset.title_it, dataset.title_en),
        "dct:description": description,
        "dcat:theme": concept(DATA_THEME_SCHEME, dataset.theme, DATA_THEMES.get(dataset.theme.upper())),
        "dct:publisher": publisher,
        "dct:rightsHolder": publisher,
        "dct:accessRights": access_rights(dataset.access),
        "dct:spatial": location(dataset.geography),
        # Keywords are stored as one mixed Italian/English list, without their language: tagging
        # them would guess, so they are plain literals.
        "dcat:keyword": list(dataset.keywords),
        "dct:accrualPeriodicity": concept(
            FREQUENCY_SCHEME, dataset.frequency, FREQUENCIES.get(dataset.frequency.upper()), "dct:Frequency"
        ),
        "dct:issued": date_time(dataset.created_at),
        "dct:modified": date_time(dataset.modified_at),
        "dcat:landingPage": document(f"{base_url.rstrip('/')}/datasets/{dataset.id}"),
        "dcat:distribution": [
            distribution_node(d, dataset=dataset, base_url=base_url)
            for d in distributions_of(dataset, base_url=base_url)
        ],
    }
    if dataset.current_version is not None:
        node["dcat:version"] = str(dataset.current_version.number)
    return node


def dataset_document(dataset: Dataset, *, base_url: str) -> dict[str, Any]:
    """The JSON-LD document of one dataset."""
    return {"@context": CONTEXT, **dataset_node(dataset, base_url=base_url)}


# --- the catalog --------------------------------------------------------------------------------


def page_url(base_url: str, page: int, page_size: int) -> str:
    """The URL of one page of the catalog export."""
    return f"{base_url.rstrip('/')}/api/v1/catalog.jsonld?page={page}&page_size={page_size}"


def last_page(total: int, page_size: int) -> int:
    """The number of the last page (1 for an empty catalog)."""
    return max(1, -(-total // page_size))


def paging_node(*, base_url: str, page: int, page_size: int, total: int) -> dict[str, Any]:
    """Hydra paging links of one page.

    Written both in the Hydra Core form (``hydra:PartialCollectionView``, ``hydra:next``) and in the
    older ``hydra:PagedCollection`` form (``hydra:nextPage``) that CKAN's DCAT harvester (used by
    dati.gov.it) and piveau (data.europa.eu) follow.
    """
    last = last_page(total, page_size)
    node: dict[str, Any] = {
        "@id": page_url(base_url, page, page_size),
        "@type": ["hydra:PartialCollectionView", "hydra:PagedCollection"],
        "hydra:totalItems": {"@value": str(total), "@type": "xsd:nonNegativeInteger"},
        "hydra:itemsPerPage": {"@value": str(page_size), "@type": "xsd:nonNegativeInteger"},
    }
    links = {"first": 1, "last": last}
    if page > 1:
        links["previous"] = page - 1
    if page < last:
        links["next"] = page + 1
    for name, number in links.items():
        target = iri(page_url(base_url, number, page_size))
        node[f"hydra:{name}"] = target
        node[f"hydra:{name}Page"] = target
    return node


def catalog_node(datasets: list[Dataset], *, base_url: str, modified: datetime | None) -> dict[str, Any]:
    """The ``dcat:Catalog`` (also a ``dcatapit:Catalog``) with ``datasets`` embedded."""
    root = base_url.rstrip("/")
    node: dict[str, Any] = {
        "@id": catalog_iri(base_url),
        "@type": ["dcat:Catalog", "dcatapit:Catalog"],
        "dct:identifier": slugify(CATALOG_TITLE["en"]),
        "dct:title": text(CATALOG_TITLE["it"], CATALOG_TITLE["en"]),
        "dct:description": text(CATALOG_DESCRIPTION["it"], CATALOG_DESCRIPTION["en"]),
        "dct:publisher": agent(CATALOG_PUBLISHER, base_url=base_url),
        "foaf:homepage": document(f"{root}/"),
        "dct:language": [
            {
                "@id": code_iri(LANGUAGE_SCHEME, code),
                "@type": "dct:LinguisticSystem",
                "rdfs:label": text(*labels),
            }
            for code, labels in LANGUAGES.items()
        ],
        "dct:spatial": location(CATALOG_SPATIAL),
        "dcat:themeTaxonomy": {
            "@id": DATA_THEME_SCHEME,
            "@type": "skos:ConceptScheme",
            "dct:title": text("Tema dei dati", "Data theme"),
        },
        "dcat:dataset": [dataset_node(d, base_url=base_url) for d in datasets],
    }
    if modified is not None:
        node["dct:modified"] = date_time(modified)
    return node


def catalog_document(
    datasets: list[Dataset],
    *,
    base_url: str,
    page: int,
    page_size: int,
    total: int,
    modified: datetime | None,
) -> dict[str, Any]:
    """One page of the catalog export: the catalog with this page's datasets, and its paging links.

    ``total`` is the number of datasets in the whole catalog and ``modified`` the latest change of any
    of them, so that every page describes the same catalog.
    """
    return {
        "@context": CONTEXT,
        "@graph": [
            catalog_node(datasets, base_url=base_url, modified=modified),
            paging_node(base_url=base_url, page=page, page_size=page_size, total=total),
        ],
    }


def export_catalog(
    *, session: Session, base_url: str, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
) -> dict[str, Any]:
    """Page ``page`` of the catalog export (datasets by id, ``page_size`` per page)."""
    if page < 1:
        raise InvalidInput(f"page must be 1 or more, not {page}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
    total = session.scalar(select(func.count()).select_from(Dataset)) or 0
    if page > last_page(total, page_size):
        raise NotFound(
            f"no page {page}: the catalog has {last_page(total, page_size)} page(s) of {page_size}"
        )
    modified = session.scalar(select(func.max(Dataset.modified_at)))
    query = select(Dataset).order_by(Dataset.id).offset((page - 1) * page_size).limit(page_size)
    datasets = list(session.scalars(query))
    return catalog_document(
        datasets, base_url=base_url, page=page, page_size=page_size, total=total, modified=modified
    )


def export_dataset(*, session: Session, base_url: str, dataset_id: str) -> dict[str, Any]:
    """The export of one dataset, or :class:`NotFound`."""
    return dataset_document(get_dataset(session, dataset_id), base_url=base_url)
