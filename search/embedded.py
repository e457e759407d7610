"""The embedded search backend: a tantivy index in a directory (default ``var/search/``).

Schema (one tantivy document per :class:`~search.documents.Document`):

=================  =====================================================================
``payload``        the Document as JSON (stored, not indexed): hits are read from it
``id``             raw term: replace and delete by id, ``all_ids``
``module`` ...     ``kind``, ``organisation``, ``status``, ``level``, ``lang``,
                   ``territory``: raw terms, fast fields (filters, facet counts)
``territory_paths`` every prefix of the territory path (multi-valued): a district filter
                   includes its okrugs
``created_ts``     seconds since the epoch, fast (sort newest / oldest)
``year``           year in Kazakhstan time, indexed and fast (filter, facet)
``title_f``        folded words of the title (:func:`search.text.fold_word`), whitespace
                   tokenizer: the exact word in the title scores higher (BM25, boosted)
``all_f``          folded words of title and body: prefix matching (Kazakh suffixes, the
                   word being typed) across scripts and look-alike letters
``all_k``          light stems (:func:`search.text.stem`) of every word of title and body:
                   BM25 on the stem (Kazakh suffixes, Russian inflections) and typos
``all_r``          the original title and body through tantivy's Russian Snowball stemmer
``vocab_k``        on vocabulary entries only: one stem of ``all_k`` (stored, raw)
``vocab_f``        on vocabulary entries only: one folded word of ``all_f`` (stored, raw)
=================  =====================================================================

The vocabulary: besides one tantivy document per Document, the index holds one small entry per
distinct stem and folded word ever indexed (added in the same commit as the document that
brought the word; removed only by :meth:`EmbeddedBackend.clear`). Typos and prefixes are
expanded on these entries first, where every posting list is one entry long, and the query then
reads only the postings of the words found. Running tantivy's Levenshtein automaton on
``all_k``/``all_f`` themselves would read the postings of every matching word into a bitset
over the whole index, the exact word included, so its cost would follow the size of the index
rather than the size of the result. When a typo or prefix matches more than
``_EXPANSIONS`` words, the automaton runs on the postings as before.

Matching, per query word (every word must match): the same light stem (BM25; the exact word in
the title boosted), the same Snowball stem; typos within the budget (1 edit from 4 letters, 2
from 8, counted on the stem as Meilisearch does with the stems it is sent) on the stems; prefix
on the (loose) stem of 4+ letters (Kazakh suffixes) and, with typos, on the word being typed.
Facet counts run on a second thread while the page is found (tantivy releases the GIL).

Writing: tantivy allows one ``IndexWriter`` per index. This process opens it on the first
write, holds it behind a lock, commits after every ``index``/``delete`` call and reloads the
reader so the next search sees the change. The writer is let go after ``writer_idle`` seconds
without writes (after merges finish), so another process (``civic search reindex``, a second
worker) can write in between; a write that finds the lock held elsewhere retries for
``lock_timeout`` seconds, then raises :class:`SearchUnavailable` (the outbox retries later).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

import msgspec
import tantivy
from tantivy import Filter, Index, Occur, Order, Query, SchemaBuilder, TextAnalyzerBuilder, Tokenizer

from search.backend import SearchBackend, SearchError, SearchUnavailable
from search.documents import Document, SearchQuery, territory_paths
from search.text import MIN_STEM, QueryTerm, fold_word, folded_words, ru_analyzer, stem, words

__all__ = ["EmbeddedBackend", "SCHEMA_VERSION"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = "ashyq-search-4"
_VERSION_FILE = "ashyq-schema-version"
_REBUILD_FILE = "ashyq-needs-rebuild"

TITLE_BOOST = 2.5
_EXACT, _STEM, _RU, _FUZZY, _PREFIX = 3.0, 2.0, 2.0, 0.6, 0.8
_PREFIX_TERMS = 256
#: Up to this many words found for one typo or prefix are queried one by one (their postings
#: read lazily, skipping ahead to the other words' and the filters' matches); beyond it, as a
#: set read into a bitset.
_EXPANSIONS = 64
#: Words longer than this are not indexed (tantivy's remove_long filter), nor kept as vocabulary.
_LONGEST_WORD = 60
_FACET_FIELDS = {"module": "module", "kind": "kind", "territory": "territory_paths",
                 "organisation": "organisation", "status": "status", "level": "level",
                 "lang": "lang", "year": "year"}
_RAW_FIELDS = ("id", "module", "kind", "organisation", "status", "level", "lang", "territory",
               "territory_paths")
_MAX_FACET_VALUES = 100
#: The territory facet is counted on the single-valued ``territory`` fast field (one value per
#: document instead of one per level of its path) and rolled up to every prefix in Python, which
#: halves the facet work per match; up to this many distinct territories in one result, beyond
#: which the multi-valued ``territory_paths`` field is counted instead.
_TERRITORY_VALUES = 10_000

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Document).decode


def _schema():
    sb = SchemaBuilder()
    sb.add_bytes_field("payload", stored=True, indexed=False)
    for name in _RAW_FIELDS:
        sb.add_text_field(name, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("created_ts", indexed=True, fast=True)
    sb.add_integer_field("year", indexed=True, fast=True)
    for name in ("title_f", "all_f", "all_k"):
        sb.add_text_field(name, tokenizer_name="ashyq_folded", index_option="freq")
    sb.add_text_field("all_r", tokenizer_name="ashyq_ru", index_option="freq")
    for name in _VOCABULARY.values():
        sb.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic")
    return sb.build()


#: The vocabulary field holding the words of each searched field.
_VOCABULARY = {"all_k": "vocab_k", "all_f": "vocab_f"}


class _Handle:
    """The process-wide state of one index directory: the Index, the writer and its lock."""

    def __init__(self, path: Path, lock_timeout: float, writer_idle: float, heap_size: int):
        self.path = path
        self.lock = threading.RLock()
        self.lock_timeout = lock_timeout
        self.writer_idle = writer_idle
        self.heap_size = heap_size
        self.writer: tantivy.IndexWriter | None = None
        self.last_write = 0.0
        self.timer: threading.Timer | None = None
        self.schema = _schema()
        self.index = self._open()

    @property
    def rebuild_marker(self) -> Path:
        """Present from the moment an index of an older schema is emptied on opening (by any
        process: the worker may open it first) until a full rebuild has run."""
        return self.path / _REBUILD_FILE

    def _open(self) -> Index:
        self.path.mkdir(parents=True, exist_ok=True)
        marker = self.path / _VERSION_FILE
        existing = any(p.name == "meta.json" for p in self.path.iterdir())
        if existing and (not marker.exists() or marker.read_text().strip() != SCHEMA_VERSION):
            log.warning("search index at %s has another schema: recreating it empty "
                        "(the app rebuilds it on start; or run `civic search reindex`)", self.path)
            (self.path / _REBUILD_FILE).touch()
            for p in self.path.iterdir():
                if p.name == _REBUILD_FILE:
                    continue
                if p.is_dir():
                    shutil.rmtree(p)
                else:
                    p.unlink()
        try:
            index = Index(self.schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            raise SearchUnavailable(f"cannot open the search index at {self.path}: {exc}") from exc
        marker.write_text(SCHEMA_VERSION + "\n")
        index.register_tokenizer("ashyq_folded", TextAnalyzerBuilder(Tokenizer.whitespace())
                                 .filter(Filter.remove_long(_LONGEST_WORD)).build())
        index.register_tokenizer("ashyq_ru", ru_analyzer(Tokenizer, Filter, TextAnalyzerBuilder))
        return index

    # -------------------------------------------------------------- the writer

    def _acquire(self) -> tantivy.IndexWriter:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.01
        while True:
            try:
                return self.index.writer(heap_size=self.heap_size, num_threads=1)
            except ValueError as exc:
                if "LockBusy" not in str(exc):
                    raise SearchError(f"search index writer: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise SearchUnavailable(
                        f"the search index at {self.path} is being written by another process "
                        f"(writer lock busy for {self.lock_timeout:.1f} s); try again later") from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def write(self, work) -> None:
        with self.lock:
            if self.writer is None:
                self.writer = self._acquire()
            try:
                work(self.writer)
                self.writer.commit()
            except BaseException:
                try:
                    self.writer.rollback()
                except Exception:  # noqa: BLE001 - the writer may be unusable; drop it
                    self._drop()
                raise
            self.index.reload()
            self.last_write = time.monotonic()
            self._schedule_release()

    def _schedule_release(self) -> None:
        if self.writer_idle <= 0:
            self._release()
            return
        if self.timer is None or not self.timer.is_alive():
            self.timer = threading.Timer(self.writer_idle, self._idle_check)
            self.timer.daemon = True
            self.timer.start()

    def _idle_check(self) -> None:
        with self.lock:
            self.timer = None
            if self.writer is None:
                return
            idle = time.monotonic() - self.last_write
            if idle >= self.writer_idle:
                self._release()
            else:
                self.timer = threading.Timer(self.writer_idle - idle, self._idle_check)
                self.timer.daemon = True
                self.timer.start()

    def _release(self) -> None:
        """Let pending merges finish, then give the lock back."""
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                writer.wait_merging_threads()
            except Exception:  # noqa: BLE001
                log.exception("search index: waiting for merges failed")
            finally:
                del writer
            self.index.reload()

    def _drop(self) -> None:
        self.writer = None

    def close(self) -> None:
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            self._release()


def _terms(field: str, size: int) -> dict:
    return {"terms": {"field": field, "size": size}}


def _facet_aggregations(names) -> dict:
    return {name: _terms("territory", _TERRITORY_VALUES) if name == "territory"
            else _terms(_FACET_FIELDS[name], _MAX_FACET_VALUES) for name in names}


def _territory_rollup(answer: dict) -> dict[str, int] | None:
    """Counts per territory path from counts per territory: a document counts for its territory
    and every level above it, as with the ``territory_paths`` field. None when the answer
    left territories out."""
    if answer.get("sum_other_doc_count"):
        return None
    counts: dict[str, int] = {}
    for bucket in answer.get("buckets", []):
        n = int(bucket["doc_count"])
        for path in territory_paths(str(bucket["key"])):
            counts[path] = counts.get(path, 0) + n
    if len(counts) > _MAX_FACET_VALUES:  # the most frequent, as the terms aggregation keeps them
        counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:_MAX_FACET_VALUES])
    return counts


_HANDLES_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None


def _facet_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        with _HANDLES_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2)),
                                           thread_name_prefix="ashyq-search-facets")
    return _POOL


_HANDLES: dict[Path, _Handle] = {}


def _handle(path: Path, **options) -> _Handle:
    path = path.resolve()
    with _HANDLES_LOCK:
        handle = _HANDLES.get(path)
        if handle is None:
            handle = _HANDLES[path] = _Handle(path, **options)
        return handle


class EmbeddedBackend(SearchBackend):
    """tantivy in a directory; see the module docstring."""

    name = "embedded"

    def __init__(self, path: str | os.PathLike, *, lock_timeout: float = 2.0,
                 writer_idle: float = 5.0, heap_size: int = 128_000_000):
        self.path = Path(path)
        self._options = dict(lock_timeout=lock_timeout, writer_idle=writer_idle, heap_size=heap_size)
        self._h: _Handle | None = None

    @property
    def _handle(self) -> _Handle:
        if self._h is None:
            self._h = _handle(self.path, **self._options)
        return self._h

    # ------------------------------------------------------------ writes

    def _tantivy_doc(self, doc: Document, vocabulary: dict[str, set[str]]) -> tantivy.Document:
        """The tantivy document; its words and stems are added to ``vocabulary``."""
        title_f, body_f = folded_words(doc.title), folded_words(doc.body)
        all_f = title_f + body_f
        all_k = [stem(w) for w in all_f]
        kept = [len(w) < _LONGEST_WORD for w in all_f]  # what the tokenizer keeps
        vocabulary["all_f"].update(w for w, keep in zip(all_f, kept) if keep)
        vocabulary["all_k"].update(k for k, keep in zip(all_k, kept) if keep)
        t = tantivy.Document()
        t.add_bytes("payload", _encode(doc))
        t.add_text("id", doc.id)
        for name in ("module", "kind", "organisation", "status", "level", "lang", "territory"):
            t.add_text(name, getattr(doc, name))
        for p in territory_paths(doc.territory):
            t.add_text("territory_paths", p)
        t.add_integer("created_ts", doc.timestamp)
        t.add_integer("year", doc.year)
        t.add_text("title_f", " ".join(title_f))
        t.add_text("all_f", " ".join(all_f))
        t.add_text("all_k", " ".join(all_k))
        t.add_text("all_r", doc.title + "\n" + doc.body)
        return t

    def index(self, documents: Iterable[Document]) -> None:
        latest: dict[str, Document] = {}
        for doc in documents:
            latest[doc.id] = doc
        if not latest:
            return
        vocabulary: dict[str, set[str]] = {field: set() for field in _VOCABULARY}
        built = [self._tantivy_doc(d, vocabulary) for d in latest.values()]
        handle = self._handle

        def work(writer):
            for doc_id in latest:
                writer.delete_documents_by_term("id", doc_id)
            for t in built:
                writer.add_document(t)
            # Holding the writer, no other process commits: a reader reloaded now knows every
            # word already in the vocabulary.
            handle.index.reload()
            searcher = handle.index.searcher()
            for field, found in vocabulary.items():
                entry_field = _VOCABULARY[field]
                for word in found:
                    if word and not searcher.doc_freq(entry_field, word):
                        entry = tantivy.Document()
                        entry.add_text(entry_field, word)
                        writer.add_document(entry)

        handle.write(work)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return

        def work(writer):
            for doc_id in ids:
                writer.delete_documents_by_term("id", doc_id)

        self._handle.write(work)

    def clear(self) -> None:
        self._handle.write(lambda writer: writer.delete_all_documents())

    def close(self) -> None:
        if self._h is not None:
            self._h.close()

    # ------------------------------------------------------------ bookkeeping

    def configure(self) -> None:
        self._handle  # opens (and if needed creates) the index

    def health(self) -> bool:
        try:
            self._handle.index.searcher()
            return True
        except Exception:  # noqa: BLE001
            return False

    @property
    def needs_rebuild(self) -> bool:
        """Whether the index was emptied on opening (another schema) and awaits a rebuild."""
        return self._handle.rebuild_marker.exists()

    def rebuilt(self) -> None:
        self._handle.rebuild_marker.unlink(missing_ok=True)

    def count(self) -> int:
        searcher = self._handle.index.searcher()  # Documents only, not vocabulary entries
        return searcher.search(Query.exists_query("id"), limit=1, count=True).count or 0

    def all_ids(self) -> list[str]:
        searcher = self._handle.index.searcher()
        return [term for term, _ in searcher.terms_with_prefix("id", "", filter_query=Query.all_query())]

    # ------------------------------------------------------------ queries

    def _word_query(self, t: QueryTerm, searcher) -> Query:
        """Everything one query word may match (see the module docstring): exact words score
        with BM25 (title boosted), stems, typos and prefixes add a smaller share."""
        schema = self._handle.schema
        term, boost, fuzzy = Query.term_query, Query.boost_query, Query.fuzzy_term_query
        subs = [boost(term(schema, "title_f", t.word), _EXACT * TITLE_BOOST),
                boost(term(schema, "all_k", t.stem), _STEM)]
        if t.ru:
            subs.append(boost(term(schema, "all_r", t.ru), _RU))
        # typos: on the stems, so that other forms of a word count too ("автобас" finds
        # "автобусы"); all_k holds the stem of every word. The budget follows the stem's length,
        # as in Meilisearch, which is queried with the stems.
        covered = {t.stem}  # stems whose documents a clause matches already
        if t.stem_budget:
            found = self._expand(searcher, "all_k", t.stem, t.stem_budget, False)
            if found is None:
                subs.append(boost(fuzzy(schema, "all_k", t.stem, distance=t.stem_budget), _FUZZY))
            else:
                subs.extend(self._one_of("all_k", [w for w in found if w not in covered], _FUZZY))
                covered.update(found)
        if t.last and t.stem_budget:  # the word being typed: prefix, with typos
            found = self._expand(searcher, "all_f", t.pstem, t.stem_budget, True)
            if found is None:
                subs.append(boost(fuzzy(schema, "all_f", t.pstem, distance=t.stem_budget, prefix=True), _PREFIX))
            else:
                subs.extend(self._one_of("all_f", [w for w in found if stem(w) not in covered], _PREFIX))
        elif t.last or len(t.pstem) >= MIN_STEM:  # prefix: Kazakh suffixes, the word being typed
            subs.extend(self._prefix_query(t, searcher, covered))
        return Query.boolean_query([(Occur.Should, q) for q in subs])

    def _expand(self, searcher, field: str, text: str, distance: int, prefix: bool) -> list[str] | None:
        """The words of ``field`` within ``distance`` edits of ``text`` (or starting with such a
        word, when ``prefix``), found among the vocabulary entries; None when there are more
        than ``_EXPANSIONS`` (tantivy's automaton then runs on the postings)."""
        entry_field = _VOCABULARY[field]
        query = Query.fuzzy_term_query(self._handle.schema, entry_field, text, distance=distance, prefix=prefix)
        hits = searcher.search(query, limit=_EXPANSIONS + 1, count=False).hits
        if len(hits) > _EXPANSIONS:
            return None
        return [searcher.doc(address)[entry_field][0] for _, address in hits]

    def _one_of(self, field: str, words_: list[str], boost: float) -> list[Query]:
        """Documents holding any of the words, scored ``boost``: a few words one by one, many
        as a set."""
        if not words_:
            return []
        schema = self._handle.schema
        if len(words_) > _EXPANSIONS:
            inner = Query.term_set_query(schema, field, words_)
        elif len(words_) == 1:
            inner = Query.term_query(schema, field, words_[0])
        else:
            inner = Query.boolean_query([(Occur.Should, Query.term_query(schema, field, w)) for w in words_])
        return [Query.const_score_query(inner, boost)]

    def _prefix_query(self, t: QueryTerm, searcher, covered: set[str]) -> list[Query]:
        """Words starting with the stem, less those whose stem another clause matches already
        (``covered``): usually a handful of terms, looked up in the term dictionary, so the
        common ones' postings are not read twice; an automaton when there are many."""
        schema = self._handle.schema
        found = searcher.terms_with_prefix("all_f", t.pstem, limit=_PREFIX_TERMS + 1)
        if len(found) > _PREFIX_TERMS:
            return [Query.boost_query(Query.fuzzy_term_query(schema, "all_f", t.pstem, distance=0, prefix=True),
                                      _PREFIX)]
        return self._one_of("all_f", [term for term, _ in found if stem(term) not in covered], _PREFIX)

    def _filter_queries(self, query: SearchQuery) -> list[Query]:
        schema = self._handle.schema
        out = []
        for name, values in query.filters().items():
            if name == "year":
                out.append(Query.term_query(schema, "year", int(values[0])))
                continue
            field = "territory_paths" if name == "territory" else name
            if len(values) == 1:
                out.append(Query.term_query(schema, field, values[0]))
            else:
                out.append(Query.term_set_query(schema, field, list(values)))
        return out

    def _combine(self, text_query: Query | None, filters: list[Query]) -> Query:
        if text_query is not None and not filters:
            return text_query
        clauses = [(Occur.Must, Query.const_score_query(f, 0.0)) for f in filters]
        if text_query is not None:
            clauses.insert(0, (Occur.Must, text_query))
        if not clauses:
            return Query.exists_query("id")  # every Document, no vocabulary entry
        return Query.boolean_query(clauses)

    def _load(self, searcher, hits) -> list[tuple[Document, float | None]]:
        return [(_decode(searcher.doc(address)["payload"][0]), score) for score, address in hits]

    def _run(self, query, terms):
        handle = self._handle
        searcher = handle.index.searcher()  # one point-in-time view for the whole request
        text_query = None
        if terms:
            word_queries = [self._word_query(t, searcher) for t in terms]
            text_query = word_queries[0] if len(word_queries) == 1 else \
                Query.boolean_query([(Occur.Must, q) for q in word_queries])
        q = self._combine(text_query, self._filter_queries(query))
        sort = query.sort
        if sort == "relevance" and not terms:
            sort = "newest"
        kwargs = dict(limit=query.per_page, offset=query.offset, count=True)
        if sort != "relevance":
            kwargs.update(order_by_field="created_ts", order=Order.Desc if sort == "newest" else Order.Asc)
        pending = None
        if query.facets:  # tantivy releases the GIL: count facets while the page is found
            pending = _facet_pool().submit(searcher.aggregate, q, _facet_aggregations(query.facets))
        result = searcher.search(q, **kwargs)
        total = result.count or 0
        found = self._load(searcher, result.hits)
        if sort != "relevance":
            found = [(doc, None) for doc, _ in found]
        facets: dict[str, dict[str, int]] = {}
        if pending is not None:
            answer = pending.result()
            for name in query.facets:
                part = answer.get(name, {})
                if name == "territory":
                    counts = _territory_rollup(part)
                    if counts is None:  # more distinct territories than counted: count every path
                        part = searcher.aggregate(q, {name: _terms("territory_paths", _MAX_FACET_VALUES)})[name]
                    else:
                        facets[name] = counts
                        continue
                facets[name] = {str(b["key"]): int(b["doc_count"])
                                for b in part.get("buckets", []) if b["key"] != ""}
        return found, total, facets

    def _candidates(self, terms, module, limit):
        searcher = self._handle.index.searcher()
        should = Query.boolean_query([(Occur.Should, self._word_query(t, searcher)) for t in terms])
        filters = [Query.term_query(self._handle.schema, "module", module)] if module else []
        q = self._combine(should, filters)
        result = searcher.search(q, limit=limit, count=False)
        return self._load(searcher, result.hits)

    def _vocabulary(self, prefix):
        searcher = self._handle.index.searcher()
        alive = Query.all_query()  # the term dictionary keeps deleted documents' words
        counts: dict[str, int] = {}
        for term, freq in searcher.terms_with_prefix("all_f", prefix, filter_query=alive, limit=10_000):
            counts[term] = freq
        return counts

    def _written(self, folded):
        handle = self._handle
        searcher = handle.index.searcher()
        result = searcher.search(Query.term_query(handle.schema, "all_f", folded), limit=1, count=False)
        for doc, _ in self._load(searcher, result.hits):
            for w in words(doc.title + " " + doc.body):
                if fold_word(w) == folded:
                    return w.lower()
        return folded
