"""Full-text search and facets over the catalog, from an in-memory index.

The index holds, for every dataset, its weighted words (titles weigh most, then keywords, then
descriptions, in Italian and English, accents folded), the Italian and English stems of those words,
its facet values and its public JSON. It is rebuilt when the catalog changes: each search first reads
a cheap stamp (count and latest modification of the datasets), so every process sees every change
without coordination.

A query word matches a dataset's word exactly (full score), by a shared Italian or English stem
("comune" finds "comuni", "municipality" finds "municipalities"; less), or as its beginning ("lavor"
finds "lavorativo"; least). Every query word must match. Facet counts are disjunctive: each facet is
counted over the matches of every filter but its own, so the other values of a filtered facet stay
visible (values of one facet are OR-ed, facets AND-ed).
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pyarrow.compute as pc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.schemas import DatasetPublic
from catalog.text import LANGUAGES, fold, stems, words
from datacommons.commons import Commons
from datacommons.datasets import Dataset
from datacommons.errors import InvalidInput
from datacommons.registry import list_datasets
from datacommons.storage import ParquetStore

FACETS = ("theme", "publisher", "access", "format", "geography", "year")
Sort = Literal["relevance", "title", "-title", "modified", "-modified"]
Lang = Literal["it", "en"]
WEIGHTS = {"title": 3.0, "keywords": 2.0, "description": 1.0}
# How much a match counts, by kind: the same word, a word with the same stem, a word it begins.
EXACT, STEM, PREFIX = 1.0, 0.7, 0.5
PREFIX_MIN = 3
YEAR_COLUMNS = ("year", "anno", "time_period", "TIME_PERIOD", "time")


@dataclass
class Entry:
    """One dataset in the index."""

    id: str
    public: dict[str, Any]
    weights: dict[str, float]
    facets: dict[str, list[str]]
    titles: dict[str, str]  # language -> folded title, the key of sort=title
    modified: datetime


def _stem_keys(word: str) -> set[str]:
    """The posting keys of a word's stems, one per language ("it:comun", "en:comuni")."""
    return {f"{lang}:{stem}" for lang, stem in zip(LANGUAGES, stems(word), strict=True)}


@dataclass
class Index:
    """The searchable catalog at one moment."""

    stamp: tuple[Any, ...]
    entries: dict[str, Entry] = field(default_factory=dict)
    postings: dict[str, dict[str, float]] = field(default_factory=dict)
    stem_postings: dict[str, dict[str, float]] = field(default_factory=dict)
    vocabulary: list[str] = field(default_factory=list)  # sorted words, for prefix matches

    def add(self, entry: Entry) -> None:
        self.entries[entry.id] = entry
        for word, weight in entry.weights.items():
            docs = self.postings.get(word)
            if docs is None:
                docs = self.postings[word] = {}
                self.vocabulary.insert(bisect_left(self.vocabulary, word), word)
            docs[entry.id] = weight
            for key in _stem_keys(word):
                stemmed = self.stem_postings.setdefault(key, {})
                stemmed[entry.id] = max(stemmed.get(entry.id, 0.0), weight)

    def _prefixed(self, term: str) -> list[str]:
        """The words that begin with ``term`` (other than ``term`` itself)."""
        found = []
        for i in range(bisect_left(self.vocabulary, term), len(self.vocabulary)):
            word = self.vocabulary[i]
            if not word.startswith(term):
                break
            if word != term:
                found.append(word)
        return found

    def scores(self, query: str) -> dict[str, float]:
        """Relevance of every dataset matching all the query's words (exactly, by stem or prefix)."""
        terms = words(query)
        if not terms:
            return {key: 0.0 for key in self.entries}
        total = len(self.entries) or 1
        result: dict[str, float] | None = None
        for term in dict.fromkeys(terms):
            lists = [(EXACT, self.postings.get(term))]
            lists += [(STEM, self.stem_postings.get(key)) for key in _stem_keys(term)]
            if len(term) >= PREFIX_MIN:
                lists += [(PREFIX, self.postings[word]) for word in self._prefixed(term)]
            hits: dict[str, float] = {}
            for factor, docs in lists:
                if not docs:
                    continue
                idf = math.log(1 + total / len(docs))
                for doc, weight in docs.items():
                    score = factor * weight * idf
                    if score > hits.get(doc, 0.0):
                        hits[doc] = score
            if result is None:
                result = hits
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
    weights: dict[str, float] = {}
    fields = {
        "title": f"{dataset.title_it} {dataset.title_en}",
        "keywords": " ".join(dataset.keywords),
        "description": f"{dataset.description_it} {dataset.description_en} {dataset.publisher}",
    }
    for name, text in fields.items():
        for word in set(words(text)):
            weights[word] = max(weights.get(word, 0.0), WEIGHTS[name])
    facets = {
        "theme": [dataset.theme],
        "publisher": [dataset.publisher],
        "access": [dataset.access],
        "format": _formats(dataset),
        "geography": [dataset.geography],
        "year": _years(dataset, store),
    }
    public = DatasetPublic.of(dataset).model_dump(mode="json")
    titles = {"it": fold(dataset.title_it), "en": fold(dataset.title_en)}
    return Entry(dataset.id, public, weights, facets, titles, dataset.modified_at)


def _stamp(session: Session) -> tuple[Any, ...]:
    row = session.execute(select(func.count(Dataset.id), func.max(Dataset.modified_at))).one()
    return tuple(row)


class Indexes:
    """The search index of one commons' catalog (its :class:`~datacommons.commons.Commons` holds one),
    rebuilt only when the catalog changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: Index | None = None

    def current(self, session: Session, store: ParquetStore) -> Index:
        """The index of the catalog as it is now."""
        stamp = _stamp(session)
        index = self._index
        if index is not None and index.stamp == stamp:
            return index
        with self._lock:
            index = self._index
            if index is None or index.stamp != stamp:
                index = Index(stamp)
                for dataset in list_datasets(session):
                    index.add(_entry(dataset, store))
                self._index = index
        return index


def indexes_of(commons: Commons) -> Indexes:
    """The search index ``commons`` keeps (one per instance, made on first use)."""
    return commons.cache("catalog.search", Indexes)


@dataclass(frozen=True)
class SearchResult:
    """One page of results, the total, and the facet counts over all matches."""

    items: list[dict[str, Any]]
    count: int
    facets: dict[str, dict[str, int]]


def search(
    session: Session,
    store: ParquetStore,
    *,
    indexes: Indexes | None = None,
    q: str = "",
    filters: dict[str, list[str]],
    sort: Sort | None = None,
    lang: Lang = "it",
    limit: int = 20,
    offset: int = 0,
) -> SearchResult:
    """Datasets matching ``q`` and the facet filters, ranked, one page of them, with facet counts.

    ``lang`` is the language whose titles ``sort=title`` (and ties in relevance) follow; ``indexes``
    keeps the index between calls (without it, the index is built for this call).
    """
    unknown = set(filters) - set(FACETS)
    if unknown:
        raise InvalidInput(f"unknown facet {sorted(unknown)[0]!r}: facets are {', '.join(FACETS)}")
    index = (indexes or Indexes()).current(session, store)
    scores = index.scores(q)
    active = {name: set(values) for name, values in filters.items() if values}
    matches: list[Entry] = []
    # per filtered facet, the entries that fail its filter alone: they count for that facet only,
    # so its other values stay visible
    near: dict[str, list[Entry]] = {name: [] for name in active}
    for doc in scores:
        entry = index.entries[doc]
        failed = [name for name, values in active.items() if values.isdisjoint(entry.facets[name])]
        if not failed:
            matches.append(entry)
        elif len(failed) == 1:
            near[failed[0]].append(entry)
    order = sort or ("relevance" if q.strip() else "title")
    if order == "relevance":
        matches.sort(key=lambda e: (-scores[e.id], e.titles[lang], e.id))
    elif order in ("title", "-title"):
        matches.sort(key=lambda e: (e.titles[lang], e.id), reverse=order == "-title")
    else:
        matches.sort(key=lambda e: (e.modified, e.id), reverse=order == "-modified")
    facets: dict[str, dict[str, int]] = {}
    for name in FACETS:
        counts = Counter(v for e in matches for v in e.facets[name])
        counts.update(v for e in near.get(name, ()) for v in e.facets[name])
        facets[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    page = [dict(e.public, score=round(scores[e.id], 4)) for e in matches[offset : offset + limit]]
    return SearchResult(page, len(matches), facets)
