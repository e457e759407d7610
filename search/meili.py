"""The Meilisearch backend (official ``meilisearch`` client), used when CIVIC_MEILISEARCH_URL is set.

One index (default name "ashyq"). Each Document is stored with its original fields (what hits
show) plus the same derived fields the embedded backend indexes:

* ``title_f``/``body_f``: folded words (:func:`search.text.fold_word`): Latin and Cyrillic,
  Kazakh letters and their Russian look-alikes all meet in one key;
* ``title_k``/``body_k``: light stems of the words whose stem differs (Kazakh suffixes,
  Russian inflections);
* ``territory_paths`` (every prefix of the territory path), ``year``, ``created_ts``.

Only the derived fields are searchable: queries are folded and stemmed in Python the same way
(:func:`search.text.parse_query`), so the originals could never match a query word that the
folded fields do not; leaving them out halves the index. Meilisearch then adds its own typo
tolerance (set to 1 typo from 4 letters, 2 from 8, as the embedded backend), prefix search on
the last word, and ranking. Highlights and snippets are computed in Python
(:mod:`search.highlight`), identically for both backends.

``configure()`` (on start) creates the index and applies the settings when they differ.
Writes wait for their task by default, so a search right after sees them (``wait=False`` to
queue only). Connection errors and timeouts raise :class:`SearchUnavailable`.
"""

from __future__ import annotations

import base64
import contextlib
import threading
from datetime import datetime
from typing import Any, Iterable, Iterator

import requests
from meilisearch import Client
from meilisearch.models.task import TaskInfo
from meilisearch.errors import (
    MeilisearchApiError, MeilisearchCommunicationError, MeilisearchError, MeilisearchTimeoutError,
)

from search.backend import SearchBackend, SearchError, SearchUnavailable
from search.documents import DOCUMENT_FIELDS, Document, SearchQuery, territory_paths
from search.text import QueryTerm, differing_stems, fold_word, folded_words, words

__all__ = ["MeiliBackend", "SETTINGS"]

SEARCHABLE = ["title_f", "title_k", "body_f", "body_k"]
FILTERABLE = ["module", "kind", "territory_paths", "organisation", "status", "level", "lang", "year"]
SETTINGS: dict[str, Any] = {
    "searchableAttributes": SEARCHABLE,
    "displayedAttributes": list(DOCUMENT_FIELDS),
    "filterableAttributes": FILTERABLE,
    "sortableAttributes": ["created_ts"],
    # "sort" first: an explicit newest/oldest order is chronological, relevance breaks ties;
    # without a sort parameter the rule does nothing.
    "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 8}},
    "pagination": {"maxTotalHits": 1_000_000},  # exact totals, as the embedded backend
    "faceting": {"maxValuesPerFacet": 100},
    # word pairs inside one attribute are enough for short civic texts, and build much faster
    "proximityPrecision": "byAttribute",
    "facetSearch": False,
    "stopWords": [],
}
_FACET_ATTRIBUTE = {"territory": "territory_paths"}
_BATCH = 10_000


def _pk(doc_id: str) -> str:
    """Meilisearch ids allow only [A-Za-z0-9_-]: "ideas:42" -> url-safe base64 "aWRlYXM6NDI"."""
    return base64.urlsafe_b64encode(doc_id.encode()).decode().rstrip("=")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _meili_document(doc: Document) -> dict[str, Any]:
    data = doc.as_dict()
    title_f, body_f = folded_words(doc.title), folded_words(doc.body)
    data.update(
        pk=_pk(doc.id),
        territory_paths=territory_paths(doc.territory),
        created_ts=doc.timestamp,
        year=doc.year,
        title_f=" ".join(title_f),
        body_f=" ".join(body_f),
        title_k=differing_stems(title_f),
        body_k=differing_stems(body_f),
    )
    return data


def _document(hit: dict[str, Any]) -> Document:
    values = {name: hit[name] for name in DOCUMENT_FIELDS if name in hit}
    values["created_at"] = datetime.fromisoformat(values["created_at"])
    return Document(**values)


class MeiliBackend(SearchBackend):
    """See the module docstring."""

    name = "meilisearch"

    def __init__(self, url: str, key: str | None = None, *, index_name: str = "ashyq",
                 timeout: float = 5.0, wait: bool = True, task_timeout: float = 300.0):
        self.url = url.rstrip("/")
        self.key = key
        self.index_name = index_name
        self.timeout = timeout
        self.wait = wait
        self.task_timeout = task_timeout
        # The client mutates per-request headers on shared objects: one client per thread.
        self._local = threading.local()
        self._configured = False

    # ------------------------------------------------------------ plumbing

    @property
    def client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = Client(self.url, self.key, timeout=self.timeout)
            self._local.index = client.index(self.index_name)
        return client

    @property
    def _index(self):
        self.client
        return self._local.index

    @contextlib.contextmanager
    def _calls(self, what: str) -> Iterator[None]:
        try:
            yield
        except (MeilisearchCommunicationError, MeilisearchTimeoutError, requests.RequestException) as exc:
            raise SearchUnavailable(f"Meilisearch at {self.url} is unavailable ({what}): {exc}") from exc
        except MeilisearchApiError as exc:
            if exc.code == "index_not_found":
                raise SearchUnavailable(f"Meilisearch index {self.index_name!r} does not exist ({what}); "
                                        "run configure() / `civic search reindex`") from exc
            if exc.status_code in (502, 503, 504):
                raise SearchUnavailable(f"Meilisearch at {self.url} is unavailable ({what}): {exc}") from exc
            raise SearchError(f"Meilisearch refused {what}: {exc}") from exc
        except MeilisearchError as exc:
            raise SearchError(f"Meilisearch {what}: {exc}") from exc

    def _wait(self, task, what: str) -> None:
        uid = task.task_uid if hasattr(task, "task_uid") else task.uid
        with self._calls(what):
            done = self.client.wait_for_task(uid, timeout_in_ms=int(self.task_timeout * 1000),
                                             interval_in_ms=5)
        if done.status != "succeeded":
            raise SearchError(f"Meilisearch task {what} {done.status}: {done.error}")

    # ------------------------------------------------------------ set-up

    def configure(self) -> None:
        with self._calls("configure"):
            try:
                info = self.client.get_raw_index(self.index_name)
            except MeilisearchApiError as exc:
                if exc.code != "index_not_found":
                    raise
                info = None
            if info is None:
                self._wait(self.client.create_index(self.index_name, {"primaryKey": "pk"}), "create index")
            current = self._index.get_settings()
        if _differs(current, SETTINGS):
            with self._calls("update settings"):
                task = self._index.update_settings(SETTINGS)
            self._wait(task, "update settings")
        self._configured = True

    def health(self) -> bool:
        try:
            return bool(self.client.is_healthy())
        except Exception:  # noqa: BLE001
            return False

    # ------------------------------------------------------------ writes

    def index(self, documents: Iterable[Document], wait: bool | None = None) -> None:
        latest: dict[str, Document] = {}
        for doc in documents:
            latest[doc.id] = doc
        if not latest:
            return
        if not self._configured:  # adding documents would create the index without its settings
            self.configure()
        payload = [_meili_document(d) for d in latest.values()]
        tasks = []
        with self._calls("add documents"):
            for i in range(0, len(payload), _BATCH):
                tasks.append(self._index.add_documents(payload[i:i + _BATCH], primary_key="pk"))
        if self.wait if wait is None else wait:
            for task in tasks:
                self._wait(task, "add documents")

    def delete(self, ids: Iterable[str], wait: bool | None = None) -> None:
        pks = [_pk(i) for i in dict.fromkeys(ids)]
        if not pks:
            return
        with self._calls("delete documents"):
            # the client deprecates delete_documents(ids=...), not the endpoint: call it directly
            index = self._index
            task = TaskInfo(**index.http.post(
                f"{index.config.paths.index}/{index.uid}/{index.config.paths.document}/delete-batch", pks))
        if self.wait if wait is None else wait:
            self._wait(task, "delete documents")

    def clear(self, wait: bool | None = None) -> None:
        with self._calls("delete all documents"):
            task = self._index.delete_all_documents()
        if self.wait if wait is None else wait:
            self._wait(task, "delete all documents")

    def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until every queued task of this index has been processed (after writes made
        with ``wait=False``, e.g. a bulk reindex)."""
        with self._calls("tasks"):
            pending = self.client.get_tasks({"indexUids": [self.index_name], "statuses": ["enqueued", "processing"],
                                             "limit": 1}).results
        if pending:
            saved, self.task_timeout = self.task_timeout, timeout or self.task_timeout
            try:
                self._wait(pending[0], "pending tasks")
            finally:
                self.task_timeout = saved

    def drop(self) -> None:
        """Delete the whole index (tests, benchmarks)."""
        with self._calls("delete index"):
            task = self.client.delete_index(self.index_name)
        self._wait(task, "delete index")
        self._configured = False

    # ------------------------------------------------------------ bookkeeping

    def count(self) -> int:
        with self._calls("stats"):
            return int(self._index.get_stats().number_of_documents)

    def all_ids(self) -> list[str]:
        out: list[str] = []
        offset, limit = 0, 5000
        with self._calls("get documents"):
            while True:
                page = self._index.get_documents({"fields": ["id"], "limit": limit, "offset": offset})
                out.extend(d.id for d in page.results)
                if len(page.results) < limit:
                    return out
                offset += limit

    # ------------------------------------------------------------ queries

    @staticmethod
    def _q(terms: list[QueryTerm]) -> str:
        """The query Meilisearch sees: the folded stems; a trailing space unless the last word
        is still being typed (Meilisearch prefix-matches only a last word without one)."""
        q = " ".join(t.stem for t in terms)
        return q if terms and terms[-1].last else q + " " if q else ""

    @staticmethod
    def _filters(query: SearchQuery) -> list[str]:
        out = []
        for name, values in query.filters().items():
            if name == "year":
                out.append(f"year = {int(values[0])}")
                continue
            attribute = _FACET_ATTRIBUTE.get(name, name)
            if len(values) == 1:
                out.append(f"{attribute} = {_quote(values[0])}")
            else:
                out.append(f"{attribute} IN [{', '.join(_quote(v) for v in values)}]")
        return out

    def _run(self, query, terms):
        sort = query.sort
        if sort == "relevance" and not terms:
            sort = "newest"
        params: dict[str, Any] = {
            "page": query.page,
            "hitsPerPage": query.per_page,
            "attributesToRetrieve": list(DOCUMENT_FIELDS),
            "matchingStrategy": "all",
            "showRankingScore": True,
        }
        filters = self._filters(query)
        if filters:
            params["filter"] = filters
        if sort != "relevance":
            params["sort"] = ["created_ts:desc" if sort == "newest" else "created_ts:asc"]
        if query.facets:
            params["facets"] = [_FACET_ATTRIBUTE.get(f, f) for f in query.facets]
        with self._calls("search"):
            answer = self._index.search(self._q(terms), params)
        scored = sort == "relevance"
        found = [(_document(h), h.get("_rankingScore") if scored else None) for h in answer["hits"]]
        total = int(answer.get("totalHits", answer.get("estimatedTotalHits", 0)))
        facets: dict[str, dict[str, int]] = {}
        if query.facets:
            distribution = answer.get("facetDistribution") or {}
            for name in query.facets:
                values = distribution.get(_FACET_ATTRIBUTE.get(name, name), {})
                facets[name] = {str(k): int(v) for k, v in values.items() if k != ""} if total else {}
        return found, total, facets

    def _candidates(self, terms, module, limit):
        """Any-word matching: one query per word in one multi-search request, merged by how
        many words a document matched, then by its summed ranking scores."""
        base: dict[str, Any] = {"indexUid": self.index_name, "limit": limit, "matchingStrategy": "all",
                                "attributesToRetrieve": list(DOCUMENT_FIELDS), "showRankingScore": True}
        if module:
            base["filter"] = [f"module = {_quote(module)}"]
        queries = [{**base, "q": self._q([t])} for t in terms]
        with self._calls("similar"):
            answer = self.client.multi_search(queries)
        merged: dict[str, list] = {}
        for result in answer["results"]:
            for h in result["hits"]:
                entry = merged.get(h["id"])
                if entry is None:
                    merged[h["id"]] = [h, 1, h.get("_rankingScore") or 0.0]
                else:
                    entry[1] += 1
                    entry[2] += h.get("_rankingScore") or 0.0
        ranked = sorted(merged.values(), key=lambda e: (-e[1], -e[2]))[:limit]
        return [(_document(h), score) for h, _, score in ranked]

    def _vocabulary(self, prefix):
        """Meilisearch does not list its words: the words starting with the prefix in the
        documents a prefix search returns (up to 100) stand in for the vocabulary."""
        params = {"limit": 100, "attributesToRetrieve": ["title", "body"], "matchingStrategy": "all"}
        with self._calls("vocabulary"):
            answer = self._index.search(prefix, params)
        counts: dict[str, int] = {}
        written: dict[str, str] = getattr(self._local, "written", {})
        for hit in answer["hits"]:
            seen = set()
            for w in words(hit.get("title", "") + " " + hit.get("body", "")[:20_000]):
                f = fold_word(w)
                if f.startswith(prefix) and f not in seen:
                    seen.add(f)
                    counts[f] = counts.get(f, 0) + 1
                    written.setdefault(f, w.lower())
        if len(written) > 10_000:
            written.clear()
        self._local.written = written
        return counts

    def _written(self, folded):
        known = getattr(self._local, "written", {}).get(folded)
        if known:
            return known
        params = {"limit": 5, "attributesToRetrieve": ["title", "body"], "matchingStrategy": "all"}
        with self._calls("vocabulary"):
            answer = self._index.search(folded + " ", params)
        for hit in answer["hits"]:
            for w in words(hit.get("title", "") + " " + hit.get("body", "")):
                if fold_word(w) == folded:
                    return w.lower()
        return folded


def _differs(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether applying ``wanted`` would change ``current`` (order matters only where it
    means something: searchable attributes and ranking rules)."""
    unordered = {"displayedAttributes", "filterableAttributes", "sortableAttributes", "stopWords"}
    for key, value in wanted.items():
        have = current.get(key)
        if isinstance(value, dict):
            if not isinstance(have, dict) or _differs(have, value):
                return True
        elif key in unordered:
            if have is None or sorted(map(str, have)) != sorted(map(str, value)):
                return True
        elif have != value:
            return True
    return False
