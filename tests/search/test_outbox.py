"""Keeping the index true: changes queued in the outbox inside the write's transaction, applied
after the request, kept while the engine is down and applied when it is back; the full rebuild;
and, per visibility rule, proof that a record that is not public can never be found, also after
it was public and then stopped being so.

The records belong to a small test-only module ("ledger", passed to create_app as an extra
module) that follows the module contract: its service changes a record and calls
``search.outbox.record_changed`` in the same transaction, with the record's Document when the
record is public and None otherwise; ``search_documents`` yields its public records.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from litestar import Request, Response, Router, post
from litestar.params import FromPath

from ashyq.app import create_app
from civic.modules import CivicModule
from search.backend import SearchUnavailable
from search.documents import Document, SearchQuery
from tests.support.web import post_form

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- the test module

PUBLIC, PENDING, HIDDEN, PRIVATE, DELETED = "public", "pending", "hidden", "private", "deleted"


@dataclasses.dataclass(frozen=True)
class Record:
    key: str
    title: str
    body: str = ""
    state: str = PUBLIC  # pending: waits for pre-moderation; private: e.g. a private answer
    confidential: bool = False  # e.g. an advice case: never public, whatever its state


RECORDS: dict[str, Record] = {}


def document_for(record: Record) -> Document | None:
    """The module's rule: only public, non-confidential records become documents."""
    if record.state != PUBLIC or record.confidential:
        return None
    return Document(
        id=f"ledger:{record.key}", module="ledger", kind="notice", title=record.title, body=record.body,
        territory="/kz/almaty/", organisation="", status="published", level="inform", lang="ru",
        created_at=datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc), url=f"/ledger/{record.key}",
    )


async def ledger_documents():
    for record in list(RECORDS.values()):
        document = document_for(record)
        if document is not None:
            yield document


async def change(key: str, **fields) -> Record:
    """The module's service: change the record and queue its search document in one transaction."""
    from civic.db import atomic
    from civic.runtime import current_engine
    from search.outbox import record_changed

    current = RECORDS.get(key) or Record(key=key, title="")
    record = dataclasses.replace(current, **fields)
    async with atomic(current_engine()):
        await record_changed(f"ledger:{key}", document_for(record))
    RECORDS[key] = record  # committed
    return record


@post("/ledger/{key:str}")
async def change_route(request: Request, key: FromPath[str]) -> Response:
    from civic.web.forms import form_data
    from civic.web.pages import see_other

    data = await form_data(request)
    fields = {name: data[name] for name in ("title", "body", "state") if name in data}
    if "confidential" in data:
        fields["confidential"] = data["confidential"] == "yes"
    await change(key, **fields)
    return see_other(f"/ledger/{key}")


LEDGER = CivicModule(slug="ledger", title="Ideas", search_documents=ledger_documents,
                     router=lambda: Router(path="/", route_handlers=[change_route]))


class Switchable:
    """The app's real backend behind a switch that makes it unavailable. A fake is the point:
    it stands for the engine being down (Meilisearch stopped, the embedded index locked by
    another process), which a test cannot switch on and off otherwise."""

    def __init__(self, real) -> None:
        self.real = real
        self.down = False
        self.name = real.name

    def __getattr__(self, name):
        attribute = getattr(self.real, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            if self.down:
                raise SearchUnavailable("the search engine is down (test)")
            return attribute(*args, **kwargs)

        return call

    def health(self) -> bool:
        return not self.down and self.real.health()


def key() -> str:
    return "r" + uuid.uuid4().hex[:10]


def word() -> str:
    letters = "bdfgklmnprstvz"
    return "zhel" + "".join(letters[int(c, 16) % len(letters)] for c in uuid.uuid4().hex[:7])


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=["embedded", "meilisearch"])
async def ledger_app(request, settings, database):
    if request.param == "embedded":
        app = create_app(dataclasses.replace(settings, modules=("ledger",)), extra_modules=(LEDGER,))
    else:
        url, secret = request.getfixturevalue("meili_server")
        app = create_app(dataclasses.replace(settings, modules=("ledger",), meilisearch_url=url, meilisearch_key=secret,
                                             meilisearch_index=f"outbox_{uuid.uuid4().hex[:10]}"),
                         extra_modules=(LEDGER,))
    real = app.state.search
    await asyncio.to_thread(real.configure)
    app.state.search = Switchable(real)
    yield app
    if request.param == "meilisearch":
        await asyncio.to_thread(real.drop)


@pytest.fixture
async def web(ledger_app):
    from search.tables import SearchOutboxEntry

    ledger_app.state.search.down = False
    await SearchOutboxEntry.delete(force=True)  # what earlier tests left must not count here
    transport = httpx.ASGITransport(app=ledger_app, client=(f"10.8.{uuid.uuid4().int % 250}.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False,
                                 headers={"accept-language": "en"}) as client:
        yield client
    ledger_app.state.search.down = False


async def found(client: httpx.AsyncClient, text: str) -> set[str]:
    """Ids found for `text` by every way the site offers: the page, the API and "similar"."""
    data = (await client.get("/api/v1/search", params={"q": text})).json()
    ids = {h["id"] for h in data["hits"]}
    similar = (await client.get("/api/v1/search/similar", params={"text": text})).json()
    ids |= {h["id"] for h in similar["hits"]}
    page = (await client.get("/search", params={"q": text})).text
    ids |= {f"ledger:{k}" for k in RECORDS if f'href="/ledger/{k}"' in page}
    return ids


# --------------------------------------------------------------------------- the outbox


async def test_change_is_queued_in_the_same_transaction(web, ledger_app):
    from civic.db import atomic
    from civic.runtime import current_engine
    from search.outbox import pending_count, record_changed

    k = key()
    document = document_for(Record(k, f"{word()} откат"))

    class Refused(Exception):
        pass

    with pytest.raises(Refused):
        async with atomic(current_engine()):
            await record_changed(document.id, document)
            raise Refused  # the write fails: its index change goes with it
    assert await pending_count() == 0
    async with atomic(current_engine()):
        await record_changed(document.id, document)
    assert await pending_count() == 1
    with pytest.raises(ValueError):
        await record_changed("ledger:other", document)  # the id must be the document's


async def test_a_write_is_searchable_when_its_request_ends(web):
    from search.outbox import pending_count

    k, w = key(), word()
    response = await post_form(web, f"/ledger/{k}", {"title": f"Новый {w} в сквере", "state": PUBLIC})
    assert response.status_code == 303
    assert await pending_count() == 0  # applied after the response, by the same request
    assert found_ids(await found(web, w)) == {f"ledger:{k}"}
    await post_form(web, f"/ledger/{k}", {"title": f"Исправленный {w}"})
    data = (await web.get("/api/v1/search", params={"q": w})).json()
    assert [h["title"] for h in data["hits"]] == [f"Исправленный {w}"]


def found_ids(ids: set[str]) -> set[str]:
    return {i for i in ids if i.startswith("ledger:")}


async def test_engine_down_keeps_changes_until_it_is_back(web, ledger_app):
    from search.outbox import pending_count
    from search.service import apply_pending, start
    from search.tables import SearchOutboxEntry

    engine = ledger_app.state.search
    shown, gone, w = key(), key(), word()
    await post_form(web, f"/ledger/{gone}", {"title": f"{w} было", "state": PUBLIC})
    assert found_ids(await found(web, w)) == {f"ledger:{gone}"}

    engine.down = True
    # the writes succeed although the engine is down ...
    assert (await post_form(web, f"/ledger/{shown}", {"title": f"{w} стало", "state": PUBLIC})).status_code == 303
    assert (await post_form(web, f"/ledger/{gone}", {"state": HIDDEN})).status_code == 303
    # ... the changes wait, with the reason
    rows = await SearchOutboxEntry.select().order_by(SearchOutboxEntry.id)
    assert [(r["document_id"], r["action"]) for r in rows] == [(f"ledger:{shown}", "index"), (f"ledger:{gone}", "delete")]
    assert all(r["attempts"] >= 1 and "down (test)" in r["last_error"] for r in rows)
    # searching says so; the rest of the site works; start-up tolerates it
    assert (await web.get("/search", params={"q": w})).status_code == 503
    assert (await web.get("/")).status_code == 200
    assert await start(engine) is False
    assert await apply_pending(engine) == 0 and await pending_count() == 2

    engine.down = False  # back: the next flush (the worker's round, or any write) applies both
    assert await apply_pending(engine) == 2
    assert await pending_count() == 0
    assert found_ids(await found(web, w)) == {f"ledger:{shown}"}


async def test_only_the_latest_change_of_a_record_counts(web, ledger_app):
    from search.service import apply_pending

    engine = ledger_app.state.search
    k, w = key(), word()
    engine.down = True
    await change(k, title=f"{w} один", state=PUBLIC)
    await change(k, title=f"{w} два")
    await change(k, state=HIDDEN)
    await change(k, state=PUBLIC, title=f"{w} три")
    engine.down = False
    await apply_pending(engine)
    data = (await web.get("/api/v1/search", params={"q": w})).json()
    assert [h["title"] for h in data["hits"]] == [f"{w} три"]
    engine.down = True
    await change(k, state=HIDDEN)
    engine.down = False
    await apply_pending(engine)
    assert found_ids(await found(web, w)) == set()


# --------------------------------------------------------------------------- flushes in several processes


def twin(real):
    """A second backend on the same index, as another process (a replica, ``civic worker``) has."""
    if real.name == "embedded":
        from search.embedded import EmbeddedBackend

        return EmbeddedBackend(real.path, writer_idle=0.5, lock_timeout=5.0)
    from search.meili import MeiliBackend

    return MeiliBackend(real.url, real.key, index_name=real.index_name)


class Recording:
    """A backend that notes the version of `watched` it applies (titles end in "v<n>"), and
    can be slow: the flush holding it stays between reading the outbox and removing what it
    applied while the test writes and starts other flushes."""

    def __init__(self, real, watched: str, applied: list, delay: float = 0.0) -> None:
        self.real, self.watched, self.applied, self.delay = real, watched, applied, delay
        self.name = real.name
        self.started = threading.Event()

    def index(self, documents) -> None:
        documents = list(documents)
        self.started.set()
        time.sleep(self.delay)
        self.real.index(documents)
        self.applied += [int(d.title.rsplit("v", 1)[1]) for d in documents if d.id == self.watched]

    def delete(self, ids) -> None:
        self.started.set()
        time.sleep(self.delay)
        self.real.delete(ids)


async def titles(engine, text: str) -> list[str]:
    return [h.title for h in (await asyncio.to_thread(engine.search, SearchQuery(text=text))).hits]


async def test_concurrent_flushes_never_apply_an_older_version_last(web, ledger_app):
    """Flush A reads v1 and is slow to apply it; meanwhile v2 is written and flush B (another
    process: its own backend, no shared in-process lock) starts. B must not apply v2 before A
    has applied v1 and removed it, or A would leave v1 in the index."""
    from search.outbox import flush, pending_count

    real = ledger_app.state.search.real
    k, w = key(), word()
    applied: list[int] = []
    slow = Recording(real, f"ledger:{k}", applied, delay=0.6)
    other = Recording(twin(real), f"ledger:{k}", applied)
    await change(k, title=f"{w} v1", state=PUBLIC)
    first = asyncio.create_task(flush(slow))
    for _ in range(1000):  # A has read the outbox and is applying v1
        if slow.started.is_set() or first.done():
            break
        await asyncio.sleep(0.01)
    assert slow.started.is_set()
    await change(k, title=f"{w} v2")  # A holds the record: B leaves v2 to A's next batch
    second = asyncio.create_task(flush(other))
    assert sum(await asyncio.gather(first, second)) == 2
    assert applied == [1, 2] and await pending_count() == 0
    assert await titles(real, w) == [f"{w} v2"]


async def test_many_concurrent_flushes_apply_changes_in_order(web, ledger_app):
    """Three flushers (slow, quick, in between) on backends of their own, while a record is
    changed eight times: each flush applies versions in order, the index ends at the last."""
    import random

    from search.outbox import flush, pending_count

    real = ledger_app.state.search.real
    k, w = key(), word()
    applied: list[int] = []
    flushers = [Recording(b, f"ledger:{k}", applied, delay=d)
                for b, d in ((real, 0.08), (twin(real), 0.0), (twin(real), 0.03))]
    writing = True

    async def keep_flushing(backend) -> None:
        while writing:
            await flush(backend)
            await asyncio.sleep(random.uniform(0, 0.02))

    workers = [asyncio.create_task(keep_flushing(f)) for f in flushers]
    for version in range(1, 9):
        await change(k, title=f"{w} v{version}", state=PUBLIC)
        await asyncio.sleep(random.uniform(0, 0.05))
    writing = False
    await asyncio.gather(*workers)
    await flush(flushers[1])
    assert await pending_count() == 0
    assert applied == sorted(applied) and applied[-1] == 8, applied
    assert await titles(real, w) == [f"{w} v8"]


# --------------------------------------------------------------------------- never found unless public


RULES = {
    # rule: (how the record starts, the change that takes it out of public view)
    "hidden by a moderator": ({"state": PUBLIC}, {"state": HIDDEN}),
    "waiting for pre-moderation": ({"state": PENDING}, {"state": PENDING}),
    "private (a private answer)": ({"state": PRIVATE}, {"state": PRIVATE}),
    "confidential (an advice case)": ({"state": PUBLIC, "confidential": True}, {"confidential": True}),
    "deleted": ({"state": PUBLIC}, {"state": DELETED}),
}


@pytest.mark.parametrize("rule", list(RULES))
async def test_a_record_that_is_not_public_is_never_found(web, ledger_app, rule, tmp_path):
    from search.service import rebuild

    start, take_out = RULES[rule]
    k, w = key(), word()
    await post_form(web, f"/ledger/{k}", {"title": f"{w} запись", "body": f"Текст про {w}.",
                                          **{n: ("yes" if v is True else v) for n, v in start.items()}})
    public = document_for(RECORDS[k]) is not None
    assert found_ids(await found(web, w)) == ({f"ledger:{k}"} if public else set())

    # made public, then taken out of view again (a moderator hides it, an answer is made
    # private, a case turns out confidential, the author deletes it)
    await post_form(web, f"/ledger/{k}", {"state": PUBLIC, "confidential": "no"})
    assert found_ids(await found(web, w)) == {f"ledger:{k}"}
    await post_form(web, f"/ledger/{k}", {n: ("yes" if v is True else v) for n, v in take_out.items()})
    assert document_for(RECORDS[k]) is None
    assert found_ids(await found(web, w)) == set()
    # not through typos or the other script either
    assert found_ids(await found(web, w[:-1])) == set()

    # a full rebuild does not bring it back (on an index of its own: the app's index is shared
    # with the other tests' modules, which a rebuild for this module alone would remove)
    from search.embedded import EmbeddedBackend

    private = EmbeddedBackend(tmp_path / "index", writer_idle=0)
    await rebuild(private, [LEDGER])
    assert f"ledger:{k}" not in private.all_ids() and not private.search(SearchQuery(text=w)).hits
    private.close()


# --------------------------------------------------------------------------- the rebuild


async def test_rebuild_indexes_public_records_and_removes_stale_ones(settings, database, backend):
    """On a private index of each kind: the rebuild removes what no module offers any more."""
    from search.service import index_status, rebuild

    w = word()
    kept, hidden = key(), key()
    RECORDS[kept] = Record(kept, f"{w} остаётся")
    RECORDS[hidden] = Record(hidden, f"{w} скрыта", state=HIDDEN)
    stale = document_for(Record("ghost", f"{w} призрак"))
    backend.index([stale, document_for(Record(hidden, f"{w} скрыта"))])  # indexed while it was public

    status = await index_status(backend, [LEDGER])
    assert status.missing == len([r for r in RECORDS.values() if document_for(r)]) and status.stale == 2

    steps: list[str] = []
    report = await rebuild(backend, [LEDGER], batch_size=2, stage=steps.append)
    assert steps == ["snapshot", "index", "recheck", "remove", "outbox"]
    public = {f"ledger:{r.key}" for r in RECORDS.values() if document_for(r)}
    assert report.indexed == {"ledger": len(public)} and report.removed == 2
    assert set(backend.all_ids()) == public and report.in_index == len(public)
    hits = backend.search(SearchQuery(text=w)).hits
    assert [h.id for h in hits] == [f"ledger:{kept}"]
    status = await index_status(backend, [LEDGER])
    assert status.missing == 0 and status.stale == 0 and status.in_step


async def test_rebuild_writes_again_what_changed_while_it_ran(settings, database, backend):
    """A record edited while the rebuild runs: the web process indexes the new version, the
    rebuild had read the old one; the re-check writes the new one again."""
    from search.service import rebuild

    w = word()
    edited, removed = key(), key()
    RECORDS[edited] = Record(edited, f"{w} старое название")
    RECORDS[removed] = Record(removed, f"{w} будет скрыта")
    backend.index([document_for(RECORDS[removed])])

    async def documents_while_site_serves():
        async for document in ledger_documents():
            yield document
            if document.id == f"ledger:{edited}" and RECORDS[edited].title.endswith("старое название"):
                # meanwhile, on the site: edited and hidden, both applied by the web process
                RECORDS[edited] = dataclasses.replace(RECORDS[edited], title=f"{w} новое название")
                backend.index([document_for(RECORDS[edited])])
                RECORDS[removed] = dataclasses.replace(RECORDS[removed], state=HIDDEN)
                backend.delete([f"ledger:{removed}"])

    module = dataclasses.replace(LEDGER, search_documents=documents_while_site_serves)
    report = await rebuild(backend, [module], batch_size=10_000)  # one batch: written after the edit
    assert report.updated_meanwhile >= 1
    titles = [h.title for h in backend.search(SearchQuery(text=w)).hits]
    assert titles == [f"{w} новое название"]


async def test_an_index_of_an_older_schema_is_rebuilt_on_start(settings, database, tmp_path):
    """After an upgrade that changes the embedded index's schema, the index opens empty and the
    app rebuilds it from the database in the background."""
    from search import embedded
    from search.embedded import EmbeddedBackend
    from search.service import rebuild_if_needed, start

    w = word()
    kept = key()
    RECORDS[kept] = Record(kept, f"{w} до обновления")
    path = tmp_path / "search"
    old = EmbeddedBackend(path)
    old.index([document_for(RECORDS[kept])])
    old.close()
    (path / "ashyq-schema-version").write_text("ashyq-search-0\n")
    embedded._HANDLES.pop(path.resolve())  # a new process, after the upgrade: the worker first
    worker = EmbeddedBackend(path)
    assert worker.count() == 0 and worker.needs_rebuild
    worker.close()
    embedded._HANDLES.pop(path.resolve())  # then the web app, which rebuilds

    backend = EmbeddedBackend(path)
    assert await start(backend)
    assert backend.needs_rebuild and backend.search(SearchQuery(text=w)).total == 0
    await rebuild_if_needed(backend, [LEDGER])
    assert [h.id for h in backend.search(SearchQuery(text=w)).hits] == [f"ledger:{kept}"]
    assert not backend.needs_rebuild and rebuild_if_needed(backend, [LEDGER]) is None
    backend.close()


def test_reindex_and_status_commands(tmp_path):
    """`civic search reindex` and `civic search status` on a fresh site of their own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
    env.update(CIVIC_DATA_DIR=str(tmp_path), CIVIC_SECRET_KEY="x" * 64, CIVIC_MODULES="",
               PICCOLO_CONF="civic.piccolo_conf", COLUMNS="120")
    civic = [sys.executable, "-m", "ashyq.cli"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(civic + list(args), env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert run("migrate").returncode == 0
    reindex = run("search", "reindex")
    assert reindex.returncode == 0, reindex.stderr
    assert "Indexed 0 document(s)" in reindex.stdout
    assert "Done." in reindex.stderr  # the progress bar
    status = run("search", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "Engine: embedded (answering)" in status.stdout and "Waiting in the outbox: 0" in status.stdout
