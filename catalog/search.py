"""Full-text search and facets over the catalog, from an in-memory index.

The index holds, for every dataset, its weighted words (titles weigh most, then keywords, then
descriptions, in Italian and English, accents folded), its facet values and its public JSON. It is
rebuilt when the catalog changes: each search first reads a cheap stamp (count and latest
modification of the datasets), so every process sees every change without coordination.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pyarrow.compute as pc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.schemas import DatasetPublic
from catalog.text import words
from datacommons.errors import InvalidInput
from datacommons.registry import Dataset, list_datasets
from datacommons.storage import ParquetStore

FACETS = ("theme", "publisher", "access", "format", "geography", "year")
Sort = Literal["relevance", "title", "-title", "modified", "-modified"]
WEIGHTS = {"title": 3.0, "keywords": 2.0, "description": 1.0}
PREFIX_MIN = 3
YEAR_COLUMNS = ("year", "anno", "time_period", "TIME_PERIOD", "time")


@dataclass
class Entry:
    """One dataset in the index."""

    id: str
    public: dict[str, Any]
    weights: dict[str, float]
    facets: dict[str, list[str]]
    title: str
    modified: datetime


@dataclass
class Index:
    """The searchable catalog at one moment."""

    stamp: tuple[Any, ...]
    entries: dict[str, Entry] = field(default_factory=dict)
    postings: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        self.entries[entry.id] = entry
        for word, weight in entry.weights.items():
            self.postings.setdefault(word, {})[entry.id] = weight

    def scores(self, query: str) -> dict[str, float]:
        """Relevance of every dataset matching all the query's words (exactly or by prefix)."""
        terms = words(query)
        if not terms:
            return {key: 0.0 for key in self.entries}
        total = len(self.entries) or 1
        result: dict[str, float] | None = None
        for term in terms:
            hits: dict[str, float] = defaultdict(float)
            for word, docs in self.postings.items():
                if word == term:
                    factor = 1.0
                elif len(term) >= PREFIX_MIN and word.startswith(term):
                    factor = 0.5
                else:
                    continue
                idf = math.log(1 + total / len(docs))
                for doc, weight in docs.items():
                    hits[doc] = max(hits[doc], factor * weight * idf)
            if result is None:
                result = dict(hits)
            else:
                result = {doc: s + hits[doc] for doc, s in result.items() if doc in hits}
            if not result:
                return {}
        return result or {}


def _years(dataset: Dataset, store: ParquetStore) -> list[str]:
    """The years a dataset covers: public keys for private data, the data itself for open data."""
    if dataset.access == "private":
        keys = (dataset.policy.public_dimensions if dataset.policy else {}).get("year", [])
        return sorted({str(k)[:4] for k in keys})
    version = dataset.current_version
    if version is None:
        return []
    names = [f["name"] for f in version.arrow_schema]
    column = next((c for c in YEAR_COLUMNS if c in names), None)
    if column is None:
        return []
    values = pc.unique(store.read_table(version.content_hash, columns=[column])[column])
    return sorted({str(v)[:4] for v in values.to_pylist() if v is not None and str(v)[:4].isdigit()})


def _formats(dataset: Dataset) -> list[str]:
    if dataset.current_version is None:
        return []
    return ["DP-API"] if dataset.access == "private" else ["CSV", "PARQUET"]


def _entry(dataset: Dataset, store: ParquetStore) -> Entry:
    weights: Counter[str] = Counter()
    fields = {
        "title": f"{dataset.title_it} {dataset.title_en}",
        "keywords": " ".join(dataset.keywords),
        "description": f"{dataset.description_it} {dataset.description_en} {dataset.publisher}",
    }
    for name, text in fields.items():
        for word in set(words(text)):
            weights[word] = max(weights[word], WEIGHTS[name])
    facets = {"theme": [dataset.theme], "publisher": [dataset.publisher], "access": [dataset.access],
              "format": _formats(dataset), "geography": [dataset.geography],
              "year": _years(dataset, store)}
    public = DatasetPublic.of(dataset).model_dump(mode="json")
    return Entry(dataset.id, public, dict(weights), facets, dataset.title_en.lower(),
                 dataset.modified_at)


def _stamp(session: Session) -> tuple[Any, ...]:
    row = session.execute(select(func.count(Dataset.id), func.max(Dataset.modified_at))).one()
    return tuple(row)


_LOCK = threading.Lock()
_INDEXES: dict[str, Index] = {}


def current_index(session: Session, store: ParquetStore) -> Index:
    """The index of the catalog as it is now (rebuilt only when the catalog changed)."""
    key = str(session.get_bind().url)
    stamp = _stamp(session)
    index = _INDEXES.get(key)
    if index is not None and index.stamp == stamp:
        return index
    with _LOCK:
        index = _INDEXES.get(key)
        if index is None or index.stamp != stamp:
            index = Index(stamp)
            for dataset in list_datasets(session):
                index.add(_entry(dataset, store))
            _INDEXES[key] = index
    return index


@dataclass(frozen=True)
class SearchResult:
    """One page of results, the total, and the facet counts over all matches."""

    items: list[dict[str, Any]]
    count: int
    facets: dict[str, dict[str, int]]


def search(session: Session, store: ParquetStore, *, q: str = "", filters: dict[str, list[str]],
           sort: Sort | None = None, limit: int = 20, offset: int = 0) -> SearchResult:
    """Datasets matching ``q`` and the facet filters, ranked, one page of them, with facet counts."""
    unknown = set(filters) - set(FACETS)
    if unknown:
        raise InvalidInput(f"unknown facet {sorted(unknown)[0]!r}: facets are {', '.join(FACETS)}")
    index = current_index(session, store)
    scores = index.scores(q)
    matches = [
        index.entries[doc] for doc in scores
        if all(set(values) & set(index.entries[doc].facets[f]) for f, values in filters.items() if values)
    ]
    order = sort or ("relevance" if q.strip() else "title")
    if order == "relevance":
        matches.sort(key=lambda e: (-scores[e.id], e.title))
    elif order in ("title", "-title"):
        matches.sort(key=lambda e: e.title, reverse=order == "-title")
    else:
        matches.sort(key=lambda e: (e.modified, e.id), reverse=order == "-modified")
    facets: dict[str, dict[str, int]] = {}
    for name in FACETS:
        counts: Counter[str] = Counter(v for e in matches for v in e.facets[name])
        facets[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    page = [dict(e.public, score=round(scores[e.id], 4)) for e in matches[offset:offset + limit]]
    return SearchResult(page, len(matches), facets)
