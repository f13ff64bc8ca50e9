"""Text normalisation for search: lower case, accents folded, elisions dropped, split into words,
and each word's Italian and English stems (Snowball)."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[a-z0-9]+")
# Italian elision: an article or preposition that lost its vowel before an apostrophe
# ("dell'economia", "l'occupazione", "un'impresa", "d'Aosta"); straight or typographic apostrophe.
ELISION = re.compile(
    r"(?<![a-z0-9])(?:l|un|d|dell|nell|all|dall|sull|coll|pell|quell|quest|c|m|t|s|v|n|gl)"
    r"['\u2019\u02bc`](?=[a-z0-9])"
)
STOPWORDS = frozenset(
    "a al alla alle allo agli ai all and as at by col con coi da dal dalla dalle dallo dagli dai dall "
    "dei del della delle dello degli dell di e ed for from gli i il in is la le lo nel nella nelle "
    "nello negli nei nell of on or per su sul sulla sulle sullo sugli sui sull the to tra fra un una "
    "uno with".split()
)
LANGUAGES = ("it", "en")
_STEMMERS = {"it": snowballstemmer.stemmer("italian"), "en": snowballstemmer.stemmer("english")}
# Snowball stemmers keep the word being stemmed on the instance: one thread at a time.
_STEM_LOCK = threading.Lock()


def fold(text: str) -> str:
    """``text`` in lower case without accents ("Città" -> "citta")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The searchable words of ``text``: folded, elisions and stop words dropped, alphanumeric."""
    folded = ELISION.sub(" ", fold(text))
    return [w for w in WORD.findall(folded) if w not in STOPWORDS and len(w) > 1]


@lru_cache(maxsize=65_536)
def stems(word: str) -> tuple[str, str]:
    """The Italian and the English stem of a folded ``word`` ("comuni" -> ("comun", "comuni")).

    Stemming the folded word (not the accented one) keeps search accent-insensitive: "città" and
    "citta" have the same stems. Cached: a catalog's vocabulary is small and stemming is not free.
    """
    with _STEM_LOCK:
        return _STEMMERS["it"].stemWord(word), _STEMMERS["en"].stemWord(word)
