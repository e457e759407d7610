"""The one interface both search backends implement, and the behaviour they share.

A backend only has to find documents (:meth:`SearchBackend._run`), find candidates for
"similar items" (:meth:`SearchBackend._candidates`) and list indexed words by prefix
(:meth:`SearchBackend._vocabulary`). Everything a reader sees is computed here, once, for both:
query parsing and normalisation (:mod:`search.text`), highlighted titles and snippets
(:mod:`search.highlight`), the "similar" threshold and order, spelling suggestions.

Backends are synchronous (call them from async code with ``asyncio.to_thread``; the outbox does).
Writes are visible to the next search as soon as ``index``/``delete`` return. When the engine
cannot be reached (Meilisearch down, the embedded index locked by another process) they raise
:class:`SearchUnavailable`, which the outbox catches and retries.
"""

from __future__ import annotations

import abc
import dataclasses
import math
import time
from typing import Iterable, Sequence

from search.documents import DOCUMENT_FIELDS, Document, Hit, SearchQuery, SearchResults
from search.highlight import Matcher, highlight, snippet
from search.text import (
    STOPWORDS, QueryTerm, edit_distance, fold, parse_query, typo_budget, words,
)

__all__ = ["SearchBackend", "SearchError", "SearchUnavailable", "make_hit", "similar_terms"]

#: "similar" keeps an item when it matches at least this share of the significant words.
SIMILAR_SHARE = 0.5
#: How many candidates per wanted item the engine is asked for before the shared filter.
SIMILAR_CANDIDATES = 4


class SearchError(Exception):
    """The search engine refused a request (a bug or a misconfiguration, not an outage)."""


class SearchUnavailable(SearchError):
    """The search engine cannot be reached or is busy; the write can be retried later."""


def make_hit(document: Document, matcher: Matcher, score: float | None = None) -> Hit:
    """A hit with its highlighted title and a snippet of the body around the matches; when
    no word of the body matches, the summary (or, without one, the body's beginning)."""
    values = {name: getattr(document, name) for name in DOCUMENT_FIELDS}
    text = snippet(document.body, matcher, require_match=bool(document.summary))
    if text is None:
        text = snippet(document.summary, matcher)
    return Hit(**values, title_html=highlight(document.title, matcher), snippet_html=text, score=score)


def similar_terms(text: str, max_words: int = 10) -> list[QueryTerm]:
    """The significant words of a text being typed (no stop words, 3+ letters, one per stem)."""
    out: list[QueryTerm] = []
    seen: set[str] = set()
    for t in parse_query(text, max_words=200):
        if t.word in STOPWORDS or len(t.word) < 3 or t.stem in seen:
            continue
        seen.add(t.stem)
        out.append(t)
        if len(out) >= max_words:
            break
    return out


class SearchBackend(abc.ABC):
    """One search index. See the module docstring."""

    name: str = "backend"

    # ------------------------------------------------------------ writes and bookkeeping

    @abc.abstractmethod
    def index(self, documents: Iterable[Document]) -> None:
        """Add or replace documents (by id); visible to searches when this returns."""

    @abc.abstractmethod
    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id (unknown ids are ignored)."""

    @abc.abstractmethod
    def count(self) -> int:
        """How many documents the index holds."""

    @abc.abstractmethod
    def all_ids(self) -> list[str]:
        """Every indexed document id (for reindexing and the status page)."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every document."""

    @abc.abstractmethod
    def configure(self) -> None:
        """Create the index and apply its settings (call on start; idempotent)."""

    @abc.abstractmethod
    def health(self) -> bool:
        """Whether the engine answers."""

    def close(self) -> None:
        """Release resources (the embedded writer); the backend stays usable."""

    @property
    def needs_rebuild(self) -> bool:
        """Whether the index was found unusable and emptied on opening (the embedded index of an
        older schema): the app then rebuilds it from the database."""
        return False

    def rebuilt(self) -> None:
        """The rebuild asked for by :attr:`needs_rebuild` has finished."""

    # ------------------------------------------------------------ engine-specific finding

    @abc.abstractmethod
    def _run(self, query: SearchQuery, terms: list[QueryTerm]
             ) -> tuple[list[tuple[Document, float | None]], int, dict[str, dict[str, int]]]:
        """One page of documents (with scores), the total, and facet counts over the filtered
        result set. Every term must match (typos, prefixes and stems allowed)."""

    @abc.abstractmethod
    def _candidates(self, terms: list[QueryTerm], module: str | None, limit: int
                    ) -> list[tuple[Document, float | None]]:
        """Documents matching any of the terms, best first."""

    @abc.abstractmethod
    def _vocabulary(self, prefix: str) -> dict[str, int]:
        """Indexed folded words starting with ``prefix``: {folded: how many documents}."""

    @abc.abstractmethod
    def _written(self, folded: str) -> str:
        """How an indexed document writes the word whose folded key is ``folded``."""

    # ------------------------------------------------------------ shared behaviour

    def search(self, query: SearchQuery) -> SearchResults:
        started = time.perf_counter()
        terms = parse_query(query.text)
        found, total, facets = self._run(query, terms)
        matcher = Matcher(terms)
        hits = [make_hit(doc, matcher, score) for doc, score in found]
        suggestions = self.suggest(query, terms) if total == 0 and terms else []
        took = (time.perf_counter() - started) * 1000
        return SearchResults(hits=hits, total=total, page=query.page, per_page=query.per_page,
                             facets=facets, suggestions=suggestions, took_ms=round(took, 3))

    def similar(self, text: str, module: str | None = None, limit: int = 5) -> list[Hit]:
        """The closest existing items to a text being typed (a new idea's title, say): items
        matching at least half of its significant words, most matched words first."""
        terms = similar_terms(text)
        if not terms or limit < 1:
            return []
        need = max(1, math.ceil(len(terms) * SIMILAR_SHARE))
        candidates = self._candidates(terms, module, limit * SIMILAR_CANDIDATES)
        matchers = [Matcher([t]) for t in terms]
        ranked = []
        for rank, (doc, score) in enumerate(candidates):
            if module and doc.module != module:
                continue
            doc_words = set(words(doc.title)) | set(words(doc.body[:20_000]))
            matched = sum(1 for m in matchers if any(m(w) for w in doc_words))
            if matched >= need:
                ranked.append((-matched, rank, doc, score))
        ranked.sort(key=lambda r: (r[0], r[1]))
        matcher = Matcher(terms)
        return [make_hit(doc, matcher, score) for _, _, doc, score in ranked[:limit]]

    def suggest(self, query: SearchQuery, terms: Sequence[QueryTerm], limit: int = 3) -> list[str]:
        """Spelling corrections for a query that found nothing: each word replaced by the
        closest indexed word (a few more edits than the typo tolerance allows), kept only if
        the corrected query finds something with the same filters."""
        options: list[list[str]] = []
        changed = False
        for t in terms:
            vocabulary = self._vocabulary(t.word[:2]) if len(t.word) >= 2 else {}
            if t.word in vocabulary:
                options.append([t.raw])
                continue
            allowed = min(3, typo_budget(len(t.word)) + 1)
            scored = []
            for folded, freq in vocabulary.items():
                if abs(len(folded) - len(t.word)) > allowed:
                    continue
                d = edit_distance(folded, t.word, allowed)
                if d <= allowed:
                    scored.append((d, -freq, folded))
            scored.sort()
            if scored:
                changed = True
                options.append([self._written(folded) for _, _, folded in scored[:limit]])
            else:
                options.append([t.raw])
        if not changed:
            return []
        out: list[str] = []
        for i in range(limit):
            text = " ".join(opts[min(i, len(opts) - 1)] for opts in options)
            if text in out or fold(text) == fold(query.text):
                continue
            probe = dataclasses.replace(query, text=text, facets=(), page=1, per_page=1)
            _, total, _ = self._run(probe, parse_query(text))
            if total:
                out.append(text)
        return out

