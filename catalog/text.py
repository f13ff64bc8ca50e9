"""Text normalisation for search: lower case, accents folded, split into words."""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a al alla alle agli ai and as at by da dal dalla dei del della delle di e ed for from gli i il in "
    "is la le lo nel nella nelle of on or per su sul sulla the to tra un una uno with".split()
)


def fold(text: str) -> str:
    """``text`` in lower case without accents ("Città" -> "citta")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The searchable words of ``text``: folded, alphanumeric, stop words dropped."""
    return [w for w in WORD.findall(fold(text)) if w not in STOPWORDS and len(w) > 1]
