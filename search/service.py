"""The search index as the app uses it: one backend per process, searches run off the event
loop, and the index kept true to the database (flush after writes, full rebuild, status).

The backends are synchronous (:mod:`search.backend`); everything here is ``async`` and runs
them in a thread. Who calls what:

* ``ashyq.app``: :func:`start` on start-up (configure, tolerating an engine that is down),
  :func:`apply_pending` after every unsafe request, :func:`stop` on shut-down;
* ``civic worker``: :func:`apply_pending` every round; ``civic search reindex``:
  :func:`rebuild`; ``civic search status`` and ``/staff/search``: :func:`index_status`;
* ``search.routes``: :func:`parse_params`, :func:`run_search`, :func:`run_similar`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import msgspec

from civic.i18n.runtime import N_
from search.backend import SearchBackend, SearchUnavailable
from search.documents import LEVELS, MAX_PER_PAGE, SORTS, SearchQuery, SearchResults
from search.outbox import flush

if TYPE_CHECKING:
    from civic.modules import CivicModule
    from civic.settings import Settings
    from search.documents import Hit

log = logging.getLogger(__name__)

__all__ = [
    "PAGE_FACETS", "MAX_PAGE", "DEFAULT_PER_PAGE", "SearchParams", "SimilarParams", "BadParameter",
    "parse_params", "parse_similar", "run_search", "run_similar", "start", "stop", "apply_pending",
    "rebuild", "RebuildReport", "index_status", "IndexStatus", "worker_backend", "count_database_documents",
]

#: The facets the search page and the API show.
PAGE_FACETS = ("module", "territory", "status", "level", "year")
#: Deeper pages cost the engine more and help nobody: a page number beyond is clamped.
MAX_PAGE = 500
DEFAULT_PER_PAGE = 20
MAX_FILTER_VALUES = 20
MAX_QUERY_LENGTH = 500
MAX_SIMILAR_TEXT = 2000
MAX_SIMILAR = 20
DEFAULT_SIMILAR = 5
NO_MODULE = "-"  # a module filter nothing matches (no module enabled)
YEARS = (1991, 2100)  # independent Kazakhstan; anything outside is a mistyped year

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
_TERRITORY = re.compile(r"^/?[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*/?$")


# --------------------------------------------------------------------------- parameters


class BadParameter(ValueError):
    """A search parameter that cannot be understood; ``msgid`` is shown translated (400)."""

    def __init__(self, name: str, msgid: str, **params: Any) -> None:
        super().__init__(f"{name}: {msgid % params if params else msgid}")
        self.name = name
        self.msgid = msgid
        self.params = params


@dataclass(frozen=True)
class SearchParams:
    """What the reader asked, after checking: the same for the page, the fragment and the API."""

    q: str = ""
    module: tuple[str, ...] = ()
    territory: str = ""
    status: tuple[str, ...] = ()
    level: tuple[str, ...] = ()
    year: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def filtered(self) -> bool:
        return bool(self.module or self.territory or self.status or self.level or self.year is not None)

    def query(self, facets: tuple[str, ...] = PAGE_FACETS, scope: Iterable[str] | None = None) -> SearchQuery:
        """The backend's query. ``scope``: the enabled modules; without a module filter the
        search keeps to them, so a module switched off leaves no trace in the results."""
        module: tuple[str, ...] | None = self.module or None
        if module is None and scope is not None:
            module = tuple(scope) or (NO_MODULE,)
        return SearchQuery(
            text=self.q, module=module, territory=self.territory or None,
            status=self.status or None, level=self.level or None, year=self.year, facets=facets,
            page=self.page, per_page=self.per_page, sort=self.sort,  # type: ignore[arg-type]
        )

    def items(self) -> list[tuple[str, str]]:
        """The parameters as (name, value) pairs for a query string, defaults left out."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        out += [("module", v) for v in self.module]
        if self.territory:
            out.append(("territory", self.territory))
        out += [("status", v) for v in self.status]
        out += [("level", v) for v in self.level]
        if self.year is not None:
            out.append(("year", str(self.year)))
        if self.sort != "relevance":
            out.append(("sort", self.sort))
        if self.per_page != DEFAULT_PER_PAGE:
            out.append(("per_page", str(self.per_page)))
        if self.page != 1:
            out.append(("page", str(self.page)))
        return out


def _values(params: Mapping, name: str) -> list[str]:
    getall = getattr(params, "getall", None)
    if getall is not None:
        raw = getall(name, [])
    else:
        value = params.get(name)
        raw = [] if value is None else value if isinstance(value, (list, tuple)) else [value]
    return [str(v).strip() for v in raw if v is not None and str(v).strip()]


def _one(params: Mapping, name: str) -> str:
    values = _values(params, name)
    return values[0] if values else ""


def _integer(params: Mapping, name: str, default: int, msgid: str) -> int:
    value = _one(params, name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise BadParameter(name, msgid) from None


def _slugs(params: Mapping, name: str, allowed: Iterable[str] | None, msgid: str) -> tuple[str, ...]:
    values = list(dict.fromkeys(_values(params, name)))
    if len(values) > MAX_FILTER_VALUES:
        raise BadParameter(name, N_("Too many values for one filter."))
    allowed_set = set(allowed) if allowed is not None else None
    for value in values:
        if not _SLUG.match(value) or (allowed_set is not None and value not in allowed_set):
            raise BadParameter(name, msgid)
    return tuple(values)


def parse_params(params: Mapping, modules: Iterable[str]) -> SearchParams:
    """Check the search parameters of a request (a Litestar ``MultiDict`` or a plain dict).

    Page numbers and page sizes out of range are clamped (``page=-1`` is page 1,
    ``per_page=9999`` is the largest page); what cannot be understood (a word where a number
    belongs, an unknown order, module or level, a mistyped year) raises :class:`BadParameter`."""
    q = _one(params, "q")[:MAX_QUERY_LENGTH]
    page = _integer(params, "page", 1, N_("The page number must be a whole number."))
    per_page = _integer(params, "per_page", DEFAULT_PER_PAGE, N_("The number of results per page must be a whole number."))
    sort = _one(params, "sort") or "relevance"
    if sort not in SORTS:
        raise BadParameter("sort", N_("Results can be ordered by relevance, newest first or oldest first."))
    year_text = _one(params, "year")
    year = None
    if year_text:
        try:
            year = int(year_text)
        except ValueError:
            raise BadParameter("year", N_("The year must be a number such as 2024.")) from None
        if not YEARS[0] <= year <= YEARS[1]:
            raise BadParameter("year", N_("The year must be a number such as 2024."))
    territory = _one(params, "territory")
    if territory:
        if len(territory) > 255 or not _TERRITORY.match(territory):
            raise BadParameter("territory", N_("This territory is not known."))
        territory = "/" + "/".join(p for p in territory.split("/") if p) + "/"
    return SearchParams(
        q=q,
        module=_slugs(params, "module", modules, N_("Choose a section of the site from the list.")),
        territory=territory,
        status=_slugs(params, "status", None, N_("Choose a status from the list.")),
        level=_slugs(params, "level", LEVELS, N_("Choose a participation level from the list.")),
        year=year,
        sort=sort,
        page=min(MAX_PAGE, max(1, page)),
        per_page=min(MAX_PER_PAGE, max(1, per_page)),
    )


@dataclass(frozen=True)
class SimilarParams:
    text: str
    module: str | None
    limit: int


def parse_similar(params: Mapping, modules: Iterable[str]) -> SimilarParams:
    """``text`` (what is being typed), ``module`` (optional, an enabled module) and ``limit``
    (clamped to 1..20)."""
    text = (_one(params, "text") or _one(params, "title") or _one(params, "q"))[:MAX_SIMILAR_TEXT]
    module = _one(params, "module") or None
    if module is not None and module not in set(modules):
        raise BadParameter("module", N_("Choose a section of the site from the list."))
    limit = _integer(params, "limit", DEFAULT_SIMILAR, N_("The number of items must be a whole number."))
    return SimilarParams(text=text, module=module, limit=min(MAX_SIMILAR, max(1, limit)))


# --------------------------------------------------------------------------- finding


async def run_search(backend: SearchBackend, query: SearchQuery) -> SearchResults:
    """The backend's answer, found in a thread. Any failure of the engine is
    :class:`SearchUnavailable` (logged), so a page can say so instead of failing."""
    try:
        return await asyncio.to_thread(backend.search, query)
    except SearchUnavailable:
        raise
    except Exception as exc:  # an engine refusal or a bug: logged, shown as "unavailable"
        log.exception("search failed: %r", query)
        raise SearchUnavailable(f"search failed: {exc!r}") from exc


async def run_similar(backend: SearchBackend, params: SimilarParams, scope: set[str] | None = None) -> list[Hit]:
    """Similar items, kept to the modules in ``scope`` (the enabled ones) when given."""
    if not params.text.strip():
        return []
    try:
        hits = await asyncio.to_thread(backend.similar, params.text, params.module, params.limit)
        return [h for h in hits if scope is None or h.module in scope]
    except SearchUnavailable:
        raise
    except Exception as exc:
        log.exception("similar items failed for module %r", params.module)
        raise SearchUnavailable(f"similar items failed: {exc!r}") from exc


# --------------------------------------------------------------------------- the app's backend


async def start(backend: SearchBackend) -> bool:
    """Configure the index on start-up and apply what the outbox still holds. An engine that is
    down does not stop the app: searches answer "unavailable" and writes wait in the outbox
    until it is back (the next write, the worker, or ``civic search reindex`` applies them)."""
    try:
        await asyncio.to_thread(backend.configure)
    except Exception as exc:  # noqa: BLE001 - down at start is allowed
        log.warning("search engine unavailable at start (%r); changes wait in the outbox", exc)
        return False
    await apply_pending(backend)
    return True


_REBUILDS: set[asyncio.Task] = set()


def rebuild_if_needed(backend: SearchBackend, modules: Iterable[CivicModule]) -> asyncio.Task | None:
    """An index emptied on opening (an embedded index of an older schema, after an upgrade) is
    rebuilt from the database in the background while the site serves, so that nobody has to
    remember ``civic search reindex``."""
    if not backend.needs_rebuild:
        return None
    modules = list(modules)

    async def run() -> None:
        try:
            report = await rebuild(backend, modules)
        except Exception:  # noqa: BLE001 - the site keeps serving; the command can finish it
            log.exception("rebuilding the search index failed; run `civic search reindex`")
            return
        log.info("search index rebuilt after a schema change: %s documents", report.in_index)

    task = asyncio.get_running_loop().create_task(run())
    _REBUILDS.add(task)
    task.add_done_callback(_REBUILDS.discard)
    return task


async def stop(backend: SearchBackend) -> None:
    try:
        await asyncio.to_thread(backend.close)
    except Exception:  # noqa: BLE001
        log.exception("closing the search backend failed")


_flush_locks: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}


def _flush_lock() -> asyncio.Lock:
    """One flush at a time per process (and event loop): two overlapping flushes could apply an
    older version of a record after a newer one."""
    loop = asyncio.get_running_loop()
    entry = _flush_locks.get(id(loop))
    if entry is None or entry[0] is not loop:
        if len(_flush_locks) > 16:  # loops of finished tests
            _flush_locks.clear()
        entry = _flush_locks[id(loop)] = (loop, asyncio.Lock())
    return entry[1]


async def apply_pending(backend: SearchBackend, limit: int = 5000) -> int:
    """Apply pending outbox entries; never raises (the entries stay when the engine is down)."""
    try:
        async with _flush_lock():
            return await flush(backend, limit=limit)
    except Exception:  # noqa: BLE001 - the database itself failed; the next write retries
        log.exception("applying the search outbox failed")
        return 0


def worker_backend(settings: Settings, lock_timeout: float = 30.0) -> SearchBackend:
    """The backend for a process next to the web app (``civic worker``, ``civic search
    reindex``): the embedded index gives its writer back after every write and waits longer for
    it (the web process keeps the writer until it has been idle for 5 s), so the processes take
    turns instead of failing."""
    if settings.meilisearch_url:
        from search import backend_for

        return backend_for(settings)
    from search.embedded import EmbeddedBackend

    return EmbeddedBackend(settings.data_dir / "search", writer_idle=0, lock_timeout=lock_timeout)


# --------------------------------------------------------------------------- keeping it true


def _fingerprint(document) -> bytes:
    return hashlib.blake2b(msgspec.json.encode(document.as_dict()), digest_size=16).digest()


async def _documents(modules: Iterable[CivicModule]):
    for module in modules:
        if module.search_documents is None:
            continue
        async for document in module.search_documents():
            yield module.slug, document


async def count_database_documents(modules: Iterable[CivicModule]) -> dict[str, int]:
    """How many public documents each module offers now ({slug: n}, modules without search
    left out)."""
    counts: dict[str, int] = {}
    for module in modules:
        if module.search_documents is None:
            continue
        counts[module.slug] = 0
        async for _ in module.search_documents():
            counts[module.slug] += 1
    return counts


@dataclass
class RebuildReport:
    indexed: dict[str, int] = field(default_factory=dict)  # per module
    updated_meanwhile: int = 0  # changed during the rebuild, written again
    removed: int = 0  # in the index, no longer public
    outbox_applied: int = 0
    in_index: int | None = None

    @property
    def total(self) -> int:
        return sum(self.indexed.values())


def _queues(backend: SearchBackend) -> bool:
    """Meilisearch queues writes as tasks: a bulk rebuild sends them all, then waits once."""
    return callable(getattr(backend, "wait_idle", None))


async def _write(backend: SearchBackend, batch: list) -> None:
    if not batch:
        return
    if _queues(backend):
        await asyncio.to_thread(lambda: backend.index(batch, wait=False))  # type: ignore[call-arg]
    else:
        await asyncio.to_thread(backend.index, batch)


async def _settle(backend: SearchBackend) -> None:
    if _queues(backend):
        await asyncio.to_thread(backend.wait_idle)  # type: ignore[attr-defined]


async def rebuild(backend: SearchBackend, modules: Iterable[CivicModule], *, batch_size: int = 500,
                  progress: Callable[[int], None] | None = None,
                  stage: Callable[[str], None] | None = None) -> RebuildReport:
    """Rebuild the index from every module's ``search_documents`` while the site keeps serving.

    1. Remember which ids the index holds now.
    2. Index every public document in batches (the web process writes in between: each batch
       takes the embedded writer for one commit; Meilisearch queues tasks).
    3. Read the documents again and write what changed meanwhile: a record edited while step 2
       was running may have been written by the web process before step 2 wrote the older
       copy it had read; a record hidden meanwhile is removed.
    4. Remove the ids from step 1 (and step 2) that no module offers any more. Ids that
       appeared in the index during the rebuild (new records, indexed by the web process) are
       not touched.
    5. Apply the outbox.
    """
    modules = list(modules)
    report = RebuildReport(indexed={m.slug: 0 for m in modules if m.search_documents is not None})
    say = stage or (lambda message: None)

    say("snapshot")
    before = set(await asyncio.to_thread(backend.all_ids))

    say("index")
    written: dict[str, bytes] = {}
    batch: list = []
    async for slug, document in _documents(modules):
        batch.append(document)
        written[document.id] = _fingerprint(document)
        report.indexed[slug] = report.indexed.get(slug, 0) + 1
        if len(batch) >= batch_size:
            await _write(backend, batch)
            if progress:
                progress(len(batch))
            batch = []
    await _write(backend, batch)
    if progress and batch:
        progress(len(batch))
    await _settle(backend)

    say("recheck")
    seen: set[str] = set()
    batch = []
    async for _, document in _documents(modules):
        seen.add(document.id)
        if written.get(document.id) != _fingerprint(document):
            batch.append(document)
            report.updated_meanwhile += 1
            if len(batch) >= batch_size:
                await _write(backend, batch)
                batch = []
    await _write(backend, batch)
    await _settle(backend)

    say("remove")
    stale = sorted((before | set(written)) - seen)
    if stale:
        await asyncio.to_thread(backend.delete, stale)
    report.removed = len(stale)

    say("outbox")
    report.outbox_applied = await apply_pending(backend)
    await asyncio.to_thread(backend.rebuilt)
    try:
        report.in_index = await asyncio.to_thread(backend.count)
    except Exception:  # noqa: BLE001
        report.in_index = None
    return report


@dataclass
class IndexStatus:
    database: dict[str, int]  # public documents per module
    in_index: int | None  # None: the engine did not answer
    missing: int | None  # public documents the index lacks
    stale: int | None  # indexed documents no module offers
    healthy: bool
    engine: str
    pending: int
    pending_entries: list[dict]
    error: str = ""

    @property
    def in_database(self) -> int:
        return sum(self.database.values())

    @property
    def in_step(self) -> bool:
        return self.healthy and not self.pending and self.missing == 0 and self.stale == 0

    def as_dict(self) -> dict:
        return {
            "engine": self.engine, "healthy": self.healthy, "database": self.database,
            "in_database": self.in_database, "in_index": self.in_index, "missing": self.missing,
            "stale": self.stale, "pending": self.pending, "error": self.error,
        }


async def index_status(backend: SearchBackend, modules: Iterable[CivicModule], entries: int = 50) -> IndexStatus:
    """Documents in the database against documents in the index, and the outbox."""
    from search.tables import SearchOutboxEntry

    modules = list(modules)
    database: dict[str, int] = {m.slug: 0 for m in modules if m.search_documents is not None}
    ids: set[str] = set()
    async for slug, document in _documents(modules):
        database[slug] += 1
        ids.add(document.id)
    healthy = await asyncio.to_thread(backend.health)
    in_index = missing = stale = None
    error = ""
    try:
        indexed = set(await asyncio.to_thread(backend.all_ids))
        in_index = await asyncio.to_thread(backend.count)
        missing, stale = len(ids - indexed), len(indexed - ids)
    except Exception as exc:  # noqa: BLE001 - the page reports it
        healthy = False
        error = str(exc)[:500]
    pending = await SearchOutboxEntry.count()
    rows = await SearchOutboxEntry.select(
        SearchOutboxEntry.id, SearchOutboxEntry.document_id, SearchOutboxEntry.action,
        SearchOutboxEntry.created_at, SearchOutboxEntry.attempts, SearchOutboxEntry.last_error,
    ).order_by(SearchOutboxEntry.id).limit(entries)
    return IndexStatus(database=database, in_index=in_index, missing=missing, stale=stale, healthy=healthy,
                       engine=getattr(backend, "name", type(backend).__name__), pending=pending,
                       pending_entries=rows, error=error)
