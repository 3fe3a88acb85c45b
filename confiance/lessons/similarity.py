"""Text similarity for French and English, in pure Python (no Django import).

TF-IDF vectors compared by cosine similarity. The normaliser lowercases, strips accents,
splits on anything that is not a letter, drops short words and common French and English
words, then strips a few frequent suffixes of both languages so that "migrations",
"migration" and "migrer" meet, and "retards" meets "retard". It is deliberately light: a
handful of rules that help recall without a dictionary.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

MIN_WORD_LENGTH = 3

# French then English; accents already stripped (the normaliser compares without them).
_STOP_WORDS_TEXT = """
les des une aux par pour sur dans avec sans sous entre vers chez que qui quoi dont est sont
ete etre avoir avait ont fait faire pas plus moins tres tout tous toute toutes cette ces
son ses leur leurs notre nos votre vos mais donc car comme aussi alors encore deja bien
elle elles ils nous vous lui eux cela ceci celui celle ici peu trop apres avant quand
the and for with without from into onto over under about that this these those than then
there their they them was were are been being have has had not but all any some our your
its his her who what when where which while will would could should can may might also
very just only more most less such each other again out off too
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Longest first: the first matching suffix is removed once, if a stem of 4+ letters remains.
SUFFIXES = (
    "issements",
    "issement",
    "ements",
    "ations",
    "ement",
    "ation",
    "ments",
    "ities",
    "ness",
    "ment",
    "ings",
    "euse",
    "eurs",
    "ives",
    "ing",
    "ity",
    "ies",
    "ees",
    "eur",
    "ive",
    "ers",
    "ion",
    "er",
    "ed",
    "es",
    "ee",
    "ly",
    "s",
    "e",
)
MIN_STEM_LENGTH = 4

_NON_LETTERS = re.compile(r"[^a-z]+")


def strip_accents(text: str) -> str:
    """'Réunion déjà prévue' -> 'Reunion deja prevue'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    """Remove one common French or English suffix, keeping at least four letters."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM_LENGTH:
            return word[: -len(suffix)]
    return word


def normalise(text: str) -> list[str]:
    """The terms of a text: lower case, no accents, no short or common words, stemmed."""
    words = _NON_LETTERS.split(strip_accents(text.lower()).replace("œ", "oe").replace("æ", "ae"))
    return [
        stem(w) for w in words if len(w) >= MIN_WORD_LENGTH and w not in STOP_WORDS and w.isalpha()
    ]


K = TypeVar("K", bound=Hashable)


@dataclass
class TfIdfIndex(Generic[K]):
    """Documents indexed by key; `similar` ranks them against a query by cosine similarity."""

    documents: Mapping[K, str]
    _vectors: dict[K, dict[str, float]] = field(init=False, default_factory=dict)
    _idf: dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        terms = {key: Counter(normalise(text)) for key, text in self.documents.items()}
        count = len(terms)
        document_frequency: Counter[str] = Counter()
        for counts in terms.values():
            document_frequency.update(counts.keys())
        # Smoothed IDF: a term in every document still weighs a little (never zero or negative).
        self._idf = {
            term: math.log((1 + count) / (1 + df)) + 1 for term, df in document_frequency.items()
        }
        self._vectors = {key: self._weigh(counts) for key, counts in terms.items()}

    def _weigh(self, counts: Mapping[str, int]) -> dict[str, float]:
        # Terms unknown to the corpus cannot match any document; they are left out.
        vector = {t: (1 + math.log(n)) * self._idf[t] for t, n in counts.items() if t in self._idf}
        norm = math.sqrt(sum(v * v for v in vector.values()))
        return {t: v / norm for t, v in vector.items()} if norm else {}

    def score(self, query: str, key: K) -> float:
        """Cosine similarity (0..1) between the query and one indexed document."""
        query_vector = self._weigh(Counter(normalise(query)))
        return _dot(query_vector, self._vectors.get(key, {}))

    def scores(self, query: str) -> dict[K, float]:
        """Cosine similarity of the query with every indexed document (zeros left out)."""
        query_vector = self._weigh(Counter(normalise(query)))
        if not query_vector:
            return {}
        result = {key: _dot(query_vector, vector) for key, vector in self._vectors.items()}
        return {key: score for key, score in result.items() if score > 0}

    def similar(
        self, query: str, *, limit: int = 5, threshold: float = 0.0
    ) -> list[tuple[K, float]]:
        """The documents most similar to the query, best first, above the threshold."""
        query_vector = self._weigh(Counter(normalise(query)))
        if not query_vector:
            return []
        scored = [(key, _dot(query_vector, vector)) for key, vector in self._vectors.items()]
        ranked = sorted(
            (item for item in scored if item[1] > threshold), key=lambda kv: (-kv[1], str(kv[0]))
        )
        return ranked[:limit]


def _dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def similarity(a: str, b: str, corpus: Iterable[str] = ()) -> float:
    """Cosine similarity of two texts, weighted by IDF over `corpus` plus the two texts."""
    docs = {i: text for i, text in enumerate([a, b, *corpus])}
    return TfIdfIndex(docs).score(a, 1)
